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

:func:`make_planted_pool` builds pools whose signal is planted where one input of the scorer can
see it (the controls of the scorer's training, :func:`lms_control`): the candidates' skill in
every language, dev and test scores = skill + noise, and model features that encode the skill
only in the language views (English, pivot/target text) or language features the control is
about. Each target has a known ceiling: Kendall τ between its planted skill and its test score.
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


#: planted signals: where the candidates' skill is visible to the scorer (see make_planted_pool)
PLANTED = ("shared", "none", "eng", "pivot", "target", "fusion", "lang")
#: languages of the planted pools: pivots (training languages) and targets (never trained on)
PLANTED_PIVOTS = ("de", "es", "nl", "zh")
PLANTED_TARGETS = ("af", "pt", "sv")
#: the language-feature pool's languages: two families whose skills differ
LANG_FAMILIES = {"de": 0, "nl": 0, "sv": 0, "af": 0, "es": 1, "it": 1, "pt": 1, "ca": 1}
LANG_PIVOTS = ("de", "nl", "es", "it")
LANG_TARGETS = ("af", "sv", "pt", "ca")


def planted_ceiling(target_noise: float) -> float:
    """Expected Kendall τ between a skill and skill + ``target_noise`` · N(0, 1), for a standard
    normal skill: (2/π) arcsin(ρ) with ρ = 1/√(1 + noise²) (Greiner's relation)."""
    return float(2 / np.pi * np.arcsin(1 / np.sqrt(1 + target_noise**2)))


def null_tau_sd(n: int) -> float:
    """Standard deviation of Kendall τ between two independent rankings of ``n`` items,
    √(2(2n + 5) / (9n(n − 1))): how far from 0 chance alone puts a τ on ``n`` candidates."""
    return float(np.sqrt(2 * (2 * n + 5) / (9 * n * (n - 1))))


def make_planted_pool(
    signal: str = "shared",
    n_candidates: int = 240,
    *,
    pivots: Sequence[str] | None = None,
    targets: Sequence[str] | None = None,
    dim: int = 16,
    target_noise: float = 0.59,
    feature_noise: float = 0.05,
    seed: int = 0,
) -> tuple[Pool, np.ndarray]:
    """A pool whose ranking signal is planted in one input of the LMS scorer, and its skills.

    Every candidate m has a skill s(m, l) in every language l. Pivot (and English) dev scores are
    the skill itself; target dev and test scores, and every test score, are skill +
    ``target_noise`` · N(0, 1) (independent draws), so the best possible ranking of a target's test
    scores, its skill, reaches Kendall τ :func:`planted_ceiling` (0.66 at the default 0.59), and a
    pivot's dev score (equal to the skill when the skill is shared) reaches the same. A feature
    view that "encodes" a skill is skill × a fixed unit direction + ``feature_noise`` · N(0, I);
    one that does not is N(0, I) noise alone. ``signal``:

    - ``shared``: one skill q(m) in every language, encoded in every language's features (the
      positive control: any model features can find it);
    - ``none``: every dev and test score independent N(0, 1) noise (nothing to find; the skill
      returned is the test score's noise-free part: zero, so the ceiling is undefined → 0);
    - ``eng``: one skill, encoded in the English features only ([Eng] finds it);
    - ``pivot``: an independent skill per language, each encoded in its own language's features
      (only [Pivot] — pivot text at training, target text at test time — can find it);
    - ``target``: one skill, encoded in the target languages' features only ([Target]);
    - ``fusion``: skill (q₁ + q₂)/√2, q₁ encoded in the English features, q₂ in every other
      language's (each view alone sees half of it; Fusion can combine them);
    - ``lang``: skill q₁ in one language family, q₂ in the other (:data:`LANG_FAMILIES`), both
      encoded in every language's features: only the language features tell which one a
      language ranks by (pivots :data:`LANG_PIVOTS`, targets :data:`LANG_TARGETS`).

    Returns the pool (languages: en, pivots, targets; one zero-shot method) and the skill matrix
    (candidates x languages).
    """
    if signal not in PLANTED:
        raise ValueError(f"unknown planted signal {signal!r}; use one of {PLANTED}")
    lang_pool = signal == "lang"
    pivots = list(pivots or (LANG_PIVOTS if lang_pool else PLANTED_PIVOTS))
    targets = list(targets or (LANG_TARGETS if lang_pool else PLANTED_TARGETS))
    langs = ["en", *pivots, *targets]
    n, n_langs = n_candidates, len(langs)
    rng = np.random.default_rng([seed, zlib.crc32(signal.encode())])
    q1, q2 = rng.normal(size=n), rng.normal(size=n)
    d1, d2 = rng.normal(size=(2, dim))
    d1, d2 = d1 / np.linalg.norm(d1), d2 / np.linalg.norm(d2)
    shared = np.repeat(q1[:, None], n_langs, axis=1)
    encode = {lang: [(q1, d1)] for lang in langs}  # the skills each language's features encode
    if signal in ("shared", "none"):
        skill = shared
    elif signal == "eng":
        skill, encode = shared, {"en": [(q1, d1)]}
    elif signal == "pivot":
        skill = rng.normal(size=(n, n_langs))
        encode = {lang: [(skill[:, li], d1)] for li, lang in enumerate(langs)}
    elif signal == "target":
        skill, encode = shared, {t: [(q1, d1)] for t in targets}
    elif signal == "fusion":
        skill = np.repeat(((q1 + q2) / np.sqrt(2))[:, None], n_langs, axis=1)
        encode = {lang: [(q1, d1)] if lang == "en" else [(q2, d2)] for lang in langs}
    else:  # lang
        family = np.array([LANG_FAMILIES.get(lang, 0) for lang in langs])
        skill = np.where(family[None, :] == 0, q1[:, None], q2[:, None])
        encode = {lang: [(q1, d1), (q2, d2)] for lang in langs}
    feats = np.zeros((n, n_langs, dim))
    for li, lang in enumerate(langs):
        parts = encode.get(lang, [])
        noise = feature_noise if parts else 1.0
        feats[:, li] = noise * rng.normal(size=(n, dim))
        for q, direction in parts:
            feats[:, li] += np.outer(q, direction)
    if signal == "none":
        skill = np.zeros((n, n_langs))
        dev, test = rng.normal(size=(n, n_langs)), rng.normal(size=(n, n_langs))
    else:
        noisy = np.array([lang in targets for lang in langs])
        dev = skill + noisy[None, :] * target_noise * rng.normal(size=(n, n_langs))
        test = skill + target_noise * rng.normal(size=(n, n_langs))
    return pool_from_matrices(50 + 10 * dev, 50 + 10 * test, feats, langs), skill


def lms_control(
    signal: str = "shared",
    lms: Mapping | None = None,
    *,
    n_candidates: int = 240,
    seed: int = 0,
    workers: int = 1,
    **pool_args,
) -> dict:
    """Train LMS on a planted pool (:func:`make_planted_pool`) and compare its meta-test Kendall τ
    with the ceiling, per target.

    ``lms``: LMSConfig keys (default the paper's scorer and grid, with the ``shared`` search: the
    planted pools' targets are no pivots, so there is one fold and the search is per-fold).
    Returns, per target and averaged: ``tau`` (LMS's predicted vs the target's test ranking of the
    meta-test candidates), ``ceiling`` (the planted skill's τ), ``pivot_ceiling`` (the best pivot
    dev score's τ); ``workers``: training processes; ``chance_sd``, the standard deviation of the mean τ of rankings unrelated to
    the targets' (:func:`null_tau_sd` over √targets); and the scorers' steps, chosen
    hyper-parameters, losses and criteria.
    """
    from xlt.studies.lms.lms import LMSConfig, run_groups

    pool, skill = make_planted_pool(signal, n_candidates, seed=seed, **pool_args)
    cfg = LMSConfig.from_dict({"pivots": pool.langs[1 : 1 + _n_pivots(signal, pool_args)], **(lms or {})})  # fmt: skip
    targets = [lang for lang in pool.langs[1:] if lang not in cfg.pivots]
    t0 = time.perf_counter()
    (group,) = run_groups(pool, cfg, "en", targets, workers=workers).values()
    seconds = time.perf_counter() - t0
    dev, test = pool.matrix("dev"), pool.matrix("test")
    cands = np.array([pool.candidates.index(c) for c in group.split["meta-test"]])
    per_target = {}
    for t in targets:
        ti = pool.lang_index(t)
        gold = test[cands, ti]
        pivot_taus = [_tau(dev[cands, pool.lang_index(p)], gold) for p in cfg.pivots]
        per_target[t] = {
            "tau": _tau(np.asarray(group.scores[t]["meta-test"]), gold),
            "ceiling": _tau(skill[cands, ti], gold),
            "pivot_ceiling": max(pivot_taus),
        }
    mean = {k: float(np.mean([v[k] for v in per_target.values()])) for k in ("tau", "ceiling", "pivot_ceiling")}  # fmt: skip
    return {
        "signal": signal,
        **{k: round(v, 4) for k, v in mean.items()},
        "chance_sd": round(null_tau_sd(len(cands)) / np.sqrt(len(targets)), 4),
        "expected_ceiling": 0.0
        if signal == "none"
        else round(planted_ceiling(pool_args.get("target_noise", 0.59)), 4),  # fmt: skip
        "per_target": {t: {k: round(v, 4) for k, v in d.items()} for t, d in per_target.items()},
        "model_features": cfg.model_features,
        "lang_features": cfg.lang_features,
        "hidden": cfg.hidden,
        "candidates": n_candidates,
        "steps": group.steps,
        "trainings": group.trainings,
        "folds": [
            {k: f[k] for k in ("key", "batch_size", "lr", "epoch", "steps", "loss", "criteria")}
            for f in group.folds
        ],  # fmt: skip
        "seconds": round(seconds, 2),
    }


def _n_pivots(signal: str, pool_args: Mapping) -> int:
    default = LANG_PIVOTS if signal == "lang" else PLANTED_PIVOTS
    return len(pool_args.get("pivots") or default)


def _tau(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import kendalltau

    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(kendalltau(a, b).statistic)


def bench_lms(
    n_candidates: int = 240,
    langs: Sequence[str] = DEFAULT_LANGS,
    dim: int = 768,
    threads: int = 2,
    lms: Mapping | None = None,
    seed: int = 0,
) -> dict:
    """Seconds (wall and CPU) for LMS training + selection for every target of a synthetic pool.

    :class:`~xlt.studies.lms.lms.LMSConfig` with ``lms`` overriding its keys (the default search
    is ``shared``: the 4 x 5 grid once on the all-pivot fold, then one training per other fold) on
    ``n_candidates`` candidates with ``dim``-d features (768 = mBERT), the scorers trained in
    ``threads`` processes of one torch thread each. Also the Adam steps taken, the seconds per step, and the steps that the
    per-fold search (every fold x the whole grid) would take, with the time that implies at the
    measured seconds per step (wall time over all workers). Wall time depends on other load;
    ``cpu_seconds`` is the main process's CPU time (the workers' is not in it).
    """
    import torch

    from xlt.studies.lms.lms import LMS, LMSConfig, candidate_groups, run_groups

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    pool = make_synthetic_pool(n_candidates, langs, dim, seed)
    cfg = LMSConfig.from_dict(lms)
    targets = [lang for lang in langs if lang != "en"]
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        res = run_groups(pool, cfg, "en", targets, workers=threads)
    finally:
        torch.set_num_threads(before)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    group = next(iter(res.values()))
    per_fold = LMS(pool, cfg, "en", targets).search_steps(next(iter(candidate_groups(pool, cfg.pool, cfg.methods).values())))  # fmt: skip
    per_step = seconds / max(group.steps, 1)
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
        "steps": group.steps,
        "ms_per_step": round(1000 * per_step, 3),
        "per_fold_steps": per_fold,
        "per_fold_seconds_estimate": round(per_fold * per_step, 1),
        "hp_search": cfg.hp_search,
        "hidden": cfg.hidden,
        "chosen": sorted({(f["batch_size"], f["lr"]) for f in group.folds}),
    }


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(bench_lms(), indent=1))
