"""IWDA (seed 004): importance weights, the critic, the two-stage hook, ST, KD and the shift analyses.

Tiny randomly initialised encoders built here (no downloads), fixed seeds, a few steps each.
"""

from __future__ import annotations

import copy
import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from xlt.encoder import TinyBertConfig, new_tiny_bert, train_tokenizer
from xlt.finetune import FinetuneConfig, finetune
from xlt.studies.iwda.distill import DistillConfig, kd_loss, run_distill
from xlt.studies.iwda.iwda import (
    Critic,
    ImportanceWeights,
    IWDAConfig,
    confusion,
    gradient_penalty,
    label_shift,
    oracle_weights,
    project,
    run_iwda,
    solve_weights,
    unlabelled,
    wasserstein,
    weights_positive_control,
)
from xlt.studies.iwda.prior_shift import (
    conditional_feature_shift,
    fit_line,
    prior_counts,
    prior_shift,
    prior_weights,
    random_priors,
    resample_to_prior,
    shift_direction,
    shift_study,
    shifted_prior,
    subsample_to_prior,
    total_variation,
    unit_scores,
)
from xlt.studies.iwda.self_train import SelfTrainConfig, run_self_training, select_confident
from xlt.tasks.classification import classification_scores

SENT = ("negative", "neutral", "positive")
NER = ("O", "B-PER", "I-PER", "B-LOC")
CUES = {"negative": ["bad", "awful"], "neutral": ["okay", "plain"], "positive": ["good", "great"]}
FILLER = ["the", "movie", "was", "a", "film", "story", "really", "quite"]


