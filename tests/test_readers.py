"""Readers: official counts on the real files (skipped when absent) and hand-made broken inputs."""

from __future__ import annotations

import codecs
import functools
import gzip
import json
import os
import re
from pathlib import Path

import pytest

from xlt.data.prepare import prepare_split
from xlt.data.readers import READERS, ReadReport, iob1_to_iob2, read_file
from xlt.io import DataError

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("XLT_SHARED_DATA", REPO.parent / "shared" / "data"))
NER_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
CONLL_LABELS = [*NER_LABELS, "B-MISC", "I-MISC"]


def shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


@functools.cache
def _read_cached(fmt: str, path: Path, options: tuple[tuple[str, object], ...]) -> list[dict]:
    lang, split = path.parent.name, path.name.split(".")[0]
    return read_file(fmt, path, lang=lang, split=split, **dict(options))


def real(fmt: str, *parts: str, **options: object) -> list[dict]:
    """Read a shared file once per test session (``<dataset>/<lang>/<split>.<ext>``)."""
    return _read_cached(fmt, shared(*parts), tuple(sorted(options.items())))


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def raises_at(path: Path, line: int | None, match: str = ""):
    where = f"{path} line {line}" if line is not None else str(path)
    return pytest.raises(DataError, match=re.escape(where) + ".*" + match)


# --------------------------------------------------------------------------------------------
# real files: official counts and spot checks


@pytest.mark.parametrize(("split", "expected"), [("train", 12544), ("dev", 2001), ("test", 2077)])
def test_ud_english_counts(split: str, expected: int) -> None:
    path = shared("ud", "en", f"{split}.conllu")
    records = real("conllu", "ud", "en", f"{split}.conllu")
    assert len(records) == expected
    words = sum(1 for line in path.open(encoding="utf-8") if re.match(r"\d+\t", line))
    assert sum(len(r["tokens"]) for r in records) == words  # ranges and empty nodes skipped


def test_ud_english_first_sentence() -> None:
    rec = real("conllu", "ud", "en", "train.conllu")[0]
    assert rec["id"] == "weblog-juancole.com_juancole_20051126063000_ENG_20051126_063000-0001"
    assert rec["tokens"][:7] == ["Al", "-", "Zaman", ":", "American", "forces", "killed"]
    assert rec["tags"][:7] == ["PROPN", "PUNCT", "PROPN", "PUNCT", "ADJ", "NOUN", "VERB"]


def test_ud_english_multiword_token_is_split() -> None:
    records = real("conllu", "ud", "en", "dev.conllu")
    sentence = next(r for r in records if "didn't" in " ".join(r["tokens"]) or "did" in r["tokens"])
    assert "didn't" not in sentence["tokens"]
    i = sentence["tokens"].index("did")
    assert sentence["tokens"][i + 1] == "n't"


def test_ud_other_languages_read() -> None:
    folder = shared("ud")
    for path in sorted(folder.glob("*/*.conllu")):
        if path.parent.name == "en":
            continue  # read (and counted against official figures) above
        records = read_file("conllu", path, lang=path.parent.name, split=path.stem)
        blocks = sum(1 for line in path.open(encoding="utf-8") if line.startswith("# sent_id"))
        assert len(records) == blocks, path


CONLL2002 = {
    "es": {"train": 8323, "dev": 1915, "test": 1517},
    "nl": {"train": 15806, "dev": 2895, "test": 5195},
}


@pytest.mark.parametrize(
    ("lang", "split"), [(lang, split) for lang in CONLL2002 for split in CONLL2002[lang]]
)
def test_conll2002_counts(lang: str, split: str) -> None:
    records = real("conll", "conll2002", lang, f"{split}.conll", encoding="latin-1")
    assert len(records) == CONLL2002[lang][split]
    assert {t for r in records for t in r["tags"]} <= set(CONLL_LABELS)
    tokens = [t for r in records for t in r["tokens"]]
    assert "-DOCSTART-" not in tokens
    assert all(t and not t.isspace() and "\x81" not in t for t in tokens)


