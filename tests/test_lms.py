"""LMS: ranking recovery, no target-label leakage, determinism, pool modes, the study's outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.stats import kendalltau

from xlt.studies.lms import experiments as ex
from xlt.studies.lms.bench import (
    lms_control,
    make_planted_pool,
    make_synthetic_pool,
    null_tau_sd,
    planted_ceiling,
    pool_from_matrices,
)
from xlt.studies.lms.lms import (
    LMS,
    PARAM_GROUPS,
    Fold,
    LMSConfig,
    candidate_groups,
    optimiser_steps,
    params_for,
    plan_folds,
    run_groups,
    split_candidates,
    train_scorer,
    training_pairs,
)

REPO = Path(__file__).resolve().parents[1]
PIVOTS = ("ar", "de", "es", "nl", "zh")
#: small and fast: one grid point, narrow scorer
TINY = LMSConfig(hidden=16, epochs=2, batch_sizes=(16,), lrs=(3e-3,), runs=2, nmodels=(6,),
                 n_draws=3)  # fmt: skip


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread: fast and stable on a shared 2-core machine (restored afterwards)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def pool():
    return make_synthetic_pool(40, dim=8, seed=1)


def ids_of(pool, split):
    return np.array([pool.candidates.index(c) for c in split])


# --- (a) the scorer learns a known ranking -----------------------------------------------------


def test_scorer_recovers_a_known_ranking_on_held_out_candidates_and_languages():
    rng = np.random.default_rng(0)
    langs = ["en", *PIVOTS, "hi"]
    n, d = 160, 8
    w = rng.normal(size=d)
    base = rng.normal(size=(n, 1, d))
    # g(m, l): a candidate part shared by all languages plus a language-specific part, so every
    # language ranks the candidates differently; quality = w·g(m, l) + a language offset
    feats = base + 0.7 * rng.normal(size=(n, len(langs), d))
    quality = feats @ w + rng.normal(size=len(langs))[None, :]
    pool = pool_from_matrices(quality, quality, feats, langs)
    cfg = LMSConfig(hidden=64, epochs=2, batch_sizes=(128,), lrs=(1e-3,), split_seed=0, seed=0)
    res = LMS(pool, cfg, "en", langs[1:]).run(np.arange(n))
    # one scorer per fold (5 leave-one-out folds of 4 pivots, 1 of all 5), 80 meta-train candidates
    per_fold = [optimiser_steps(80 * 79 * len(f["train_langs"]), 128, 2, None) for f in res.folds]
    assert [f["steps"] for f in res.folds] == per_fold == [396] * 5 + [494]
    assert res.steps == sum(per_fold)
    test = ids_of(pool, res.split["meta-test"])
    for t in langs[1:]:  # every pivot held out in turn, and hi (never a training language)
        tau = kendalltau(res.scores[t]["meta-test"], quality[test, langs.index(t)]).statistic
        assert tau > 0.8, (t, tau)


# --- (a2) training examples, steps and the training record -------------------------------------


def test_training_pairs_are_ordered_untied_pairs_per_language():
    # 3 candidates, 2 languages; language 1 has a tie between candidates 0 and 2
    y = np.array([[3.0, 1.0], [2.0, 5.0], [1.0, 1.0]])
    better, worse = training_pairs(y)
    pairs = sorted(
        zip((better // 2).tolist(), (worse // 2).tolist(), (better % 2).tolist(), strict=True)
    )
    assert (better % 2 == worse % 2).all()  # both sides of an example are in the same language
    # language 0: 0>1, 0>2, 1>2, each for both orders; language 1: 1>0, 1>2 (the tie 0=2 gives none)
    assert pairs == sorted([(0, 1, 0), (0, 2, 0), (1, 2, 0), (1, 0, 1), (1, 2, 1)] * 2)
    assert len(training_pairs(np.ones((4, 3)))[0]) == 0  # all tied: no example


def test_examples_of_a_240_candidate_pool_in_9_languages_are_small_index_arrays():
    # memory: an example is two row indices, never a copy of the candidates' features
    y = np.random.default_rng(0).normal(size=(240, 9))
    better, worse = training_pairs(y)
    assert len(better) == len(worse) == 240 * 239 * 9 == 516_240
    assert better.nbytes + worse.nbytes <= 8.3e6  # 8 MB; the features stay (240 x 9) rows


def test_steps_are_pinned_for_a_small_pool():
    rng = np.random.default_rng(0)
    n, q, d = 10, 2, 4
    x = rng.normal(size=(n, q, 1, d)).astype(np.float32)
    z = rng.normal(size=(q, 3)).astype(np.float32)
    y, y_dev = rng.normal(size=(n, q)), rng.normal(size=(5, q))
    cfg = LMSConfig(hidden=8, epochs=3)
    t = train_scorer(x, z, y, x[:5], y_dev, batch_size=16, lr=1e-3, cfg=cfg, seed=0)
    # 10 x 9 ordered pairs x 2 languages = 180 examples: ceil(180 / 16) = 12 steps per epoch
    assert (t.examples, t.steps) == (180, 36) == (180, optimiser_steps(180, 16, 3, None))
    assert len(t.losses) == len(t.criteria) == 3 and all(np.isfinite(t.losses))
    assert t.record()["steps"] == 36 and t.record()["criteria"] == t.criteria
    sampled = train_scorer(x, z, y, x[:5], y_dev, batch_size=16, lr=1e-3, seed=0,
                           cfg=cfg.replace(pairs_per_epoch=50))  # fmt: skip
    assert (sampled.examples, sampled.steps) == (180, 12)  # ceil(50 / 16) = 4 per epoch


def test_training_loss_falls_on_a_learnable_pool():
    pool, _ = make_planted_pool("shared", 60, dim=8, seed=3)
    cfg = LMSConfig(hidden=32, epochs=3, batch_sizes=(32,), lrs=(1e-3,), pivots=("de", "es", "nl", "zh"))  # fmt: skip
    (g,) = run_groups(pool, cfg, "en", ["af"]).values()
    (fold,) = g.folds
    assert fold["loss"][0] < 0.5 < np.log(2)  # log 2: the loss of a constant scorer
    assert fold["loss"][-1] < fold["loss"][0] and fold["criteria"][-1] > 0.8


# --- (a3) positive controls: planted signals with a known Kendall τ ceiling ----------------------

#: small and fast, otherwise the paper's scorer: one grid point, narrow FFNNs, 160 candidates
CONTROL = {"hidden": 32, "batch_sizes": [64], "lrs": [1e-3]}


def test_lms_positive_control_reaches_the_ceiling_and_stays_at_zero_without_signal():
    ctl = lms_control("shared", CONTROL, n_candidates=160)
    assert ctl["expected_ceiling"] == pytest.approx(planted_ceiling(0.59), abs=1e-4)
    assert planted_ceiling(0.59) == pytest.approx(0.66, abs=0.005)
    assert ctl["ceiling"] == ctl["pivot_ceiling"]  # a pivot's dev score is the planted skill
    assert ctl["tau"] >= ctl["ceiling"] - 0.05, ctl
    assert ctl["steps"] == optimiser_steps(80 * 79 * 4, 64, 3, None) == 1185
    # no signal: 6 targets x 60 meta-test candidates, so that chance alone keeps the mean τ within
    # ±0.11 (3 sd of the mean τ of unrelated rankings)
    null = lms_control("none", CONTROL, n_candidates=240, targets=("af", "pt", "sv", "it", "da", "ro"))  # fmt: skip
    assert null["chance_sd"] == pytest.approx(null_tau_sd(60) / np.sqrt(6), abs=1e-4)
    assert null["chance_sd"] == pytest.approx(0.036, abs=0.001)
    assert abs(null["tau"]) < 3 * null["chance_sd"], null


@pytest.mark.parametrize("signal", ["eng", "pivot", "target", "fusion"])
def test_model_feature_positive_control_finds_the_planted_view(signal):
    """Each model-feature set finds a signal planted in the text it reads."""
    found = lms_control(signal, {**CONTROL, "model_features": signal}, n_candidates=160)
    assert found["tau"] >= found["ceiling"] - 0.05, found
    # the pool is specific: a feature set that reads other text cannot find the signal
    other = {"eng": "pivot", "pivot": "eng", "target": "eng", "fusion": "eng"}[signal]
    blind = lms_control(signal, {**CONTROL, "model_features": other}, n_candidates=160)
    assert blind["tau"] < found["tau"] - 0.15, (found["tau"], blind["tau"])


def test_language_feature_positive_control():
    """Two language families rank by different skills, visible only through g(l): with syntax
    vectors the scorer ranks held-out targets of both families; without, it cannot tell them apart."""
    args = {**CONTROL, "model_features": "eng"}
    syntax = lms_control("lang", {**args, "lang_features": "syntax"}, n_candidates=160)
    none = lms_control("lang", {**args, "lang_features": "none"}, n_candidates=160)
    assert syntax["tau"] >= syntax["ceiling"] - 0.1, syntax
    assert none["tau"] < syntax["tau"] - 0.15, (syntax["tau"], none["tau"])


# --- (b) leave-one-language-out never reads the target's labels --------------------------------


def poisoned(pool, target, how):
    """A copy of ``pool`` whose target dev scores (and dev statistics) are ``how``: "nan" or an
    adversarial order (the reverse of the target's test ranking)."""
    table = pool.table.copy()
    rows = table["lang"] == target
    if how == "nan":
        table.loc[rows, "dev"] = np.nan
    else:
        table.loc[rows, "dev"] = -table.loc[rows, "test"].to_numpy()
    stats = dict(pool.stats, **{target: np.zeros_like(pool.stats[target])})
    return type(pool)(table, pool.candidates, pool.langs, pool.features, stats, pool.kind, pool.labels)  # fmt: skip


@pytest.mark.parametrize("target", ["de", "hi"])  # a pivot (LOLO fold) and a non-pivot target
def test_lms_output_for_a_target_does_not_depend_on_its_labels(pool, target):
    cfg = TINY.replace(batch_sizes=(8, 16), lrs=(3e-3, 1e-4), hp_search="per-fold")
    cands = np.arange(len(pool.candidates))
    clean = LMS(pool, cfg, "en", [target]).run(cands)
    for how in ("nan", "adversarial"):
        res = LMS(poisoned(pool, target, how), cfg, "en", [target]).run(cands)
        for split in ("meta-dev", "meta-test"):
            assert np.isfinite(res.scores[target][split]).all()
            assert res.scores[target][split] == clean.scores[target][split], how
        assert res.selected == clean.selected
        assert [f["search"] for f in res.folds] == [f["search"] for f in clean.folds]
    assert clean.folds[0]["train_langs"] == [p for p in PIVOTS if p != target]


def test_a_leaky_fold_would_read_the_poisoned_labels_and_fail(pool):
    """Control for the test above: the poison is not silently ignored. A fold that trains on the
    target (the leak the LOLO protocol avoids) reads its NaN dev scores and fails loudly."""
    bad = LMS(poisoned(pool, "de", "nan"), TINY, "en", ["de"])
    split = split_candidates(np.arange(len(pool.candidates)), TINY.split, TINY.split_seed)
    leaky = Fold(train_langs=PIVOTS, feature_target=None, targets=("de",))
    with pytest.raises(ValueError, match="non-finite"):
        bad._fit(leaky, split["meta-train"], split["meta-dev"], 0, None)


def test_shared_search_reads_pivot_labels_as_documented(pool):
    cands = np.arange(len(pool.candidates))
    shared = TINY.replace(hp_search="shared")
    res = LMS(poisoned(pool, "hi", "nan"), shared, "en", ["hi"]).run(cands)
    assert np.isfinite(res.scores["hi"]["meta-test"]).all()  # non-pivot target: never read
    # a pivot target, when the search runs on the all-pivot fold (there is a non-pivot target):
    # the shared search reads its dev scores (only to choose hyper-parameters)
    with pytest.raises(ValueError, match="non-finite"):
        LMS(poisoned(pool, "de", "nan"), shared, "en", ["de", "hi"]).run(cands)


# --- (e) determinism ---------------------------------------------------------------------------


def test_same_seed_same_selection_other_seed_other_scores(pool):
    targets = ["de", "hi"]
    a = run_groups(pool, TINY, "en", targets)["zero-shot"]
    b = run_groups(pool, TINY, "en", targets)["zero-shot"]
    c = run_groups(pool, TINY.replace(seed=7), "en", targets)["zero-shot"]
    assert a.selected == b.selected and a.scores == b.scores and a.split == b.split
    assert c.split == a.split and c.scores != a.scores


def test_parallel_training_gives_the_same_results(pool):
    cfg = TINY.replace(batch_sizes=(8, 16), lrs=(3e-3, 1e-4), hp_search="per-fold")
    one = run_groups(pool, cfg, "en", ["de", "hi"])["zero-shot"]
    two = run_groups(pool, cfg, "en", ["de", "hi"], workers=2)["zero-shot"]
    assert two.scores == one.scores and two.selected == one.selected
    assert [f["search"] for f in two.folds] == [f["search"] for f in one.folds]
    assert two.trainings == one.trainings == 8 and two.steps == one.steps


# --- folds, splits, pool modes ------------------------------------------------------------------


def test_folds_are_leave_one_language_out():
    folds = plan_folds(["de", "hi", "pt", "zh"], PIVOTS, "pivot")
    by = {f.targets: f.train_langs for f in folds}
    assert by[("de",)] == ("ar", "es", "nl", "zh") and by[("zh",)] == ("ar", "de", "es", "nl")
    assert by[("hi", "pt")] == PIVOTS  # non-pivot targets share one scorer on all pivots
    per_target = plan_folds(["de", "hi", "pt"], PIVOTS, "target")
    assert [f.feature_target for f in per_target] == ["de", "hi", "pt"]


def test_too_few_candidates_fail_clearly():
    pool = make_synthetic_pool(3, dim=4, seed=0)
    with pytest.raises(ValueError, match=r"'zero-shot': 3 candidates.*add seeds"):
        run_groups(pool, TINY, "en", ["de"])


def test_split_ratios_like_the_paper():
    s = split_candidates(np.arange(240), (0.5, 0.25, 0.25), 1)
    assert [len(s[k]) for k in ("meta-train", "meta-dev", "meta-test")] == [120, 60, 60]
    assert sorted(np.concatenate(list(s.values()))) == list(range(240))


def test_per_method_and_all_methods_pools():
    pool = make_synthetic_pool(24, dim=8, seed=2, methods=("zero-shot", "translate-train"))
    groups = candidate_groups(pool, "per-method")
    assert sorted(groups) == ["translate-train", "zero-shot"]
    assert list(candidate_groups(pool, "per-method", ["zero-shot"])) == ["zero-shot"]
    with pytest.raises(ValueError, match=r"lms.methods: \['mtl'\] have no candidates"):
        candidate_groups(pool, "per-method", ["zero-shot", "mtl"])
    every_method = TINY.replace(methods=())
    per = run_groups(pool, every_method, "en", ["de"])
    for method, g in per.items():
        every = [c for split in g.split.values() for c in split]
        assert sorted(every) == sorted(pool.candidates[i] for i in groups[method])
        assert g.selected["de"].startswith(method + "/")
    both = run_groups(pool, every_method.replace(pool="all-methods"), "en", ["de"])
    (g,) = both.values()
    assert len([c for s in g.split.values() for c in s]) == 48
    assert {c.split("/")[0] for c in g.split["meta-test"]} == {"zero-shot", "translate-train"}
    table = ex.selection_table(pool, ex.run_main(pool, every_method, "en", ["de"]), every_method)
    assert list(table["method"].unique()) == ["zero-shot", "translate-train"]


# --- configuration -----------------------------------------------------------------------------


def test_config_round_trip_and_param_groups():
    cfg = LMSConfig.from_dict({"pivots": ["de", "nl"], "split": {"train": 0.6, "dev": 0.2, "test": 0.2}})  # fmt: skip
    assert cfg.pivots == ("de", "nl") and cfg.split == (0.6, 0.2, 0.2)
    assert LMSConfig.from_dict(cfg.to_dict()) == cfg
    assert set(params_for({}, "scorer")) == set(PARAM_GROUPS["scorer"])
    assert "runs" not in params_for({}, "scorer") and "runs" in params_for({}, "scorer", "runs")
    with pytest.raises(ValueError, match="unknown keys"):
        LMSConfig.from_dict({"hiden": 3})
    with pytest.raises(ValueError, match="model_features"):
        LMSConfig(model_features="cls")


def test_schema_defaults_match_the_config_class():
    import jsonschema

    frag = yaml.safe_load((REPO / "schemas" / "config.schema.yaml").read_text())
    schema = frag["properties"]["lms"]
    jsonschema.validate(LMSConfig().to_dict(), schema)
    defaults = {k: v["default"] for k, v in schema["properties"].items() if k != "tasks"}
    assert LMSConfig.from_dict(defaults) == LMSConfig()
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"hp_search": "nested"}, schema)


