"""Relation classification (and event-argument role labelling): micro precision, recall and F1 over
the relation labels other than "no relation", as the TACRED scorer computes them, plus accuracy.

The definition followed is the official TACRED scorer's (``utils/scorer.py`` of
yuhaozhang/tacred-relation, Zhang et al. 2017), the common one for KBP37/TACRED-style data:

- a prediction is *guessed* when it is not ``no_relation``; a gold label is *gold* when it is not
  ``no_relation``; a guess is *correct* when it equals its (positive) gold label;
- precision = correct / guessed (**100 when nothing is guessed**, the scorer's convention),
  recall = correct / gold (0 when there is no gold relation), F1 their harmonic mean (0 when both
  are 0); so predicting ``no_relation`` is never a positive, and a wrong positive label on a
  positive pair counts against both precision and recall;
- labels are compared as strings: directed labels (``org:founded_by(e1,e2)`` vs ``(e2,e1)``) are
  distinct labels.

Seed 000 (§4.4, ACE 2005 RE/ARL with gold entities) counts a predicted relation mention as correct
when its type and the heads of both entities match the gold data; with gold entity pairs as the
inputs that is exactly "predicted label = gold label" above, and methods.md §1 states the metric as
micro-F1 over the non-"no relation" labels. Not the SemEval-2010 Task 8 scorer (macro-F1 over
undirected types). Accuracy (all pairs, ``no_relation`` included) is reported beside them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def relation_example_stats(
    gold: Sequence[str], pred: Sequence[str], no_relation: str = "no_relation"
) -> np.ndarray:
    """Per example: (correct positive, guessed positive, gold positive, correct label), 0/1 each.

    Any subset's scores follow from its column sums (``relation_score_from_stats``).
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    rows = [
        (g == p != no_relation, p != no_relation, g != no_relation, g == p)
        for g, p in zip(gold, pred, strict=True)
    ]
    return np.asarray(rows, dtype=np.int8).reshape(-1, 4)


def relation_scores(
    gold: Sequence[str], pred: Sequence[str], no_relation: str = "no_relation"
) -> dict[str, float]:
    """Micro F1, precision and recall over the labels other than ``no_relation`` (the TACRED
    scorer's definition and arithmetic), and accuracy over all examples; in percent."""
    correct, guessed, positives, right = (
        relation_example_stats(gold, pred, no_relation).sum(axis=0).tolist()
    )
    precision = correct / guessed if guessed else 1.0
    recall = correct / positives if positives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "f1": 100 * f1,
        "precision": 100 * precision,
        "recall": 100 * recall,
        "accuracy": 100 * right / max(1, len(gold)),
    }


def relation_score_from_stats(stats: np.ndarray) -> float | np.ndarray:
    """The main relation score, micro F1 in percent, of the examples whose statistics are the rows.

    F1 = 2·correct / (guessed + gold), the harmonic mean of the scorer's precision and recall
    (equal up to float rounding; 0 when nothing is guessed or gold). Works on the last two axes, so
    ``stats`` may carry leading batch axes (…, n, 4).
    """
    tot = stats.sum(axis=-2).astype(np.float64)
    denom = tot[..., 1] + tot[..., 2]
    return 100 * 2 * tot[..., 0] / np.maximum(denom, 1)