def test_conll2002_spanish_first_sentences() -> None:
    records = real("conll", "conll2002", "es", "train.conll", encoding="latin-1")
    assert records[0]["id"] == "es-train-0"
    assert records[0]["tokens"] == ["Melbourne", "(", "Australia", ")", ",", "25", "may"] + [
        "(",
        "EFE",
        ")",
        ".",
    ]
    assert records[0]["tags"][:3] == ["B-LOC", "O", "B-LOC"]
    assert records[0]["tags"][8] == "B-ORG"
    assert "subrayó" in records[2]["tokens"]  # latin-1 decoded


def test_conll2002_spanish_needs_latin1() -> None:
    path = shared("conll2002", "es", "train.conll")
    with pytest.raises(DataError, match=r"line \d+: .*encoding: latin-1"):
        read_file("conll", path, lang="es", split="train")


def test_conll2002_dutch_docstart_and_stray_byte() -> None:
    path = shared("conll2002", "nl", "train.conll")
    records = real("conll", "conll2002", "nl", "train.conll", encoding="latin-1")
    assert records[0]["tokens"][:3] == ["De", "tekst", "van"]
    assert any(r["tokens"][0] == "Verberckmoes" for r in records)  # block opened by DOCSTART
    pairs = {(t, g) for r in records for t, g in zip(r["tokens"], r["tags"], strict=True)}
    assert ("BelgiEN", "B-LOC") in pairs  # raw line: b"Belgi\x81EN B-LOC"
    raw = read_file(
        "conll", path, lang="nl", split="train", encoding="latin-1", strip_control_chars=False
    )
    assert any("\x81" in t for r in raw for t in r["tokens"])


WIKIANN = {"train": 20000, "dev": 10000, "test": 10000}


@pytest.mark.parametrize("lang", ["en", "de", "es", "nl", "ru"])
def test_wikiann_counts(lang: str) -> None:
    for split, expected in WIKIANN.items():
        records = real("wikiann", "wikiann", lang, f"{split}.conllu")
        assert len(records) == expected, (lang, split)
        assert {t for r in records for t in r["tags"]} <= set(NER_LABELS)


def test_wikiann_first_sentence_and_plain_colon_tokens() -> None:
    rec = real("wikiann", "wikiann", "en", "train.conllu")[0]
    assert rec["tokens"][:3] == ["R.H.", "Saunders", "("]
    assert rec["tags"][:3] == ["B-ORG", "I-ORG", "O"]
    dev = real("wikiann", "wikiann", "en", "dev.conllu")
    assert any("bar:24" in r["tokens"] for r in dev)  # not mistaken for a language prefix


def test_uner_counts_equal_sentence_ids() -> None:
    folder = shared("uner")
    paths = sorted(folder.glob("*/*.iob2"))
    assert paths
    for path in paths:
        records = read_file("uner", path, lang=path.parent.name, split=path.stem, labels=NER_LABELS)
        text = path.read_text(encoding="utf-8")
        assert len(records) == text.count("\n# sent_id") + text.startswith("# sent_id"), path
        blocks = [b for b in re.split(r"\n\s*\n", text) if b.strip()]
        assert len(records) == len(blocks), path


def test_uner_english_first_sentence() -> None:
    rec = real("uner", "uner", "en", "dev.iob2")[0]
    assert rec["id"] == "answers-20070404104007AAY1Chs_ans-0001"
    assert rec["tokens"][6:8] == ["tampa", "bay"]
    assert rec["tags"][6:8] == ["B-LOC", "I-LOC"]
    assert len(rec["tokens"]) == 24


SIB200 = {"train": 701, "dev": 99, "test": 204}