def sentiment(n: int, prior: tuple[float, ...], seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        label = rng.choices(SENT, weights=prior)[0]
        words = rng.choices(FILLER, k=rng.randint(2, 6)) + [rng.choice(CUES[label])]
        rng.shuffle(words)
        out.append({"id": str(i), "text": " ".join(words), "label": label})
    return out


def ner(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        toks = rng.choices(FILLER, k=rng.randint(2, 6))
        tags = ["O"] * len(toks)
        at = rng.randrange(len(toks) + 1)
        if rng.random() < 0.5:
            toks[at:at] = ["Anna", "Berg"]
            tags[at:at] = ["B-PER", "I-PER"]
        else:
            toks[at:at] = ["Paris"]
            tags[at:at] = ["B-LOC"]
        out.append({"id": str(i), "tokens": toks, "tags": tags})
    return out


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def enc(tmp_path_factory):
    root = tmp_path_factory.mktemp("iwda") / "enc"
    texts = [r["text"] for r in sentiment(200, (1, 1, 1), 0)] + [" ".join(r["tokens"]) for r in ner(100, 0)]  # fmt: skip
    tok = train_tokenizer(texts, 200, root)
    size = TinyBertConfig(vocab_size=200, hidden_size=32, layers=1, heads=2, intermediate_size=64, max_length=64)  # fmt: skip
    new_tiny_bert(size, tok, seed=0).save_pretrained(root)
    return root


def cfg(kind: str = "classification", epochs: int = 1, lr: float = 1e-2) -> FinetuneConfig:
    labels = SENT if kind == "classification" else NER
    return FinetuneConfig(kind=kind, labels=labels, lr=lr, epochs=epochs, batch_size=16, seed=1, max_length=64, device="cpu")  # fmt: skip


SMALL = {"critic_hidden": 64, "epochs": 1}


# ----------------------------------------------------------------------------- IW estimation


def test_iw_estimation_recovers_known_weights_and_keeps_the_constraints():
    p_s, p_t = np.array([0.4, 0.3, 0.2, 0.1]), np.array([0.1, 0.2, 0.3, 0.4])
    k = len(p_s)
    cond = np.full((k, k), 0.2 / (k - 1)) + np.eye(k) * (0.8 - 0.2 / (k - 1))  # P(ŷ=i | y=j)
    true_w = p_t / p_s
    # population statistics: exact recovery
    w = solve_weights(cond * p_s, cond @ p_t, p_s)
    assert np.allclose(w, true_w, atol=1e-5)
    # hard statistics from samples (20k source examples, 10k target predictions)
    rng = np.random.default_rng(0)
    ys, yt = rng.choice(k, 20000, p=p_s), rng.choice(k, 10000, p=p_t)

    def noisy(y: np.ndarray) -> np.ndarray:  # a classifier with confusion `cond`
        return (rng.random(len(y))[:, None] > np.cumsum(cond[:, y], 0).T).sum(1)

    shift = label_shift("iwda", noisy(ys), ys, noisy(yt), k, shrink=0.0)
    assert np.abs(shift.w_qp - true_w).max() < 0.15  # stated tolerance: 0.15 (true w: 0.25 … 4)
    assert np.all(shift.w_qp >= 0) and math.isclose(shift.w_qp @ shift.p_source, 1, abs_tol=1e-9)
    # shrinkage towards uniform keeps wᵀp_S = 1
    shrunk = label_shift("iwda", noisy(ys), ys, noisy(yt), k, shrink=0.25)
    assert np.allclose(shrunk.w_init, 0.75 * shrunk.w_qp + 0.25)
    assert math.isclose(shrunk.w_init @ shrunk.p_source, 1, abs_tol=1e-9)
    # an unreachable target distribution: the constraints still hold (w ≥ 0 binds)
    w = solve_weights(cond * p_s, np.array([0.0, 0.0, 0.0, 1.0]), p_s, xi=0.1, w0=np.ones(k))
    assert np.all(w >= 0) and math.isclose(w @ p_s, 1, abs_tol=1e-9)


def test_projection_is_feasible_and_nearest():
    rng = np.random.default_rng(1)
    a = torch.tensor([0.5, 0.3, 0.2, 0.0], dtype=torch.float64)
    for _ in range(20):
        v = torch.as_tensor(rng.normal(0, 3, 4))
        w = project(v, a)
        assert torch.all(w >= 0) and math.isclose(float(w @ a), 1, abs_tol=1e-9)
        for _ in range(20):  # no random feasible point is closer
            u = torch.as_tensor(rng.dirichlet(np.ones(3)))
            other = torch.cat([u / a[:3], torch.as_tensor(rng.exponential(1, 1))])
            assert (w - v).norm() <= (other - v).norm() + 1e-9


def test_oracle_and_align_weights():
    p_s, p_t = np.array([0.5, 0.25, 0.25]), np.array([0.2, 0.2, 0.6])
    assert np.allclose(oracle_weights(p_s, p_t), [0.4, 0.8, 2.4])
    assert np.allclose(oracle_weights([1.0, 0.0], [0.5, 0.5]), [0.5, 0.0])
    pred = gold = np.array([0, 0, 1, 2])
    oracle = label_shift("oracle", pred, gold, np.array([2, 2]), 3, target_prior=p_t)
    assert np.allclose(oracle.w_init, p_t / p_s) and not oracle.updates
    assert np.allclose(label_shift("align", pred, gold, pred, 3).w_init, 1)
    assert np.allclose(confusion([0, 1, 1], [0, 0, 1], 2), [[1 / 3, 0], [1 / 3, 1 / 3]])
    with pytest.raises(ValueError, match="oracle needs the true target prior"):
        label_shift("oracle", pred, gold, pred, 3)
    for bad in ({"lambda_da": -1}, {"lambda_iw_init": 1.5}, {"variant": "dann"}, {"lr": "abc"},
                {"target_batch_size": 0}, {"critic_weight_decay": -5}, {"epochs": 1.5}):  # fmt: skip
        with pytest.raises(ValueError, match=f"iwda.stage2.{next(iter(bad))}: .* is invalid; use"):
            IWDAConfig(**bad)


def test_importance_weights_positive_control():
    """The estimator alone, App. C's hyper-parameters (lr_iw 5e-4, weight decay 2, ρ 0.25, batch
    statistics with momentum 0.99, 16 examples per domain and step): fixed features, a fixed
    classifier (87% accurate), a known label shift of total variation 0.3 (true w 1.9, 0.55,
    0.55). w starts 0.48 (ℓ1) from the truth (the QP answer shrunk towards 1), is within 0.1 of
    it by step 1,000 and ends within 0.1 after 2,000 steps; with no shift it stays within 0.1 of
    1 throughout."""
    shifted = weights_positive_control(0.3, steps=2000)
    assert shifted["true"] == [1.9, 0.55, 0.55] and shifted["classifier_accuracy"] > 0.8
    assert shifted["l1_init"] > 0.4 and shifted["l1_final"] <= 0.10, shifted
    assert shifted["first_step_within"] <= 1000 and shifted["tolerance"] == 0.1
    w = np.array(shifted["w_final"])
    assert np.all(w >= 0) and math.isclose(w @ shifted["p_source"], 1, abs_tol=1e-3)
    none = weights_positive_control(0.0, steps=2000)
    assert none["true"] == [1.0, 1.0, 1.0] and none["max_abs_w_minus_1"] <= 0.1, none


def test_weight_update_is_a_normalised_adamw_step_on_delta():
    # a perfect source classifier (p_S = .5, .25, .25), every target unit predicted class 0, w(0) = 1
    gold = np.array([0, 1, 2, 0])
    shift = label_shift("iwda", gold, gold, np.array([0, 0, 0]), 3, shrink=1.0)
    iw = ImportanceWeights(shift, IWDAConfig(lr_iw=0.01), total=100)
    assert torch.equal(iw.w, torch.ones(3))
    w = iw.update(torch.tensor([0, 1]), torch.tensor([0, 1]), torch.tensor([0, 0]))
    # Adam's first step moves each coordinate by lr whatever the gradient's size (~1/k² here);
    # the weight decay acts on δ = 0, so it adds nothing yet; the step is already feasible
    assert torch.allclose(w, torch.tensor([1.01, 0.99, 0.99]), atol=1e-6)
    assert math.isclose(float(w @ iw.p_s), 1, abs_tol=1e-6) and bool((w >= 0).all())
    # the oracle and alignment weights never move
    fixed = ImportanceWeights(label_shift("align", *([np.array([0, 1, 2])] * 3), 3), IWDAConfig(), 10)  # fmt: skip
    assert torch.equal(fixed.update(torch.tensor([0]), torch.tensor([1]), torch.tensor([2])), torch.ones(3))  # fmt: skip


# ---------------------------------------------------------------------------------- critic


def test_gradient_penalty_of_a_linear_critic_is_its_squared_slope():
    torch.manual_seed(0)
    critic = torch.nn.Linear(5, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[1.0, -2.0, 0.0, 0.5, 3.0]]))
    hs, ht = torch.randn(7, 5), torch.randn(9, 5)
    gp = gradient_penalty(lambda x: critic(x).squeeze(-1), hs, ht)
    assert math.isclose(float(gp.detach()), 1 + 4 + 0.25 + 9, rel_tol=1e-6)
    # and the weighted W₁ estimate is mean_S[w f] − mean_T[f]
    f = lambda x: critic(x).squeeze(-1)  # noqa: E731
    ws = torch.rand(7)
    assert torch.isclose(wasserstein(f, hs, ht, ws), (ws * f(hs)).mean() - f(ht).mean())


