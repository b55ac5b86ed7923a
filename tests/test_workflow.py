"""The workflow end to end on a tiny config: outputs, targets, re-runs, report, bad input."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from xlt.io import read_jsonl

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TEST_CONFIG = REPO / "configs" / "test.yaml"

pytestmark = pytest.mark.workflow


def snakemake(workdir: Path, *args: str, config: Path | None = TEST_CONFIG, check: bool = True, timeout: int = 3600):  # fmt: skip
    cmd = [SNAKEMAKE, *args, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]
    if config is not None:
        cmd += ["--configfile", str(config)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and res.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{res.stdout[-3000:]}\n{res.stderr[-5000:]}")  # fmt: skip
    return res


def planned_jobs(workdir: Path, *args: str, config: Path | None = TEST_CONFIG) -> dict[str, int]:
    """Job counts per rule of a dry run (empty when there is nothing to do)."""
    out = snakemake(workdir, "-n", *args, config=config).stdout
    counts = {}
    if "Job stats:" in out:
        table = out.split("Job stats:")[1].split("\n\n")[0]
        for line in table.splitlines()[3:]:
            m = re.match(r"(\S+)\s+(\d+)$", line.strip())
            if m and m[1] != "total":
                counts[m[1]] = int(m[2])
    return counts


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wf")
    # no wall-clock budget here: timing belongs to `make bench` (a busy CI machine is slow)
    snakemake(work, "all", "--cores", "2")
    return work


def test_all_builds_tables_figures_pools_and_logs(run):
    # zero-shot candidates per task, and all candidates (translate-train, MetaXL and IWDA included)
    expected = {"ner": (8, 8), "pos": (2, 4), "sentiment": (2, 2 + 11 + 8)}
    for task, (zero_shot, everything) in expected.items():
        langs = ["en", "de", "zh"] + (["af"] if task == "sentiment" else [])
        table = pd.read_csv(run / f"results/tables/zero_shot_{task}.csv")
        assert list(table["lang"]) == langs
        assert {"mean", "sd", "seed_sd", "en_dev", "all_target", "majority"} <= set(table.columns)
        assert (table["candidates"] == zero_shot).all()
        assert (run / f"results/tables/zero_shot_{task}.md").read_text().startswith("### Zero-shot")
        assert (run / f"results/figures/scores_{task}.png").stat().st_size > 5000
        pool = pd.read_parquet(run / f"results/pools/{task}.parquet")
        assert len(pool) == everything * len(langs) and pool["test"].between(0, 100).all()
    lms = pd.read_csv(run / "results/tables/lms_ner.csv")
    assert {"En-Dev", "LMS", "All-Target"} <= set(lms.columns) or "LMS" in lms.to_string()
    for name in ("lms_features_ner", "lms_langvec_ner", "lms_runs_ner", "lms_nmodels_ner"):
        assert (run / f"results/tables/{name}.csv").exists()
    assert (run / "results/figures/lms_kde_ner.png").exists()
    adaptation = pd.read_csv(run / "results/tables/adaptation_pos.csv")
    assert list(adaptation["method"]) == ["ZERO-SHOT", "TO", "MTL-WS"]
    quality = pd.read_csv(run / "results/tables/projection_quality.csv")
    assert set(quality["lang"]) == {"de"}
    metrics = json.loads(next((run / "results/candidates/pos").rglob("metrics.json")).read_text())
    assert set(metrics["scores"]) == {"en", "de", "zh"}
    assert metrics["provenance"]["torch"].startswith("2.13")
    warm = json.loads(
        next((run / "results/candidates/pos/mtl-ws").rglob("metrics.json")).read_text()
    )
    # adapt.mtl_ws of the config (Z 2, K 2), not the library defaults; one target language
    assert warm["info"]["warmup"]["iterations"] == 2
    assert warm["info"]["warmup"]["inner_steps"] == 2 * 2 * 1
    assert not list((run / "results/candidates").rglob("model"))  # weights are temp()
    assert (run / "results/encoders/tiny/config.json").exists()
    logs = list((run / "logs").rglob("*.log"))
    assert len(logs) >= 14 and all(p.read_text().startswith("# xlt job started") for p in logs)
    assert list((run / "benchmarks").rglob("*.tsv"))


def test_second_run_has_nothing_to_do(run):
    assert planned_jobs(run, "all") == {}


def test_deleting_a_table_reruns_only_the_table(run):
    (run / "results/tables/zero_shot_ner.csv").unlink()
    assert planned_jobs(run, "all") == {"table_zero_shot": 1, "all": 1}
    snakemake(run, "results/tables/zero_shot_ner.csv", "--cores", "1")
    assert planned_jobs(run, "all") == {}


def test_a_run_targeting_one_candidate_leaves_no_weights_behind(run):
    cand = next((run / "results/candidates/sentiment").rglob("metrics.json")).parent
    shutil.rmtree(cand)
    snakemake(run, str((cand / "metrics.json").relative_to(run)), "--cores", "1")
    assert (cand / "metrics.json").exists() and not (cand / "model").exists()
    snakemake(run, "all", "--cores", "2")  # the pool and tables that read it, for later tests


def test_changing_one_grid_value_reruns_only_affected_jobs(run, tmp_path):
    cfg = yaml.safe_load(TEST_CONFIG.read_text())
    cfg["tasks"]["pos"]["grid"] = {**cfg["defaults"]["grid"], "seeds": [1, 2, 3]}
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(cfg))
    jobs = planned_jobs(run, "all", config=changed)
    assert jobs == {"finetune": 1, "pool": 1, "table_zero_shot": 1, "figure_scores": 1,
                    "table_adaptation": 1, "comparison": 1, "all": 1}  # fmt: skip
    # the warm-start settings re-run the MTL-WS candidate only
    cfg = yaml.safe_load(TEST_CONFIG.read_text())
    cfg["adapt"]["mtl_ws"]["Z"] = 3
    changed.write_text(yaml.safe_dump(cfg))
    jobs = planned_jobs(run, "all", config=changed)
    assert jobs == {"finetune": 1, "pool": 1, "table_zero_shot": 1, "figure_scores": 1,
                    "table_adaptation": 1, "comparison": 1, "all": 1}  # fmt: skip


def test_one_table_builds_only_what_it_needs(tmp_path):
    jobs = planned_jobs(tmp_path, "results/tables/zero_shot_ner.csv")
    assert jobs == {
        "generate_world": 1,
        "train_tokenizer": 1,
        "pretrain_encoder": 1,
        "finetune": 8,
        "pool": 1,
        "table_zero_shot": 1,
    }


def report_variable(html: str, name: str):
    """A JavaScript variable of the report's page (``results``, ``categories``, …), decoded."""
    start = re.search(rf"var {name} = (?=[{{\"])", html).end()  # the data, not a library's code
    return json.JSONDecoder().raw_decode(html, start)[0]