@pytest.mark.parametrize("split", list(SIB200))
def test_sib200_counts_all_languages(split: str) -> None:
    folder = shared("sib200")
    paths = sorted(folder.glob(f"*/{split}.tsv"))
    assert len(paths) >= 30
    ids = None
    for path in paths:
        records = read_file("sib200", path, lang=path.parent.name, split=split)
        assert len(records) == SIB200[split], path
        if ids is None:
            ids = [r["id"] for r in records]
        assert [r["id"] for r in records] == ids  # sentence-parallel across languages


def test_sib200_english_first_row() -> None:
    rec = real("sib200", "sib200", "en", "train.tsv")[0]
    assert rec == {
        "id": "431",
        "text": rec["text"],
        "label": "geography",
    }
    assert rec["text"].startswith("Turkey is encircled by seas")


# --------------------------------------------------------------------------------------------
# hand-made inputs

CONLLU = """\
# sent_id = s1
# text = I don't go.
1-2\tdon't\t_\t_\t_\t_\t_\t_\t_\t_
1\tdo\tdo\tAUX\t_\t_\t3\taux\t_\t_
2\tn't\tnot\tPART\t_\t_\t3\tadvmod\t_\t_
3\tgo\tgo\tVERB\t_\t_\t0\troot\t_\t_
3.1\tgone\tgo\tVERB\t_\t_\t_\t_\t3:conj\t_
4\t.\t.\tPUNCT\t_\t_\t3\tpunct\t_\t_

1\tHi\thi\tINTJ\t_\t_\t0\troot\t_\t_

"""


def test_conllu_skips_ranges_and_empty_nodes(tmp_path: Path) -> None:
    records = read_file("conllu", write(tmp_path, "x.conllu", CONLLU), lang="en", split="dev")
    assert records == [
        {"id": "s1", "tokens": ["do", "n't", "go", "."], "tags": ["AUX", "PART", "VERB", "PUNCT"]},
        {"id": "en-dev-1", "tokens": ["Hi"], "tags": ["INTJ"]},
    ]


@pytest.mark.parametrize("kind", ["tagging", "parsing"])
def test_conllu_cut_mid_sentence_is_warned_and_counted(tmp_path: Path, caplog, kind) -> None:
    """A CoNLL-U file cut at a line boundary inside a sentence has no broken row: only the
    missing blank line after its last sentence tells. It is read, warned about and counted."""
    whole = write(tmp_path, "whole.conllu", CONLLU)
    report = ReadReport()
    read_file("conllu", whole, lang="en", split="dev", kind=kind, report=report)
    assert "unterminated_sentence" not in report.as_dict()["warnings"] and not caplog.text
    cut = write(tmp_path, "cut.conllu", CONLLU[: CONLLU.index("3.1\t")])  # after word 3 of s1
    report = ReadReport()
    records = read_file("conllu", cut, lang="en", split="dev", kind=kind, report=report)
    assert [r["tokens"] for r in records] == [["do", "n't", "go"]]
    assert report.as_dict()["warnings"]["unterminated_sentence"] == 1
    assert f"{cut} line 6: the file ends inside a sentence" in caplog.text
    assert "truncated" in caplog.text and "download it again" in caplog.text


def test_prepare_split_counts_a_cut_conllu_file_in_its_provenance(tmp_path: Path) -> None:
    write(tmp_path, "en/dev.conllu", CONLLU.rstrip("\n") + "\n")  # no closing blank line
    cfg = {
        "task_type": "tagging",
        "format": "conllu",
        "languages": {"en": ["dev"]},
        "source": {"file": str(tmp_path / "{lang}" / "{split}.conllu")},
    }
    prov = prepare_split("ud", cfg, "en", "dev", tmp_path / "out.jsonl", tmp_path / "res")
    assert prov["reader"]["warnings"]["unterminated_sentence"] == 1
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 2


