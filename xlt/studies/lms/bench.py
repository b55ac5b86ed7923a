"""Synthetic candidate pools and the LMS speed benchmark.

:func:`make_synthetic_pool` builds a :class:`~xlt.pool.Pool` with the structure of a real one
(candidate records, per-example dev statistics, [CLS]-like features) from a small generative model,
so that selection methods can be tested and timed without fine-tuning anything:

- every candidate n has a latent quality vector q_n (hyper-parameter effect + seed noise);
- every language l has a loading a_l = a_0 + spread · e_l (languages share most of the direction,
  so pivots are informative about a target, but each has its own twist, English included);
- the probability that n gets a language-l example of difficulty δ right is σ(b_l + q_n·a_l − δ);
  dev examples are drawn once per language and their per-example correctness is stored as
  classification sufficient statistics, so dev scores (and any subset's) come from the statistics;
  test scores use a separate, larger draw — dev and test correlate within a language;
- features g(n, l) = μ_l + A_l q_n + noise: a language offset plus a language-specific linear image
  of the candidate's quality, so features carry the ranking signal.

:func:`bench_lms` times LMS training + selection for every target of such a pool.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from xlt.plan import hp_name
from xlt.pool import Pool

PAPER_GRID = [(lr, ep) for lr in (3e-5, 5e-5, 7e-5) for ep in (3, 4, 5, 6)]
DEFAULT_LANGS = ("en", "de", "nl", "es", "pt", "ru", "ar", "hi", "zh", "tr")


def _lang_rng(seed: int, lang: str, salt: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(f"{salt}:{lang}".encode())])


def make_synthetic_pool(
    n_candidates: int = 240,
    langs: Sequence[str] = DEFAULT_LANGS,
    dim: int = 32,
    seed: int = 0,
    *,
    methods: Sequence[str] = ("zero-shot",),
    n_dev: int | Mapping[str, int] = 300,
    n_test: int = 2000,
    rank: int = 4,
    spread: float = 1.0,
    signal: float = 0.15,
    interaction: float = 0.05,
    feature_noise: float = 0.3,
    source: str = "en",
) -> Pool:
    """A synthetic classification pool: ``n_candidates`` per method, scored in every language.

    Args:
        n_candidates: candidates per method (hyper-parameters cycle through the paper's 12
            settings, lr x epochs; the seed is the repetition index).
        langs: language codes (the first-listed ``source`` is the English-like source).
        dim: feature dimension.
        seed: seeds everything; the same seed gives the same pool.
        methods: method names; each method shifts quality by its own vector.
        n_dev: dev examples per language (an int, or a mapping lang -> int).
        n_test: test examples per language.
        rank: dimension of the latent quality.
        spread: how much languages' loadings differ from the shared direction.
        signal: logit scale of the candidates' quality differences (0.15: a few points of score).
        interaction: sd of the candidate x language skill that features do not explain.
        feature_noise: sd of the feature noise relative to the signal.
    """
    rng = np.random.default_rng(seed)
    langs = list(langs)
    hp_effect = rng.normal(size=(len(PAPER_GRID), rank))
    method_effect = rng.normal(scale=0.5, size=(len(methods), rank))
    meta, q = [], []
    for mi, method in enumerate(methods):
        for i in range(n_candidates):
            k = i % len(PAPER_GRID)
            lr, ep = PAPER_GRID[k]
            q.append(hp_effect[k] + method_effect[mi] + rng.normal(size=rank))
            meta.append({"method": method, "lr": lr, "epochs": ep, "batch_size": 32,
                         "seed": i // len(PAPER_GRID)})  # fmt: skip
    quality = np.asarray(q) / np.sqrt(rank)
    n = len(meta)
    shared = rng.normal(size=rank)
    shared /= np.linalg.norm(shared)
    proj = rng.normal(size=(rank, dim))
    feats, stats, dev, test = [], {}, [], []
    for lang in langs:
        lr_ = _lang_rng(seed, lang, "lang")
        load = shared + spread * lr_.normal(size=rank) / np.sqrt(rank)
        base = 1.5 if lang == source else lr_.uniform(-0.5, 0.8)
        # logit of the candidate's skill in lang: shared + language-specific quality, plus an
        # idiosyncratic candidate x language part that no feature explains
        theta = base + signal * quality @ load + interaction * rng.normal(size=n)
        a_l = proj + 0.5 * lr_.normal(size=(rank, dim))
        mu = 3.0 * lr_.normal(size=dim)
        feats.append(mu + quality @ a_l + feature_noise * rng.normal(size=(n, dim)))
        nd = n_dev[lang] if isinstance(n_dev, Mapping) else n_dev
        correct_dev = _draw(rng, theta, nd)
        gold = lr_.integers(0, 2, size=nd)
        stats[lang] = classification_stats(correct_dev, gold)
        dev.append(100 * correct_dev.mean(1))
        test.append(100 * _draw(rng, theta, n_test).mean(1))
    return pool_from_matrices(
        np.stack(dev, 1), np.stack(test, 1), np.stack(feats, 1), langs, meta, stats
    )


def classification_stats(correct: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Binary-classification sufficient statistics (candidates x examples x 4) from a
    correctness matrix (candidates x examples) and the gold labels (0/1) of the examples."""
    n, nd = correct.shape
    pred = np.where(correct, gold[None, :], 1 - gold[None, :])
    st = np.zeros((n, nd, 4), dtype=np.int8)
    st[np.arange(n)[:, None], np.arange(nd)[None, :], gold[None, :] * 2 + pred] = 1
    return st


