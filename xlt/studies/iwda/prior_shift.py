"""Label shift and conditional feature shift of zero-shot models (seed 004 §2, methods.md §5).

- conditional feature shift: (1/k) Σ_j ‖E_S[z | y=j] − E_T[z | y=j]‖₁, the mean ℓ1 distance of
  per-class feature means (averaged over the classes present on both sides);
- class prior shift: total variation ½ Σ_j |p_S(j) − p_T(j)|;
- target subsets re-sampled to controlled class priors (seeded), and a fitted line + Pearson
  correlation of performance against either shift.

Units are sequences for sequence tasks and words (first sub-words) for token tasks, as in
:func:`xlt.studies.iwda.iwda.hard_predictions`, which extracts features, predictions and labels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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


def accuracy(pred: np.ndarray, gold: np.ndarray) -> float:
    return 100.0 * float(np.mean(np.asarray(pred) == np.asarray(gold)))


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
    metric: Callable[[np.ndarray, np.ndarray], float] = accuracy,
) -> dict:
    """For each target prior: re-sample a target subset of size ``n``, then its prior shift, its
    conditional feature shift (source features ``zs``/labels ``ys``) and the model's score on it;
    plus a fitted line of score against each shift."""
    rows = []
    for i, prior in enumerate(priors):
        idx = resample_to_prior(yt, prior, n, seed + i)
        rows.append({
            "prior": [round(float(p), 4) for p in prior],
            "prior_shift": prior_shift(ys, yt[idx], k),
            "feature_shift": conditional_feature_shift(zs, ys, zt[idx], yt[idx], k),
            "score": metric(pred_t[idx], yt[idx]),
        })  # fmt: skip
    score = [r["score"] for r in rows]
    return {
        "subsets": rows,
        "fit_prior_shift": fit_line([r["prior_shift"] for r in rows], score),
        "fit_feature_shift": fit_line([r["feature_shift"] for r in rows], score),
    }