# --- the study's tables and figures -------------------------------------------------------------


def test_study_tables_and_figures(pool, tmp_path):
    targets = ["de", "nl", "hi"]
    main = ex.run_main(pool, TINY, "en", targets)
    json.dumps(main)  # JSON-able, with provenance
    assert main["config"] == TINY.to_dict() and main["versions"]["torch"]
    t2 = ex.selection_table(pool, main, TINY)
    assert list(t2["target"]) == [*targets, "mean"]
    assert {"En-Dev", "Pivot-Dev", "pivot", "LMS", "100-Target", "All-Target"} <= set(t2.columns)
    g = ex._load_groups(main)["zero-shot"]
    test = ids_of(pool, g.split["meta-test"])
    de = pool.langs.index("de")
    assert t2.loc[0, "LMS"] == pool.matrix("test")[pool.candidates.index(g.selected["de"]), de]
    assert t2.loc[0, "All-Target"] == pool.matrix("test")[test[np.argmax(pool.matrix("dev")[test, de])], de]  # fmt: skip
    notes = ex.selection_notes(pool, main, TINY)  # the table states the steps the scorers took
    assert g.steps == sum(f["steps"] for f in g.folds) > 0 and f"{g.steps} Adam steps" in notes

    abl = ex.run_ablations(pool, TINY, "en", targets, main)
    assert abl["variants"]["features:pivot"]["reused"] == "main"
    t3 = ex.ablation_table(pool, main, abl, TINY, "features")
    assert {"[Eng]", "[Pivot]", "[Target]", "Fusion"} <= set(t3.columns)
    assert set(t3["protocol"]) == {"meta-test/test", "meta-dev/dev"}
    t4 = ex.ablation_table(pool, main, abl, TINY, "langvec")
    assert {"lang2vec", "syntax", "none"} <= set(t4.columns)
    same = t3[t3["protocol"] == "meta-test/test"]["[Pivot]"].to_numpy()
    assert np.allclose(same, t2["LMS"].to_numpy())  # the main variant is the main run

    runs = ex.run_repeats(pool, TINY, "en", targets, main)
    t7 = ex.runs_table(pool, runs, TINY)
    assert set(t7["runs"]) == {2}
    assert "±" in ex.runs_markdown(t7, TINY, "Table 7")

    nm = ex.run_nmodels(pool, TINY, "en", targets, main)
    assert list(nm["sizes"]) == ["6", "20"]
    small, full = (sum(g["steps"] for g in nm["sizes"][n]["groups"].values()) for n in ("6", "20"))
    assert 0 < small < full and ex.nmodels_steps(nm) == f"6: {small}, 20: {full}"
    t10 = ex.nmodels_table(pool, nm)
    assert list(t10["n_models"]) == ["En-Dev", "6", "20"]
    assert np.allclose(t10.iloc[2][targets].to_numpy(dtype=float), t2["LMS"][:3].to_numpy())

    ex.kde_figure(pool, main, tmp_path / "kde.png")
    ex.kendall_figure(pool, nm, tmp_path / "kendall.png")
    assert (tmp_path / "kde.png").stat().st_size > 1000
    assert (tmp_path / "kendall.png").stat().st_size > 1000


def test_z_test():
    z, p_z, p_t = ex.z_test([1.0, 2.0, 3.0])
    assert z == pytest.approx(2.0 / (1.0 / np.sqrt(3))) and p_z < 0.01 and 0 < p_t < 0.05
    assert np.isnan(ex.z_test([0.0, 0.0])[0]) and np.isnan(ex.z_test([1.0])[0])
    assert ex.z_test([0.5, 0.5])[1] == 0.0
