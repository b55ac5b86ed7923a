"""Word alignment of source sentences and their translations with fast_align (systran-align).

``systran_align.generate_alignment_probabilities`` trains fast_align's IBM-2-like model in both
directions on a ``src ||| tgt`` file; ``systran_align.Aligner(fwd, bwd).align_batch`` then returns
the *symmetrised* links (grow-diag-final-and) of each sentence pair. Directional links are not
exposed by the package.

The aligner is trained on the pairs to align plus optional extra, unlabelled parallel text (e.g.
the world's ``synth-parallel`` files): fast_align is unsupervised, and more bitext gives it better
translation tables. Tokens are the tagging tokens (see :func:`xlt.translate.backends.tokenize`),
lower-cased by default; links are ``(source index, target index)`` over those tokens.

fast_align trains with OpenMP threads that add expected counts in a run-dependent order, so with
more than one thread the rounding differs between runs and near-tied links flip (a few sentences
in a thousand). :func:`align` therefore runs the aligner's OpenMP runtime (its own bundled
``libgomp``, not torch's) with one thread, through ``threadpoolctl``: identical inputs give
identical links whatever ``OMP_NUM_THREADS`` or ``torch.set_num_threads`` say.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from ..io import DataError, iter_jsonl

log = logging.getLogger(__name__)

Link = tuple[int, int]
Pair = tuple[Sequence[str], Sequence[str]]


@dataclass(frozen=True)
class AlignConfig:
    """fast_align settings (``translate.align``); see fast_align's ``-d -o -v -I`` options."""

    # -I; 10 rather than fast_align's 5: +0.8 to +7.3 span F1 on real parallel NER data, within
    # -0.3..+0.4 on the synthetic world (2026-12), for twice the (small) aligner time
    iterations: int = 10
    favor_diagonal: bool = False  # -d: prefer links near the diagonal (hurts across word orders)
    diagonal_tension: float = 4.0
    optimize_tension: bool = False  # -o
    variational_bayes: bool = False  # -v
    alpha: float = 0.01
    prob_align_null: float = 0.08
    lowercase: bool = True

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> AlignConfig:
        cfg = dict(cfg or {})
        cfg.pop("extra_parallel", None)  # read by the workflow, not by the aligner
        names = {f.name for f in fields(cls)}
        unknown = set(cfg) - names
        if unknown:
            raise ValueError(
                f"translate.align: unknown keys {sorted(unknown)}; known: {sorted(names)}"
            )
        return cls(**cfg)


def _clean(tokens: Sequence[str], lowercase: bool) -> list[str]:
    """Tokens safe for the ``src ||| tgt`` format (no whitespace, no ``|||``)."""
    out = []
    for t in tokens:
        t = "".join(t.split()).replace("|||", "|¦|") or "_"
        out.append(t.lower() if lowercase else t)
    return out


def _one_thread() -> contextlib.AbstractContextManager:
    """Limit every loaded OpenMP runtime (the aligner's included) to one thread, for determinism."""
    return threadpool_limits(limits=1, user_api="openmp")


def align(
    pairs: Sequence[Pair], cfg: AlignConfig | None = None, extra: Iterable[Pair] = ()
) -> list[list[Link]]:
    """Symmetrised fast_align links for every pair (trained on ``pairs`` + ``extra``).

    Pairs with an empty side get no links (and do not enter training). Deterministic: the
    aligner runs with one OpenMP thread (see the module docstring).
    """
    import systran_align  # before _one_thread(), which limits the runtimes loaded by then

    cfg = cfg or AlignConfig()
    todo = [(_clean(s, cfg.lowercase), _clean(t, cfg.lowercase)) for s, t in pairs]
    train = [p for p in todo if p[0] and p[1]]
    n_extra = 0
    for s, t in extra:
        if s and t:
            train.append((_clean(s, cfg.lowercase), _clean(t, cfg.lowercase)))
            n_extra += 1
    if not train:
        return [[] for _ in todo]
    log.info(
        "fast_align: training on %d pairs (%d extra), aligning %d", len(train), n_extra, len(todo)
    )
    with tempfile.TemporaryDirectory(prefix="xlt-align-") as tmp, _one_thread():
        bitext, fwd, bwd = (str(Path(tmp) / n) for n in ("bitext", "fwd", "bwd"))
        with open(bitext, "w", encoding="utf-8") as fh:
            for s, t in train:
                fh.write(f"{' '.join(s)} ||| {' '.join(t)}\n")
        systran_align.generate_alignment_probabilities(
            bitext,
            fwd,
            bwd,
            iterations=cfg.iterations,
            favor_diagonal=cfg.favor_diagonal,
            diagonal_tension=cfg.diagonal_tension,
            optimize_tension=cfg.optimize_tension,
            variational_bayes=cfg.variational_bayes,
            alpha=cfg.alpha,
            prob_align_null=cfg.prob_align_null,
        )
        aligner = systran_align.Aligner(fwd, bwd)
        idx = [i for i, (s, t) in enumerate(todo) if s and t]
        results = aligner.align_batch([todo[i][0] for i in idx], [todo[i][1] for i in idx])
    out: list[list[Link]] = [[] for _ in todo]
    for i, res in zip(idx, results, strict=True):
        out[i] = sorted((int(a), int(b)) for a, b in res["alignments"])
    return out


