"""The cross-method comparison (xlt.studies.comparison.report) on small hand-made pools."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from xlt.studies.comparison import report as cmp

REPO = Path(__file__).resolve().parents[1]
STUDY = {
    "task": "toy",
    "kind": "classification",
    "source": "en",
    "targets": ["de", "zh", "af"],
    "translate_targets": ["de"],
    "metaxl_n": 20,
}


def records(method: str, seed: int, scores: dict[str, tuple[float, float]], hp: str = "lr0.001-ep1-bs16") -> list[dict]:  # fmt: skip
    """Pool rows of one candidate: ``scores`` = {lang: (dev, test)}."""
    cid = f"{method}/{hp}/seed{seed}"
    return [
        {
            "candidate": cid,
            "method": method,
            "hp": hp,
            "seed": seed,
            "lang": lang,
            "dev": d,
            "test": t,
        }
        for lang, (d, t) in scores.items()
    ]


def pool(*cands: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([r for c in cands for r in c])


def zero_shot() -> list[list[dict]]:
    """3 seeds x 2 settings; the first setting has the better en dev score for seeds 1 and 3."""
    out = []
    for seed, (a, b) in {1: (90, 80), 2: (70, 85), 3: (88, 60)}.items():
        out.append(records("zero-shot", seed, {"en": (a, 0), "de": (0, 50 + seed), "zh": (0, 30 + seed), "af": (0, 40)}, "lr0.001-ep1-bs16"))  # fmt: skip
        out.append(records("zero-shot", seed, {"en": (b, 0), "de": (0, 10 * seed), "zh": (0, 20), "af": (0, 45 + seed)}, "lr0.002-ep1-bs16"))  # fmt: skip
    return out


def row(table: pd.DataFrame, method: str) -> pd.Series:
    sub = table[table["method"] == method]
    assert len(sub) == 1, (method, list(table["method"]))
    return sub.iloc[0]


def test_zero_shot_picks_by_source_dev_per_seed_mean_sd_and_average():
    _, table = cmp.build(pool(*zero_shot()), STUDY)
    assert list(table["method"]) == ["Zero-shot (En-Dev)"]
    r = row(table, "Zero-shot (En-Dev)")
    # picks: seed 1 -> setting 1, seed 2 -> setting 2, seed 3 -> setting 1
    de, zh, af = [51, 20, 53], [31, 20, 33], [40, 47, 40]
    for lang, v in (("de", de), ("zh", zh), ("af", af)):
        assert r[lang] == pytest.approx(np.mean(v)) and r[f"{lang}_sd"] == pytest.approx(np.std(v, ddof=1))  # fmt: skip
    per_seed = np.mean([de, zh, af], axis=0)
    assert r["avg"] == pytest.approx(np.mean([np.mean(de), np.mean(zh), np.mean(af)]))
    assert r["avg_sd"] == pytest.approx(np.std(per_seed, ddof=1))
    assert (r["targets"], r["seeds"], r["resources"]) == (3, 3, "none")
    assert r["paired_with"] == "" and r["n"] is pd.NA  # the reference row


def test_ties_go_to_the_first_candidate_in_pool_order():
    a = records("zero-shot", 1, {"en": (80, 0), "de": (0, 10), "zh": (0, 10), "af": (0, 10)}, "lr0.001-ep1-bs16")  # fmt: skip
    b = records("zero-shot", 1, {"en": (80, 0), "de": (0, 90), "zh": (0, 90), "af": (0, 90)}, "lr0.002-ep1-bs16")  # fmt: skip
    _, table = cmp.build(pool(a, b), STUDY)
    assert row(table, "Zero-shot (En-Dev)")["de"] == 10


def test_methods_a_run_did_not_train_are_absent_and_coverage_is_explicit():
    to = [records("to-de", s, {"en": (70, 0), "de": (0, 60 + s), "zh": (0, 99), "af": (0, 99)}) for s in (1, 2)]  # fmt: skip
    mtl = [records("mtl-ws", s, {"en": (70, 0), "de": (0, 55), "zh": (0, 99), "af": (0, 99)}) for s in (1, 2)]  # fmt: skip
    _, table = cmp.build(pool(*zero_shot(), *to, *mtl), STUDY)
    assert list(table["method"]) == ["Zero-shot (En-Dev)", "Translate-train: TO", "Translate-train: MTL-WS"]  # fmt: skip
    assert not table["method"].str.contains("MetaXL|IWDA|LMS|BILINGUAL|Supervised").any()
    to_row = row(table, "Translate-train: TO")
    # TO-de is scored on de only (its zh/af scores are not its targets'); MTL-WS on the translate targets
    assert to_row["targets"] == 1 and math.isnan(to_row["zh"]) and math.isnan(to_row["af"])
    assert to_row["de"] == pytest.approx(61.5) and to_row["avg"] == pytest.approx(61.5)
    assert row(table, "Translate-train: MTL-WS")["targets"] == 1
    assert (table.loc[1:, "resources"] == "machine translation").all()
    # paired with zero-shot En-Dev on the shared (de, seed 1) and (de, seed 2)
    assert to_row["paired_with"] == "Zero-shot (En-Dev)" and to_row["n"] == 2
    assert to_row["delta"] == pytest.approx(np.mean([61 - 51, 62 - 20]))


def study_pool() -> pd.DataFrame:
    mx = [
        records(f"mx.af.{m}", 1, {"en": (70, 0), "de": (0, 0), "zh": (0, 0), "af": (0, t)})
        for m, t in (
            ("target-only", 35),
            ("jt.en60", 50),
            ("metaxl.en60.L1", 55),
            ("metaxl-joint.en60.L1.b1e-06", 53),
            ("jt-rtn.en60.L0", 52),
            ("jt.de60", 58),
        )
    ]
    iw = [
        records(f"iw.zh.{v}", 1, {"en": (70, 0), "de": (0, 0), "zh": (0, t), "af": (0, 0)})
        for v, t in (
            ("zero-shot", 30),
            ("supervised", 75),
            ("align", 40),
            ("iwda", 45),
            ("oracle", 50),
        )
    ]
    return pool(*zero_shot(), *mx, *iw)


def test_resources_labels_and_row_order_follow_the_families():
    _, table = cmp.build(study_pool(), STUDY)
    assert list(table["method"]) == [
        "Zero-shot (En-Dev)",
        "Few-shot: target only",
        "Few-shot: JT (en 60)",
        "MetaXL (Algorithm 1) (en 60, RTN layer 1)",
        "MetaXL (joint) (en 60, RTN layer 1, β 1e-06)",
        "Few-shot: JT w/ RTN (en 60, RTN layer 0)",
        "Few-shot: JT (related 60)",
        "Zero-shot (IWDA stage 1)",
        "Alignment (w ≡ 1)",
        "IWDA",
        "IWDA (oracle prior)",
        "Supervised in-language (upper bound)",
    ]
    res = dict(zip(table["method"], table["resources"], strict=True))
    assert res["Zero-shot (En-Dev)"] == res["Zero-shot (IWDA stage 1)"] == "none"
    assert res["MetaXL (Algorithm 1) (en 60, RTN layer 1)"] == res["Few-shot: target only"] == "20 labelled target examples"  # fmt: skip
    assert res["IWDA"] == res["Alignment (w ≡ 1)"] == "unlabelled target text"
    assert res["Supervised in-language (upper bound)"] == "full target training set"
    mx = row(table, "MetaXL (Algorithm 1) (en 60, RTN layer 1)")
    assert (mx["targets"], mx["seeds"], mx["af"]) == (1, 1, 55) and math.isnan(mx["de"])
    assert math.isnan(mx["af_sd"])  # one seed: no spread, not a spread of 0


def test_paired_t_test_against_zero_shot_matches_scipy():
    # a method on de and zh, 3 seeds, against zero-shot En-Dev's (de, zh) x seeds 1-3
    ours = {"de": [55, 24, 60], "zh": [30, 26, 40]}
    cands = [
        records(
            "mtl",
            s,
            {
                "en": (70, 0),
                "de": (0, ours["de"][s - 1]),
                "zh": (0, ours["zh"][s - 1]),
                "af": (0, 0),
            },
        )
        for s in (1, 2, 3)
    ]
    study = {**STUDY, "translate_targets": ["de", "zh"]}
    _, table = cmp.build(pool(*zero_shot(), *cands), study)
    r = row(table, "Translate-train: MTL")
    ref = {"de": [51, 20, 53], "zh": [31, 20, 33]}
    x, y = ours["de"] + ours["zh"], ref["de"] + ref["zh"]
    assert r["n"] == 6 and r["targets"] == 2
    assert r["delta"] == pytest.approx(np.mean(np.subtract(x, y)))
    assert r["p"] == pytest.approx(stats.ttest_rel(x, y).pvalue)


def test_paired_test_edge_cases():
    assert cmp.paired_test([], [])[0] == 0
    n, delta, p = cmp.paired_test([3.0], [1.0])
    assert (n, delta) == (1, 2.0) and math.isnan(p)
    n, delta, p = cmp.paired_test([3.0, 4.0], [1.0, 2.0])  # no spread in the differences
    assert (n, delta) == (2, 2.0) and math.isnan(p)
    assert cmp.paired_test([1.0, 2.0, 4.0], [0.0, 2.5, 3.0])[2] == pytest.approx(
        stats.ttest_rel([1.0, 2.0, 4.0], [0.0, 2.5, 3.0]).pvalue
    )


def test_a_method_with_fewer_seeds_and_n_a_in_both_files(tmp_path):
    _, table = cmp.build(study_pool(), STUDY)
    iwda = row(table, "IWDA")
    assert (iwda["seeds"], iwda["n"]) == (1, 1) and math.isnan(iwda["p"]) and math.isnan(iwda["zh_sd"])  # fmt: skip
    assert iwda["delta"] == pytest.approx(45 - np.mean([31]))  # zero-shot's seed 1 on zh
    md = cmp.markdown(table, STUDY)
    line = next(x for x in md.splitlines() if x.startswith("| 10 | IWDA |"))
    assert line.split(" | ")[-1] == "n/a |" and "| #1 |" in line
    cmp.write_csv(table, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv")
    assert back.loc[back["method"] == "IWDA", "p"].isna().all()
    assert "n/a" in (tmp_path / "t.csv").read_text()


def test_lms_rows_pair_with_en_dev_of_the_same_runs(monkeypatch):
    from xlt.studies.lms import experiments

    per_run = pd.DataFrame([
        {"method": "zero-shot", "target": t, "run": r, "En-Dev": e, "Pivot-Dev": e + 1, "LMS": s,
         "k-Target": e + 2, "All-Target": 90, "k_used": 10, "n_dev": 40, "pivot": "de", "candidates": 2}
        for t, r, e, s in (("de", 0, 50, 52), ("de", 1, 40, 41), ("zh", 0, 30, 37), ("zh", 1, 20, 22))
    ])  # fmt: skip
    monkeypatch.setattr(experiments, "runs_records", lambda pool, runs, cfg: per_run)

    class FakePool:
        table = pool(*zero_shot())

    runs = {"runs": [{}, {}]}
    lms = {"n_target": 10, "methods": ["zero-shot"]}
    study = {**STUDY, "targets": ["de", "zh"]}
    _, table = cmp.build(pool(*zero_shot()), study, FakePool(), runs, lms)
    assert list(table["method"]) == [
        "Zero-shot (En-Dev)",
        "Zero-shot (En-Dev, LMS meta-test)",
        "Zero-shot (Pivot-Dev)",
        "Zero-shot (LMS)",
        "Zero-shot (10-Target)",
    ]
    lms = row(table, "Zero-shot (LMS)")
    assert lms["paired_with"] == "Zero-shot (En-Dev, LMS meta-test)" and lms["seeds"] == 2
    assert lms["n"] == 4 and lms["delta"] == pytest.approx(3.0)
    assert lms["p"] == pytest.approx(stats.ttest_rel([52, 41, 37, 22], [50, 40, 30, 20]).pvalue)
    assert lms["de"] == pytest.approx(46.5) and lms["resources"] == "none"
    assert row(table, "Zero-shot (10-Target)")["resources"] == "10 labelled target examples"
    assert row(table, "Zero-shot (En-Dev, LMS meta-test)")["n"] is pd.NA
    with pytest.raises(ValueError, match="loaded pool"):
        cmp.build(pool(*zero_shot()), study, None, runs, lms)
    md = cmp.markdown(table, study, {"n_target": 10, "runs": 2})
    assert "seeds are the 2 scorer runs" in md and "| 4 | Zero-shot (LMS) | none |" in md


def test_resource_order_and_combinations():
    order = ["full target training set", "100 labelled target examples", "none",
             "unlabelled target text", "20 labelled target examples", "machine translation"]  # fmt: skip
    assert sorted(order, key=cmp.resource_rank) == [
        "none", "machine translation", "unlabelled target text", "20 labelled target examples",
        "100 labelled target examples", "full target training set",
    ]  # fmt: skip
    assert cmp.combine(["none", "none"]) == "none"
    assert cmp.combine(["machine translation", "none", "10 labelled target examples"]) == (
        "machine translation + 10 labelled target examples"
    )


def test_outputs_are_written_and_the_study_comes_from_the_plan(tmp_path):
    from xlt.config import validate
    from xlt.studies import load

    cfg = yaml.safe_load((REPO / "configs" / "test.yaml").read_text())
    validate(cfg, REPO / "schemas" / "config.schema.yaml")  # fills in the defaults
    studies = load(cfg)
    plan, comparison = studies.plan, studies["comparison"]
    study = comparison.describe(plan, "sentiment")
    assert study["metaxl_n"] == 20 and study["targets"] == ["de", "zh", "af"]
    assert comparison.describe(plan, "pos")["translate_targets"] == ["de"]
    assert comparison.describe(plan, "ner")["metaxl_n"] is None
    table_path = tmp_path / "pool.parquet"
    study_pool().to_parquet(table_path, index=False)
    out = {k: str(tmp_path / f"c.{k}") for k in ("csv", "md", "figure")}
    df = cmp.write_outputs(table_path, tmp_path / "absent.npz", None, {**STUDY, "task": "sentiment"}, out)  # fmt: skip
    assert Path(out["md"]).read_text().startswith("### All methods compared: sentiment")
    assert list(pd.read_csv(out["csv"])["method"]) == list(df["method"])
    assert Path(out["figure"]).read_bytes()[:4] == b"\x89PNG"
    assert not list(tmp_path.glob(".*tmp"))