def test_report_renders(run):
    snakemake(run, "--report", "results/report.html")
    html = (run / "results/report.html").read_text(errors="replace")
    assert "zero_shot_ner.csv" in html and "scores_sentiment.png" in html
    # the front page leads with the comparison, whose category sorts first in the menu
    assert "comparison_ner.csv" in html and "All methods compared" in html


def test_every_report_result_is_reachable_and_every_table_readable_inline(run):
    snakemake(run, "--report", "results/report.html")
    html = (run / "results/report.html").read_text(errors="replace")
    results, categories = report_variable(html, "results"), report_variable(html, "categories")
    # the report shows one row per combination of labels in a (sub)category: results that share
    # all labels hide each other
    for category, subcategories in categories.items():
        for sub, paths in subcategories.items():
            labels = [tuple(sorted((results[p]["labels"] or {}).items())) for p in paths]
            assert all(labels), f"{category} / {sub}: a result without labels"
            shared = sorted({lab for lab in labels if labels.count(lab) > 1})
            assert not shared, f"{category} / {sub}: results share all labels: {shared}"
    listed = {p for subs in categories.values() for paths in subs.values() for p in paths}
    assert listed == set(results) and len(results) >= 50
    # the results the issue found hidden are listed, each under its own name
    for path in ("results/tables/lms_ner.html", "results/tables/lms_features_ner.html",
                 "results/figures/lms_kde_ner.png", "results/figures/interpolation_1d_pos.png",
                 "results/tables/interpolation_1d_pos.html", "results/figures/interpolation_2d_pos.png",
                 "results/tables/iwda_sentiment.html", "results/tables/metaxl_hausdorff_sentiment.html"):  # fmt: skip
        assert path in results, path
    # every table is also an HTML page (shown inline), with its title and the numbers of its CSV
    tables = [p for p in results if p.endswith(".csv")]
    assert len(tables) >= 20
    for csv in tables:
        twin = results[csv[: -len(".csv")] + ".html"]
        assert twin["mime_type"] == "text/html" and twin["labels"]["type"] == "table"
        page = base64.b64decode(twin["data_uri"].split("base64,", 1)[1]).decode()
        assert "<h3>" in page and "<table>" in page and "</td>" in page, csv
    lms = base64.b64decode(results["results/tables/lms_ner.html"]["data_uri"].split(",", 1)[1]).decode()  # fmt: skip
    assert "Chen &amp; Ritter Table 2" in lms and ">En-Dev</th>" in lms
    # the front page shows each task's headline comparison numbers, not only links
    front = report_variable(html, "workflow_desc")
    for task in ("ner", "pos", "sentiment"):
        head = pd.read_csv(run / f"results/tables/comparison_{task}_headline.csv", dtype=str)
        assert list(head.columns)[:2] == ["method", "target data"] and len(head) >= 2
        for row in head.itertuples(index=False):
            assert f"<td>{row[0]}</td>" in front and f"<td>{row[2]}</td>" in front, row