def test_critic_w1_estimate_separates_shifted_gaussians():
    def trained_estimate(shift: float) -> float:
        g = torch.Generator().manual_seed(0)
        torch.manual_seed(0)
        critic = Critic(4, 64)
        opt = torch.optim.AdamW(critic.parameters(), lr=5e-3)
        offset = torch.tensor([shift, 0.0, 0.0, 0.0])

        def sample() -> tuple[torch.Tensor, torch.Tensor]:
            return torch.randn(64, 4, generator=g), torch.randn(64, 4, generator=g) + offset

        for _ in range(100):
            hs, ht = sample()
            loss = -(wasserstein(critic, hs, ht) - 10.0 * gradient_penalty(critic, hs, ht, g))
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            return float(np.mean([wasserstein(critic, *sample()) for _ in range(10)]))

    same, shifted = trained_estimate(0.0), trained_estimate(2.0)
    assert shifted > 0.05 and shifted > 5 * abs(same), (same, shifted)


# ------------------------------------------------------------------------- stage 2 end to end


class Poison:
    """A label that fails loudly on any use (hashing, comparing, printing)."""

    def _boom(self, *a):
        raise AssertionError("a target label was read")

    __hash__ = __eq__ = __str__ = __repr__ = __iter__ = __len__ = __getitem__ = _boom


