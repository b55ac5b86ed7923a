"""Splits made of parts (``datasets.<name>.splits``): line ranges of a file, checked against
each other and against the file, recorded in the provenance; a test proves that no line of
XNLI's test file that is evaluated (in any language) was trained on. The dataset specs of the
new task kinds (DATASETS below, for the lead's configs) pass the schema and ``prepare_split``
on the real files."""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

import pytest
import yaml

from xlt.config import ConfigError, validate
from xlt.data.prepare import Part, check_splits, parse_lines, prepare_split
from xlt.io import DataError, read_jsonl

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("XLT_SHARED_DATA", REPO.parent / "shared" / "data"))
SCHEMA = REPO / "schemas" / "config.schema.yaml"


# --------------------------------------------------------------------------------------------
# line ranges


def test_parse_lines() -> None:
    assert parse_lines("1-3000", "x") == ((1, 3000),)
    assert parse_lines(" 4001 - 5010, 12,1-10 ", "x") == ((1, 10), (12, 12), (4001, 5010))
    assert parse_lines(7, "x") == ((7, 7),)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("1..3", "'1..3' is not a line range"),
        ("0-5", "range '0-5' needs 1 <= first <= last"),
        ("9-3", "range '9-3' needs 1 <= first <= last"),
        ("1-10,5-20", "ranges 1-10 and 5-20 overlap; merge them"),
        (["1-3"], "lines must be 1-based inclusive ranges"),
    ],
)
def test_parse_lines_errors(spec: object, message: str) -> None:
    with pytest.raises(
        ValueError, match=r"^datasets\.x\.splits\.test\.lines: " + re.escape(message)
    ):
        parse_lines(spec, "datasets.x.splits.test.lines")


XNLI_SPLITS = {
    "train": [{"from": "test", "lines": "1-3000"}, {"from": "dev", "lines": "1-1989"}],
    "dev": {"lines": "1990-2490"},
    "test": {"lines": "3001-5010"},
}


def xnli_like(splits: dict | None = None, **extra: object) -> dict:
    return {
        "task_type": "classification",
        "format": "xnli",
        "languages": {"en": ["train", "dev", "test"], "de": ["dev", "test"]},
        "source": {"file": "x/{lang}/{split}.tsv"},
        "splits": XNLI_SPLITS if splits is None else splits,
        **extra,
    }


def test_check_splits_gives_the_parts_of_every_split() -> None:
    assert check_splits("xnli", xnli_like()) == {
        "train": [Part("test", ((1, 3000),)), Part("dev", ((1, 1989),))],
        "dev": [Part("dev", ((1990, 2490),))],
        "test": [Part("test", ((3001, 5010),))],
    }
    plain = {k: v for k, v in xnli_like().items() if k != "splits"}
    assert check_splits("xnli", plain) == {s: [Part(s)] for s in ("train", "dev", "test")}


@pytest.mark.parametrize(
    ("splits", "message"),
    [
        (
            {**XNLI_SPLITS, "test": {"lines": "2990-5010"}},
            "datasets.xnli: train (test lines 1-3000) and test (test lines 2990-5010) share "
            "lines 2990-3000 of the 'test' file",
        ),
        (
            {"train": {"from": "test", "lines": "1-3000"}},  # test not named: all of its file
            "train (test lines 1-3000) and test (all of test) share lines 1-3000 of the 'test' file",
        ),
        (
            {**XNLI_SPLITS, "dev": {"from": "dev"}},
            "train (dev lines 1-1989) and dev (all of dev) share lines 1-1989 of the 'dev' file",
        ),
    ],
)
def test_overlapping_splits_are_refused(splits: dict, message: str) -> None:
    with pytest.raises(ValueError) as err:
        check_splits("xnli", xnli_like(splits))
    assert message in str(err.value)
    assert "set datasets.xnli.allow_overlap: true if the overlap is intended" in str(err.value)
    assert check_splits("xnli", xnli_like(splits, allow_overlap=True))  # explicitly allowed