def test_paper_scale_dry_run_is_offline():
    jobs = planned_jobs(REPO, "all", config=REPO / "configs" / "paper.yaml")
    assert jobs["finetune"] >= 240 * 4
    assert jobs["fetch_encoder"] == 2 and "generate_world" not in jobs
    # MetaXL on WikiANN's 8 low-resource languages, mBERT and XLM-R: with job_per_seed (the
    # cluster's setting), one job per (task, target, seed) for the English-source settings, one
    # for the related source
    assert jobs["metaxl"] == jobs["metaxl_related"] == 2 * 8 * 3 and jobs["metaxl_tables"] == 2


def test_translate_train_config_extends_the_full_world_and_reuses_its_jobs():
    from xlt.studies import load

    default = yaml.safe_load((REPO / "configs" / "full.yaml").read_text())
    study = yaml.safe_load((REPO / "configs" / "translate-train.yaml").read_text())
    # what the world, the encoder, the translations and every candidate's params derive from
    for key in ("seed", "world", "encoders", "datasets", "defaults", "finetune"):
        assert study[key] == default[key], key
    assert study["adapt"]["mtl_ws"] == default["adapt"]["mtl_ws"]
    for key in set(default["translate"]) - {"datasets", "quality"}:
        assert study["translate"][key] == default["translate"][key], key
    dirs = {t: {c.dir for c in load(cfg).candidates()} for t, cfg in (("d", default), ("s", study))}
    assert {d for d in dirs["d"] if "/sentiment/" not in d} <= dirs["s"]
    methods = {c.method for c in load(study).candidates("pos")}
    assert {"zero-shot", "to-es", "bilingual-zh", "mtl", "mtl-ws"} <= methods
    assert len(dirs["s"]) == 77


# --- bad input: a clear message naming the culprit, and no partial output -------------------


def _config_with(tmp_path: Path, edit) -> Path:
    cfg = yaml.safe_load(TEST_CONFIG.read_text())
    edit(cfg)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_invalid_config_value_is_named(tmp_path):
    bad = _config_with(tmp_path, lambda c: c["finetune"].update(precision="fp8"))
    res = snakemake(tmp_path, "-n", "all", config=bad, check=False)
    assert res.returncode != 0
    err = res.stdout + res.stderr
    assert "fp8" in err and "precision" in err
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("name", ["..", "../../../escaped", "ud(v2"])
def test_unsafe_names_stop_before_any_job_and_results_survive(tmp_path, name):
    (tmp_path / "results/encoders").mkdir(parents=True)
    (tmp_path / "results/keep.txt").write_text("a finished study")

    def edit(cfg):
        cfg["encoders"][name] = cfg["encoders"].pop("tiny")
        cfg["defaults"]["encoder"] = name

    bad = _config_with(tmp_path, edit)
    res = snakemake(tmp_path, "all", "--cores", "1", config=bad, check=False)
    assert res.returncode != 0
    err = res.stdout + res.stderr
    assert "invalid configuration: encoders" in err and "not a valid name" in err
    assert len(err.splitlines()) < 40  # one message, not the schema and the whole config
    assert (tmp_path / "results/keep.txt").read_text() == "a finished study"
    assert not (tmp_path.parent / "escaped").exists() and not (tmp_path / "logs").exists()


