"""Task kinds, one module each, behind one interface (:class:`~xlt.tasks.base.TaskKind`).

========================  ============================================  ==========================
kind (``tasks.*.kind``)   what                                          main metric
========================  ============================================  ==========================
``tagging``               a label per word (POS)                        token accuracy
``ner``                   BIO entity tags                               entity F1 (conlleval)
``classification``        a label per text or text pair                 accuracy (+ macro-F1)
``qa``                    an answer span of a passage (extractive QA)   F1 (+ exact match)
``relation``              the relation of two marked entities           micro-F1 w/o no_relation
``parsing``               a head and a relation per word (biaffine)     LAS (+ UAS)
========================  ============================================  ==========================

A :class:`TaskSpec` (kind, label set, pooling) names what one model is trained for; the
functions below dispatch to the spec's kind, so the training loop, the studies and the pool never
branch on a kind. Adding a kind is a module here (a :class:`~xlt.tasks.base.TaskKind` subclass
and its ``KIND`` instance), its name in :data:`MODULES`, and a reader in :mod:`xlt.data.readers`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import import_module

import numpy as np

from .base import IGNORE, Features, TaskKind, bucket_batches, padding_efficiency

MODULES = {"ner": "ner", "tagging": "tagging", "classification": "classification", "qa": "qa", "relation": "relation", "parsing": "parsing"}  # fmt: skip
KINDS = tuple(MODULES)
POOLINGS = ("first", "mean")


@cache
def get_kind(name: str) -> TaskKind:
    """The task kind called ``name`` (a ValueError lists the kinds)."""
    if name not in MODULES:
        raise ValueError(f"task kind must be one of {KINDS}, got {name!r}")
    return import_module(f"{__name__}.{MODULES[name]}").KIND


@dataclass(frozen=True)
class TaskSpec:
    kind: str  # a name of KINDS
    labels: tuple[str, ...]  # empty for a kind without labels (QA)
    pooling: str = "first"  # sequence tasks: first | mean
    # QA: tokens shared by consecutive windows of a long passage (0: a third of max_length, i.e.
    # BERT's 128 at 384) and the longest answer in tokens (BERT's and Hugging Face's 30)
    doc_stride: int = 0
    max_answer_length: int = 30

    def __post_init__(self) -> None:
        kind = get_kind(self.kind)
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if not kind.labelled and self.labels:
            raise ValueError(f"a {self.kind} task has no label set, got {list(self.labels)}")
        if kind.labelled and (len(set(self.labels)) != len(self.labels) or not self.labels):
            raise ValueError(f"labels must be a non-empty list without repeats: {self.labels}")
        if self.doc_stride < 0 or self.max_answer_length < 1:
            raise ValueError(
                f"doc_stride ({self.doc_stride}) must be >= 0 and max_answer_length "
                f"({self.max_answer_length}) >= 1"
            )

    @property
    def impl(self) -> TaskKind:
        return get_kind(self.kind)

    @property
    def token_level(self) -> bool:
        return self.impl.token_level

    @property
    def default_label(self) -> str:
        return "O" if "O" in self.labels else self.labels[0]


def load_tokenizer(spec: TaskSpec, encoder_dir: str):
    """The encoder's tokenizer, adapted to the spec's kind (relation: its entity markers added,
    so that their ids are the same wherever the encoder's tokenizer is loaded)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(encoder_dir))
    spec.impl.prepare_tokenizer(tokenizer)
    return tokenizer


def encode(spec: TaskSpec, tokenizer, records: Sequence[Mapping], max_length: int) -> Features:
    """Examples → sub-word ids and targets (the spec's kind decides how)."""
    return spec.impl.encode(spec, tokenizer, records, max_length)


def collate(feats: Features, idx: np.ndarray, pad_id: int) -> dict:
    """A padded batch (``input_ids``, ``attention_mask``, ``labels``) of the sequences ``idx``."""
    return get_kind(feats.kind).collate(feats, idx, pad_id)


def build_model(spec: TaskSpec, encoder_dir: str, seed: int):
    """The encoder with the kind's head, initialised deterministically from ``seed``."""
    return spec.impl.build_model(spec, encoder_dir, seed)


def predict(model, spec: TaskSpec, feats: Features, pad_id: int, batch_size: int, device, desc: str = "") -> tuple[list, np.ndarray]:  # fmt: skip
    """Predictions per example and the mean first-token final-layer vector of the set (``desc``:
    the set's name on the progress bar)."""
    return spec.impl.predict(model, spec, feats, pad_id, batch_size, device, desc)


def gold_answers(kind: str, records: Sequence[Mapping]) -> list:
    """The gold answers of ``records``, in the form ``predict`` returns predictions."""
    k = get_kind(kind)
    return [k.gold(r) for r in records]


def infer_labels(kind: str, datasets: Sequence[Sequence[Mapping]]) -> tuple[str, ...]:
    """The label set seen in ``datasets`` (in the kind's order: sorted, "O" first for tags)."""
    k = get_kind(kind)
    return k.sort_labels(lab for recs in datasets for r in recs for lab in k.record_labels(r))


__all__ = [
    "IGNORE",
    "KINDS",
    "Features",
    "TaskKind",
    "TaskSpec",
    "bucket_batches",
    "build_model",
    "collate",
    "encode",
    "get_kind",
    "gold_answers",
    "infer_labels",
    "load_tokenizer",
    "padding_efficiency",
    "predict",
]