def test_real_ud_files_end_with_a_closed_sentence() -> None:
    for lang in ("en", "de"):
        report = ReadReport()
        path = shared("ud", lang, "dev.conllu")
        read_file("conllu", path, lang=lang, split="dev", report=report)
        assert report.counts["unterminated_sentence"] == 0, path


@pytest.mark.parametrize(
    ("fmt", "name", "text", "line"),
    [
        ("sib200", "en/dev.tsv", "index_id\tcategory\ttext\n7\ttravel\tGo.\n8\t\tRun.\n", 3),
        ("sib200", "en/dev.tsv", "index_id\tcategory\ttext\n8\t  \tRun.\n", 2),
        ("jsonl", "x.jsonl", '{"id": "a", "text": "x", "label": "b"}\n{"id": "b", "text": "y", "label": ""}\n', 2),
    ],
)  # fmt: skip
def test_blank_classification_label_names_file_and_line(tmp_path, fmt, name, text, line) -> None:
    """A blank label is not a class "" (every reader's records pass the same schema check)."""
    path = write(tmp_path, name, text)
    with raises_at(path, line, "'label' is .*blank.*fill in the label or drop the example"):
        options = {"kind": "classification"} if fmt == "jsonl" else {}
        read_file(fmt, path, lang="en", split="dev", **options)


def test_gzip_is_transparent(tmp_path: Path) -> None:
    path = tmp_path / "x.conllu.gz"
    path.write_bytes(gzip.compress(CONLLU.encode()))
    assert len(read_file("conllu", path, lang="en", split="dev")) == 2


def test_crlf_and_bom(tmp_path: Path) -> None:
    text = "\ufeff" + CONLLU.replace("\n", "\r\n")
    records = read_file("conllu", write(tmp_path, "x.conllu", text), lang="en", split="dev")
    assert records[0]["id"] == "s1" and records[0]["tags"][-1] == "PUNCT"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("3\tgo", "expected 10 tab-separated"),
        ("3\tgo\tgo\tVRB\t_\t_\t0\troot\t_\t_", "UPOS 'VRB'"),
        ("x\tgo\tgo\tVERB\t_\t_\t0\troot\t_\t_", "ID 'x'"),
    ],
)
def test_conllu_errors_name_file_and_line(tmp_path: Path, bad: str, message: str) -> None:
    lines = CONLLU.splitlines()
    lines[5] = bad  # line 6 of the file
    path = write(tmp_path, "bad.conllu", "\n".join(lines) + "\n")
    with raises_at(path, 6, re.escape(message)):
        read_file("conllu", path, lang="en", split="dev")


def test_duplicate_sentence_id(tmp_path: Path) -> None:
    text = "# sent_id = a\n1\tx\tx\tX\t_\t_\t0\troot\t_\t_\n\n" * 2
    path = write(tmp_path, "dup.conllu", text)
    with raises_at(path, 4, "duplicate id 'a'"):
        read_file("conllu", path, lang="en", split="dev")


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_empty_files(tmp_path: Path, fmt: str) -> None:
    path = write(tmp_path, f"empty.{fmt}", "\n\n")
    with pytest.raises(DataError, match=re.escape(str(path))):
        read_file(fmt, path, lang="en", split="dev")


def test_conll_docstart_iob1_and_columns(tmp_path: Path) -> None:
    text = (
        "-DOCSTART- -X- O\n\n"
        "EU NNP I-ORG\nrejects VBZ O\nGerman JJ I-MISC\ncall NN O\n\n"
        "-DOCSTART- -X- O\n"
        "Peter\tNNP I-PER\nBlackburn NNP\tI-PER\nmet V\tO\nJohn N I-PER\nJohn N B-PER\n"
    )
    path = write(tmp_path, "en.conll", text)
    records = read_file("conll", path, lang="en", split="train", scheme="iob1")
    assert [r["tags"] for r in records] == [
        ["B-ORG", "O", "B-MISC", "O"],
        ["B-PER", "I-PER", "O", "B-PER", "B-PER"],
    ]
    assert [r["id"] for r in records] == ["en-train-0", "en-train-1"]
    kept = read_file("conll", path, lang="en", split="train")  # default iob2: unchanged
    assert kept[0]["tags"][0] == "I-ORG"