def test_top_level_typo_is_one_line_with_the_nearest_key(tmp_path):
    bad = _config_with(tmp_path, lambda c: c.update(transalte=c.pop("translate")))
    res = snakemake(tmp_path, "-n", "all", config=bad, check=False)
    assert res.returncode != 0
    err = res.stdout + res.stderr
    assert "unknown key 'transalte' (did you mean 'translate'?)" in err
    assert len(err.splitlines()) < 40


def test_unknown_language_code_is_named(tmp_path):
    bad = _config_with(tmp_path, lambda c: c["tasks"]["ner"].update(targets=["de", "xx"]))
    res = snakemake(tmp_path, "-n", "all", config=bad, check=False)
    assert res.returncode != 0
    err = res.stdout + res.stderr
    assert "unknown language 'xx'" in err and "tasks.ner" in err and "world.languages" in err


def _wikiann_files(data: Path) -> dict:
    """A user's NER dataset in WikiANN TSV files (en train/dev/test, de dev/test) under ``data``."""
    return {
        "task_type": "tagging",
        "format": "wikiann",
        "languages": {"en": ["train", "dev", "test"], "de": ["dev", "test"]},
        "source": {"file": str(data / "{lang}-{split}.tsv")},
    }


def test_malformed_data_line_stops_with_file_and_line(tmp_path):
    data = tmp_path / "in"
    data.mkdir()
    good = "Maria\tB-PER\nsleeps\tO\n\n"
    for name in ("en-train", "en-test", "de-dev", "de-test"):
        (data / f"{name}.tsv").write_text(good * 3)
    (data / "en-dev.tsv").write_text(good + "broken-line-without-tag\n\n")

    def edit(cfg):
        cfg["datasets"] = {"myner": _wikiann_files(data)}
        cfg["tasks"] = {"ner": {"dataset": "myner", "kind": "ner", "targets": ["de"]}}
        cfg.pop("interpolation")  # its task is gone
        cfg.pop("metaxl")  # its task is gone
        cfg.pop("iwda")  # its task is gone
        cfg["lms"]["tasks"] = []  # one target: no two pivots for leave-one-language-out

    bad = _config_with(tmp_path, edit)
    res = snakemake(tmp_path, "results/data/myner/en/dev.jsonl", "--cores", "1", config=bad, check=False)  # fmt: skip
    assert res.returncode != 0
    log = (tmp_path / "logs/data/myner/en/dev.log").read_text()
    assert "en-dev.tsv line 4" in log
    assert not (tmp_path / "results/data/myner/en/dev.jsonl").exists()
    assert not list((tmp_path / "results/data/myner/en").glob(".*tmp"))


def _handmade_ner(root: Path) -> tuple[Path, Path]:
    """A small WikiANN-style NER set (en train/dev/test, de dev/test) and German translations of
    the English training sentences, keyed by source text (the `file` engine's TSV format)."""
    people, places, orgs = ["Maria", "Hans", "Anna", "Peter", "Lena"], ["Berlin", "Paris", "Madrid", "Wien"], ["Acme Corp", "Globex"]  # fmt: skip
    en_pat = [("{p} lives in {l} .", "{p} wohnt in {l} ."), ("{p} works for {o} .", "{p} arbeitet für {o} ."),
              ("yesterday {p} visited {l} .", "gestern besuchte {p} {l} .")]  # fmt: skip

    def tagged(sentence: str, p: str, loc: str, o: str) -> list[tuple[str, str]]:
        out = []
        for word in sentence.split():
            tag = "O"
            for name, typ in ((p, "PER"), (loc, "LOC"), (o, "ORG")):
                if word in name.split():
                    tag = ("B-" if word == name.split()[0] else "I-") + typ
            out.append((word, tag))
        return out

    data, tr = root / "in", root / "translations"
    data.mkdir()
    tr.mkdir()
    rows: dict[tuple[str, str], list[list[tuple[str, str]]]] = {}
    pairs = []
    for i in range(60):
        p, loc, o = people[i % 5], places[i % 4], orgs[i % 2]
        en, de = (s.format(p=p, l=loc, o=o) for s in en_pat[i % 3])
        split = "train" if i < 36 else "dev" if i < 48 else "test"
        rows.setdefault(("en", split), []).append(tagged(en, p, loc, o))
        if split != "train":
            rows.setdefault(("de", split), []).append(tagged(de, p, loc, o))
        else:
            pairs.append((en, de))
    for (lang, split), sents in rows.items():
        text = "\n\n".join("\n".join(f"{w}\t{t}" for w, t in s) for s in sents)
        (data / f"{lang}-{split}.tsv").write_text(text + "\n\n")
    # key: text -> the first column is the detokenised source sentence
    (tr / "myner.de.tsv").write_text("".join(f"{en[:-2]}.\t{de}\n" for en, de in pairs))
    return data, tr