class PoisonRecord(dict):
    def __getitem__(self, key):
        if key in ("label", "tags"):
            raise AssertionError(f"target record field {key!r} was read")
        return super().__getitem__(key)

    def get(self, key, default=None):
        return self[key] if key in self else default  # noqa: SIM401 (must go through [])


def poisoned(records: list[dict]) -> list[dict]:
    return [PoisonRecord({**r, **{k: Poison() for k in ("label", "tags") if k in r}}) for r in records]  # fmt: skip


def test_stage2_iwda_runs_without_nan_and_the_source_loss_falls(enc):
    source = sentiment(160, (0.6, 0.2, 0.2), 1)
    stage1 = finetune(cfg(epochs=3), enc, source, {})
    run = run_iwda(
        cfg(), IWDAConfig(**SMALL | {"epochs": 3, "lr_iw": 0.05}), enc, source, sentiment(160, (0.2, 0.2, 0.6), 2),
        {"en": {"dev": sentiment(40, (1, 1, 1), 3)}}, model=stage1.model,
    )  # fmt: skip
    curve = run.result.loss_curve
    assert len(curve) == 3 * 10 and all(np.isfinite(curve))
    assert np.mean(curve[-5:]) < np.mean(curve[:5])
    info = run.result.info["iwda"]
    assert all(np.isfinite(info["w1"])) and all(np.isfinite(info["gp"]))
    w = np.array(info["w_final"])
    assert np.all(w >= 0) and math.isclose(w @ np.array(info["p_source"]), 1, abs_tol=1e-3)
    assert info["w_final"] != info["w_init"]  # the weights moved (AdamW on δ, projected)
    # w's trajectory: every step of a run this short, from w(0) to the final w
    traj = info["w_trajectory"]
    assert traj["steps"] == list(range(31)) and len(traj["w"]) == 31
    assert np.allclose(traj["w"][0], info["w_init"], atol=1e-4)
    assert np.allclose(traj["w"][-1], info["w_final"], atol=1e-4)
    assert "en" in run.result.scores


def test_target_labels_are_never_read(enc):
    target = poisoned(sentiment(48, (0.2, 0.2, 0.6), 4))
    from transformers import AutoTokenizer

    from xlt.tasks import encode

    with pytest.raises(AssertionError, match="was read"):  # the poison works
        encode(cfg().spec, AutoTokenizer.from_pretrained(enc), target, 64)
    assert all(set(r) == {"id", "text"} for r in unlabelled(target, False))
    source = sentiment(48, (1, 1, 1), 5)
    run = run_iwda(cfg(), IWDAConfig(**SMALL), enc, source, target, {})  # stage 1 included
    assert run.stage1 is not None and len(run.result.loss_curve) == 3
    teacher = run.result.model  # IWDA + KD, then IWDA + ST, on the same poisoned target
    student = run_distill(cfg(), DistillConfig(freeze_layers=1), enc, teacher, source, target, {})
    assert student.info["distill"]["target_texts"] == 48 and np.isfinite(student.loss_curve).all()
    st = run_self_training(cfg(), SelfTrainConfig(iterations=2, fraction=0.1), enc, source, target, {}, model=teacher)  # fmt: skip
    assert [h["total"] for h in st.info["self_training"]] == [5, 10]
    # the token-task path too: NER tags poisoned, alignment on first sub-words, steps scaled
    run = run_iwda(cfg("ner"), IWDAConfig(**SMALL), enc, ner(48, 7), poisoned(ner(40, 6)), {})
    assert np.isfinite(run.result.loss_curve).all() and run.info["step_scale"] > 0


# ------------------------------------------------------------------------------ ST and KD


def test_self_training_takes_only_examples_above_the_confidence_cut():
    conf = np.array([0.9, 0.5, 0.99, 0.7, 0.95, 0.6])
    taken = np.array([False, False, True, False, False, False])
    chosen = select_confident(conf, taken, 2)
    assert list(chosen) == [4, 0]
    rest = np.setdiff1d(np.flatnonzero(~taken), chosen)
    assert conf[chosen].min() >= conf[rest].max()
    with pytest.raises(ValueError, match="fraction"):
        SelfTrainConfig(fraction=0)


