"""LMS: learned model selection for zero-shot cross-lingual transfer (Chen & Ritter).

A scorer s(m, l) = FFNN(g(m))ᵀ W FFNN(g(l)) ranks fine-tuned candidates m for a language l from
the candidates' own representations g(m) (mean final-layer first-token vectors over unlabelled text,
``Pool.features``) and a lang2vec vector g(l) (:mod:`xlt.studies.lms.langvec`). It is trained with the
pairwise logistic loss -Σ 1[mᵢ ≻ₗ mⱼ] log σ(s(mᵢ,l) − s(mⱼ,l)) over the meta-train candidates and the
pivot languages, the gold order being each pivot's dev score, and it selects argmaxₘ s(m, target)
among the meta-test candidates, leave-one-language-out over the pivots.

Model features (``model_features``), following the paper's section 7.1 — for a training pair
(m, pivot l) and at test time (m, target t):

- ``eng``: English dev text at train and test time: g(m) = features[m, en];
- ``pivot`` (default): the pivot's text at training time, the target's at test time;
- ``target``: the target's text at both (so the scorer depends on the target: one fold per target);
- ``fusion``: a learned per-dimension softmax-weighted sum of the three (the released code's form).

The target's *labels* are never read: a fold's training and its meta-dev criterion only index the
dev-score columns of its training languages (tests/test_lms.py poisons the target's column).

Implementation choices where the paper is silent or infeasible on a CPU (documented in
:class:`LMSConfig` and the report):

- **training examples as in the method** (Eq. 1 and methods.md §1): one example per (ordered
  candidate pair with different dev scores, training language) — 120 × 119 × 4 = 57,120 at 120
  meta-train candidates and 4 training languages — shuffled each epoch and batched by the
  configured batch size, so a training takes ⌈examples / batch size⌉ Adam steps per epoch
  (10,710 steps at batch 16 over 3 epochs; :func:`optimiser_steps`). ``pairs_per_epoch`` may cap
  the examples of an epoch (a fresh seeded sample each epoch); the default uses them all. The
  released code listed each unordered pair once, with ties as 0.5;
- ties in the gold order contribute nothing (the paper's indicator loss);
- model features are standardised with the meta-train rows' mean and sd;
- the epoch with the best meta-dev criterion is kept (as the released code does);
- meta-dev criterion: mean over the fold's *training* languages of Kendall τ between s(m, l) and the
  dev score of l, over meta-dev candidates (the released code's criterion; no target labels);
- hyper-parameter search ``shared`` by default (the grid is searched once, on the fold training on
  all pivots, and reused by every fold: 25 instead of 120 trainings); ``per-fold`` is the paper's
  protocol. See :attr:`LMSConfig.hp_search` for what ``shared`` lets a pivot target's labels touch.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from xlt.pool import Pool
from xlt.studies.lms.langvec import FEATURE_SETS, language_matrix

log = logging.getLogger(__name__)

MODEL_FEATURES = ("eng", "pivot", "target", "fusion")
HP_SEARCH = ("shared", "per-fold")
POOL_MODES = ("per-method", "all-methods")
SPLITS = ("meta-train", "meta-dev", "meta-test")
PAPER_PIVOTS = ("ar", "de", "es", "nl", "zh")
ALL_METHODS = "all-methods"


@dataclass(frozen=True)
class LMSConfig:
    """Every setting of LMS and of its experiments (the ``lms:`` config section).

    Attributes:
        pivots: languages with labelled dev data that train the scorer (paper: ar, de, es, nl, zh);
            those absent from a task are dropped (at least two must remain).
        split: meta-train / meta-dev / meta-test fractions of a candidate group (paper 120/60/60).
        split_seed: seed of the candidate shuffle; run r of the repeated runs uses split_seed + r.
        seed: seed of the scorer (initialisation, batch order) and of the 100-Target draws;
            run r uses seed + r.
        model_features: ``eng`` | ``pivot`` | ``target`` | ``fusion`` (see the module docstring).
        lang_features: ``learned`` (lang2vec, 512-d) | ``syntax`` (syntax_knn, 103-d) | ``none``.
        hidden: hidden and output width of both 2-layer FFNNs (paper 1024).
        dropout: dropout after each FFNN layer (the paper does not say; 0 = none).
        epochs: training epochs per configuration (paper 3); the best epoch on meta-dev is kept.
        batch_sizes, lrs: the Adam search grid (training examples — (candidate pair, language)
            — per step; learning rates).
        pairs_per_epoch: None (default, the paper) — every training example once per epoch; an
            integer N — a fresh seeded sample of N examples (without replacement) per epoch, for
            pools whose pair count makes full epochs too slow. Memory does not need it: examples
            are index pairs into the (candidate, language) inputs, never copies of them.
        hp_search: ``shared`` (default) — search the grid once, on the fold that trains on all
            pivots, and reuse the choice for every fold: 20 + 5 trainings instead of 20 x 6, which
            is what fits the 60 s budget on 2 CPU cores. For a target *outside* the pivots nothing
            changes; for a pivot target the (discrete, 1-of-20) hyper-parameter choice has seen
            that pivot's dev labels on meta-train/meta-dev candidates (never on meta-test).
            ``per-fold`` — search every leave-one-language-out fold separately: exactly the
            paper's protocol, no target label is read at any stage (tests/test_lms.py).
        pool: ``per-method`` — select among one method's candidates at a time, or
            ``all-methods`` — among all the pool's candidates together.
        methods: the methods whose candidates take part (e.g. zero-shot and the translate-train
            methods ``mtl``, ``mtl-ws``, ``to-de``, ...); empty = every method in the pool.
        runs: repeated runs (split and scorer seeds) for the mean ± sd table (paper 5).
        n_target: dev examples of the 100-Target baseline (paper 100).
        n_draws: seeded random draws of the 100-Target subset, averaged.
        nmodels: meta-train sizes for the "how many models" study; the full meta-train is added.
        similarity: lang2vec set used to find the Pivot-Dev pivot (cosine similarity). Default
            ``syntax``: the ``learned`` vectors make e.g. ar the pivot closest to de and zh the
            one closest to es, while syntax reproduces most of the paper's pivots (de->nl,
            es->nl, nl->de, bg/it/pt->es, sv->nl).
    """

    pivots: tuple[str, ...] = PAPER_PIVOTS
    split: tuple[float, float, float] = (0.5, 0.25, 0.25)
    split_seed: int = 1
    seed: int = 1
    model_features: str = "pivot"
    lang_features: str = "learned"
    hidden: int = 1024
    dropout: float = 0.0
    epochs: int = 3
    batch_sizes: tuple[int, ...] = (16, 32, 64, 128)
    lrs: tuple[float, ...] = (1e-4, 5e-5, 1e-5, 5e-6, 1e-6)
    pairs_per_epoch: int | None = None
    hp_search: str = "shared"
    pool: str = "per-method"
    methods: tuple[str, ...] = ("zero-shot",)
    runs: int = 5
    n_target: int = 100
    n_draws: int = 10
    nmodels: tuple[int, ...] = (6, 12, 24, 48, 96)
    similarity: str = "syntax"

    def __post_init__(self) -> None:
        checks = [
            (
                self.model_features in MODEL_FEATURES,
                f"model_features must be one of {MODEL_FEATURES}",
            ),
            (self.lang_features in FEATURE_SETS, f"lang_features must be one of {FEATURE_SETS}"),
            (self.similarity in ("learned", "syntax"), "similarity must be learned or syntax"),
            (self.hp_search in HP_SEARCH, f"hp_search must be one of {HP_SEARCH}"),
            (self.pool in POOL_MODES, f"pool must be one of {POOL_MODES}"),
            (
                len(self.split) == 3 and all(x > 0 for x in self.split),
                "split needs 3 positive fractions",
            ),
            (abs(sum(self.split) - 1) < 1e-6, "split fractions must sum to 1"),
            (len(self.pivots) >= 2, "at least two pivots are needed for leave-one-language-out"),
            (self.hidden >= 1 and self.epochs >= 1 and self.runs >= 1, "hidden/epochs/runs >= 1"),
            (
                all(b >= 2 for b in self.batch_sizes) and self.batch_sizes,
                "batch sizes must be >= 2",
            ),
            (all(lr > 0 for lr in self.lrs) and self.lrs, "learning rates must be > 0"),
            (
                self.pairs_per_epoch is None or self.pairs_per_epoch >= 1,
                "pairs_per_epoch must be null (all pairs) or >= 1",
            ),
            (self.n_target >= 1 and self.n_draws >= 1, "n_target and n_draws must be >= 1"),
            (0 <= self.dropout < 1, "dropout must be in [0, 1)"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ValueError(f"lms: {msg} (got {self})")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> LMSConfig:
        """From the ``lms:`` config section (missing keys take the defaults above)."""
        d = dict(d or {})
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"lms: unknown keys {sorted(unknown)}")
        if isinstance(d.get("split"), Mapping):
            s = d["split"]
            d["split"] = (s["train"], s["dev"], s["test"])
        for key in ("pivots", "split", "batch_sizes", "lrs", "nmodels", "methods"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (round-trips through :meth:`from_dict`)."""
        d = dataclasses.asdict(self)
        d["split"] = dict(zip(("train", "dev", "test"), self.split, strict=True))
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    def replace(self, **changes: Any) -> LMSConfig:
        return dataclasses.replace(self, **changes)


