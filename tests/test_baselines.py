"""Baselines on a hand-made 4-candidate pool: each picks exactly what its definition says."""

from __future__ import annotations

import numpy as np
import pytest

from xlt.metrics import score_from_stats
from xlt.studies.lms import baselines as bl
from xlt.studies.lms.bench import classification_stats, pool_from_matrices

LANGS = ["en", "de", "nl", "ar", "zh"]
#                 en  de  nl  ar  zh     argmax: en -> 0, nl -> 1, ar -> 3, zh -> 2
DEV = np.array([[90, 0, 50, 10, 10],
                [80, 0, 70, 20, 20],
                [70, 0, 60, 30, 40],
                [60, 0, 40, 50, 30]], dtype=float)  # fmt: skip
# de dev scores come from per-example statistics of exactly 100 examples (filled in below)
DE_CORRECT = np.array([55, 60, 75, 65])  # -> the de dev argmax is candidate 2
TEST = np.array([[1, 11, 21, 31, 41],
                 [2, 12, 22, 32, 42],
                 [3, 13, 23, 33, 43],
                 [4, 14, 24, 34, 44]], dtype=float)  # fmt: skip


@pytest.fixture(scope="module")
def pool():
    rng = np.random.default_rng(0)
    correct = np.zeros((4, 100), dtype=bool)
    for i, k in enumerate(DE_CORRECT):
        correct[i, rng.choice(100, size=k, replace=False)] = True
    stats = {"de": classification_stats(correct, rng.integers(0, 2, size=100))}
    dev = DEV.copy()
    dev[:, 1] = score_from_stats("classification", stats["de"])
    return pool_from_matrices(dev, TEST, np.zeros((4, 5, 2)), LANGS, stats=stats)


ALL = np.arange(4)


def test_en_dev_picks_the_best_source_dev_score(pool):
    assert bl.en_dev(pool, ALL) == 0
    assert bl.en_dev(pool, np.array([3, 1, 2])) == 1  # among a subset, returns a pool index


def test_pivot_dev_uses_the_most_similar_pivot_and_says_which(pool):
    pick, pivot = bl.pivot_dev(pool, ALL, "de", ["ar", "nl", "zh", "de"], "syntax")
    assert (pick, pivot) == (1, "nl")  # de's closest pivot (syntax) is nl, whose best is 1
    pick, pivot = bl.pivot_dev(pool, ALL, "de", ["ar", "nl", "zh"], "learned")
    assert pivot == "ar" and pick == 3  # learned vectors put ar closest to de
    assert bl.pivot_dev(pool, ALL, "de", ["ar", "nl", "zh"]) == (1, "nl")  # default: syntax
    with pytest.raises(ValueError, match="no candidate language"):
        bl.pivot_dev(pool, ALL, "de", ["de"], "syntax")


def test_all_target_is_the_target_dev_argmax(pool):
    assert bl.all_target(pool, ALL, "de") == 2
    assert bl.test_score(pool, bl.all_target(pool, ALL, "de"), "de") == 13.0


def test_100_target_on_a_100_example_dev_set_equals_all_target(pool):
    kt = bl.k_target(pool, ALL, "de", k=100, draws=10, seed=3)
    assert kt.whole_dev_set and kt.n_used == kt.n_dev == 100
    assert set(kt.picks) == {bl.all_target(pool, ALL, "de")}


def test_k_target_draws_are_seeded_subsets(pool):
    a = bl.k_target(pool, ALL, "de", k=10, draws=20, seed=1)
    b = bl.k_target(pool, ALL, "de", k=10, draws=20, seed=1)
    assert a == b and a.n_used == 10 and not a.whole_dev_set and len(a.picks) == 20
    assert len(set(a.picks)) > 1  # 10 examples cannot always find the best candidate
    assert bl.test_score(pool, a.picks, "de") == pytest.approx(np.mean(TEST[list(a.picks), 1]))