def test_kd_loss_is_zero_for_an_identical_student():
    torch.manual_seed(0)
    t = torch.randn(4, 6, 3)
    assert float(kd_loss(t.clone(), t, 3.0)) == 0.0
    mask = torch.tensor([[1, 1, 0, 0, 0, 0]] * 4).bool()
    s = t.clone()
    s[:, 2:] += 5  # differences only where the mask is off
    assert float(kd_loss(s, t, 3.0, mask)) == 0.0 < float(kd_loss(s, t, 3.0))


# ------------------------------------------------------------------------------- analyses


def test_conditional_feature_shift_and_prior_shift_by_hand():
    zs = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 1.0]])
    ys = np.array([0, 0, 1])
    zt = np.array([[1.0, 1.0], [1.0, 3.0], [5.0, 5.0]])
    yt = np.array([0, 1, 2])
    # class 0: means (1,0) vs (1,1) → 1; class 1: (1,1) vs (1,3) → 2; class 2 absent in source
    assert conditional_feature_shift(zs, ys, zt, yt, 3) == pytest.approx(1.5)
    assert prior_shift(ys, yt, 3) == pytest.approx(0.5 * (abs(2 / 3 - 1 / 3) + 0 + 1 / 3))
    assert prior_shift(ys, ys, 3) == 0.0


def test_resampling_to_controlled_priors_and_the_fit():
    assert list(prior_counts([0.5, 0.25, 0.25], 10)) == [5, 3, 2]
    labels = np.repeat([0, 1, 2], 50)
    idx = resample_to_prior(labels, [0.7, 0.2, 0.1], 40, seed=3)
    assert list(np.bincount(labels[idx])) == [28, 8, 4]
    assert np.array_equal(idx, resample_to_prior(labels, [0.7, 0.2, 0.1], 40, seed=3))
    fit = fit_line([0, 1, 2, 3], [1, 3, 5, 7])
    assert fit["slope"] == pytest.approx(2) and fit["pearson_r"] == pytest.approx(1)
    rng = np.random.default_rng(0)
    z = rng.normal(size=(150, 4))
    study = shift_study(z, labels, z, labels, labels, 3, random_priors(3, 5, seed=1), 30, seed=0)
    assert len(study["subsets"]) == 5 and all(r["macro_f1"] == r["accuracy"] == 100.0 for r in study["subsets"])  # fmt: skip
    assert set(study["fit"]) == {"macro_f1", "accuracy"} and study["fit"]["accuracy"]["prior_shift"]["n"] == 5  # fmt: skip


def test_unlabelled_split_keeps_only_text_and_names_a_bad_line(tmp_path):
    from xlt.io import DataError
    from xlt.studies.iwda.iwda import read_unlabelled

    path = tmp_path / "train.jsonl"
    path.write_text(
        '{"id": "a", "text": "good", "label": "not-a-label"}\n{"id": "b", "label": "x"}\n'
    )
    with pytest.raises(
        DataError, match=r"train.jsonl line 2: an unlabelled record needs 'id' and 'text'"
    ):
        read_unlabelled(path, token_level=False)
    path.write_text('{"id": "a", "tokens": ["Maria"], "tags": ["NOT-A-TAG"]}\n')
    assert read_unlabelled(path, token_level=True) == [{"id": "a", "tokens": ["Maria"]}]


# ---------------------------------------------------------------- controlled prior shift (§4.2)