def test_iob1_to_iob2() -> None:
    assert iob1_to_iob2(["I-PER", "I-PER", "I-LOC", "O", "I-LOC", "B-LOC", "I-LOC"]) == [
        "B-PER",
        "I-PER",
        "B-LOC",
        "O",
        "B-LOC",
        "B-LOC",
        "I-LOC",
    ]


def test_conll_latin1_and_stray_control_byte(tmp_path: Path) -> None:
    path = write(tmp_path, "nl.conll", b"Belgi\x81 N B-LOC\nsubray\xf3 V O\n\x81 Punc O\n")
    with raises_at(path, 1, "encoding: latin-1"):
        read_file("conll", path, lang="nl", split="train")
    rec = read_file("conll", path, lang="nl", split="train", encoding="latin-1")[0]
    assert rec["tokens"] == ["Belgi", "subrayó", "\x81"]  # a lone control char is kept
    raw = read_file(
        "conll", path, lang="nl", split="train", encoding="latin-1", strip_control_chars=False
    )
    assert raw[0]["tokens"][0] == "Belgi\x81"


@pytest.mark.parametrize(
    ("line", "message"),
    [("lonely", "2 or more columns"), ("Peter B_PER", "not an IOB tag"), ("Peter B-", "B-")],
)
def test_conll_bad_lines(tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path, "bad.conll", f"A O\n\nB O\n{line}\n")
    with raises_at(path, 4, re.escape(message)):
        read_file("conll", path, lang="en", split="dev")


def test_labels_are_checked_at_the_tag_line(tmp_path: Path) -> None:
    path = write(tmp_path, "x.conll", "A O\nB B-PER\nC B-PRS\n")
    with raises_at(path, 3, "tag 'B-PRS' is not in the label set"):
        read_file("conll", path, lang="de", split="dev", labels=NER_LABELS)


def test_wikiann_prefix_and_two_columns(tmp_path: Path) -> None:
    prefixed = write(tmp_path, "p.tsv", "en:Berlin\tB-LOC\nen:is\tO\n\nen:en:\tO\nen:x\tO\n")
    records = read_file("wikiann", prefixed, lang="en", split="dev")
    assert records[0]["tokens"] == ["Berlin", "is"]
    assert records[1]["tokens"] == ["en:", "x"]
    kept = read_file("wikiann", prefixed, lang="en", split="dev", strip_lang_prefix=False)
    assert kept[0]["tokens"] == ["en:Berlin", "en:is"]
    plain = write(tmp_path, "q.tsv", "0\tBerlin\tB-LOC\n1\tbar:24\tO\n")
    assert read_file("wikiann", plain, lang="en", split="dev")[0]["tokens"] == ["Berlin", "bar:24"]


@pytest.mark.parametrize(
    ("line", "message"),
    [("Berlin", "found 1 column"), ("x\tBerlin\tO", "not a token index"), ("1\tA\tPER", "IOB")],
)
def test_wikiann_bad_lines(tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path, "bad.tsv", f"0\tA\tO\n{line}\n")
    with raises_at(path, 2, message):
        read_file("wikiann", path, lang="en", split="dev")


def test_uner_sent_id_and_errors(tmp_path: Path) -> None:
    good = "# sent_id = x-1\n# text = Ann\n1\tAnn\tB-PER\t-\t-\n\n1\tBo\tO\t-\t-\n"
    records = read_file("uner", write(tmp_path, "u.iob2", good), lang="sv", split="test")
    assert [r["id"] for r in records] == ["x-1", "sv-test-1"]
    path = write(tmp_path, "bad.iob2", good + "2\tgo\tO\t-\n")
    with raises_at(path, 6, "expected 5 tab-separated columns"):
        read_file("uner", path, lang="sv", split="test")


