"""Readers/writers of the common schema: validation errors name file and line; writes are atomic."""

from __future__ import annotations

import gzip
import json

import pytest

from xlt.io import DataError, atomic_open, atomic_path, read_jsonl, write_json, write_jsonl


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