def test_priors_at_controlled_total_variation_and_their_subsamples():
    p_s = np.array([0.5, 0.3, 0.2])
    q = shift_direction(p_s, 0.4, seed=[0, 1, 2])
    assert total_variation(p_s, q) >= 0.4
    assert np.array_equal(q, shift_direction(p_s, 0.4, seed=[0, 1, 2]))  # seeded
    for tv in (0.0, 0.2, 0.4):
        p = shifted_prior(p_s, tv, q)
        assert total_variation(p_s, p) == pytest.approx(tv) and p.sum() == pytest.approx(1)
    with pytest.raises(ValueError, match="does not exist"):
        shifted_prior(p_s, 0.9, q)
    labels = np.repeat([0, 1, 2], [30, 20, 10])
    idx = subsample_to_prior(labels, [0.2, 0.3, 0.5], 20, seed=5)
    assert list(np.bincount(labels[idx])) == [4, 6, 10] and len(set(idx)) == 20  # no repeats
    with pytest.raises(ValueError, match="class 2 has 10 examples"):
        subsample_to_prior(labels, [0.2, 0.3, 0.5], 30, seed=5)


def test_scores_under_a_class_prior():
    gold, pred = ["negative", "negative", "neutral", "positive", "positive", "positive"], ["negative", "neutral", "neutral", "positive", "negative", "positive"]  # fmt: skip
    ids = {lab: i for i, lab in enumerate(SENT)}
    g, p = np.array([ids[x] for x in gold]), np.array([ids[x] for x in pred])
    plain = unit_scores(p, g, 3)
    ref = classification_scores(gold, pred)  # the project's metric, unweighted
    assert plain["accuracy"] == pytest.approx(ref["accuracy"]) and plain["macro_f1"] == pytest.approx(ref["macro_f1"])  # fmt: skip
    # reweighted to prior (0.5, 0.25, 0.25): per-class recalls 1/2, 1, 2/3 weigh .5, .25, .25
    w = prior_weights(g, [0.5, 0.25, 0.25], 3)
    assert unit_scores(p, g, 3, w)["accuracy"] == pytest.approx(100 * (0.5 * 0.5 + 0.25 + 0.25 * 2 / 3))  # fmt: skip
    # weights equal to the test's own prior change nothing
    assert unit_scores(p, g, 3, prior_weights(g, [2 / 6, 1 / 6, 3 / 6], 3)) == pytest.approx(plain)


def _write(path, records):
    from xlt.io import write_jsonl

    write_jsonl(path, records)
    return str(path)


