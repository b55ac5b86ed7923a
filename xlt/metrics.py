"""Task metrics, per-example sufficient statistics, and re-scoring of any subset of examples.

- NER: entity-level F1 with seqeval's *default* mode, i.e. conlleval-compatible chunking (an I-X
  after O or after another type starts a new chunk). ``conlleval_chunks`` is an independent
  implementation of conlleval's rules; the tests pin it to seqeval's ``get_entities``, and xlt
  scores with it (seqeval imports scikit-learn, seconds of start-up per job).
- POS: token accuracy (not XTREME's "POS F1").
- classification: accuracy and macro-F1.

All scores are percentages. Per-example statistics (``example_stats``) let a selection method
re-score any subset of a dev set from stored predictions, without the model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

KINDS = ("ner", "tagging", "classification")
MAIN_METRIC = {"ner": "f1", "tagging": "accuracy", "classification": "accuracy"}
METRIC_NAMES = {
    "ner": "entity F1 (seqeval default mode)",
    "tagging": "token accuracy",
    "classification": "accuracy",
}


def conlleval_chunks(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Chunks ``(type, start, end_inclusive)`` following conlleval's start/end-of-chunk rules.

    Accepts IOB1, IOB2 and IOBES tags (S- and E- included), as conlleval does.
    """
    chunks: list[tuple[str, int, int]] = []
    prev_tag, prev_type, start = "O", "", -1
    for i, full in enumerate(list(tags) + ["O"]):
        tag, _, typ = full.partition("-")
        if full == "O" or not typ:
            tag, typ = "O", ""
        end = _chunk_ends(prev_tag, tag, prev_type, typ)
        begin = _chunk_starts(prev_tag, tag, prev_type, typ)
        if end and start >= 0:
            chunks.append((prev_type, start, i - 1))
            start = -1
        if begin:
            start = i
        prev_tag, prev_type = tag, typ
    return chunks


def _chunk_ends(prev: str, tag: str, prev_type: str, typ: str) -> bool:
    return (
        prev in ("E", "S")
        or (prev == "B" and tag in ("B", "S", "O"))
        or (prev == "I" and tag in ("B", "S", "O"))
        or (prev not in ("O", "") and prev_type != typ)
    )


def _chunk_starts(prev: str, tag: str, prev_type: str, typ: str) -> bool:
    return (
        tag in ("B", "S")
        or (prev in ("E", "S", "O") and tag in ("E", "I"))
        or (tag != "O" and prev_type != typ)
    )


def ner_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, float]:
    """Entity precision/recall/F1 (seqeval default mode) and token accuracy, in percent.

    Equal to seqeval's micro-averaged ``precision_score``/``recall_score``/``f1_score``: the
    chunks are conlleval's (:func:`conlleval_chunks`, identical to seqeval's ``get_entities``),
    extracted once per sentence instead of once per metric (a sentence boundary always ends a chunk, so counting
    per sentence is the same as seqeval's count over the concatenated corpus).
    """
    stats = example_stats("ner", gold, pred)
    correct, npred, ngold = (int(x) for x in stats.sum(axis=0))
    precision = correct / npred if npred else 0.0
    recall = correct / ngold if ngold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "f1": 100 * f1,
        "precision": 100 * precision,
        "recall": 100 * recall,
        "accuracy": token_accuracy(gold, pred),
    }


def token_accuracy(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> float:
    _check_lengths(gold, pred)
    n = sum(len(g) for g in gold)
    ok = sum(a == b for g, p in zip(gold, pred, strict=True) for a, b in zip(g, p, strict=True))
    return 100 * ok / max(1, n)


def classification_scores(gold: Sequence[str], pred: Sequence[str]) -> dict[str, float]:
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    acc = sum(a == b for a, b in zip(gold, pred, strict=True)) / max(1, len(gold))
    f1s = []
    for lab in sorted(set(gold)):
        tp = sum(g == lab and p == lab for g, p in zip(gold, pred, strict=True))
        fp = sum(g != lab and p == lab for g, p in zip(gold, pred, strict=True))
        fn = sum(g == lab and p != lab for g, p in zip(gold, pred, strict=True))
        f1s.append(2 * tp / max(1, 2 * tp + fp + fn))
    return {"accuracy": 100 * acc, "macro_f1": 100 * float(np.mean(f1s)) if f1s else 0.0}


def scores(kind: str, gold, pred) -> dict[str, float]:
    """All metrics of a task kind: ``ner``, ``tagging`` (POS etc.) or ``classification``."""
    if kind == "ner":
        return ner_scores(gold, pred)
    if kind == "tagging":
        return {"accuracy": token_accuracy(gold, pred)}
    if kind == "classification":
        return classification_scores(gold, pred)
    raise ValueError(f"unknown task kind {kind!r}; expected ner, tagging or classification")


def _check_lengths(gold, pred) -> None:
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sequences but {len(pred)} predicted")
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sequence {i}: {len(g)} gold tags but {len(p)} predicted")


# --------------------------------------------------------------------------------------------
# per-example statistics and subset re-scoring


def example_stats(kind: str, gold, pred, labels: Sequence[str] = ()) -> np.ndarray:
    """One row of additive statistics per example, enough to re-score any subset.

    - ner: (correct entities, predicted entities, gold entities)
    - tagging: (correct tokens, tokens)
    - classification: one-hot of (gold label, predicted label) pairs, flattened (k×k)
    """
    if kind == "ner":
        # conlleval_chunks, not seqeval's get_entities: the same chunks (tests pin them to
        # seqeval's on random tag sequences), without importing seqeval and with it scikit-learn
        # (about 2.5 s of every NER job's start-up)
        _check_lengths(gold, pred)
        rows = []
        for g, p in zip(gold, pred, strict=True):
            ge, pe = set(conlleval_chunks(g)), set(conlleval_chunks(p))
            rows.append((len(ge & pe), len(pe), len(ge)))
        return np.asarray(rows, dtype=np.int32).reshape(-1, 3)
    if kind == "tagging":
        rows = [
            (sum(a == b for a, b in zip(g, p, strict=True)), len(g))
            for g, p in zip(gold, pred, strict=True)
        ]
        return np.asarray(rows, dtype=np.int32).reshape(-1, 2)
    if kind == "classification":
        index = {lab: i for i, lab in enumerate(labels)}
        k = len(labels)
        out = np.zeros((len(gold), k * k), dtype=np.int8)
        for n, (g, p) in enumerate(zip(gold, pred, strict=True)):
            out[n, index[g] * k + index[p]] = 1
        return out
    raise ValueError(f"unknown task kind {kind!r}")


def score_from_stats(kind: str, stats: np.ndarray) -> float:
    """The main score (percent) of the examples whose statistics are the rows of ``stats``.

    Works on the last two axes, so ``stats`` may carry leading batch axes (…, n, k).
    """
    tot = stats.sum(axis=-2).astype(np.float64)
    if kind == "ner":
        correct, npred, ngold = tot[..., 0], tot[..., 1], tot[..., 2]
        denom = npred + ngold
        return 100 * np.where(denom > 0, 2 * correct / np.maximum(denom, 1), 0.0)
    if kind == "tagging":
        return 100 * tot[..., 0] / np.maximum(tot[..., 1], 1)
    if kind == "classification":
        k = int(round(np.sqrt(stats.shape[-1])))
        conf = tot.reshape(*tot.shape[:-1], k, k)
        return 100 * np.trace(conf, axis1=-2, axis2=-1) / np.maximum(conf.sum(axis=(-2, -1)), 1)
    raise ValueError(f"unknown task kind {kind!r}")