def test_file_translations_run_through_translate_align_project_and_a_to_candidate(tmp_path):
    data, tr = _handmade_ner(tmp_path)

    def edit(cfg):
        cfg["datasets"] = {"myner": _wikiann_files(data)}
        cfg["encoders"]["tiny"].update(corpus_datasets=["myner"], corpus_splits=["train", "dev", "test"])  # fmt: skip
        cfg["encoders"]["tiny"].pop("corpus")
        cfg.pop("interpolation")  # its task is gone
        cfg.pop("metaxl")  # its task is gone
        cfg.pop("iwda")  # its task is gone
        cfg["tasks"] = {"ner": {"dataset": "myner", "kind": "ner", "targets": ["de"], "methods": ["zero-shot", "to"],
                                "grid": {"lr": [3.0e-3], "epochs": [3], "seeds": [1], "batch_size": 8}}}  # fmt: skip
        cfg["lms"]["tasks"] = []
        cfg["translate"].update(engine="file", datasets=["myner"], targets=["de"],
                                file={"path": str(tr / "{dataset}.{lang}.tsv"), "key": "text"},
                                align={"extra_parallel": [], "iterations": 3}, quality={"targets": []})  # fmt: skip

    cfg = _config_with(tmp_path, edit)
    snakemake(tmp_path, "results/tables/adaptation_ner.csv", "--cores", "2", config=cfg)
    base = tmp_path / "results/translate/myner/de/file-none"
    prov = json.loads((base / "translated.provenance.json").read_text())
    digest = hashlib.sha256((tr / "myner.de.tsv").read_bytes()).hexdigest()
    assert prov["engine"] == "file" and prov["version"] == f"sha256:{digest[:16]}"
    assert prov["sentences"] == 36
    projected = read_jsonl(base / "span-to-span/train.jsonl")
    assert len(projected) == 36
    assert projected[0]["tokens"][0] in {"Maria", "gestern"}
    assert any(t == "B-ORG" for r in projected for t in r["tags"])
    metrics = [json.loads(p.read_text()) for p in (tmp_path / "results/candidates/ner").glob("*/*/seed1/metrics.json")]  # fmt: skip
    by_method = {m["method"]: m for m in metrics}
    assert set(by_method) == {"zero-shot", "to-de"}
    assert by_method["to-de"]["scores"]["de"]["test"]["f1"] > 50
    table = pd.read_csv(tmp_path / "results/tables/adaptation_ner.csv")
    assert "de" in table.to_csv()


# --- the interpolation study (configs/test.yaml: POS en-de, 2 seeds, coarse grids) -----------


def test_interpolation_study_is_part_of_all_and_its_tables_rerun_alone(run):
    from xlt.studies.interpolation.report import COLUMNS_1D, COLUMNS_GEOMETRY

    table = pd.read_csv(run / "results/tables/interpolation_1d_pos.csv")
    assert list(table.columns) == COLUMNS_1D
    assert set(table["pair"]) == {"en-de"} and set(table["seed"]) == {1, 2}
    assert len(table) == 2 * 2 * 9 * 2  # seeds x directions x alphas x (source, target) dev
    assert (table.loc[table["alpha"] == 1.0, "normalised"] == 1.0).all()
    geometry = pd.read_csv(run / "results/tables/interpolation_geometry_pos.csv")
    assert list(geometry.columns) == COLUMNS_GEOMETRY and len(geometry) == 2
    for name in ("1d", "2d", "geometry", "variance"):
        assert (run / f"results/figures/interpolation_{name}_pos.png").stat().st_size > 5000
    doc = json.loads(gzip.decompress((run / "results/interpolation/pos/en-de/seed1.json.gz").read_bytes()))  # fmt: skip
    assert doc["endpoint_check"] == {"src": 0, "tgt": 0, "bi": 0}
    # θ_src's weights are temp() and θ_tgt's and θ_bi's never leave their job: none remain
    study = run / "results/interpolation/pos"
    assert not list(study.rglob("model")) and not list(study.rglob("*.safetensors"))
    assert (study / "seed1/src/metrics.json").exists()
    assert {p.name for p in (study / "en-de/seed1").iterdir()} == {"tgt", "bi"}
    assert (study / "en-de/seed1/bi/metrics.json").exists()
    (run / "results/tables/interpolation_1d_pos.csv").unlink()
    assert planned_jobs(run, "all") == {"interpolation_report": 1, "all": 1}
    snakemake(run, "results/tables/interpolation_1d_pos.csv", "--cores", "1")
    assert planned_jobs(run, "all") == {}