def test_iwda_cell_with_levels_records_priors_scores_and_weight_trajectories(enc, tmp_path):
    from xlt.studies.iwda.cell import run_iwda_cell

    files = {
        "source": _write(tmp_path / "en_train.jsonl", sentiment(96, (1, 1, 1), 11)),
        "target": _write(tmp_path / "zh_train.jsonl", sentiment(96, (1, 1, 1), 12)),
    }
    files["unlabelled"] = files["target"]
    evals = {
        "en/dev": _write(tmp_path / "en_dev.jsonl", sentiment(30, (1, 1, 1), 13)),
        "zh/dev": _write(tmp_path / "zh_dev.jsonl", sentiment(30, (1, 1, 1), 14)),
        "zh/test": _write(tmp_path / "zh_test.jsonl", sentiment(60, (1, 1, 1), 15)),
    }
    base = {"task": "sent", "kind": "classification", "labels": list(SENT), "source": "en", "encoder": "tiny",
            "seed": 1, "lr": 1e-2, "epochs": 2, "batch_size": 16, "max_length": 64, "device": "cpu"}  # fmt: skip
    params = {
        "base": base, "target": "zh", "methods": ["iw.zh.zero-shot", "iw.zh.supervised"],
        "variants": ["align", "iwda", "oracle"], "stage2": {"epochs": 1, "critic_hidden": 32, "lr_iw": 0.02},
        "self_train": {}, "distill": {}, "shift": {"subsets": 4, "size": 20},
        "levels": {"tv": [0.0, 0.4], "size": None, "seed": 3},
    }  # fmt: skip
    outputs = {f"v{i}_{k}": str(tmp_path / f"v{i}.{k}") for i in range(2) for k in ("metrics", "predictions", "features")}  # fmt: skip
    outputs["analysis"] = str(tmp_path / "analysis.json")
    doc = run_iwda_cell(params, str(enc), files, evals, outputs)
    levels = doc["levels"]
    assert [lv["tv"] for lv in levels] == [0.0, 0.4]
    smallest = min(np.bincount([SENT.index(r["label"]) for r in sentiment(96, (1, 1, 1), 12)]))
    for lv in levels:  # the same size at every level, the prior as drawn, no example twice
        assert lv["size"] == smallest == sum(lv["counts"]) == len(set(lv["ids"]))
        assert lv["tv_measured"] == pytest.approx(lv["tv"], abs=1.5 / smallest)
        assert set(lv["scores"]) == {"zero-shot", "supervised", "align", "iwda", "oracle"}
        assert all(0 <= s["macro_f1"] <= 100 for s in lv["scores"].values())
        iw = lv["label_shift"]["iwda"]
        traj = iw["w_trajectory"]
        assert traj["steps"][0] == 0 and len(iw["w_l1_to_true"]) == len(traj["w"])
        assert iw["w_l1_to_true"][-1] == pytest.approx(iw["w_l1_final"], abs=1e-3)
        # the oracle's weights are the level's true weights and stay there
        assert lv["label_shift"]["oracle"]["w_l1_final"] == pytest.approx(0, abs=1e-3)
        assert lv["label_shift"]["align"]["w_l1_final"] == pytest.approx(lv["label_shift"]["align"]["w_l1_uniform"], abs=1e-3)  # fmt: skip
    assert levels[0]["label_shift"]["align"]["w_l1_uniform"] < 0.2 < levels[1]["label_shift"]["align"]["w_l1_uniform"]  # fmt: skip
    # the pool gets zero-shot and supervised only; the variants live in the analysis document
    assert set(doc["scores"]) == {"zero-shot", "supervised"}
    assert {"macro_f1", "accuracy"} <= set(doc["shift_study"]["subsets"][0])
    # the report: the levels table (gap IWDA − alignment per level) and figure, from the document
    import pandas as pd

    from xlt.studies.iwda.report import write_outputs

    names = ["iwda", "iwda_shift", "iwda_levels"]
    out = {f"{n}_{e}": str(tmp_path / f"{n}.{e}") for n in names for e in ("csv", "md")}
    out |= {"figure": str(tmp_path / "shift.png"), "levels_figure": str(tmp_path / "levels.png")}
    write_outputs([outputs["analysis"]], "sent", out)
    table = pd.read_csv(out["iwda_levels_csv"])
    assert list(table["tv"]) == [0.0, 0.4] and list(table["target"]) == ["zh", "zh"]
    gap = levels[1]["scores"]["iwda"]["macro_f1"] - levels[1]["scores"]["align"]["macro_f1"]
    assert table["gap_iwda_minus_align"].iloc[1] == pytest.approx(gap, abs=1e-4)
    assert "IWDA − align" in Path(out["iwda_levels_md"]).read_text()
    assert Path(out["levels_figure"]).stat().st_size > 5000