def test_sib200_labels_file_and_errors(tmp_path: Path) -> None:
    write(tmp_path, "labels.txt", "travel\nhealth\n")
    header = "index_id\tcategory\ttext\n"
    good = write(tmp_path, "en/dev.tsv", header + '7\ttravel\tGo "now".\n')
    assert read_file("sib200", good, lang="en", split="dev") == [
        {"id": "7", "text": 'Go "now".', "label": "travel"}
    ]
    bad_label = write(tmp_path, "en/a.tsv", header + "7\ttravel\tGo.\n8\tsports\tRun.\n")
    with raises_at(bad_label, 3, "category 'sports' is not listed in"):
        read_file("sib200", bad_label, lang="en", split="dev")
    no_header = write(tmp_path, "en/b.tsv", "7\ttravel\tGo.\n")
    with raises_at(no_header, 1, "header"):
        read_file("sib200", no_header, lang="en", split="dev")
    columns = write(tmp_path, "en/c.tsv", header + "7\ttravel\n")
    with raises_at(columns, 2, "expected 3 columns"):
        read_file("sib200", columns, lang="en", split="dev")


def test_sib200_config_labels(tmp_path: Path) -> None:
    path = write(tmp_path, "x/y/dev.tsv", "index_id\tcategory\ttext\n1\tsports\tRun.\n")
    with raises_at(path, 2, "label 'sports' is not in the label set"):
        read_file("sib200", path, lang="en", split="dev", labels=["travel"])


def test_jsonl_reader(tmp_path: Path) -> None:
    rec = {"id": "a", "tokens": ["x"], "tags": ["O"]}
    path = write(tmp_path, "x.jsonl", json.dumps(rec) + "\n")
    assert read_file("jsonl", path, lang="en", split="dev") == [rec]
    with raises_at(path, 1, "label set"):
        read_file("jsonl", path, lang="en", split="dev", labels=["B-PER"])
    with raises_at(path, 1, "lacks 'text'"):
        read_file("jsonl", path, lang="en", split="dev", kind="classification")


def test_read_file_rejects_unknown_format_and_options(tmp_path: Path) -> None:
    path = write(tmp_path, "x.conll", "A O\n")
    with pytest.raises(ValueError, match="unknown data format 'conll2003'"):
        read_file("conll2003", path, lang="en", split="dev")
    with pytest.raises(ValueError, match=r"does not take option\(s\) \['encodng'\]"):
        read_file("conll", path, lang="en", split="dev", encodng="latin-1")
    with pytest.raises(ValueError, match="unknown tag scheme 'bio'"):
        read_file("conll", path, lang="en", split="dev", scheme="bio")


# --------------------------------------------------------------------------------------------
# encodings, column layouts and warnings (counted in ReadReport, hence in the provenance)


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
    ],
)
def test_byte_order_marks_decide_the_encoding(tmp_path: Path, bom: bytes, codec: str) -> None:
    text = CONLLU.replace("go", "gö")
    path = write(tmp_path, "x.conllu", bom + text.encode(codec))
    report = ReadReport()
    records = read_file("conllu", path, lang="en", split="dev", report=report)
    assert records[0]["id"] == "s1" and records[0]["tokens"][2] == "gö"
    assert report.encoding_used.startswith(codec[:6])
    bad = write(tmp_path, "bad.conllu", bom + text.replace("VERB", "VRB", 1).encode(codec))
    with raises_at(bad, 6, "UPOS 'VRB'"):  # line numbers survive the decoding
        read_file("conllu", bad, lang="en", split="dev")