def read_parallel(path: str | Path) -> list[Pair]:
    """Extra bitext: JSONL with ``src_tokens``/``tgt_tokens`` (the world's synth-parallel files)
    or a text file with one ``source tokens ||| target tokens`` line per pair."""
    path = Path(path)
    pairs: list[Pair] = []
    if path.suffix in (".jsonl", ".gz"):
        for lineno, rec in iter_jsonl(path):
            if "src_tokens" not in rec or "tgt_tokens" not in rec:
                raise DataError(
                    path,
                    lineno,
                    "record lacks 'src_tokens' or 'tgt_tokens'",
                    "extra parallel JSONL needs both token lists",
                )
            pairs.append((rec["src_tokens"], rec["tgt_tokens"]))
        return pairs
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            if line.count("|||") != 1:
                raise DataError(
                    path,
                    lineno,
                    "expected one ' ||| ' separator",
                    "write 'source tokens ||| target tokens'",
                )
            s, t = line.split("|||")
            pairs.append((s.split(), t.split()))
    return pairs


# =============================================================================================
# quality against a gold alignment


def alignment_scores(
    pred: Sequence[Iterable[Sequence[int]]], gold: Sequence[Iterable[Sequence[int]]]
) -> dict[str, float]:
    """Link precision, recall, F1 and AER (%) over a corpus; gold links count as sure links
    (so AER = 100 - F1 here)."""
    if len(pred) != len(gold):
        raise ValueError(f"{len(pred)} predicted alignments but {len(gold)} gold ones")
    tp = n_pred = n_gold = 0
    for p, g in zip(pred, gold, strict=True):
        ps, gs = {tuple(x) for x in p}, {tuple(x) for x in g}
        tp, n_pred, n_gold = tp + len(ps & gs), n_pred + len(ps), n_gold + len(gs)
    prec = 100 * tp / max(1, n_pred)
    rec = 100 * tp / max(1, n_gold)
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    aer = 100 - 100 * 2 * tp / max(1, n_pred + n_gold)
    return {
        "precision": prec,
        "recall": rec,
        "f1": f1,
        "aer": aer,
        "links": n_pred,
        "gold_links": n_gold,
    }


def scores_by_source_class(
    pred: Sequence[Iterable[Sequence[int]]],
    gold: Sequence[Iterable[Sequence[int]]],
    classes: Sequence[Sequence[str]],
) -> dict[str, dict[str, float]]:
    """:func:`alignment_scores` per class of the source word (e.g. its UPOS or NER tag)."""
    by: dict[str, list[list[tuple[set, set]]]] = defaultdict(lambda: [[], []])
    for p, g, cls in zip(pred, gold, classes, strict=True):
        ps, gs = {tuple(x) for x in p}, {tuple(x) for x in g}
        for c in set(cls):
            by[c][0].append({x for x in ps if cls[x[0]] == c})
            by[c][1].append({x for x in gs if cls[x[0]] == c})
    return {c: alignment_scores(p, g) for c, (p, g) in sorted(by.items())}


def align_translated(
    translated: Sequence[Mapping[str, Any]],
    cfg: AlignConfig | None = None,
    extra: Iterable[Pair] = (),
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Align ``translated.jsonl`` records (``src_tokens`` x ``tokens``).

    Returns ``alignments.jsonl`` records ``{"id", "src_id", "links"}`` and statistics; when the
    records carry the synthetic engine's gold alignment, the statistics include link
    precision/recall/AER against it (never used for projection).
    """
    cfg = cfg or AlignConfig()
    extra = list(extra)
    links = align([(r["src_tokens"], r["tokens"]) for r in translated], cfg, extra)
    recs = [
        {"id": r["id"], "src_id": r["src_id"], "links": [list(x) for x in lk]}
        for r, lk in zip(translated, links, strict=True)
    ]
    n_links = sum(len(lk) for lk in links)
    stats: dict[str, Any] = {
        "sentences": len(recs),
        "extra_pairs": len(extra),
        "links": n_links,
        "links_per_source_token": n_links / max(1, sum(len(r["src_tokens"]) for r in translated)),
        "unaligned_sentences": sum(1 for lk in links if not lk),
        "config": {f.name: getattr(cfg, f.name) for f in fields(cfg)},
    }
    gold = [(r.get("gold") or {}).get("alignment") for r in translated]
    if translated and all(g is not None for g in gold):
        stats["vs_gold"] = alignment_scores(links, gold)
    return recs, stats
