"""Label shift and conditional feature shift of zero-shot models (seed 004 §2, methods.md §5).

- conditional feature shift: (1/k) Σ_j ‖E_S[z | y=j] − E_T[z | y=j]‖₁, the mean ℓ1 distance of
  per-class feature means (averaged over the classes present on both sides);
- class prior shift: total variation ½ Σ_j |p_S(j) − p_T(j)|;
- target subsets re-sampled to controlled class priors (seeded), and a fitted line + Pearson
  correlation of performance (macro-F1 over units, as the paper's Fig. 1; accuracy kept) against
  either shift;
- the prior-shift protocol of §4.2: class priors at controlled total variation from the source's
  (:func:`shifted_prior` on a seeded :func:`shift_direction`), a subsample of the unlabelled split
  per prior without replacement (:func:`subsample_to_prior`), and scores under a class prior
  (:func:`unit_scores` with per-unit weights p_T(y)/p_test(y): the expected confusion matrix of a
  test set with that prior).

Units are sequences for sequence tasks and words (first sub-words) for token tasks, as in
:func:`xlt.studies.iwda.iwda.hard_predictions`, which extracts features, predictions and labels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def class_prior(labels: np.ndarray, k: int) -> np.ndarray:
    labels = np.asarray(labels)
    return np.bincount(labels, minlength=k)[:k] / max(1, len(labels))


def prior_shift(source_labels: np.ndarray, target_labels: np.ndarray, k: int) -> float:
    """Total variation between the two class distributions."""
    return 0.5 * float(np.abs(class_prior(source_labels, k) - class_prior(target_labels, k)).sum())


def conditional_feature_shift(
    zs: np.ndarray, ys: np.ndarray, zt: np.ndarray, yt: np.ndarray, k: int
) -> float:
    """Mean over classes (present in both sets) of the ℓ1 distance of the class feature means."""
    zs, zt, ys, yt = np.asarray(zs, float), np.asarray(zt, float), np.asarray(ys), np.asarray(yt)
    dists = [
        np.abs(zs[ys == j].mean(0) - zt[yt == j].mean(0)).sum()
        for j in range(k)
        if (ys == j).any() and (yt == j).any()
    ]
    if not dists:
        raise ValueError("conditional feature shift: no class occurs in both source and target")
    return float(np.mean(dists))


def total_variation(p: Sequence[float], q: Sequence[float]) -> float:
    return 0.5 * float(np.abs(np.asarray(p, float) - np.asarray(q, float)).sum())


def shifted_prior(p_source: Sequence[float], tv: float, towards: Sequence[float]) -> np.ndarray:
    """The class prior at total variation ``tv`` from ``p_source`` on the segment towards the
    distribution ``towards``: p_S + t·(q − p_S) with t = tv / TV(p_S, q) (TV is linear along the
    segment). ``towards`` must lie at least ``tv`` away."""
    p, q = np.asarray(p_source, float), np.asarray(towards, float)
    reach = total_variation(p, q)
    if tv < 0 or tv > reach + 1e-12:
        raise ValueError(f"a prior at total variation {tv} from {list(p)} towards {list(q)} does not exist (at most {reach:.4f})")  # fmt: skip
    out = p if tv == 0 else p + (tv / reach) * (q - p)
    out = np.clip(out, 0, None)
    return out / out.sum()


def shift_direction(p_source: Sequence[float], reach: float, seed: Sequence[int] | int) -> np.ndarray:  # fmt: skip
    """A seeded random class distribution at least ``reach`` (total variation) from ``p_source``:
    uniform on the simplex (Dirichlet(1)), redrawn until far enough (at most 10,000 draws). The
    priors of the levels of one seed lie on the segment towards it (:func:`shifted_prior`)."""
    p = np.asarray(p_source, float)
    rng = np.random.default_rng(seed)
    for _ in range(10_000):
        q = rng.dirichlet(np.ones(len(p)))
        if total_variation(p, q) >= reach:
            return q
    raise ValueError(f"no class distribution at total variation >= {reach} from {list(p)}; use smaller levels")  # fmt: skip


def prior_counts(prior: Sequence[float], n: int) -> np.ndarray:
    """Class counts summing to ``n`` closest to n·prior (largest remainders)."""
    p = np.asarray(prior, float)
    if (p < 0).any() or not np.isclose(p.sum(), 1):
        raise ValueError(f"a class prior must be non-negative and sum to 1, got {list(p)}")
    raw = n * p
    counts = np.floor(raw).astype(int)
    counts[np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]] += 1
    return counts


def resample_to_prior(labels: np.ndarray, prior: Sequence[float], n: int, seed: int) -> np.ndarray:
    """Indices of a subset of size ``n`` whose class frequencies follow ``prior`` (without
    replacement where a class has enough examples, with replacement otherwise)."""
    labels, rng = np.asarray(labels), np.random.default_rng(seed)
    out = []
    for j, c in enumerate(prior_counts(prior, n)):
        pool = np.flatnonzero(labels == j)
        if c == 0:
            continue
        if len(pool) == 0:
            raise ValueError(f"resample_to_prior: class {j} has prior {prior[j]} but no examples")
        out.append(rng.choice(pool, size=c, replace=bool(c > len(pool))))
    return np.sort(np.concatenate(out)) if out else np.zeros(0, dtype=int)


def random_priors(k: int, count: int, seed: int, concentration: float = 1.0) -> np.ndarray:
    """``count`` class priors drawn from a symmetric Dirichlet (seeded)."""
    return np.random.default_rng(seed).dirichlet(np.full(k, concentration), size=count)


def fit_line(x: Sequence[float], y: Sequence[float]) -> dict[str, float]:
    """Least-squares line y ≈ slope·x + intercept and Pearson's r."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    slope, intercept = np.polyfit(x, y, 1)
    r = float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and y.std() > 0 else float("nan")
    return {"slope": float(slope), "intercept": float(intercept), "pearson_r": r, "n": len(x)}