@pytest.mark.parametrize(
    ("codec", "guess"), [("utf-16-le", "utf-16-le"), ("utf-16-be", "utf-16-be")]
)
def test_utf16_without_bom_names_the_encoding_to_declare(
    tmp_path: Path, codec: str, guess: str
) -> None:
    path = write(tmp_path, "x.conllu", CONLLU.encode(codec))
    with raises_at(path, 1, f"looks like UTF-16.*encoding: {guess}"):
        read_file("conllu", path, lang="en", split="dev")
    assert len(read_file("conllu", path, lang="en", split="dev", encoding=codec)) == 2


def test_decoding_error_names_line_and_column_past_the_first_chunk(tmp_path: Path) -> None:
    rows = "A O\n" * 5000  # more than one read buffer before the bad byte
    path = write(tmp_path, "x.conll", rows.encode() + b"subray\xf3 O\n")
    with raises_at(path, 5001, r"b'\\xf3' at column 7 .*encoding: latin-1"):
        read_file("conll", path, lang="es", split="dev")


def test_utf8_declared_latin1_is_decoded_as_utf8_and_counted(tmp_path: Path, caplog) -> None:
    path = write(tmp_path, "de.conll", "Das O\nist O\n\nfür O\nBerlin B-LOC\nmöglich O\n")
    report = ReadReport()
    records = read_file("conll", path, lang="de", split="dev", encoding="latin-1", report=report)
    assert records[1]["tokens"] == ["für", "Berlin", "möglich"]  # not 'fÃ¼r'
    assert report.encoding_used == "utf-8"
    assert report.as_dict()["warnings"]["misdeclared_encoding"] == 2
    assert f"{path} line 4: declared latin-1 but looks like UTF-8" in caplog.text
    assert "decoded as UTF-8" in caplog.text


def test_mixed_utf8_and_latin1_keeps_the_declared_encoding(tmp_path: Path, caplog) -> None:
    path = write(tmp_path, "de.conll", "für O\n".encode() + "möglich O\n".encode("latin-1"))
    report = ReadReport()
    records = read_file("conll", path, lang="de", split="dev", encoding="latin-1", report=report)
    assert records[0]["tokens"] == ["fÃ¼r", "möglich"]
    assert report.encoding_used == "latin-1"
    assert report.counts["misdeclared_encoding"] == 1
    assert f"{path} line 1: declared latin-1 but looks like UTF-8" in caplog.text
    assert "kept latin-1" in caplog.text


def test_latin1_file_is_not_flagged(tmp_path: Path, caplog) -> None:
    path = write(tmp_path, "es.conll", "subray\xf3 O\nBelgi\x81 B-LOC\n".encode("latin-1"))
    report = ReadReport()
    read_file("conll", path, lang="es", split="dev", encoding="latin-1", report=report)
    assert report.as_dict() == {
        "encoding_declared": "latin-1",
        "encoding_used": "latin-1",
        "warnings": {"invalid_iob2_transition": 0, "misdeclared_encoding": 0},
    }
    assert not caplog.text


def test_bom_overrides_a_declared_latin1_and_is_counted(tmp_path: Path, caplog) -> None:
    path = write(tmp_path, "x.conll", codecs.BOM_UTF16_LE + "für O\n".encode("utf-16-le"))
    report = ReadReport()
    records = read_file("conll", path, lang="de", split="dev", encoding="latin-1", report=report)
    assert records[0]["tokens"] == ["für"]
    assert report.counts["misdeclared_encoding"] == 1
    assert f"{path} line 1: starts with a utf-16 byte-order mark" in caplog.text