# --- the MetaXL study (configs/test.yaml: sentiment, few-shot target af, source en or de) -------


def test_metaxl_study_lands_in_the_pool_and_its_tables_rerun_alone(run):
    main = pd.read_csv(run / "results/tables/metaxl_sentiment.csv")
    arms = ["JT", "MetaXL (Algorithm 1)", "MetaXL (joint)"]
    assert list(main["method"]) == ["target only", *arms, *arms]
    assert list(main["source"]) == ["–", "en", "en", "en", "related", "related", "related"]
    assert (main["seeds"] == 1).all() and main["af"].between(0, 100).all()
    assert main["af_sd"].isna().all()  # one seed: no spread (not a spread of 0)
    # each method minus the paper's JT, paired by (target, seed)
    delta = pd.read_csv(run / "results/tables/metaxl_delta_sentiment.csv")
    assert list(delta["method"]) == ["target only", *arms[1:]] and (delta["pairs"] == 1).all()
    assert delta.loc[1:, "phi_change"].gt(0).all() and delta.loc[:0, "phi_change"].isna().all()
    layers = pd.read_csv(run / "results/tables/metaxl_layers_sentiment.csv")
    assert list(layers["RTN after layer"].astype(str)) == ["–", "1", "1", "1", "0", "0", "0"]
    haus = pd.read_csv(run / "results/tables/metaxl_hausdorff_sentiment.csv")
    assert list(haus["target"]) == ["af"] and (haus[["hausdorff_jt", "hausdorff_metaxl", "hausdorff_metaxl-joint"]] > 0).all(axis=None)  # fmt: skip
    assert (run / "results/figures/metaxl_pca_sentiment.png").stat().st_size > 5000
    assert not (run / "results/tables/metaxl_source_size_sentiment.csv").exists()  # no sizes asked
    # the prepared training files were checked before any MetaXL job (metaxl.n, source_size)
    sizes = json.loads((run / "results/metaxl/sentiment/sizes.json").read_text())
    assert sizes["counts"]["results/data/synth-sentiment/af/train.jsonl"] >= 20
    # every candidate is in the task's pool, scored on every language (dev + test)
    pool = pd.read_parquet(run / "results/pools/sentiment.parquet")
    mx = pool[pool["method"].str.startswith("mx.")]
    assert mx["candidate"].nunique() == 11 and set(mx["lang"]) == {"en", "de", "zh", "af"}
    m = json.loads((run / "results/candidates/sentiment/mx.af.metaxl.en60.L1/lr0.003-ep2-bs16/seed1/metrics.json").read_text())  # fmt: skip
    assert m["info"]["few_shot_target"] == 20 and m["info"]["source_examples"] == 60
    assert m["metaxl"]["layers"] == [1] and m["info"]["metaxl"]["phi_change"] > 0
    assert set(m["info"]["metaxl"]["phi_change_per_layer"]) == {"1"}
    (run / "results/tables/metaxl_sentiment.csv").unlink()
    assert planned_jobs(run, "all") == {"metaxl_tables": 1, "all": 1}
    snakemake(run, "results/tables/metaxl_sentiment.csv", "--cores", "1")
    assert planned_jobs(run, "all") == {}


