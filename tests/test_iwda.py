"""IWDA (seed 004): importance weights, the critic, the two-stage hook, ST, KD and the shift analyses.

Tiny randomly initialised encoders built here (no downloads), fixed seeds, a few steps each.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch

from xlt.encoder import TinyBertConfig, new_tiny_bert, train_tokenizer
from xlt.finetune import FinetuneConfig, finetune
from xlt.studies.iwda.distill import DistillConfig, kd_loss, run_distill
from xlt.studies.iwda.iwda import (
    Critic,
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
)
from xlt.studies.iwda.prior_shift import (
    conditional_feature_shift,
    fit_line,
    prior_counts,
    prior_shift,
    random_priors,
    resample_to_prior,
    shift_study,
)
from xlt.studies.iwda.self_train import SelfTrainConfig, run_self_training, select_confident

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
    for bad in ({"lambda_da": -1}, {"iw_shrink": 1.5}, {"variant": "dann"}):
        with pytest.raises(ValueError, match=f"iwda.{next(iter(bad))}"):
            IWDAConfig(**bad)


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
    assert info["w_final"] != info["w_init"]  # the weights moved by projected gradient
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
    assert len(study["subsets"]) == 5 and all(r["score"] == 100.0 for r in study["subsets"])


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
