"""The workflow end to end on extractive QA and relation classification, with no data directory:
the synthetic world's synth-qa and synth-relation, zero-shot candidates, their pools, LMS on both
(Table 7 included), the comparison, and the interpolation study on relations (saved and reloaded
entity-start models). The config is configs/test.yaml with its tasks and studies replaced."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest
import yaml
from test_workflow import TEST_CONFIG, planned_jobs, snakemake  # tests/ is on sys.path (rootdir)

from xlt.io import read_jsonl

pytestmark = pytest.mark.workflow

SEEDS = [1, 2, 3, 4, 5, 6]


def kinds_config() -> dict:
    cfg = yaml.safe_load(TEST_CONFIG.read_text())
    cfg["world"]["languages"] = ["en", "de", "zh"]
    cfg["world"]["datasets"] = ["synth-qa", "synth-relation", "synth-text"]
    cfg["world"].pop("sentiment_priors")
    grid = {"lr": [3.0e-3], "epochs": [1], "seeds": SEEDS, "batch_size": 16}
    cfg["tasks"] = {
        "qa": {"dataset": "synth-qa", "kind": "qa", "targets": ["de", "zh"], "grid": grid},
        "relation": {
            "dataset": "synth-relation",
            "kind": "relation",
            "targets": ["de", "zh"],
            "grid": grid,
        },  # fmt: skip
    }
    cfg["lms"]["tasks"] = ["qa", "relation"]
    for study in ("translate", "adapt", "metaxl", "iwda"):
        cfg.pop(study)
    cfg["interpolation"] = {"tasks": {"relation": {"targets": ["de"]}}, "seeds": [1], "lr": 3.0e-3,
                            "epochs": 1, "batch_size": 16, "grid_1d": "coarse", "grid_2d": "none",
                            "splits": ["dev"]}  # fmt: skip
    return cfg


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("wf-kinds")
    config = work / "kinds.yaml"
    config.write_text(yaml.safe_dump(kinds_config()))
    snakemake(work, "all", "--cores", "2", config=config)
    return work, config


def test_qa_and_relation_pools_hold_every_candidate_and_dev_statistics(run):
    work, _ = run
    for task, k in (("qa", 2), ("relation", 4)):
        pool = pd.read_parquet(work / f"results/pools/{task}.parquet")
        assert len(pool) == len(SEEDS) * 3 and pool["test"].between(0, 100).all()
        with np.load(work / f"results/pools/{task}.npz") as z:
            assert str(z["kind"]) == task and z["features"].shape == (len(SEEDS), 3, 32)
            n_dev = len(read_jsonl(work / f"results/data/synth-{task}/de/dev.jsonl"))
            assert z["stats_de"].shape == (len(SEEDS), n_dev, k)
    qa = pd.read_parquet(work / "results/pools/qa.parquet")
    assert {"dev_exact_match", "dev_f1", "dev_f1_squad", "test_exact_match"} <= set(qa.columns)
    assert "majority_test" not in qa.columns  # QA has no majority answer
    rel = pd.read_parquet(work / "results/pools/relation.parquet")
    assert {"dev_precision", "dev_recall", "dev_accuracy", "dev_f1_kbp37"} <= set(rel.columns)
    assert (rel["majority_test"] == 0).all()  # no_relation everywhere: no positive at all
    metrics = json.loads(next((work / "results/candidates/qa").rglob("metrics.json")).read_text())
    assert metrics["main_metric"] == "f1" and metrics["config"]["labels"] == []
    path = next((work / "results/candidates/qa").rglob("predictions.json.gz"))
    answers = json.loads(gzip.decompress(path.read_bytes()))["dev"]["zh"]
    dev = read_jsonl(work / "results/data/synth-qa/zh/dev.jsonl")
    assert len(answers) == len(dev) and all(a in r["context"] for a, r in zip(answers, dev, strict=True))  # fmt: skip


def test_lms_runs_on_qa_and_relation_pools(run):
    work, _ = run
    for task in ("qa", "relation"):
        table7 = pd.read_csv(work / f"results/tables/lms_runs_{task}.csv")
        assert len(table7) and "LMS" in table7.to_string()
        for name in (
            "lms",
            "lms_features",
            "lms_langvec",
            "lms_nmodels",
            "zero_shot",
            "comparison",
        ):
            assert (work / f"results/tables/{name}_{task}.csv").exists(), (name, task)
        assert (work / f"results/figures/lms_kendall_{task}.png").stat().st_size > 5000
    zs = pd.read_csv(work / "results/tables/zero_shot_qa.csv")
    assert list(zs["lang"]) == ["en", "de", "zh"] and (zs["candidates"] == len(SEEDS)).all()
    assert zs["mean_f1_squad"].between(0, 100).all()  # the metric XQuAD's numbers are published in


def test_interpolation_reloads_entity_start_models(run):
    work, _ = run
    doc = json.loads(gzip.decompress(next((work / "results/interpolation/relation").glob("*/seed*.json.gz")).read_bytes()))  # fmt: skip
    assert doc["kind"] == "relation" and doc["metric"] == "f1"
    # the endpoints, written by save_pretrained and read back into one model, score as trained
    assert all(v == 0 for v in doc["endpoint_check"].values()), doc["endpoint_check"]
    assert (work / "results/tables/interpolation_1d_relation.csv").exists()


def test_second_run_has_nothing_to_do(run):
    work, config = run
    assert planned_jobs(work, "all", config=config) == {}
