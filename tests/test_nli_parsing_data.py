"""Bad sentence-pair and tree input through ``prepare_split`` (the workflow's data step): each
error names the file, the line and the fix, and nothing is written; the official XNLI release's
multi-language TSV (``layout: official``) gives the same records as the per-language files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from xlt.data.prepare import prepare_split
from xlt.io import DataError, read_jsonl

XNLI_OK = "A man sleeps.\tNobody sleeps.\tcontradiction\nA man sleeps.\tA man rests.\tentailment\n"
TREE_OK = (
    "# sent_id = s1\n"
    "1\tAnna\t_\tPROPN\t_\t_\t2\tnsubj\t_\t_\n"
    "2\tsleeps\t_\tVERB\t_\t_\t0\troot\t_\t_\n"
    "3\t.\t_\tPUNCT\t_\t_\t2\tpunct\t_\t_\n"
)


def prepare(tmp_path: Path, fmt: str, task_type: str, text: str, ext: str, **extra) -> Path:
    """Write ``text`` as en/dev.<ext>, prepare it; returns the output path (must not exist on
    error)."""
    src = tmp_path / "en" / f"dev.{ext}"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(text, encoding="utf-8")
    cfg = {
        "task_type": task_type,
        "format": fmt,
        "languages": {"en": ["dev"]},
        "source": {"file": str(tmp_path / "{lang}" / f"{{split}}.{ext}")},
        **extra,
    }
    out = tmp_path / "out.jsonl"
    prepare_split("d", cfg, "en", "dev", out, tmp_path / "cache")
    return out


def fails(tmp_path: Path, line: int, message: str, fix: str, *args, **kw) -> None:
    with pytest.raises(DataError) as err:
        prepare(tmp_path, *args, **kw)
    text = str(err.value)
    ext = args[3]
    assert text.startswith(f"{tmp_path / 'en' / f'dev.{ext}'} line {line}: "), text
    assert message in text and fix in text, text
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize(
    ("row", "message", "fix"),
    [
        (
            "A man sleeps.\tcontradiction",
            "expected 3 columns (premise, hypothesis, label), found 2",
            "tab",
        ),  # fmt: skip
        ("A man sleeps.\t\tneutral", "empty premise or hypothesis", "sentence pair and its label"),
        (
            "A man sleeps.\tHe dreams.\tunknown",
            "label 'unknown' is not one of ['contradiction', 'entailment', 'neutral']",
            "label_map",
        ),  # fmt: skip
    ],
)
def test_bad_pair_lines_stop_the_data_step(tmp_path, row, message, fix):
    fails(tmp_path, 3, message, fix, "xnli", "classification", XNLI_OK + row + "\n", "tsv")


def test_bad_pair_records_in_the_common_schema(tmp_path):
    rec = {"id": "1", "text": "A man sleeps.", "text_pair": "He dreams.", "label": "neutral"}
    lines = [json.dumps(rec), json.dumps({**rec, "id": "2", "text_pair": ""})]
    fails(tmp_path, 2, "'text_pair' must be a non-empty string", "", "jsonl", "classification", "\n".join(lines) + "\n", "jsonl")  # fmt: skip


@pytest.mark.parametrize(
    ("edit", "line", "message", "fix"),
    [
        (
            ("1\tAnna", "1\tAnna\t_\tPROPN\t_\t_\t9\tnsubj\t_\t_"),
            2,
            "word 1 'Anna' has HEAD 9, but the sentence has 3 words",
            "HEAD (column 7) is 0 or the ID of a word",
        ),  # fmt: skip
        (
            (
                "3\t.",
                "3\t.\t_\tPUNCT\t_\t_\t1\tpunct\t_\t_\n4\tzz\t_\tX\t_\t_\t5\tdep\t_\t_\n5\tyy\t_\tX\t_\t_\t4\tdep\t_\t_",
            ),
            5,
            "the heads form a cycle: 4 'zz' -> 5 'yy' -> 4 'zz'",
            "every word must reach the root",
        ),  # fmt: skip
        (
            ("2\tsleeps", "2\tsleeps\t_\tVERB\t_\t_\t3\troot\t_\t_"),
            3,
            "has HEAD 3 and DEPREL 'root'",
            "in UD the word with HEAD 0 has DEPREL root",
        ),  # fmt: skip
    ],
)
def test_bad_trees_stop_the_data_step(tmp_path, edit, line, message, fix):
    start, row = edit
    text = "\n".join(row if x.startswith(start) else x for x in TREE_OK.splitlines()) + "\n"
    fails(tmp_path, line, message, fix, "conllu", "parsing", text, "conllu")


def test_bad_trees_in_the_common_schema(tmp_path):
    tree = {"id": "1", "tokens": ["a", "b", "c"], "heads": [2, 0, 2], "deprels": ["nsubj", "root", "obj"]}  # fmt: skip
    for heads, line_msg in (([2, 0, 4], "word 3 'c' has head 4, outside 0..3"), ([3, 0, 1], "the heads form a cycle: 1 'a' -> 3 'c' -> 1 'a'")):  # fmt: skip
        lines = [json.dumps(tree), json.dumps({**tree, "id": "2", "heads": heads})]
        fails(tmp_path, 2, line_msg, "", "jsonl", "parsing", "\n".join(lines) + "\n", "jsonl")


def test_a_good_tree_file_prepares(tmp_path):
    out = prepare(tmp_path, "conllu", "parsing", TREE_OK, "conllu")
    assert read_jsonl(out, "parsing") == [
        {
            "id": "s1",
            "tokens": ["Anna", "sleeps", "."],
            "heads": [2, 0, 2],
            "deprels": ["nsubj", "root", "punct"],
            "tags": ["PROPN", "VERB", "PUNCT"],
        }  # fmt: skip
    ]


# --------------------------------------------------------------------------------------------
# the official release's layout

HEADER = "language\tgold_label\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1\tsentence2\tpromptID\tpairID\tgenre"  # fmt: skip


def official(rows: list[tuple[str, str, str, str]]) -> str:
    return HEADER + "\n" + "".join(f"{lg}\t{lab}\t( x )\t( y )\t{p}\t{h}\t1\t{i}\tfiction\n" for i, (lg, lab, p, h) in enumerate(rows))  # fmt: skip


ROWS = [
    ("de", "neutral", "Ein Mann schläft.", "Er träumt."),
    ("de", "contradiction", "Ein Mann schläft.", "Niemand schläft."),
    ("en", "neutral", "A man sleeps.", "He dreams."),
    ("en", "contradiction", "A man sleeps.", "Nobody sleeps."),
    ("en", "entailment", "A man sleeps.", "A man rests."),
]


def test_official_layout_takes_one_language_with_line_ids(tmp_path):
    out = prepare(tmp_path, "xnli", "classification", official(ROWS), "tsv", options={"layout": "official"})  # fmt: skip
    recs = read_jsonl(out, "classification")
    assert [r["id"] for r in recs] == ["dev-l000001", "dev-l000002", "dev-l000003"]
    assert recs[1] == {"id": "dev-l000002", "text": "A man sleeps.", "text_pair": "Nobody sleeps.", "label": "contradiction"}  # fmt: skip
    # a line split selects the same pairs as in the per-language file
    split = prepare(tmp_path, "xnli", "classification", official(ROWS), "tsv", options={"layout": "official"}, splits={"dev": {"lines": "2-3"}})  # fmt: skip
    assert [r["text_pair"] for r in read_jsonl(split)] == ["Nobody sleeps.", "A man rests."]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "language\tlabel\tsentence1\tsentence2\n",
            1,
            "the header lacks the column(s) ['gold_label']",
        ),  # fmt: skip
        (official([("en", "contradictory", "A.", "B.")]), 2, "label 'contradictory' is not one of"),
        (official([("en", "neutral", "A.", " ")]), 2, "empty premise or hypothesis"),
    ],
)
def test_official_layout_errors(tmp_path, text, line, message):
    fails(tmp_path, line, message, "", "xnli", "classification", text, "tsv", options={"layout": "official"})  # fmt: skip


def test_official_layout_without_the_language(tmp_path):
    with pytest.raises(DataError, match=re.escape("no row has language 'en'")):
        prepare(tmp_path, "xnli", "classification", official(ROWS[:2]), "tsv", options={"layout": "official"})  # fmt: skip


def test_a_relation_subtype_reads_against_a_label_set_of_universal_relations(tmp_path):
    """The interpolation study reads parsing files against the trained parser's label set (the
    universal relations): ``nsubj:pass`` is read (it trains as ``nsubj``), a relation whose
    universal part is not in the set is refused with the file, line and fix."""
    path = tmp_path / "t.jsonl"
    rec = {"id": "s1", "tokens": ["it", "was", "seen"], "heads": [3, 3, 0], "deprels": ["nsubj:pass", "aux:pass", "root"]}  # fmt: skip
    path.write_text(json.dumps(rec) + "\n")
    assert read_jsonl(path, "parsing", ["nsubj", "aux", "root"])[0]["deprels"][0] == "nsubj:pass"
    with pytest.raises(DataError) as err:
        read_jsonl(path, "parsing", ["nsubj", "root"])
    assert "line 1" in str(err.value) and "'aux:pass' is not in the label set" in str(err.value)