# --- the IWDA study (configs/test.yaml: sentiment, target zh, skewed negative) -------------------
def test_iwda_study_lands_in_the_pool_and_its_tables_rerun_alone(run):
    main = pd.read_csv(run / "results/tables/iwda_sentiment.csv")
    assert list(main["method"]) == ["Zero-shot", "ST", "Alignment (w ≡ 1)", "IWDA", "IWDA + KD",
                                    "IWDA + ST", "IWDA (oracle prior)", "Supervised (upper bound)"]  # fmt: skip
    assert main["zh"].between(0, 100).all() and (main["seeds"] == 1).all()
    shift = pd.read_csv(run / "results/tables/iwda_shift_sentiment.csv")
    # the world skews zh sentiment negative: the true prior shift is the configured one
    assert list(shift["target"]) == ["zh"] and shift["prior_shift"].iloc[0] == pytest.approx(0.25, abs=0.02)  # fmt: skip
    assert (run / "results/figures/iwda_shift_sentiment.png").stat().st_size > 5000
    doc = json.loads((run / "results/iwda/sentiment/zh/seed1.json").read_text())
    assert set(doc["feature_shift"]) == {"zero-shot", "supervised", "align", "iwda", "oracle", "st", "iwda-st", "iwda-kd"}  # fmt: skip
    assert len(doc["shift_study"]["subsets"]) == 5 and doc["label_shift"]["align"]["w_init"] == [1.0, 1.0, 1.0]  # fmt: skip
    # every variant is a candidate in the task's pool, scored on every language
    pool = pd.read_parquet(run / "results/pools/sentiment.parquet")
    iw = pool[pool["method"].str.startswith("iw.")]
    assert iw["candidate"].nunique() == 8 and set(iw["lang"]) == {"en", "de", "zh", "af"}
    (run / "results/tables/iwda_sentiment.csv").unlink()
    assert planned_jobs(run, "all") == {"iwda_report": 1, "all": 1}
    snakemake(run, "results/tables/iwda_sentiment.csv", "--cores", "1")
    assert planned_jobs(run, "all") == {}


# --- all methods compared (rules/comparison.smk: every task, from its pool and LMS runs) --------
def test_comparison_puts_every_method_side_by_side_and_reruns_alone(run):
    sent = pd.read_csv(run / "results/tables/comparison_sentiment.csv")
    assert list(sent.columns[:3]) == ["method", "family", "resources"]
    assert {"de", "zh", "af", "de_sd", "avg", "avg_sd", "targets", "seeds", "paired_with", "delta", "n", "p"} <= set(sent.columns)  # fmt: skip
    res = dict(zip(sent["method"], sent["resources"], strict=True))
    assert sent["method"].iloc[0] == "Zero-shot (En-Dev)" and res["Zero-shot (En-Dev)"] == "none"
    # zero-shot, MetaXL's 11 settings on af (target only, JT; JT w/ RTN, MetaXL and MetaXL (joint)
    # at 2 placements; JT, MetaXL and MetaXL (joint) from the related source), IWDA's 7 models on
    # zh and the supervised upper bound
    assert len(sent) == 1 + 11 + 7 + 1 and sent["method"].iloc[-1] == "Supervised in-language (upper bound)"  # fmt: skip
    assert res["MetaXL (Algorithm 1) (en 60, RTN layer 1)"] == res["Few-shot: target only"] == "20 labelled target examples"  # fmt: skip
    assert res["IWDA"] == res["Self-training (ST)"] == "unlabelled target text"
    assert res["Supervised in-language (upper bound)"] == "full target training set"
    mx = sent[sent["family"] == "few-shot"]
    assert (mx["targets"] == 1).all() and mx["af"].between(0, 100).all() and mx["de"].isna().all()
    # not trained on sentiment: absent, not zero
    assert not sent["method"].str.contains("LMS|Pivot-Dev|Translate-train").any()
    ner = pd.read_csv(run / "results/tables/comparison_ner.csv")
    assert list(ner["method"]) == ["Zero-shot (En-Dev)", "Zero-shot (En-Dev, LMS meta-test)",
                                   "Zero-shot (Pivot-Dev)", "Zero-shot (LMS)", "Zero-shot (10-Target)"]  # fmt: skip
    assert list(ner["seeds"]) == [8, 2, 2, 2, 2]  # seeds; the LMS rules: the 2 scorer runs
    lms = ner.set_index("method").loc["Zero-shot (LMS)"]
    assert lms["paired_with"] == "Zero-shot (En-Dev, LMS meta-test)" and lms["n"] == 4
    assert ner.set_index("method").loc["Zero-shot (10-Target)", "resources"] == "10 labelled target examples"  # fmt: skip
    pos = pd.read_csv(run / "results/tables/comparison_pos.csv")
    assert list(pos["method"]) == ["Zero-shot (En-Dev)", "Translate-train: TO", "Translate-train: MTL-WS"]  # fmt: skip
    assert list(pos["resources"]) == ["none", "machine translation", "machine translation"]
    assert list(pos["targets"]) == [2, 1, 1] and list(pos["n"].fillna(0)) == [0, 1, 1]
    md = (run / "results/tables/comparison_pos.md").read_text()
    assert md.startswith("### All methods compared: pos") and "| n/a |" in md  # one seed: no test
    for task in ("ner", "pos", "sentiment"):
        assert (run / f"results/figures/comparison_{task}.png").stat().st_size > 5000
    # regenerating the comparison re-runs no training job, only itself
    assert planned_jobs(run, "all", "--forcerun", "comparison") == {"comparison": 3, "all": 1}
    (run / "results/tables/comparison_ner.csv").unlink()
    assert planned_jobs(run, "all") == {"comparison": 1, "all": 1}
    snakemake(run, "results/tables/comparison_ner.csv", "--cores", "1")
    assert planned_jobs(run, "all") == {}