@pytest.mark.parametrize(
    ("splits", "message"),
    [
        ({"tset": {"lines": "1-3"}}, "datasets.xnli.splits names ['tset'], which no language has"),
        ({"test": {"form": "dev"}}, "datasets.xnli.splits.test: a part is {from: "),
        ({"test": {}}, "datasets.xnli.splits.test: a part is"),
        ({"test": []}, "datasets.xnli.splits.test: an empty list"),
        ({"test": {"from": "../x"}}, "datasets.xnli.splits.test.from: '../x' is not a split name"),
        (
            {"test": [{"lines": "1-10"}, {"lines": "5-6"}]},
            "datasets.xnli.splits.test: two parts both take lines 5-6 of the 'test' file",
        ),
        ({"test": {"lines": "10-1"}}, "datasets.xnli.splits.test.lines: range '10-1' needs"),
    ],
)
def test_bad_split_specs(splits: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        check_splits("xnli", xnli_like(splits))


# --------------------------------------------------------------------------------------------
# prepare_split on hand-made parallel files: the leak test


def parallel_files(tmp_path: Path, sizes: dict[str, int]) -> None:
    """en and de files whose line i is "pair i" in both languages (like XNLI)."""
    labels = ["entailment", "neutral", "contradiction"]
    for lang in ("en", "de"):
        for split, n in sizes.items():
            path = tmp_path / lang / f"{split}.tsv"
            path.parent.mkdir(parents=True, exist_ok=True)
            rows = [f"{lang} {split} premise {i}\t{lang} hyp {i}\t{labels[i % 3]}" for i in range(1, n + 1)]  # fmt: skip
            path.write_bytes(("\r\n".join(rows) + "\r\n").encode())


def prepare_all(name: str, cfg: dict, out: Path, cache: Path) -> dict[tuple[str, str], dict]:
    provs = {}
    for lang, splits in cfg["languages"].items():
        for split in splits:
            target = out / lang / f"{split}.jsonl"
            provs[lang, split] = prepare_split(name, cfg, lang, split, target, cache)
    return provs


def test_no_test_line_index_appears_in_training(tmp_path: Path) -> None:
    parallel_files(tmp_path, {"dev": 6, "test": 12})
    splits = {
        "train": [{"from": "test", "lines": "1-6"}, {"from": "dev", "lines": "1-3"}],
        "dev": {"lines": "4-6"},
        "test": {"lines": "7-12"},
    }
    cfg = xnli_like(splits, source={"file": str(tmp_path / "{lang}" / "{split}.tsv")})
    provs = prepare_all("xnli", cfg, tmp_path / "out", tmp_path / "res")
    data = {key: read_jsonl(tmp_path / "out" / key[0] / f"{key[1]}.jsonl") for key in provs}
    train = data["en", "train"]
    assert [r["id"] for r in train] == [f"test-l{i:06d}" for i in range(1, 7)] + [
        f"dev-l{i:06d}" for i in range(1, 4)
    ]
    assert train[0] == {"id": "test-l000001", "text": "en test premise 1", "text_pair": "en hyp 1", "label": "neutral"}  # fmt: skip

    def lines_of(records: list[dict], file_split: str) -> set[int]:
        return {int(r["id"].split("-l")[1]) for r in records if r["id"].startswith(file_split)}

    for lang in ("en", "de"):
        for split, file_split in (("test", "test"), ("dev", "dev")):
            evaluated = data[lang, split]
            assert lines_of(evaluated, file_split) == (set(range(7, 13)) if split == "test" else {4, 5, 6})  # fmt: skip
            # no evaluated line index (in any language) is a line the model was trained on
            assert not lines_of(evaluated, file_split) & lines_of(train, file_split)
            assert all(r["text"].startswith(f"{lang} {file_split} premise") for r in evaluated)
    trained = {r["text"].split()[-1] for r in train if "test" in r["text"]}
    assert trained == {str(i) for i in range(1, 7)}
    assert provs["en", "train"]["parts"] == [
        {
            "from": "test",
            "lines": "1-6",
            "n_examples": 12,
            "n_taken": 6,
            **{
                k: provs["en", "train"]["parts"][0][k]
                for k in ("source", "path", "sha256", "reader")
            },
        },
        provs["en", "train"]["parts"][1],
    ]
    assert provs["en", "train"]["parts"][1]["from"] == "dev"
    assert provs["en", "train"]["parts"][1]["path"].endswith("en/dev.tsv")
    assert provs["de", "test"]["parts"][0]["path"].endswith("de/test.tsv")
    assert provs["en", "train"]["n_read"] == 9 and provs["de", "test"]["n_written"] == 6
    json.dumps(provs["en", "train"])


def test_line_ranges_past_the_end_and_caps(tmp_path: Path) -> None:
    parallel_files(tmp_path, {"dev": 6, "test": 12})
    source = {"file": str(tmp_path / "{lang}" / "{split}.tsv")}
    splits = {"train": {"from": "test", "lines": "1-6"}, "test": {"lines": "7-20"}}
    cfg = xnli_like(splits, source=source)
    out = tmp_path / "o.jsonl"
    with pytest.raises(DataError) as err:
        prepare_split("xnli", cfg, "de", "test", out, tmp_path)
    assert str(err.value) == (
        f"{tmp_path / 'de' / 'test.tsv'}: lines 7-20 asked for, but the file has 12 examples "
        "(fix datasets.xnli.splits.test (lines are 1-based and inclusive))"
    )
    assert not out.exists()
    splits["test"] = {"lines": "7-12"}
    capped = xnli_like(splits, source=source, cap={"train": 4})
    prov = prepare_split("xnli", capped, "en", "train", out, tmp_path, seed=3)
    assert prov["n_read"] == 6 and prov["n_written"] == 4
    assert {r["id"] for r in read_jsonl(out)} <= {f"test-l{i:06d}" for i in range(1, 7)}


def test_umsab_val_is_the_dev_split(tmp_path: Path) -> None:
    for split, n in (("train", 4), ("val", 2), ("test", 3)):
        (tmp_path / "en").mkdir(exist_ok=True)
        (tmp_path / "en" / f"{split}_text.txt").write_text(
            "".join(f"{split} {i}\n" for i in range(n))
        )
        (tmp_path / "en" / f"{split}_labels.txt").write_text(
            "".join(f"{i % 3}\n" for i in range(n))
        )
    cfg = {
        "task_type": "classification",
        "format": "umsab",
        "labels": ["negative", "neutral", "positive"],
        "languages": {"en": ["train", "dev", "test"]},
        "source": {"file": str(tmp_path / "{lang}" / "{split}_text.txt")},
        "splits": {"dev": {"from": "val"}},
    }
    provs = prepare_all("umsab", cfg, tmp_path / "out", tmp_path / "res")
    dev = read_jsonl(tmp_path / "out" / "en" / "dev.jsonl", "classification", cfg["labels"])
    assert dev == [
        {"id": "val-l000001", "text": "val 0", "label": "negative"},
        {"id": "val-l000002", "text": "val 1", "label": "neutral"},
    ]
    assert provs["en", "dev"]["parts"][0]["path"].endswith("en/val_text.txt")
    assert provs["en", "train"]["path"].endswith("en/train_text.txt")  # not named: as before
    assert "parts" not in provs["en", "train"]


# --------------------------------------------------------------------------------------------
# the dataset specs of the new kinds, for the configs (paths as written in configs/)

# quoted: YAML splits an unquoted flow sequence at the comma inside (e1,e2)
KBP37_LABELS = """[no_relation,
    "org:alternate_names(e1,e2)", "org:alternate_names(e2,e1)",
    "org:city_of_headquarters(e1,e2)", "org:city_of_headquarters(e2,e1)",
    "org:country_of_headquarters(e1,e2)", "org:country_of_headquarters(e2,e1)",
    "org:founded(e1,e2)", "org:founded(e2,e1)",
    "org:founded_by(e1,e2)", "org:founded_by(e2,e1)",
    "org:members(e1,e2)", "org:members(e2,e1)",
    "org:stateorprovince_of_headquarters(e1,e2)", "org:stateorprovince_of_headquarters(e2,e1)",
    "org:subsidiaries(e1,e2)", "org:subsidiaries(e2,e1)",
    "org:top_members/employees(e1,e2)", "org:top_members/employees(e2,e1)",
    "per:alternate_names(e1,e2)", "per:alternate_names(e2,e1)",
    "per:cities_of_residence(e1,e2)", "per:cities_of_residence(e2,e1)",
    "per:countries_of_residence(e1,e2)", "per:countries_of_residence(e2,e1)",
    "per:country_of_birth(e1,e2)", "per:country_of_birth(e2,e1)",
    "per:employee_of(e1,e2)", "per:employee_of(e2,e1)",
    "per:origin(e1,e2)", "per:origin(e2,e1)",
    "per:spouse(e1,e2)", "per:spouse(e2,e1)",
    "per:stateorprovinces_of_residence(e1,e2)", "per:stateorprovinces_of_residence(e2,e1)",
    "per:title(e1,e2)", "per:title(e2,e1)"]"""

DATASETS = f"""
# extractive QA: TyDi QA GoldP English train; its dev copy has no gold answers (stripped by
# XTREME), so the English dev set is held out of train by question index
tydiqa:
  task_type: qa
  format: squad
  languages: {{en: [train, dev]}}
  source: {{file: "../shared/data/tydiqa/{{lang}}/{{split}}.json"}}
  splits:
    train: {{lines: "1-3326"}}
    dev: {{from: train, lines: "3327-3696"}}
# XQuAD: 1,190 questions per language, parallel (the same ids), test only
xquad:
  task_type: qa
  format: squad
  languages: {{ar: [test], de: [test], el: [test], en: [test], es: [test], hi: [test], ro: [test], ru: [test], th: [test], tr: [test], vi: [test], zh: [test]}}
  source: {{file: "../shared/data/xquad/{{lang}}/{{split}}.json"}}
# the same with a dev set carved out of each language's file at an article boundary
xquad-dev:
  task_type: qa
  format: squad
  languages: {{de: [dev, test], zh: [dev, test]}}
  source: {{file: "../shared/data/xquad/{{lang}}/test.json"}}
  splits:
    dev: {{lines: "1-250"}}
    test: {{lines: "251-1190"}}
# relation classification: 37 directed labels; blocks whose entity lost its text are dropped
kbp37:
  task_type: relation
  format: kbp37
  options: {{empty_entities: skip}}
  labels: &kbp37_labels {KBP37_LABELS}
  languages: {{en: [train, dev, test]}}
  source: {{file: "../shared/data/kbp37/{{lang}}/{{split}}.txt"}}
relx:
  task_type: relation
  format: kbp37
  options: {{empty_entities: skip}}
  labels: *kbp37_labels
  languages: {{de: [test], en: [test], es: [test], fr: [test], tr: [test]}}
  source: {{file: "../shared/data/relx/{{lang}}/{{split}}.txt"}}
# NLI: train on English test lines 1-3,000 plus English dev lines 1-1,989, select on dev lines
# 1,990-2,490 (held apart), test on lines 3,001-5,010 in every language; cuts at multiples of
# 3 keep each premise (3 hypotheses each) on one side
xnli:
  task_type: classification
  format: xnli
  labels: [entailment, neutral, contradiction]
  languages: {{en: [train, dev, test], ar: [dev, test], bg: [dev, test], de: [dev, test], el: [dev, test], es: [dev, test], fr: [dev, test], hi: [dev, test], ru: [dev, test], sw: [dev, test], th: [dev, test], tr: [dev, test], ur: [dev, test], vi: [dev, test], zh: [dev, test]}}
  source: {{file: "../shared/data/xnli/{{lang}}/{{split}}.tsv"}}
  splits:
    train: [{{from: test, lines: "1-3000"}}, {{from: dev, lines: "1-1989"}}]
    dev: {{lines: "1990-2490"}}
    test: {{lines: "3001-5010"}}
# tweet sentiment; the files call the dev set "val"
umsab:
  task_type: classification
  format: umsab
  labels: [negative, neutral, positive]
  languages: {{en: [train, dev, test], ar: [dev, test], de: [dev, test], es: [dev, test], fr: [dev, test], hi: [dev, test], it: [dev, test], pt: [dev, test]}}
  source: {{file: "../shared/data/umsab/{{lang}}/{{split}}_text.txt"}}
  splits:
    dev: {{from: val}}
# dependency parsing on UD (heads, deprels with subtypes as written, UPOS as tags)
ud-parse:
  task_type: parsing
  format: conllu
  languages: {{en: [train, dev, test], de: [dev, test], es: [dev, test], nl: [dev, test], zh: [dev, test], da: [dev, test], pt: [dev, test], sv: [dev, test], fa: [dev, test], vi: [dev, test]}}
  source: {{file: "../shared/data/ud/{{lang}}/{{split}}.conllu"}}
"""

#: (dataset, lang, split) -> examples written
EXPECTED = {
    ("tydiqa", "en", "train"): 3326,
    ("tydiqa", "en", "dev"): 370,
    ("xquad", "th", "test"): 1190,
    ("xquad-dev", "zh", "dev"): 250,
    ("xquad-dev", "de", "test"): 940,
    ("kbp37", "en", "train"): 15917 - 110,
    ("kbp37", "en", "dev"): 1724 - 10,
    ("kbp37", "en", "test"): 3405 - 26,
    ("relx", "es", "test"): 502,
    ("relx", "tr", "test"): 501,
    ("xnli", "en", "train"): 3000 + 1989,
    ("xnli", "en", "dev"): 501,
    ("xnli", "sw", "dev"): 501,
    ("xnli", "en", "test"): 2010,
    ("xnli", "zh", "test"): 2010,
    ("umsab", "en", "train"): 1839,
    ("umsab", "hi", "dev"): 324,
    ("umsab", "pt", "test"): 870,
    ("ud-parse", "en", "dev"): 2001,
    ("ud-parse", "zh", "test"): 500,
}


def datasets(root: Path | None = None) -> dict:
    text = DATASETS if root is None else DATASETS.replace("../shared/data", str(root))
    return yaml.safe_load(text)


def test_dataset_specs_pass_the_schema() -> None:
    cfg = yaml.safe_load((REPO / "configs" / "test.yaml").read_text())
    cfg["datasets"] = {**(cfg.get("datasets") or {}), **datasets()}
    validate(cfg, SCHEMA)
    bad = copy.deepcopy(cfg)
    bad["datasets"]["xnli"]["splits"]["test"] = {"lines": "3001..5010"}
    with pytest.raises(ConfigError, match=r"datasets\.xnli\.splits\.test"):
        validate(bad, SCHEMA)
    bad = copy.deepcopy(cfg)
    bad["datasets"]["xnli"]["splits"]["tset"] = {"lines": "1-2"}
    with pytest.raises(ConfigError, match=r"datasets\.xnli\.splits: 'tset' is not one of"):
        validate(bad, SCHEMA)
    for name, spec in datasets().items():
        check_splits(name, spec)


@pytest.mark.parametrize(("name", "lang", "split"), list(EXPECTED))
def test_dataset_specs_prepare_the_real_files(
    tmp_path: Path, name: str, lang: str, split: str
) -> None:
    if not SHARED.is_dir():
        pytest.skip(f"shared data not available: {SHARED}")
    spec = datasets(SHARED)[name]
    out = tmp_path / f"{split}.jsonl"
    prov = prepare_split(name, spec, lang, split, out, tmp_path)
    assert prov["n_written"] == EXPECTED[name, lang, split]
    assert len(read_jsonl(out, spec["task_type"], spec.get("labels"))) == prov["n_written"]


def test_real_xnli_split_keeps_test_premises_out_of_training(tmp_path: Path) -> None:
    if not (SHARED / "xnli").is_dir():
        pytest.skip("shared XNLI not available")
    spec = datasets(SHARED)["xnli"]
    train_path, test_path = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    prepare_split("xnli", spec, "en", "train", train_path, tmp_path)
    prepare_split("xnli", spec, "en", "test", test_path, tmp_path)
    prepare_split("xnli", spec, "en", "dev", tmp_path / "dev.jsonl", tmp_path)
    train, test = read_jsonl(train_path), read_jsonl(test_path)
    dev = read_jsonl(tmp_path / "dev.jsonl")
    assert not {r["id"] for r in train} & {r["id"] for r in test + dev}
    assert not {r["text"] for r in train} & {r["text"] for r in test + dev}  # no shared premise
    assert not {r["text_pair"] for r in train} & {r["text_pair"] for r in test}
    prepare_split("xnli", spec, "de", "test", tmp_path / "de.jsonl", tmp_path)
    assert [r["id"] for r in read_jsonl(tmp_path / "de.jsonl")] == [r["id"] for r in test]