def test_iwda_cell_writes_every_variant_and_the_weights_distance_to_the_truth(enc, tmp_path):
    from xlt.io import read_json
    from xlt.studies.iwda.cell import run_iwda_cell

    files = {"source": _write(tmp_path / "s.jsonl", sentiment(64, (0.6, 0.2, 0.2), 21)),
             "target": _write(tmp_path / "t.jsonl", sentiment(64, (0.2, 0.2, 0.6), 22))}  # fmt: skip
    files["unlabelled"] = files["target"]
    evals = {"en/dev": _write(tmp_path / "d.jsonl", sentiment(20, (1, 1, 1), 23)),
             "zh/dev": _write(tmp_path / "zd.jsonl", sentiment(20, (0.2, 0.2, 0.6), 24)),
             "zh/test": _write(tmp_path / "zt.jsonl", sentiment(30, (0.2, 0.2, 0.6), 25))}  # fmt: skip
    base = {"task": "sent", "kind": "classification", "labels": list(SENT), "source": "en", "seed": 1,
            "lr": 1e-2, "epochs": 1, "batch_size": 16, "max_length": 64, "device": "cpu"}  # fmt: skip
    variants = ["align", "iwda", "oracle", "st", "iwda-st", "iwda-kd"]
    methods = [f"iw.zh.{v}" for v in ("zero-shot", "supervised", *variants)]
    params = {"base": base, "target": "zh", "methods": methods, "variants": variants,
              "stage2": {"epochs": 1, "critic_hidden": 16, "lr_iw": 0.05}, "self_train": {"iterations": 1, "fraction": 0.1},
              "distill": {"freeze_layers": 1, "epochs": 1}, "shift": {"subsets": 3, "size": 20}}  # fmt: skip
    outputs = {f"v{i}_{k}": str(tmp_path / f"v{i}.{k}") for i in range(len(methods)) for k in ("metrics", "predictions", "features")}  # fmt: skip
    outputs["analysis"] = str(tmp_path / "analysis.json")
    doc = run_iwda_cell(params, str(enc), files, evals, outputs)
    assert set(doc["feature_shift"]) == {"zero-shot", "supervised", *variants}
    assert [read_json(outputs[f"v{i}_metrics"])["method"] for i in range(len(methods))] == methods
    true_w = np.array(doc["true_weights"])  # p_T / p_S of the training splits' labels
    assert true_w[2] > 2 and true_w[0] < 0.5
    iw = doc["label_shift"]["iwda"]
    assert iw["w_l1_init"] == pytest.approx(np.abs(np.array(iw["w_init"]) - true_w).sum(), abs=1e-3)
    assert len(iw["w_l1_to_true"]) == len(iw["w_trajectory"]["steps"]) == 5  # 4 steps + w(0)
    assert doc["label_shift"]["oracle"]["w_l1_final"] == pytest.approx(0, abs=1e-3)


def test_data_checks_stop_a_cell_before_it_trains(enc, tmp_path, monkeypatch):
    import xlt.studies.iwda.cell as cell
    from xlt.config import ConfigError

    monkeypatch.setattr(cell, "finetune", lambda *a, **k: pytest.fail("trained before checking"))
    files = {"source": _write(tmp_path / "s.jsonl", sentiment(40, (1, 1, 1), 1)),
             "target": _write(tmp_path / "t.jsonl", sentiment(40, (1, 1, 1), 2))}  # fmt: skip
    files["unlabelled"] = files["target"]
    evals = {"en/dev": _write(tmp_path / "d.jsonl", sentiment(10, (1, 1, 1), 3)),
             "zh/dev": _write(tmp_path / "zd.jsonl", sentiment(10, (1, 1, 1), 4)),
             "zh/test": _write(tmp_path / "zt.jsonl", sentiment(15, (1, 1, 1), 5))}  # fmt: skip
    base = {"task": "sent", "kind": "classification", "labels": list(SENT), "source": "en", "seed": 1,
            "lr": 1e-2, "epochs": 1, "batch_size": 16, "max_length": 64, "device": "cpu"}  # fmt: skip
    params = {"base": base, "target": "zh", "methods": [], "variants": ["iwda", "iwda-kd"], "stage2": {},
              "self_train": {}, "distill": {"freeze_layers": 5}, "shift": {"size": 20}}  # fmt: skip

    def refused(edit, *parts):
        p = copy.deepcopy(params)
        edit(p)
        with pytest.raises(ConfigError) as err:
            cell.run_iwda_cell(p, str(enc), files, evals, {})
        assert all(part in str(err.value) for part in parts), str(err.value)

    # the tiny encoder has one layer (issue 27.4: it was recorded as 5 frozen layers)
    refused(lambda p: None, "iwda.distill.freeze_layers: 5", "has 1 layers")
    # 100,000 re-sampled units from 25 (it used to draw them with replacement)
    refused(lambda p: p.update(variants=["iwda"], shift={"size": 100_000}), "iwda.shift.size: 100000", "25 units", "at most 25")  # fmt: skip
    # a level subsample larger than the rarest class allows without replacement
    refused(lambda p: p.update(variants=["iwda"], levels={"tv": [0.2], "size": 40, "seed": 0}), "iwda.levels.size: 40", "use at most")  # fmt: skip
    # a level out of the source prior's reach (TV from a uniform 3-class prior is at most 2/3)
    refused(lambda p: p.update(variants=["iwda"], levels={"tv": [0.9], "size": None, "seed": 0}), "iwda.levels.tv: 0.9", "out of reach")  # fmt: skip
