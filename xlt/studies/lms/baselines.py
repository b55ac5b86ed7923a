"""Model-selection baselines of Chen & Ritter, over any subset of a pool's candidates.

Every function takes the candidate indices to choose among (the meta-test set, so that LMS and
the baselines choose from the same candidates) and returns pool indices; the reported number is
always the chosen candidate's *target test* score (:func:`test_score`). Ties go to the first
candidate in the given order.

- En-Dev: best source-language dev score.
- Pivot-Dev: best dev score in the pivot most similar to the target (cosine of lang2vec vectors,
  ``syntax`` by default as the workflow's ``lms.similarity``; the target itself is excluded), with
  the pivot used.
- k-Target (100-Target): best score on k random target dev examples, re-scored from the per-example
  statistics, over several seeded draws (the reported score is the mean over draws). A dev set of
  at most k examples is used whole (every draw is then the same: All-Target).
- All-Target (oracle): best target dev score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from xlt.metrics import score_from_stats
from xlt.pool import Pool
from xlt.studies.lms.langvec import DEFAULT_SIMILARITY, most_similar


def _argmax(values: np.ndarray, cands: np.ndarray) -> int:
    if len(cands) == 0:
        raise ValueError("no candidates to select from")
    return int(cands[int(np.argmax(values))])


def dev_pick(pool: Pool, cands: np.ndarray, lang: str, dev: np.ndarray | None = None) -> int:
    """The candidate of ``cands`` with the best ``lang`` dev score (pool index)."""
    dev = pool.matrix("dev") if dev is None else dev
    return _argmax(dev[cands, pool.lang_index(lang)], cands)


def en_dev(pool: Pool, cands: np.ndarray, source: str = "en", dev: np.ndarray | None = None) -> int:
    """En-Dev: the best source-language dev score."""
    return dev_pick(pool, cands, source, dev)


def all_target(pool: Pool, cands: np.ndarray, target: str, dev: np.ndarray | None = None) -> int:
    """All-Target (oracle): the best dev score on the target's whole dev set."""
    return dev_pick(pool, cands, target, dev)


def pivot_dev(
    pool: Pool,
    cands: np.ndarray,
    target: str,
    pivots: Sequence[str],
    feature_set: str = DEFAULT_SIMILARITY,
    dev: np.ndarray | None = None,
) -> tuple[int, str]:
    """Pivot-Dev: (pick, pivot) — best dev score in the pivot most similar to the target
    (similarity: cosine of ``feature_set`` lang2vec vectors, ``syntax`` unless told)."""
    available = [p for p in pivots if p in pool.langs and p != target]
    pivot = most_similar(target, available, feature_set)
    return dev_pick(pool, cands, pivot, dev), pivot


@dataclass(frozen=True)
class KTarget:
    """k-Target picks: one per draw, and the number of dev examples each draw used."""

    picks: tuple[int, ...]
    n_used: int
    n_dev: int

    @property
    def whole_dev_set(self) -> bool:
        return self.n_used >= self.n_dev


def k_target(
    pool: Pool, cands: np.ndarray, target: str, k: int = 100, draws: int = 10, seed: int = 0
) -> KTarget:
    """k-Target: best score on ``k`` random target dev examples, for ``draws`` seeded draws.

    Scores are recomputed from ``pool.stats[target]`` (the task's metric over the subset, e.g.
    entity F1 for NER, not a mean of per-sentence scores). With at most ``k`` dev examples the whole
    set is used (one distinct draw).
    """
    stats = pool.stats[target]
    n_dev = stats.shape[1]
    sub = stats[cands]
    if n_dev <= k:
        pick = _argmax(score_from_stats(pool.kind, sub), cands)
        return KTarget((pick,) * draws, n_dev, n_dev)
    rng = np.random.default_rng([seed, n_dev, k])
    picks = []
    for _ in range(draws):
        rows = np.sort(rng.choice(n_dev, size=k, replace=False))
        picks.append(_argmax(score_from_stats(pool.kind, sub[:, rows, :]), cands))
    return KTarget(tuple(picks), k, n_dev)


def test_score(pool: Pool, picks: int | Sequence[int], target: str, test: np.ndarray | None = None) -> float:  # fmt: skip
    """Target test score of a pick (or the mean over several picks, e.g. k-Target draws)."""
    test = pool.matrix("test") if test is None else test
    idx = [picks] if isinstance(picks, int | np.integer) else list(picks)
    return float(np.mean(test[idx, pool.lang_index(target)]))
