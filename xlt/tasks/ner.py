"""Named-entity recognition: tagging (:mod:`.tagging`) scored by entity spans.

Metric: entity-level precision, recall and F1 as conlleval (and seqeval's *default* mode) compute
them: conlleval-compatible chunking, where an ``I-X`` after ``O`` or after another type starts a new
chunk; IOB1, IOB2 and IOBES tags are accepted. :func:`conlleval_chunks` is an independent
implementation of conlleval's rules; the tests pin it to seqeval's ``get_entities`` (seqeval imports
scikit-learn, seconds of start-up per job, so xlt scores with its own). Token accuracy rides along.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .tagging import Tagging, check_lengths, token_accuracy


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
    extracted once per sentence (a sentence boundary always ends a chunk, so counting per sentence
    is the same as seqeval's count over the concatenated corpus).
    """
    correct, npred, ngold = (int(x) for x in KIND.example_stats(gold, pred).sum(axis=0))
    precision = correct / npred if npred else 0.0
    recall = correct / ngold if ngold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "f1": 100 * f1,
        "precision": 100 * precision,
        "recall": 100 * recall,
        "accuracy": token_accuracy(gold, pred),
    }


class NER(Tagging):
    name = "ner"
    main_metric = "f1"
    metric_name = "entity F1 (seqeval default mode)"
    bf16_parity = False  # WikiANN: bf16 − fp32 beyond 1.0 F1 on some languages (docs/real-data.md)

    def scores(self, gold, pred, lang: str = "") -> dict[str, float]:
        return ner_scores(gold, pred)

    def example_stats(self, gold, pred, labels: Sequence[str] = (), lang: str = "") -> np.ndarray:
        """Per sentence: (correct entities, predicted entities, gold entities)."""
        check_lengths(gold, pred)
        rows = []
        for g, p in zip(gold, pred, strict=True):
            ge, pe = set(conlleval_chunks(g)), set(conlleval_chunks(p))
            rows.append((len(ge & pe), len(pe), len(ge)))
        return np.asarray(rows, dtype=np.int32).reshape(-1, 3)

    def score_from_stats(self, stats: np.ndarray):
        tot = stats.sum(axis=-2).astype(np.float64)
        correct, npred, ngold = tot[..., 0], tot[..., 1], tot[..., 2]
        denom = npred + ngold
        return 100 * np.where(denom > 0, 2 * correct / np.maximum(denom, 1), 0.0)


KIND = NER()