#: which config keys each kind of job depends on (rules pass exactly these as params)
PARAM_GROUPS: dict[str, tuple[str, ...]] = {
    "scorer": (
        "pivots", "split", "split_seed", "seed", "model_features", "lang_features", "hidden",
        "dropout", "epochs", "batch_sizes", "lrs", "pairs_per_epoch", "hp_search", "pool",
        "methods",
    ),
    "baselines": ("pivots", "split", "split_seed", "seed", "pool", "methods", "n_target", "n_draws", "similarity"),
    "runs": ("runs",),
    "nmodels": ("nmodels",),
}  # fmt: skip


def params_for(section: Mapping[str, Any] | None, *groups: str) -> dict[str, Any]:
    """The resolved settings of the named :data:`PARAM_GROUPS` (for a rule's ``params:``)."""
    full = LMSConfig.from_dict(section).to_dict()
    keys = [k for g in groups for k in PARAM_GROUPS[g]]
    return {k: full[k] for k in dict.fromkeys(keys)}


# --------------------------------------------------------------------------------------------
# candidate groups, splits and folds


def candidate_groups(pool: Pool, mode: str, include: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """Indices of the candidates selected among together: one group per method, or one in all.

    ``include`` limits the candidates to these methods (empty: every method of the pool).
    """
    methods = pool.meta()["method"].to_numpy()
    if include:
        missing = sorted(set(include) - set(methods))
        if missing:
            raise ValueError(
                f"lms.methods: {missing} have no candidates in this pool (it has "
                f"{sorted(set(methods))}); add them to the task's methods or drop them here"
            )
    keep = np.isin(methods, list(include)) if include else np.ones(len(methods), dtype=bool)
    if mode == ALL_METHODS:
        return {ALL_METHODS: np.flatnonzero(keep)}
    if mode != "per-method":
        raise ValueError(f"unknown pool mode {mode!r}; use one of {POOL_MODES}")
    return {str(m): np.flatnonzero(keep & (methods == m)) for m in dict.fromkeys(methods[keep])}


def split_candidates(indices: np.ndarray, fractions: Sequence[float], seed: int) -> dict[str, np.ndarray]:  # fmt: skip
    """Seeded shuffle of ``indices`` into meta-train / meta-dev / meta-test (floor of the fractions)."""
    idx = np.asarray(indices)[np.random.default_rng(seed).permutation(len(indices))]
    n = len(idx)
    a, b = int(fractions[0] * n), int((fractions[0] + fractions[1]) * n)
    return {"meta-train": idx[:a], "meta-dev": idx[a:b], "meta-test": idx[b:]}


@dataclass(frozen=True)
class Fold:
    """One scorer: its training languages, the target whose text it may read, its targets."""

    train_langs: tuple[str, ...]
    feature_target: str | None
    targets: tuple[str, ...]

    @property
    def key(self) -> str:
        base = "+".join(self.train_langs)
        return f"{base}|{self.feature_target}" if self.feature_target else base


def plan_folds(targets: Sequence[str], pivots: Sequence[str], model_features: str) -> list[Fold]:
    """Leave-one-language-out: target t in the pivots -> pivots minus t; others -> all pivots.

    With ``target``/``fusion`` features the training inputs read the target's (unlabelled) text,
    so every target gets its own scorer; otherwise targets sharing training languages share one.
    """
    per_target = model_features in ("target", "fusion")
    folds: dict[tuple, list[str]] = {}
    for t in targets:
        train = tuple(p for p in pivots if p != t)
        folds.setdefault((train, t if per_target else None), []).append(t)
    return [Fold(train, ft, tuple(ts)) for (train, ft), ts in folds.items()]


def task_pivots(pivots: Sequence[str], langs: Sequence[str], source: str) -> tuple[str, ...]:
    """The configured pivots this task has (dev data), in config order; at least two."""
    used = tuple(p for p in pivots if p in langs and p != source)
    if len(used) < 2:
        raise ValueError(
            f"lms.pivots {list(pivots)}: only {list(used)} are languages of this task ({list(langs)}); "
            "leave-one-language-out needs at least two pivots with dev data"
        )
    return used


# --------------------------------------------------------------------------------------------
# inputs


def model_inputs(
    features: np.ndarray,
    langs: Sequence[str],
    cands: np.ndarray,
    query_langs: Sequence[str],
    mode: str,
    source: str,
    feature_target: str | None,
) -> np.ndarray:
    """g(m) of candidates ``cands`` for each query language: (n, Q, views, d).

    ``query_langs`` are the languages scored (training languages, or ``[target]`` at test time);
    ``feature_target`` is the language whose text [Target]/Fusion read (the target).
    """
    li = {lang: i for i, lang in enumerate(langs)}
    q = len(query_langs)
    sub = features[cands]

    def view(name: str) -> np.ndarray:
        if name == "eng":
            cols = [li[source]] * q
        elif name == "pivot":
            cols = [li[lang] for lang in query_langs]
        else:
            if feature_target is None:
                raise ValueError("target/fusion model features need the target language")
            cols = [li[feature_target]] * q
        return sub[:, cols, :]

    views = ("eng", "pivot", "target") if mode == "fusion" else (mode,)
    return np.stack([view(v) for v in views], axis=2).astype(np.float32)


# --------------------------------------------------------------------------------------------
# the scorer


def _torch():
    import torch

    return torch


@lru_cache(maxsize=1)
def _keep_freed_heap() -> bool:
    """Let glibc keep freed heap memory instead of returning it to the OS after every free.

    Every scorer step allocates fresh gradient buffers (4 MiB per 1024 x 1024 weight) and frees
    them; with glibc's adaptive thresholds the freed top of the heap is often trimmed and the next
    step faults the pages in again — measured 2,400 page faults and ~6 ms of system time per step
    on some runs (a quarter of the step). Fixed thresholds (blocks up to 64 MiB from the heap; trim
    only beyond 512 MiB free) remove that; the process keeps at most that much freed memory.
    Returns whether the allocator was tuned (False where libc is not glibc).
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, 64 << 20) and libc.mallopt(m_trim_threshold, 512 << 20))  # fmt: skip
    except (OSError, AttributeError):
        return False


def build_scorer(d_model: int, views: int, d_lang: int, hidden: int, dropout: float):
    """s(m, l) = FFNN(g(m))ᵀ W FFNN(g(l)); Fusion mixes ``views`` feature views first."""
    torch = _torch()
    nn = torch.nn

    def ffnn(d_in: int) -> nn.Module:
        return nn.Sequential(
            nn.Linear(d_in, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
        )  # fmt: skip

    class Scorer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.mix = nn.Parameter(torch.zeros(d_model, views)) if views > 1 else None
            self.register_buffer("mu", torch.zeros(views, d_model))
            self.register_buffer("sd", torch.ones(views, d_model))
            self.model_net = ffnn(d_model)
            self.lang_net = ffnn(d_lang)
            self.bilinear = nn.Parameter(torch.empty(hidden, hidden))
            nn.init.xavier_normal_(self.bilinear)

        def models(self, x):
            """FFNN(g(m)) for model features ``x`` (..., views, d) -> (..., hidden)."""
            x = (x - self.mu) / self.sd
            if self.mix is None:
                x = x[..., 0, :]
            else:
                x = torch.einsum("...kd,dk->...d", x, torch.softmax(self.mix, dim=-1))
            return self.model_net(x)

        def langs(self, z):
            """W FFNN(g(l)) for language features ``z`` (Q, d_lang) -> (Q, hidden)."""
            return self.lang_net(z) @ self.bilinear.T

        def forward(self, x, z):
            """x: (n, Q, views, d) model features; z: (Q, d_lang) language features -> (n, Q)."""
            return (self.models(x) * self.langs(z)).sum(-1)

    return Scorer()


def training_pairs(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The training examples of Eq. 1: one per (ordered candidate pair, training language).

    ``y``: (n, Q) dev scores of the meta-train candidates in the training languages. Returns
    ``(better, worse)``, indices into the flattened (candidate, language) rows ``i * Q + q``: for
    every language q and ordered pair (i, j), i ≠ j, with y[i, q] ≠ y[j, q], the row of the better
    and of the worse candidate. The ordered pairs (i, j) and (j, i) are two examples with the same
    loss −log σ(s(better) − s(worse)) (Eq. 1 sums over both orders); tied pairs contribute nothing
    (the indicator loss; the released code gave them the target 0.5). Deterministic order
    (language, better, worse), shuffled per epoch by :func:`train_scorer`.
    """
    n, q = y.shape
    better, worse = [], []
    for lang in range(q):
        col = y[:, lang]
        b, w = np.nonzero(col[:, None] > col[None, :])  # each untied unordered pair once
        rows_b, rows_w = b * q + lang, w * q + lang
        better += [rows_b, rows_b]  # ... and once more for the other order
        worse += [rows_w, rows_w]
    if not better:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(better).astype(np.int64), np.concatenate(worse).astype(np.int64)


def optimiser_steps(n_examples: int, batch_size: int, epochs: int, pairs_per_epoch: int | None) -> int:  # fmt: skip
    """Adam steps of one training: ⌈examples per epoch / batch size⌉ per epoch."""
    per_epoch = n_examples if pairs_per_epoch is None else min(pairs_per_epoch, n_examples)
    return epochs * math.ceil(per_epoch / batch_size)


def kendall_criterion(pred: np.ndarray, gold: np.ndarray) -> float:
    """Mean over columns (languages) of Kendall τ(pred, gold); NaN if undefined everywhere."""
    from scipy.stats import kendalltau

    taus = []
    for q in range(gold.shape[1]):
        if len(gold) >= 2 and np.ptp(gold[:, q]) > 0 and np.ptp(pred[:, q]) > 0:
            taus.append(kendalltau(pred[:, q], gold[:, q]).statistic)
    return float(np.mean(taus)) if taus else float("nan")


@dataclass
class Trained:
    """A trained scorer, how it was chosen and how its training went.

    ``steps``: Adam steps taken (all epochs; the kept epoch's model saw ``epoch`` of them);
    ``losses``: mean training loss per epoch (over that epoch's examples); ``criteria``: the
    meta-dev criterion after each epoch (None where undefined).
    """

    model: Any
    batch_size: int
    lr: float
    epoch: int
    criterion: float
    steps: int = 0
    examples: int = 0
    losses: list[float] = field(default_factory=list)
    criteria: list[float | None] = field(default_factory=list)
    search: list[dict[str, Any]] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """The JSON record of this training (a search entry, or a fold's own training)."""
        return {
            "batch_size": self.batch_size, "lr": self.lr, "epoch": self.epoch,
            "criterion": _num(self.criterion), "steps": self.steps, "examples": self.examples,
            "loss": [round(x, 6) for x in self.losses], "criteria": self.criteria,
        }  # fmt: skip


def train_scorer(
    x: np.ndarray,
    z: np.ndarray,
    y: np.ndarray,
    x_dev: np.ndarray,
    y_dev: np.ndarray,
    *,
    batch_size: int,
    lr: float,
    cfg: LMSConfig,
    seed: int,
) -> Trained:
    """Train one scorer with Adam on the examples of :func:`training_pairs`; keep the epoch with
    the best meta-dev criterion.

    ``x``: (n, Q, views, d) meta-train inputs, ``z``: (Q, d_lang), ``y``: (n, Q) dev scores of the
    training languages; ``x_dev``/``y_dev`` the same for meta-dev candidates. Every dev score passed
    in must be finite: the training never sees any language but the training languages.

    Each epoch shuffles the examples (all of them, or a fresh sample of ``cfg.pairs_per_epoch``)
    and takes one Adam step per ``batch_size`` of them, on the mean loss of the batch. A step runs
    the model FFNN once over the distinct (candidate, language) rows its pairs touch (inputs
    standardised once, with the meta-train rows' mean and sd), the language FFNN once over the
    training languages, and indexes the pairs' scores from those: the same gradient as scoring
    each pair's two sides separately, for about half the work.
    """
    torch = _torch()
    for name, arr in (("meta-train", y), ("meta-dev", y_dev)):
        if not np.isfinite(arr).all():
            raise ValueError(f"non-finite {name} dev scores passed to the LMS scorer")
    _keep_freed_heap()
    n, q, views, d = x.shape
    t0 = time.perf_counter()
    better_np, worse_np = training_pairs(y)
    m = len(better_np)
    per_epoch = m if cfg.pairs_per_epoch is None else min(cfg.pairs_per_epoch, m)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        model = build_scorer(d, views, z.shape[-1], cfg.hidden, cfg.dropout)
        rows = torch.from_numpy(np.ascontiguousarray(x.reshape(n * q, views, d)))
        model.mu.copy_(rows.mean(0))
        model.sd.copy_(rows.std(0, unbiased=False).clamp_min(1e-6))
        row_lang = torch.arange(n * q) % q
        zt = torch.from_numpy(z)
        better, worse = torch.from_numpy(better_np), torch.from_numpy(worse_np)
        xd = torch.from_numpy(x_dev)
        opt = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
        best: tuple[float, int, Any] = (math.nan, 0, None)
        losses: list[float] = []
        criteria: list[float | None] = []
        steps = 0
        for epoch in range(1, cfg.epochs + 1):
            model.train()
            total = torch.zeros(())
            order = torch.randperm(m, generator=gen)[:per_epoch]
            for start in range(0, per_epoch, batch_size):
                idx = order[start : start + batch_size]
                k = len(idx)
                touched, inv = torch.unique(torch.cat([better[idx], worse[idx]]), return_inverse=True)  # fmt: skip
                s = (model.models(rows[touched]) * model.langs(zt)[row_lang[touched]]).sum(-1)
                loss = torch.nn.functional.softplus(s[inv[k:]] - s[inv[:k]]).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.detach() * k
                steps += 1
            losses.append(float(total) / per_epoch if per_epoch else math.nan)
            model.eval()
            with torch.no_grad():
                crit = kendall_criterion(model(xd, zt).numpy(), y_dev) if len(x_dev) else math.nan
            criteria.append(_num(crit))
            if math.isnan(best[0]) or (not math.isnan(crit) and crit > best[0]):
                best = (crit, epoch, copy.deepcopy(model.state_dict()))
        model.load_state_dict(best[2])
        model.eval()
    log.info("scorer bs=%d lr=%g: %d examples, %d steps in %.1f s (%.1f ms/step); loss %s; "
             "meta-dev τ %s", batch_size, lr, m, steps, time.perf_counter() - t0,
             1000 * (time.perf_counter() - t0) / max(steps, 1), [round(v, 4) for v in losses],
             criteria)  # fmt: skip
    return Trained(model, batch_size, lr, best[1], best[0], steps, m, losses, criteria)


def _pick(trainings: Sequence[Trained]) -> Trained:
    """The best of a search on the meta-dev criterion (ties and undefined criteria: the first in
    grid order), with every training's record as its ``search``."""
    best: Trained | None = None
    for t in trainings:
        score = -math.inf if math.isnan(t.criterion) else t.criterion
        if best is None or score > (-math.inf if math.isnan(best.criterion) else best.criterion):
            best = t
    assert best is not None
    best.search = [t.record() for t in trainings]
    return best


def search_scorer(
    x,
    z,
    y,
    x_dev,
    y_dev,
    cfg: LMSConfig,
    seed: int,
    grid: Sequence[tuple[int, float]] | None = None,
    workers: int = 1,
) -> Trained:
    """Train one scorer per (batch size, lr) of ``grid`` (default: the config's) and keep the best
    on the meta-dev criterion (ties and undefined criteria: the first in grid order)."""
    grid = list(grid or [(b, lr) for b in cfg.batch_sizes for lr in cfg.lrs])
    jobs = [dict(x=x, z=z, y=y, x_dev=x_dev, y_dev=y_dev, batch_size=b, lr=lr, cfg=cfg, seed=seed)
            for b, lr in grid]  # fmt: skip
    return _pick(train_many(jobs, workers))


def train_many(jobs: Sequence[Mapping[str, Any]], workers: int = 1) -> list[Trained]:
    """:func:`train_scorer` on each job (its keyword arguments), in order; with ``workers`` > 1
    in that many worker processes of one torch thread each. Every training is seeded and
    single-threaded, so the results do not depend on ``workers`` (tests/test_lms.py)."""
    if workers <= 1 or len(jobs) <= 1:
        return [train_scorer(**job) for job in jobs]
    import concurrent.futures
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # torch's thread pools do not survive fork
    with concurrent.futures.ProcessPoolExecutor(min(workers, len(jobs)), mp_context=ctx) as pool:
        done = list(pool.map(_train_in_worker, jobs))
    out = []
    for job, (trained, weights) in zip(jobs, done, strict=True):
        x, z = job["x"], job["z"]
        model = build_scorer(x.shape[-1], x.shape[2], z.shape[-1], job["cfg"].hidden, job["cfg"].dropout)  # fmt: skip
        model.load_state_dict(weights)
        model.eval()
        trained.model = model
        out.append(trained)
    return out


def _train_in_worker(job: Mapping[str, Any]) -> tuple[Trained, dict]:
    """One training in a worker process: the record, and the weights (a module of a local class
    cannot be pickled; the parent rebuilds it)."""
    _torch().set_num_threads(1)
    trained = train_scorer(**job)
    weights = trained.model.state_dict()
    trained.model = None
    return trained, weights


def _num(x: float) -> float | None:
    """NaN -> None, so that results are standard JSON."""
    return None if math.isnan(x) else float(x)


def predict(model, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """s(m, l) for inputs ``x`` (n, Q, views, d) and languages ``z`` (Q, d_lang) -> (n, Q)."""
    torch = _torch()
    with torch.no_grad():
        return model(torch.from_numpy(x), torch.from_numpy(z)).numpy().astype(np.float64)


# --------------------------------------------------------------------------------------------
# running LMS on a pool


@dataclass
class GroupResult:
    """LMS on one candidate group: split, one scorer per fold, scores and picks per target."""

    group: str
    split: dict[str, list[str]]
    folds: list[dict[str, Any]]
    scores: dict[str, dict[str, list[float]]]  # target -> split -> s(m, target) per candidate
    selected: dict[str, str]  # target -> candidate with the highest s(m, target) in meta-test
    seconds: float = 0.0
    trainings: int = 0  # scorers trained (search included)
    steps: int = 0  # Adam steps of all of them

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GroupResult:
        return cls(**d)

    def hps(self) -> dict[str, tuple[int, float]]:
        """(batch size, lr) per fold key and per training-language set (first fold wins)."""
        out: dict[str, tuple[int, float]] = {}
        for f in self.folds:
            hp = (int(f["batch_size"]), float(f["lr"]))
            out.setdefault(f["key"], hp)
            out.setdefault("+".join(f["train_langs"]), hp)
        return out


class LMS:
    """Learned model selection on one pool for one configuration.

    Args:
        pool: the task's candidate pool.
        cfg: settings; ``cfg.pivots`` absent from the pool are dropped (see :func:`task_pivots`).
        source: the source language (English dev text for [Eng] features).
        targets: languages to select for (the source excluded).
        workers: processes that train scorers in parallel (1: in this process); results do not
            depend on it.
    """

    def __init__(self, pool: Pool, cfg: LMSConfig, source: str, targets: Sequence[str], workers: int = 1):  # fmt: skip
        self.pool, self.cfg, self.source, self.workers = pool, cfg, source, workers
        self.targets = [t for t in targets if t != source]
        self.pivots = task_pivots(cfg.pivots, pool.langs, source)
        self.dev = pool.matrix("dev")
        self.li = {lang: i for i, lang in enumerate(pool.langs)}
        langs = dict.fromkeys([*self.pivots, *self.targets])
        self.zvec = dict(zip(langs, language_matrix(list(langs), cfg.lang_features), strict=True))

    def _inputs(self, cands: np.ndarray, query: Sequence[str], feature_target: str | None):
        x = model_inputs(self.pool.features, self.pool.langs, cands, query, self.cfg.model_features,
                         self.source, feature_target)  # fmt: skip
        z = np.stack([self.zvec[q] for q in query]).astype(np.float32)
        return x, z

    def _labels(self, cands: np.ndarray, langs: Sequence[str]) -> np.ndarray:
        """Dev scores of ``cands`` in ``langs`` — the only place LMS reads labels."""
        return self.dev[np.ix_(cands, [self.li[lang] for lang in langs])]

    def run(
        self,
        cands: np.ndarray,
        group: str = ALL_METHODS,
        *,
        split_seed: int | None = None,
        seed: int | None = None,
        hps: Mapping[str, tuple[int, float]] | None = None,
        n_train: int | None = None,
    ) -> GroupResult:
        """Split ``cands``, train one scorer per fold, score and select for every target.

        ``hps`` (from a previous :meth:`GroupResult.hps`) skips the search and reuses those
        hyper-parameters per fold; ``n_train`` trains on a seeded subset of the meta-train set.
        """
        cfg = self.cfg
        split_seed = cfg.split_seed if split_seed is None else split_seed
        seed = cfg.seed if seed is None else seed
        t0 = time.perf_counter()
        split = split_candidates(cands, cfg.split, split_seed)
        sizes = {k: len(v) for k, v in split.items()}
        if sizes["meta-train"] < 2 or sizes["meta-test"] < 1:
            raise ValueError(
                f"LMS on candidate group {group!r}: {len(cands)} candidates split {sizes}; it needs "
                "at least 2 meta-train and 1 meta-test candidates (add seeds or hyper-parameters "
                "to the task's grid, or change lms.split)"
            )
        train = split["meta-train"]
        if n_train is not None and n_train < len(train):
            train = train[np.random.default_rng(split_seed).permutation(len(train))[:n_train]]
        folds = plan_folds(self.targets, self.pivots, cfg.model_features)
        dev = split["meta-dev"]
        full = [(b, lr) for b in cfg.batch_sizes for lr in cfg.lrs]
        anchor = None
        trained: dict[Fold, Trained] = {}
        if hps is None and cfg.hp_search == "shared":
            # search once, on the fold that trains on all pivots; the other folds reuse its choice
            anchor = next((f for f in folds if len(f.train_langs) == len(self.pivots)), folds[0])
            trained[anchor] = self._fit_all([(anchor, full)], train, dev, seed)[0]
            grids = [(f, [(trained[anchor].batch_size, trained[anchor].lr)]) for f in folds if f != anchor]  # fmt: skip
        elif hps is not None:
            grids = [(f, [hps.get(f.key) or hps["+".join(f.train_langs)]]) for f in folds]
        else:
            grids = [(f, full) for f in folds]
        trained.update(zip([f for f, _ in grids], self._fit_all(grids, train, dev, seed), strict=True))  # fmt: skip
        scores: dict[str, dict[str, list[float]]] = {}
        selected: dict[str, str] = {}
        fold_info = []
        for fold in folds:
            fit = trained[fold]
            # with a shared search only the anchor fold searched; the others trained once
            search = [] if anchor is not None and fold != anchor else fit.search
            fold_info.append({
                "key": fold.key, "train_langs": list(fold.train_langs),
                "feature_target": fold.feature_target, "targets": list(fold.targets),
                **fit.record(), "search": search,
            })  # fmt: skip
            for t in fold.targets:
                scores[t] = {}
                for name in ("meta-dev", "meta-test"):
                    x, z = self._inputs(split[name], [t], t)
                    scores[t][name] = predict(fit.model, x, z)[:, 0].tolist()
                test = split["meta-test"]
                if len(test):
                    selected[t] = self.pool.candidates[test[int(np.argmax(scores[t]["meta-test"]))]]
        trainings = sum(len(f["search"]) or 1 for f in fold_info)
        steps = sum(sum(e["steps"] for e in f["search"]) or f["steps"] for f in fold_info)
        ids = {k: [self.pool.candidates[i] for i in v] for k, v in split.items()}
        if n_train is not None:
            ids["meta-train"] = [self.pool.candidates[i] for i in train]
        seconds = time.perf_counter() - t0
        return GroupResult(group, ids, fold_info, scores, selected, seconds, trainings, steps)

    def search_steps(self, cands: np.ndarray, split_seed: int | None = None) -> int:
        """Adam steps of the per-fold search over the whole grid on ``cands`` (every fold, every
        grid point), counted without training: the cost that ``hp_search: per-fold`` pays."""
        cfg = self.cfg
        train = split_candidates(cands, cfg.split, cfg.split_seed if split_seed is None else split_seed)["meta-train"]  # fmt: skip
        total = 0
        for fold in plan_folds(self.targets, self.pivots, cfg.model_features):
            examples = len(training_pairs(self._labels(train, fold.train_langs))[0])
            total += sum(optimiser_steps(examples, b, cfg.epochs, cfg.pairs_per_epoch)
                         for b in cfg.batch_sizes for _ in cfg.lrs)  # fmt: skip
        return total

    def _fit_all(self, grids: Sequence[tuple[Fold, Sequence[tuple[int, float]]]], train, dev, seed: int) -> list[Trained]:  # fmt: skip
        """Train every (fold, grid point) of ``grids`` (in :attr:`workers` processes) and keep,
        per fold, the best on the meta-dev criterion."""
        jobs, owner = [], []
        for i, (fold, grid) in enumerate(grids):
            x, z = self._inputs(train, fold.train_langs, fold.feature_target)
            xd, _ = self._inputs(dev, fold.train_langs, fold.feature_target)
            y, yd = self._labels(train, fold.train_langs), self._labels(dev, fold.train_langs)
            for b, lr in grid:
                jobs.append(dict(x=x, z=z, y=y, x_dev=xd, y_dev=yd, batch_size=b, lr=lr,
                                 cfg=self.cfg, seed=seed))  # fmt: skip
                owner.append(i)
        done = train_many(jobs, self.workers)
        out = []
        for i, (fold, _) in enumerate(grids):
            best = _pick([t for t, o in zip(done, owner, strict=True) if o == i])
            log.info("fold %s: bs=%d lr=%g epoch=%d steps=%d meta-dev tau=%.3f", fold.key,
                     best.batch_size, best.lr, best.epoch, best.steps, best.criterion)  # fmt: skip
            out.append(best)
        return out

    def _fit(self, fold: Fold, train, dev, seed: int, grid) -> Trained:
        """One fold's scorer: the search over ``grid`` (default: the config's whole grid)."""
        full = [(b, lr) for b in self.cfg.batch_sizes for lr in self.cfg.lrs]
        return self._fit_all([(fold, grid or full)], train, dev, seed)[0]


def run_groups(
    pool: Pool,
    cfg: LMSConfig,
    source: str,
    targets: Sequence[str],
    *,
    split_seed: int | None = None,
    seed: int | None = None,
    hps: Mapping[str, Mapping[str, tuple[int, float]]] | None = None,
    n_train: int | None = None,
    only: Sequence[str] | None = None,
    workers: int = 1,
) -> dict[str, GroupResult]:
    """:meth:`LMS.run` for every candidate group of ``cfg.pool`` (per method, or all together).

    ``hps``: group -> fold key -> (batch size, lr), to reuse a previous search; ``only``: run
    just these groups; ``workers``: training processes (:class:`LMS`).
    """
    lms = LMS(pool, cfg, source, targets, workers)
    return {
        name: lms.run(
            idx,
            name,
            split_seed=split_seed,
            seed=seed,
            hps=None if hps is None else hps[name],
            n_train=n_train,
        )  # fmt: skip
        for name, idx in candidate_groups(pool, cfg.pool, cfg.methods).items()
        if only is None or name in only
    }