def test_invalid_iob2_transitions_are_warned_and_counted(tmp_path: Path, caplog) -> None:
    text = "Ann I-PER\nLee I-PER\nmet O\nBo I-PER\n\nin O\nRome B-LOC\nCity I-LOC\nnow I-ORG\n"
    path = write(tmp_path, "x.conll", text)
    report = ReadReport()
    records = read_file("conll", path, lang="en", split="dev", report=report)
    assert records[0]["tags"] == ["I-PER", "I-PER", "O", "I-PER"]  # kept as is
    assert report.counts["invalid_iob2_transition"] == 3
    assert f"{path} line 1: 'I-PER' starts the sentence" in caplog.text
    assert f"{path} line 4: 'I-PER' follows 'O'" in caplog.text
    assert f"{path} line 9: 'I-ORG' follows 'I-LOC'" in caplog.text
    assert "line 2:" not in caplog.text and "line 8:" not in caplog.text
    converted = ReadReport()
    read_file("conll", path, lang="en", split="dev", scheme="iob1", report=converted)
    assert converted.counts["invalid_iob2_transition"] == 0


def test_many_warnings_are_logged_once_each_up_to_a_cap(tmp_path: Path, caplog) -> None:
    path = write(tmp_path, "x.conll", "x I-PER\n\n" * 25)
    report = ReadReport()
    read_file("conll", path, lang="en", split="dev", report=report)
    assert report.counts["invalid_iob2_transition"] == 25
    assert len(caplog.records) == 10 and "only counted" in caplog.records[-1].message


@pytest.mark.parametrize(
    ("fmt", "text", "line"),
    [
        ("wikiann", "0\tA\tO\n1\tB\tO\n\nC\tO\n", 4),
        ("wikiann", "A\tO\n\n0\tB\tO\n", 3),
        ("conll", "A NN O\nB NN O\n\nC O\n", 4),
    ],
)
def test_column_count_is_fixed_by_the_first_token_row(
    tmp_path: Path, fmt: str, text: str, line: int
) -> None:
    path = write(tmp_path, "mixed.txt", text)
    first = len(text.split("\n")[0].split("\t" if "\t" in text else " "))
    with raises_at(path, line, f"first token row \\(line 1\\) has {first}.*split the file"):
        read_file(fmt, path, lang="en", split="dev")


def test_stray_control_byte_row_is_exempt_from_the_column_count(tmp_path: Path) -> None:
    path = write(tmp_path, "nl.conll", b"De Art O\nBelgi\x81EN B-LOC\nwint V O\n")
    rec = read_file("conll", path, lang="nl", split="train", encoding="latin-1")[0]
    assert rec["tokens"] == ["De", "BelgiEN", "wint"]


def test_prepare_split_records_the_reader_report(tmp_path: Path) -> None:
    data = write(tmp_path, "de/dev.conll", "für O\nBo I-PER\n")
    cfg = {
        "task_type": "tagging",
        "format": "conll",
        "labels": NER_LABELS,
        "options": {"encoding": "latin-1"},
        "languages": {"de": ["dev"]},
        "source": {"file": str(tmp_path / "{lang}" / "{split}.conll")},
    }
    prov = prepare_split("ner", cfg, "de", "dev", tmp_path / "out.jsonl", tmp_path / "res")
    assert prov["reader"] == {
        "encoding_declared": "latin-1",
        "encoding_used": "utf-8",
        "warnings": {"invalid_iob2_transition": 1, "misdeclared_encoding": 1},
    }
    assert json.loads((tmp_path / "out.jsonl").read_text())["tokens"][0] == "für"
    assert data.exists()


REAL_NER = [
    ("conll", "conll2002", "es", "train.conll", "latin-1"),
    ("conll", "conll2002", "nl", "train.conll", "latin-1"),
    ("wikiann", "wikiann", "en", "train.conllu", "utf-8"),
    ("uner", "uner", "en", "dev.iob2", "utf-8"),
]


@pytest.mark.parametrize(("fmt", "dataset", "lang", "name", "encoding"), REAL_NER)
def test_real_files_raise_no_encoding_warning(
    fmt: str, dataset: str, lang: str, name: str, encoding: str
) -> None:
    report = ReadReport()
    read_file(
        fmt, shared(dataset, lang, name), lang=lang, split="x", encoding=encoding, report=report
    )
    assert report.encoding_used == encoding
    assert report.counts["misdeclared_encoding"] == 0