# --- recovery (docs/recovery.md): the printed advice works; a killed run resumes plainly -------
def test_a_corrupt_candidate_is_rebuilt_by_following_the_printed_advice(run):
    """Issue 27: the advice used to be "delete the candidate directory and re-run", after which
    Snakemake saw nothing to do (the pool missing, the tables stale)."""
    cand = run / "results/candidates/sentiment/zero-shot/lr0.003-ep1-bs16/seed2"
    features = cand / "features.npz"
    cid = "zero-shot/lr0.003-ep1-bs16/seed2"
    table = run / "results/tables/zero_shot_sentiment.csv"
    before = table.stat().st_mtime
    data = features.read_bytes()
    features.write_bytes(data[: len(data) // 2])
    failed = snakemake(run, "all", "--cores", "2", check=False)
    out = failed.stdout + failed.stderr
    assert failed.returncode != 0 and "unreadable features" in out, out[-3000:]
    assert not (run / "results/pools/sentiment.parquet").exists()  # the failed job's output
    assert planned_jobs(run, "all") == {}  # the trap: nothing to do, the pool missing
    advice = re.search(r"`(snakemake all --forcerun [^`]+)`", out)
    assert advice and advice[1] == f"snakemake all --forcerun {features.relative_to(run)}"
    snakemake(run, *advice[1].split()[1:], "--cores", "2")  # literally, plus the usual options
    pool = pd.read_parquet(run / "results/pools/sentiment.parquet")
    assert cid in set(pool["candidate"]) and len(pool) == (2 + 11 + 8) * 4
    assert table.stat().st_mtime > before
    assert (pd.read_csv(table)["candidates"] == 2).all()
    assert planned_jobs(run, "all") == {}


def test_a_run_killed_mid_job_resumes_with_make_runs_commands_and_identical_records(run):
    """kill -9 of the whole run while the IWDA job has written some of its candidates: make
    run's two steps (xlt.resume, then a plain `snakemake all`: the workflow profile adds
    --rerun-incomplete) finish it, with the same records as an uninterrupted run."""
    variants = sorted((run / "results/candidates/sentiment").glob("iw.zh.*/*/seed1/metrics.json"))
    assert len(variants) == 8
    scores = {p: json.loads(p.read_text())["scores"] for p in variants}
    first = run / "results/candidates/sentiment/iw.zh.zero-shot/lr0.003-ep1-bs16/seed1/metrics.json"
    analysis = run / "results/iwda/sentiment/zh/seed1.json"
    t0 = time.time()
    args = [SNAKEMAKE, "all", "--forcerun", "iwda", "--cores", "1", "--snakefile",
            str(REPO / "Snakefile"), "--directory", str(run), "--configfile", str(TEST_CONFIG)]  # fmt: skip
    proc = subprocess.Popen(args, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        while not (first.exists() and first.stat().st_mtime > t0):
            assert proc.poll() is None, "the run ended before the IWDA job wrote a record"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (analysis.exists() and analysis.stat().st_mtime > t0)  # killed mid-job
    locked = snakemake(run, "all", "--cores", "2", check=False)
    assert locked.returncode != 0 and "cannot be locked" in locked.stdout + locked.stderr
    res = subprocess.run(
        [sys.executable, "-m", "xlt.resume", "--snakefile", str(REPO / "Snakefile"),
         "--directory", str(run), "--configfile", str(TEST_CONFIG)],  # fmt: skip
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert res.returncode == 0 and "unlocked" in res.stderr, res.stderr
    snakemake(run, "all", "--cores", "2")  # no --unlock, no --rerun-incomplete
    assert {p: json.loads(p.read_text())["scores"] for p in variants} == scores
    assert analysis.stat().st_mtime > t0
    assert planned_jobs(run, "all") == {}
