"""Corrupt candidate files: the pool names the file and the fix (re-train that candidate)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from xlt.io import DataError, atomic_path, write_json, write_jsonl
from xlt.pool import Pool, build_pool, read_table

LANGS = ("en", "de")


def candidate(root: Path, seed: int) -> tuple[Path, Path, Path]:
    """A tiny classification candidate as finetune writes it (metrics.json written last)."""
    folder = root / "candidates" / "sib" / "zs" / "hp0" / f"seed{seed}"
    folder.mkdir(parents=True)
    np.savez(folder / "features.npz", langs=np.array(LANGS), features=np.ones((2, 4)))
    preds = {"labels": ["a", "b"], "dev": {lang: ["a", "b"] for lang in LANGS}}
    (folder / "predictions.json").write_text(json.dumps(preds))
    score = {"accuracy": 0.5}
    metrics = {
        "method": "zs",
        "hp": "hp0",
        "lr": 1e-3,
        "epochs": 1,
        "batch_size": 8,
        "seed": seed,
        "main_metric": "accuracy",
        "scores": {lang: {"dev": score, "test": score} for lang in LANGS},
    }
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder / "metrics.json", folder / "predictions.json", folder / "features.npz"


def pool(root: Path, files: list[tuple[Path, Path, Path]]):
    dev = {}
    for lang in LANGS:
        dev[lang] = str(root / f"{lang}.jsonl")
        write_jsonl(
            dev[lang],
            [{"id": "1", "text": "x", "label": "a"}, {"id": "2", "text": "y", "label": "b"}],
        )
    metrics, preds, feats = (list(map(str, column)) for column in zip(*files, strict=True))
    return build_pool(
        "classification",
        metrics,
        preds,
        feats,
        dev,
        None,
        {},
        str(root / "p.parquet"),
        str(root / "p.npz"),
    )


def test_intact_candidates_pool(tmp_path: Path) -> None:
    table = pool(tmp_path, [candidate(tmp_path, 1), candidate(tmp_path, 2)])
    assert len(table) == 4 and set(table["dev"]) == {0.5}


@pytest.mark.parametrize(
    ("which", "damage", "problem"),
    [
        (0, b'{"method": "zs", "hp": "hp0", "lr"', "invalid JSON"),
        (0, b"\x00\xff\xfe garbage", "not UTF-8 text"),
        (0, b'{"method": "zs"}', "lacks ['hp', 'lr'"),
        (0, b"[]", "expected a JSON object"),
        (1, b"", "invalid JSON"),
        (2, b"PK\x03\x04 truncated", "unreadable features"),
    ],
)
def test_corrupt_candidate_file_names_the_file_and_the_fix(
    tmp_path: Path, which: int, damage: bytes, problem: str
) -> None:
    good, bad = candidate(tmp_path, 1), candidate(tmp_path, 2)
    bad[which].write_bytes(damage)
    fix = f"re-train exactly this candidate and rebuild everything made from it with `snakemake all --forcerun {bad[which]}`"
    with pytest.raises(
        DataError, match=re.escape(str(bad[which])) + f".*{re.escape(problem)}.*{re.escape(fix)}"
    ):
        pool(tmp_path, [good, bad])
    assert not (tmp_path / "p.parquet").exists()


def test_candidate_missing_a_language_names_it(tmp_path: Path) -> None:
    files = candidate(tmp_path, 1)
    metrics = json.loads(files[0].read_text())
    del metrics["scores"]["de"]
    files[0].write_text(json.dumps(metrics))
    with pytest.raises(
        DataError, match=re.escape(str(files[0])) + ".*no dev 'accuracy' score for 'de'"
    ):
        pool(tmp_path, [files])


def test_a_killed_writers_temporary_is_removed_by_the_next_writer(tmp_path: Path) -> None:
    """kill -9 inside ``atomic_path`` (e.g. while converting the bundled encoder) leaves the
    temporary directory behind; the next writer of the same target removes it, and nothing
    else (another target's temporary, e.g. ``e5.v2``'s, and other files stay)."""
    target = tmp_path / "encoders" / "e5"
    kill = (
        "import os, signal, sys\n"
        "from xlt.io import atomic_path\n"
        "with atomic_path(sys.argv[1]) as tmp:\n"
        "    tmp.mkdir()\n"
        "    (tmp / 'model.safetensors').write_bytes(bytes(1 << 20))\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    for name in (target, target.with_name("e5.v2")):
        res = subprocess.run([sys.executable, "-c", kill, str(name)], capture_output=True)
        assert res.returncode == -9, res.stderr
    leftovers = sorted(p.name for p in target.parent.iterdir())
    assert len(leftovers) == 2 and all(p.endswith(".tmp") for p in leftovers)
    (target.parent / ".e5.keep").write_text("not a temporary of e5")
    with atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "config.json").write_text("{}")
    left = sorted(p.name for p in target.parent.iterdir())
    assert left == [".e5.keep", next(n for n in leftovers if n.startswith(".e5.v2.")), "e5"]
    assert (target / "config.json").exists()


def test_a_shared_targets_concurrent_writer_is_left_alone(tmp_path: Path) -> None:
    """A download cache may be written by two jobs at once: the second writer must not take the
    first one's temporary for a leftover."""
    target = tmp_path / "downloads" / "abc-data.zip"
    with atomic_path(target, shared=True) as first:
        first.write_bytes(b"first")
        with atomic_path(target, shared=True) as second:
            second.write_bytes(b"second")
        assert first.read_bytes() == b"first"
    assert target.read_bytes() == b"first" and [p.name for p in target.parent.iterdir()] == [target.name]  # fmt: skip


