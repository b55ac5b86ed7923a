"""Every task kind's metric, from one place: scores, per-example statistics, subset re-scoring.

Each metric lives with its task kind (:mod:`xlt.tasks`) and equals the field's official script:

- NER: entity-level F1 as conlleval / seqeval's default mode (:func:`ner_scores`,
  :func:`conlleval_chunks`; :mod:`xlt.tasks.ner`);
- POS: token accuracy, not XTREME's "POS F1" (:func:`token_accuracy`; :mod:`xlt.tasks.tagging`);
- classification: accuracy and macro-F1 (:func:`classification_scores`);
- extractive QA: exact match and token F1 as SQuAD v1.1's official script computes them, with
  MLQA's per-language normalisation for other languages (:func:`qa_scores`; :mod:`xlt.tasks.qa`);
- relation classification: micro-F1 over the labels other than ``no_relation`` as the TACRED
  scorer computes it, plus accuracy (:func:`relation_scores`; :mod:`xlt.tasks.relation`).
- dependency parsing: UAS and LAS as conll18_ud_eval.py (LAS on the universal part of the
  relation, punctuation included; :func:`parsing_scores`; :mod:`xlt.tasks.parsing`).

All scores are percentages. Per-example statistics (:func:`example_stats`) let a selection method
re-score any subset of a dev set from stored predictions, without the model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .tasks import KINDS, get_kind
from .tasks.classification import classification_scores
from .tasks.ner import conlleval_chunks, ner_scores
from .tasks.parsing import parsing_scores
from .tasks.qa import qa_scores
from .tasks.relation import relation_scores
from .tasks.tagging import token_accuracy

MAIN_METRIC = {k: get_kind(k).main_metric for k in KINDS}
METRIC_NAMES = {k: get_kind(k).metric_name for k in KINDS}


def scores(kind: str, gold, pred, lang: str = "") -> dict[str, float]:
    """All metrics of a task kind (percent), ``MAIN_METRIC[kind]`` among them; ``lang`` is the
    examples' language (QA normalises answers per language; other kinds ignore it)."""
    return _kind(kind).scores(gold, pred, lang)


def example_stats(kind: str, gold, pred, labels: Sequence[str] = (), lang: str = "") -> np.ndarray:  # fmt: skip
    """One row of additive statistics per example, enough to re-score any subset."""
    return _kind(kind).example_stats(gold, pred, labels, lang)


def score_from_stats(kind: str, stats: np.ndarray):
    """The main score (percent) of the examples whose statistics are the rows of ``stats``
    (on the last two axes, so ``stats`` may carry leading batch axes (…, n, k))."""
    return _kind(kind).score_from_stats(stats)


def _kind(kind: str):
    try:
        return get_kind(kind)
    except ValueError:
        raise ValueError(f"unknown task kind {kind!r}; expected one of {KINDS}") from None


__all__ = [
    "KINDS",
    "MAIN_METRIC",
    "METRIC_NAMES",
    "classification_scores",
    "conlleval_chunks",
    "example_stats",
    "ner_scores",
    "qa_scores",
    "relation_scores",
    "parsing_scores",
    "score_from_stats",
    "scores",
    "token_accuracy",
]
