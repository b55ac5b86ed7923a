"""configs/real-local.yaml, reduced, end to end on the real files in ../shared/data (skipped without)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_workflow import REPO, planned_jobs, snakemake

SHARED = Path(os.environ.get("XLT_SHARED_DATA", REPO.parent / "shared" / "data"))

pytestmark = [
    pytest.mark.workflow,
    pytest.mark.skipif(not SHARED.is_dir(), reason=f"real data not found at {SHARED}"),
]


def reduced_config(tmp_path: Path) -> Path:
    """real-local.yaml with absolute file paths, small caps, a toy encoder and one seed."""
    cfg = yaml.safe_load((REPO / "configs" / "real-local.yaml").read_text())
    for spec in cfg["datasets"].values():
        spec["source"]["file"] = spec["source"]["file"].replace("../shared/data", str(SHARED))
        spec["cap"] = {"train": 150, "dev": 40, "test": 40}
        spec["languages"] = {k: v for k, v in spec["languages"].items() if k in ("en", "de", "es", "zh", "nl")}  # fmt: skip
    cfg["encoders"]["tiny"].update(vocab_size=1500, hidden_size=32, layers=1, heads=2, intermediate_size=64)  # fmt: skip
    cfg["encoders"]["tiny"]["pretrain"] = {"steps": 20, "batch_size": 16, "seq_len": 64}
    for task in cfg["tasks"].values():
        task["targets"] = [t for t in task["targets"] if t in ("de", "es", "zh", "nl")]
        task["grid"] = {"lr": [1e-3], "epochs": [1], "seeds": [1], "batch_size": 16}
    cfg["tasks"]["pos_ud"]["grid"]["seeds"] = [1, 2, 3, 4]  # enough for the LMS study
    cfg["lms"].update(hidden=16, epochs=1, batch_sizes=[4], lrs=[1e-3], runs=2, n_draws=2, nmodels=[2])  # fmt: skip
    # IWDA on SIB-200, whose config declares no label set (the job infers it), German training
    # text as the unlabelled data
    cfg["datasets"]["sib200"]["languages"]["de"] = ["train", "dev", "test"]
    cfg["iwda"] = {
        "tasks": {"topic_sib200": {"targets": ["de"]}},
        "variants": ["iwda"],
        "seeds": [1],
        "lr": 1e-3,
        "epochs": 1,
        "batch_size": 16,
        "stage2": {"epochs": 1, "critic_hidden": 16},
        "shift": {"subsets": 3, "size": 20},
    }
    path = tmp_path / "real-reduced.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_real_local_config_dry_runs(tmp_path):
    jobs = planned_jobs(tmp_path, "all", config=REPO / "configs" / "real-local.yaml")
    assert jobs["finetune"] == 28 and jobs["prepare_data"] > 50 and "generate_world" not in jobs
    assert jobs["lms"] == 1 and jobs["lms_report"] == 1


def test_reduced_real_local_study_runs_end_to_end(tmp_path):
    cfg = reduced_config(tmp_path)
    snakemake(tmp_path, "all", "--cores", "2", config=cfg, timeout=900)
    for task, langs in {
        "pos_ud": ["en", "de", "es", "nl", "zh"],
        "ner_wikiann": ["en", "de", "es", "nl"],
        "ner_conll": ["en", "es", "nl"],
        "topic_sib200": ["en", "de", "es", "nl", "zh"],
    }.items():
        table = pd.read_csv(tmp_path / f"results/tables/zero_shot_{task}.csv")
        assert list(table["lang"]) == langs
        assert (tmp_path / f"results/figures/scores_{task}.png").exists()
    lms = pd.read_csv(tmp_path / "results/tables/lms_pos_ud.csv")
    assert set(lms["target"]) >= {"de", "es", "nl", "zh"} and lms["LMS"].notna().all()
    assert (tmp_path / "results/figures/lms_kde_pos_ud.png").exists()
    iwda = pd.read_csv(tmp_path / "results/tables/iwda_topic_sib200.csv")
    assert {"Zero-shot", "IWDA"} <= set(iwda["method"]) and iwda["de"].notna().all()
    rec = json.loads((tmp_path / "results/candidates/topic_sib200/iw.de.iwda/lr0.001-ep1-bs16/seed1/metrics.json").read_text())  # fmt: skip
    assert len(rec["config"]["labels"]) == 7  # SIB-200's seven topics, inferred
    prov = json.loads((tmp_path / "results/data/conll2002/nl/test.provenance.json").read_text())
    assert prov["source"] == "file" and prov["n_read"] == 5195 and prov["n_written"] == 40
    assert prov["label_map"] == {"B-MISC": "O", "I-MISC": "O"}
    conll = [json.loads(x) for x in (tmp_path / "results/data/conll2002/nl/test.jsonl").read_text().splitlines()]  # fmt: skip
    assert not any("MISC" in t for r in conll for t in r["tags"])
    snakemake(tmp_path, "--report", "results/report.html", config=cfg)
    assert (tmp_path / "results/report.html").stat().st_size > 10000