# --- intermediates: every reader names the broken file and how to rebuild it ----------------


def forcerun(path: Path) -> str:
    return re.escape(f"snakemake all --forcerun {path}")


@pytest.mark.parametrize("damage", ["empty", "truncated"])
def test_broken_pool_files_name_the_file_and_the_fix(tmp_path: Path, damage: str) -> None:
    pool(tmp_path, [candidate(tmp_path, 1), candidate(tmp_path, 2)])
    table, arrays = tmp_path / "p.parquet", tmp_path / "p.npz"
    assert len(Pool.load(table, arrays).candidates) == 2
    for path in (table, arrays):
        data = path.read_bytes()
        path.write_bytes(b"" if damage == "empty" else data[: len(data) // 2])
        match = f"{re.escape(str(path))}: unreadable pool .*{forcerun(path)}"
        with pytest.raises(DataError, match=match):
            Pool.load(table, arrays)
        if path == table:  # what the table and figure rules and the comparison read
            with pytest.raises(DataError, match=match):
                read_table(table)
        path.write_bytes(data)


@pytest.mark.parametrize("name", ["seed1.json.gz", "seed1.json"])
def test_truncated_study_documents_name_the_file_and_the_fix(tmp_path: Path, name: str) -> None:
    from xlt.studies.interpolation.report import load_docs as interpolation_docs
    from xlt.studies.iwda.report import load_docs as iwda_docs

    doc = tmp_path / name
    write_json(doc, {"rows": [{"alpha": i / 100, "score": 50.0} for i in range(200)]})
    assert len(interpolation_docs([doc])[0]["rows"]) == 200
    data = doc.read_bytes()
    doc.write_bytes(data[: len(data) // 2])
    problem = "truncated or corrupt gzip file" if name.endswith(".gz") else "invalid JSON"
    for load in (interpolation_docs, iwda_docs):
        with pytest.raises(DataError, match=f"{re.escape(str(doc))}.*{problem}.*{forcerun(doc)}"):
            load([doc])


def test_no_reader_of_a_pool_or_document_bypasses_the_checked_readers() -> None:
    """Pools are read by ``read_table``/``Pool.load`` and the workflow's JSON documents by
    ``read_output_json`` (a broken file then names itself and the fix, not a bare ArrowInvalid
    or EOFError); the MetaXL report is its study's own."""
    repo = Path(__file__).resolve().parents[1]
    scripts = sorted((repo / "workflow_scripts").glob("*.py"))
    modules = sorted(p for p in (repo / "xlt" / "studies").rglob("*.py") if "metaxl" not in p.parts)
    for path in scripts + modules:
        text = path.read_text()
        assert "read_parquet(" not in text, path
        assert not re.search(r"\bread_json\(", text), path
