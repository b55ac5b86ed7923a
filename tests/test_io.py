"""Readers/writers of the common schema: validation errors name file and line; writes are atomic."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from xlt.io import (
    DataError,
    atomic_open,
    atomic_path,
    find_cycle,
    read_jsonl,
    write_json,
    write_jsonl,
)


def test_roundtrip_plain_and_gzip(tmp_path):
    recs = [{"id": "a", "tokens": ["Ünïcode", "字"], "tags": ["O", "B-LOC"]}]
    for name in ("x.jsonl", "x.jsonl.gz"):
        assert write_jsonl(tmp_path / name, recs) == 1
        assert read_jsonl(tmp_path / name, "tagging", ["O", "B-LOC"]) == recs
    with gzip.open(tmp_path / "x.jsonl.gz", "rt") as fh:
        assert json.loads(fh.readline())["tokens"][1] == "字"


def test_gzip_output_is_byte_identical_across_runs(tmp_path):
    write_jsonl(tmp_path / "a.jsonl.gz", [{"id": "1", "text": "x", "label": "y"}])
    first = (tmp_path / "a.jsonl.gz").read_bytes()
    write_jsonl(tmp_path / "a.jsonl.gz", [{"id": "1", "text": "x", "label": "y"}])
    assert (tmp_path / "a.jsonl.gz").read_bytes() == first


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "2", "tokens": ["a"], "tags": ["O", "O"]}', "line 2: 1 tokens but 2 tags"),
        ('{"id": "2", "tokens": ["a"]}', "line 2: tagging record lacks 'tags'"),
        (
            '{"id": "2", "tokens": ["a"], "tags": ["B-PRS"]}',
            "line 2: tag 'B-PRS' is not in the label set",
        ),
        ('{"id": "1", "tokens": ["a"], "tags": ["O"]}', "line 2: duplicate id '1'"),
        ('{"id": "2", "tokens": ["a"], "tags": ["O"]', "line 2: not valid JSON"),
        ('["not", "an", "object"]', "line 2: expected a JSON object"),
        ('{"id": "2", "tokens": [""], "tags": ["O"]}', "line 2: a token is empty"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "dev.jsonl"
    path.write_text('{"id": "1", "tokens": ["a"], "tags": ["O"]}\n' + line + "\n")
    with pytest.raises(DataError) as err:
        read_jsonl(path, "tagging", ["O", "B-PER"])
    assert str(err.value).startswith(f"{path} {message}")


def test_classification_label_check(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text('{"id": "1", "text": "good", "label": "positve"}\n')
    with pytest.raises(DataError, match="line 1: label 'positve' is not in the label set"):
        read_jsonl(path, "classification", ["positive", "negative"])


def test_failed_write_leaves_no_partial_file_and_keeps_the_old_one(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")

    def records():
        yield {"id": "1"}
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_jsonl(target, records())
    assert target.read_text() == "old\n"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_directory_and_binary_writes(tmp_path):
    with atomic_path(tmp_path / "model") as tmp:
        tmp.mkdir()
        (tmp / "config.json").write_text("{}")
    assert (tmp_path / "model" / "config.json").exists()
    with pytest.raises(ValueError), atomic_open(tmp_path / "b.bin", "wb") as fh:
        fh.write(b"partial")
        raise ValueError("boom")
    assert not (tmp_path / "b.bin").exists()
    write_json(tmp_path / "m.json", {"a": 1})
    assert json.loads((tmp_path / "m.json").read_text()) == {"a": 1}


# --------------------------------------------------------------------------------------------
# the kinds of the new tasks: qa, relation, parsing, and sentence pairs


def _one(tmp_path, rec, kind, labels=None):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(rec, ensure_ascii=False) + "\n")
    return read_jsonl(path, kind, labels), path


QA = {
    "id": "q1",
    "context": "Ada Lovelace wrote the first program in 1843.",
    "question": "When?",
    "answers": {"text": ["1843", "in 1843"], "answer_start": [40, 37]},
}


def test_qa_record_with_several_answers(tmp_path):
    assert _one(tmp_path, QA, "qa")[0] == [QA]
    assert _one(tmp_path, {**QA, "lang": "en"}, "qa")[0][0]["lang"] == "en"


@pytest.mark.parametrize(
    ("edit", "message", "fix"),
    [
        (
            {"answers": {"text": ["1843"], "answer_start": [39]}},
            "question 'q1': answer '1843' expected at answer_start 39, but the context there "
            "reads ' 184'",
            "0-based character (not byte) offset in the context; the text occurs at [40]",
        ),
        (
            {"answers": {"text": ["1844"], "answer_start": [40]}},
            "answer '1844' expected at answer_start 40",
            "the text does not occur in the context",
        ),
        (
            {"answers": {"text": [], "answer_start": []}},
            "question 'q1' has no answer",
            "no unanswerable questions",
        ),
        (
            {"answers": {"text": ["1843"], "answer_start": [40, 1]}},
            "1 answer texts but 2 answer_start values",
            "",
        ),
        ({"answers": [{"text": "1843", "answer_start": 40}]}, "'answers' must be {", ""),
        ({"answers": {"text": ["1843"], "answer_start": ["40"]}}, "'40' is not an offset", ""),
        ({"question": " "}, "'question' must be a non-empty string", ""),
        ({"context": ""}, "'context' must be a non-empty string", ""),
    ],
)
def test_qa_errors(tmp_path, edit, message, fix):
    with pytest.raises(DataError) as err:
        _one(tmp_path, {**QA, **edit}, "qa")
    text = str(err.value)
    assert text.startswith(f"{tmp_path / 'x.jsonl'} line 1: ")
    assert message in text and fix in text


REL = {
    "id": "r1",
    "tokens": ["Thom", "Yorke", "of", "Radiohead", "sang"],
    "head": [0, 2],
    "tail": [3, 4],
    "label": "per:employee_of(e1,e2)",
}


def test_relation_record_spans_are_end_exclusive(tmp_path):
    assert _one(tmp_path, REL, "relation", ["per:employee_of(e1,e2)"])[0] == [REL]
    assert _one(tmp_path, {**REL, "tail": [3, 5]}, "relation")[0][0]["tail"] == [3, 5]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"tail": [3, 6]}, "'tail' span [3, 6] is not a non-empty span of the 5 tokens"),
        ({"head": [2, 2]}, "'head' span [2, 2] is not a non-empty span"),
        ({"head": [0]}, "'head' must be [start, end] token offsets"),
        ({"tail": [1, 4]}, "head [0, 2] and tail [1, 4] overlap"),
        ({"label": "org:members(e1,e2)"}, "label 'org:members(e1,e2)' is not in the label set"),
        ({"tokens": []}, "empty sentence"),
    ],
)
def test_relation_errors(tmp_path, edit, message):
    with pytest.raises(DataError, match=r"x\.jsonl line 1: " + re.escape(message)):
        _one(tmp_path, {**REL, **edit}, "relation", ["no_relation", "per:employee_of(e1,e2)"])


PARSE = {
    "id": "p1",
    "tokens": ["I", "go", "home", "."],
    "heads": [2, 0, 2, 2],
    "deprels": ["nsubj", "root", "obj", "punct"],
    "tags": ["PRON", "VERB", "NOUN", "PUNCT"],
}


def test_parsing_record(tmp_path):
    assert _one(tmp_path, PARSE, "parsing")[0] == [PARSE]
    no_tags = {k: v for k, v in PARSE.items() if k != "tags"}
    assert _one(tmp_path, no_tags, "parsing", ["nsubj", "root", "obj", "punct"])[0] == [no_tags]


@pytest.mark.parametrize(
    ("edit", "message", "fix"),
    [
        ({"heads": [2, 0, 5, 2]}, "word 3 'home' has head 5, outside 0..4", "1-based word indices"),
        ({"heads": [2, 0, 3, 2]}, "word 3 'home' is its own head", ""),
        (
            {"heads": [2, 0, 4, 3]},
            "the heads form a cycle: 3 'home' -> 4 '.' -> 3 'home'",
            "every word must reach the root",
        ),
        ({"heads": [2, 1, 2, 2]}, "no word is attached to the root", ""),
        ({"heads": [2, 0, 2]}, "4 tokens but 3 heads", ""),
        ({"deprels": ["nsubj", "root", "obj"]}, "4 tokens but 3 deprels", ""),
        ({"tags": ["PRON"]}, "4 tokens but 1 tags", ""),
        ({"deprels": ["nsubj", "root", "dobj", "punct"]}, "dependency relation 'dobj' is not", ""),
    ],
)
def test_parsing_errors(tmp_path, edit, message, fix):
    with pytest.raises(DataError) as err:
        _one(tmp_path, {**PARSE, **edit}, "parsing", ["nsubj", "root", "obj", "punct"])
    assert str(err.value).startswith(f"{tmp_path / 'x.jsonl'} line 1: {message}")
    assert fix in str(err.value)


@pytest.mark.parametrize(
    ("heads", "cycle"),
    [
        ([0, 1, 2], None),
        ([2, 3, 1], [1, 2, 3]),
        ([0, 3, 4, 2], [2, 3, 4]),
        ([2, 0, 4, 5, 3], [3, 4, 5]),
    ],
)
def test_find_cycle(heads, cycle):
    assert find_cycle(heads) == cycle


def test_sentence_pair(tmp_path):
    rec = {"id": "1", "text": "A man sleeps.", "text_pair": "Nobody sleeps.", "label": "neutral"}
    assert _one(tmp_path, rec, "classification", ["neutral"])[0] == [rec]
    with pytest.raises(DataError, match="line 1: 'text_pair' must be a non-empty string"):
        _one(tmp_path, {**rec, "text_pair": " "}, "classification")