def unit_scores(
    pred: np.ndarray, gold: np.ndarray, k: int, weights: np.ndarray | None = None
) -> dict[str, float]:
    """Accuracy and macro-F1 (in %) of unit predictions, optionally weighted per unit; macro-F1
    averages F1 = 2·TP / (gold + predicted) over the classes with gold weight, as
    :func:`xlt.tasks.classification.classification_scores` does over the classes in gold."""
    pred, gold = np.asarray(pred), np.asarray(gold)
    w = np.ones(len(gold)) if weights is None else np.asarray(weights, float)
    m = np.zeros((k, k))
    np.add.at(m, (gold, pred), w)
    total, tp = m.sum(), np.diag(m)
    support, predicted = m.sum(1), m.sum(0)
    present = support > 0
    f1 = 2 * tp[present] / np.maximum(1e-12, support[present] + predicted[present])
    return {
        "accuracy": 100.0 * float(tp.sum() / total) if total > 0 else 0.0,
        "macro_f1": 100.0 * float(f1.mean()) if present.any() else 0.0,
    }


def prior_weights(gold: np.ndarray, prior: Sequence[float], k: int) -> np.ndarray:
    """Per-unit weights p(y)/p_test(y) that give a labelled set the class prior ``prior`` (in
    expectation: the scores of a test set drawn with that prior and these class-conditionals)."""
    gold = np.asarray(gold)
    have = class_prior(gold, k)
    p = np.asarray(prior, float)
    if (p[have == 0] > 0).any():
        raise ValueError(f"prior {list(p)} puts mass on classes absent from the test set")
    return np.where(have[gold] > 0, p[gold] / np.where(have[gold] > 0, have[gold], 1), 0.0)


def subsample_to_prior(labels: np.ndarray, prior: Sequence[float], n: int, seed) -> np.ndarray:
    """Sorted indices of ``n`` examples whose class counts are :func:`prior_counts` of ``prior``,
    every class drawn without replacement (a class with too few examples is an error)."""
    labels, rng = np.asarray(labels), np.random.default_rng(seed)
    out = []
    for j, c in enumerate(prior_counts(prior, n)):
        pool = np.flatnonzero(labels == j)
        if c > len(pool):
            raise ValueError(f"class {j} has {len(pool)} examples, a subsample of {n} at prior {[round(float(x), 4) for x in prior]} needs {c}")  # fmt: skip
        out.append(rng.choice(pool, size=c, replace=False))
    return np.sort(np.concatenate(out)).astype(int)


def shift_study(
    zs: np.ndarray,
    ys: np.ndarray,
    zt: np.ndarray,
    yt: np.ndarray,
    pred_t: np.ndarray,
    k: int,
    priors: np.ndarray,
    n: int,
    seed: int,
) -> dict:
    """For each target prior: re-sample a target subset of size ``n`` (:func:`resample_to_prior`),
    then its prior shift, its conditional feature shift (source features ``zs``/labels ``ys``) and
    the model's macro-F1 and accuracy on it; plus fitted lines of either score against either
    shift (``fit``: metric -> shift -> line)."""
    rows = []
    for i, prior in enumerate(priors):
        idx = resample_to_prior(yt, prior, n, seed + i)
        rows.append({
            "prior": [round(float(p), 4) for p in prior],
            "prior_shift": prior_shift(ys, yt[idx], k),
            "feature_shift": conditional_feature_shift(zs, ys, zt[idx], yt[idx], k),
            **unit_scores(pred_t[idx], yt[idx], k),
        })  # fmt: skip
    fit = {
        metric: {
            shift: fit_line([r[shift] for r in rows], [r[metric] for r in rows])
            for shift in ("prior_shift", "feature_shift")
        }
        for metric in ("macro_f1", "accuracy")
    }
    return {"subsets": rows, "fit": fit}