def pool_from_matrices(
    dev: np.ndarray,
    test: np.ndarray,
    features: np.ndarray,
    langs: Sequence[str],
    meta: Sequence[Mapping] | None = None,
    stats: Mapping[str, np.ndarray] | None = None,
    kind: str = "classification",
) -> Pool:
    """A :class:`~xlt.pool.Pool` from (candidates x languages) dev/test matrices and features.

    ``meta``: per candidate method, lr, epochs, batch_size, seed (default: zero-shot, seed = row);
    ``stats``: per-language example statistics (default: none, for methods that need no re-scoring).
    """
    n = len(dev)
    meta = list(meta or [{"method": "zero-shot", "lr": 5e-5, "epochs": 3, "batch_size": 32,
                          "seed": i} for i in range(n)])  # fmt: skip
    ids, rows = [], []
    for m in meta:
        hp = hp_name(m["lr"], m["epochs"], m["batch_size"])
        ids.append(f"{m['method']}/{hp}/seed{m['seed']}")
    for j, m in enumerate(meta):
        hp = hp_name(m["lr"], m["epochs"], m["batch_size"])
        for li, lang in enumerate(langs):
            rows.append({"candidate": ids[j], **m, "hp": hp, "lang": lang,
                         "dev": float(dev[j, li]), "test": float(test[j, li])})  # fmt: skip
    return Pool(
        table=pd.DataFrame(rows),
        candidates=ids,
        langs=list(langs),
        features=np.asarray(features, dtype=np.float32),
        stats=dict(stats or {}),
        kind=kind,
        labels=["negative", "positive"],
    )


def write_pool(pool: Pool, table_path: str | Path, arrays_path: str | Path) -> None:
    """Save a pool in the workflow's format (what :func:`xlt.pool.build_pool` writes)."""
    from xlt.io import atomic_open

    with atomic_open(table_path, "wb") as fh:
        pool.table.to_parquet(fh, index=False)
    with atomic_open(arrays_path, "wb") as fh:
        np.savez_compressed(
            fh,
            candidates=np.array(pool.candidates),
            langs=np.array(pool.langs),
            features=pool.features,
            kind=np.array(pool.kind),
            labels=np.array(pool.labels),
            **{f"stats_{lang}": st for lang, st in pool.stats.items()},
        )


def _draw(rng: np.random.Generator, theta: np.ndarray, n_examples: int) -> np.ndarray:
    difficulty = rng.normal(size=n_examples)
    p = 1 / (1 + np.exp(-(theta[:, None] - difficulty[None, :])))
    return rng.random(p.shape) < p


def bench_lms(
    n_candidates: int = 240,
    langs: Sequence[str] = DEFAULT_LANGS,
    dim: int = 768,
    threads: int = 2,
    lms: Mapping | None = None,
    seed: int = 0,
) -> dict:
    """Seconds (wall and CPU) for LMS training + selection for every target of a synthetic pool.

    The default configuration of :class:`~xlt.studies.lms.lms.LMSConfig` (``lms`` overrides keys; the
    default search is ``shared``: the 4 x 5 grid once, then one training per other fold) on
    ``n_candidates`` candidates with ``dim``-d features (768 = mBERT), torch limited to
    ``threads`` threads. Wall time depends heavily on other load: with 2 threads, a busy second
    core can slow torch's OpenMP barriers ~10x, while 1 thread is about as fast on an idle
    machine; ``cpu_seconds`` is the process's CPU time.
    """
    import torch

    from xlt.studies.lms.lms import LMSConfig, run_groups

    torch.set_num_threads(threads)
    pool = make_synthetic_pool(n_candidates, langs, dim, seed)
    cfg = LMSConfig.from_dict(lms)
    targets = [lang for lang in langs if lang != "en"]
    t0, c0 = time.perf_counter(), time.process_time()
    res = run_groups(pool, cfg, "en", targets)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    group = next(iter(res.values()))
    return {
        "name": "lms",
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "candidates": n_candidates,
        "dim": dim,
        "threads": threads,
        "targets": len(group.selected),
        "folds": len(group.folds),
        "trainings": group.trainings,
        "hp_search": cfg.hp_search,
        "hidden": cfg.hidden,
    }


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(bench_lms(), indent=1))
