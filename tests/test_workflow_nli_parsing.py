"""Sentence pairs (NLI) and dependency parsing through the workflow, offline, on a tiny config
(configs/test-nli-parsing.yaml): zero-shot candidates of both kinds, translate-train on NLI pairs,
the interpolation study on parsing, IWDA on NLI; and the studies that do not apply to parsing
refused before any job runs."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_workflow import REPO, planned_jobs, snakemake

from xlt.config import ConfigError, validate
from xlt.io import read_jsonl
from xlt.world.grammar import DEPRELS

CONFIG = REPO / "configs" / "test-nli-parsing.yaml"

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("kinds")
    snakemake(work, "all", "--cores", "2", config=CONFIG)
    return work


def test_zero_shot_tables_and_pools_of_both_kinds(run):
    for task, metric in (("nli", "accuracy"), ("parse", "las")):
        table = pd.read_csv(run / f"results/tables/zero_shot_{task}.csv")
        assert list(table["lang"]) == ["en", "de", "zh"] and (table["candidates"] == 2).all()
        assert table["mean"].between(0, 100).all() and "majority" in table.columns
        m = json.loads((run / f"results/candidates/{task}/zero-shot/lr0.003-ep1-bs16/seed1/metrics.json").read_text())  # fmt: skip
        assert m["main_metric"] == metric
    m = json.loads((run / "results/candidates/parse/zero-shot/lr0.003-ep1-bs16/seed1/metrics.json").read_text())  # fmt: skip
    for lang in ("en", "de", "zh"):
        s = m["scores"][lang]["test"]
        assert set(s) == {"uas", "las"} and 0 <= s["las"] <= s["uas"] <= 100
    assert m["config"]["labels"] == list(DEPRELS)  # the relations the world's grammar uses
    # the trivial baseline of parsing: every word attached to the word before it
    parse = pd.read_csv(run / "results/tables/zero_shot_parse.csv")
    assert parse["majority"].between(0, 30).all()
    assert parse["mean"].iloc[0] > parse["majority"].iloc[0]  # the parser beats it (en LAS)
    pool = pd.read_parquet(run / "results/pools/parse.parquet")
    assert len(pool) == 2 * 3 and pool["test"].between(0, 100).all()


def test_translate_train_realises_nli_pairs_and_carries_their_labels(run):
    source = {r["id"]: r for r in read_jsonl(run / "results/data/synth-nli/en/train.jsonl")}
    out = run / "results/translate/synth-nli/de/synthetic-low/sentence"
    train = read_jsonl(out / "train.jsonl", "classification", ["entailment", "neutral", "contradiction"])  # fmt: skip
    assert len(train) == len(source) == 200
    for r in train:
        src = source[r["src_id"]]
        assert r["label"] == src["label"] and r["id"] == f"{src['id']}.de"
        assert r["text_pair"] and r["text"] != src["text"]
    stats = json.loads((out / "stats.json").read_text())
    assert stats["pairs"] == 200 and sum(stats["labels"].values()) == 200
    table = pd.read_csv(run / "results/tables/adaptation_nli.csv")
    assert list(table["method"]) == ["ZERO-SHOT", "TO"]
    assert not (run / "results/translate/synth-nli/de/synthetic-low/alignments.jsonl").exists()


def test_interpolation_on_parsing(run):
    table = pd.read_csv(run / "results/tables/interpolation_1d_parse.csv")
    assert set(table["pair"]) == {"en-de"} and len(table) == 2 * 9 * 2
    assert (table.loc[table["alpha"] == 1.0, "normalised"] == 1.0).all()
    doc = json.loads(gzip.decompress((run / "results/interpolation/parse/en-de/seed1.json.gz").read_bytes()))  # fmt: skip
    assert doc["metric"] == "las" and doc["endpoint_check"] == {"src": 0, "tgt": 0, "bi": 0}
    assert doc["geometry"]["norm_src"] > 0 and 0 < doc["geometry"]["angle"] < 180
    assert (run / "results/figures/interpolation_2d_parse.png").stat().st_size > 5000


def test_iwda_on_nli_pairs(run):
    main = pd.read_csv(run / "results/tables/iwda_nli.csv")
    assert list(main["method"]) == ["Zero-shot", "Alignment (w ≡ 1)", "IWDA", "Supervised (upper bound)"]  # fmt: skip
    assert main["zh"].between(0, 100).all()
    doc = json.loads((run / "results/iwda/nli/zh/seed1.json").read_text())
    assert doc["label_shift"]["align"]["w_init"] == [1.0, 1.0, 1.0]


def test_second_run_has_nothing_to_do(run):
    assert planned_jobs(run, "all", config=CONFIG) == {}


# --- studies that do not apply to parsing: refused with the reason --------------------------


def _with(edit) -> dict:
    cfg = copy.deepcopy(yaml.safe_load(CONFIG.read_text()))
    edit(cfg)
    validate(
        cfg, REPO / "schemas" / "config.schema.yaml"
    )  # the defaults, as the workflow fills them
    return cfg


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda c: c.update(iwda={**c["iwda"], "tasks": {"parse": {"targets": ["zh"]}}}),
            r"iwda.tasks.parse: task 'parse' is a parsing task; .* no fixed label set",
        ),
        (
            lambda c: c.update(metaxl={"tasks": {"parse": {"targets": ["zh"]}}, "n": 20}),
            r"metaxl.tasks.parse: task 'parse' is a parsing task; this study takes",
        ),
        (
            lambda c: c["tasks"]["parse"].update(methods=["zero-shot", "to"]),
            r"tasks.parse.methods: \['to'\]: translate-train does not apply to a parsing task",
        ),
    ],
)
def test_studies_that_do_not_apply_to_parsing_are_refused(edit, message):
    from xlt.studies import load

    with pytest.raises(ConfigError, match=message):
        load(_with(edit))


# --- paper scale: XNLI (official releases) and UD parsing planned offline --------------------


def test_paper_scale_plans_xnli_and_parsing_offline():
    cfg = yaml.safe_load((REPO / "configs" / "paper.yaml").read_text())
    xnli = cfg["datasets"]["xnli"]
    assert xnli["source"]["sha256"] == "4ba1d5e1afdb7161f0f23c66dc787802ccfa8a25a3ddd3b165a35e50df346ab1"  # fmt: skip
    assert xnli["source"]["member"] == "XNLI-1.0/xnli.{split}.tsv" and xnli["options"] == {"layout": "official"}  # fmt: skip
    assert xnli["sources"]["de"]["train"]["hub"] == "facebook/xnli" and len(xnli["languages"]) == 15  # fmt: skip
    assert cfg["datasets"]["ud_parse"]["sources"]["en"]["train"]["url"].endswith("en_ewt-ud-train.conllu")  # fmt: skip
    targets = [
        "results/tables/zero_shot_nli_xnli_mbert.csv",
        "results/tables/zero_shot_parse_ud_xlmr.csv",
        "results/tables/interpolation_1d_nli_xnli_xlmr.csv",
        "results/tables/iwda_nli_xnli_iwda_xlmr.csv",
    ]
    jobs = planned_jobs(REPO, *targets, config=REPO / "configs" / "paper.yaml")
    # seed 002's schedule: 3 seeds; the interpolation's 8 pairs x 3 seeds; IWDA on 14 targets
    assert (
        jobs["finetune"] == 3 + 3
        and jobs["interpolate"] == 8 * 3
        and jobs["interpolation_endpoint"] == 3
    )
    assert jobs["iwda"] == 14 * 3  # job_per_seed
    # every language's dev and test of XNLI and of UD, the training sets that are read
    assert jobs["prepare_data"] >= 15 * 2 + 13 * 2
    assert "generate_world" not in jobs
