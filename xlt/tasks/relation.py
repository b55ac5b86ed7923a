"""Relation classification (``kind: relation``; also event-argument role labelling): the
entity-start model, and micro precision, recall and F1 over the relation labels other than
"no relation", as the TACRED scorer computes them, plus accuracy.

**Model** (seed 000 §4.4; Baldini Soares et al. 2019, "entity markers – entity start"): four marker
tokens, ``[E1start] [E1end] [E2start] [E2end]``, are added to the encoder's tokenizer as special
tokens (:meth:`Relation.prepare_tokenizer`; appended in that order, so their ids are the tokenizer's
length and the next three wherever it is loaded through :func:`xlt.tasks.load_tokenizer`) and put
around the head (e1) and tail (e2) words of each example; the final-layer vectors at ``[E1start]``
and ``[E2start]`` are concatenated into one linear layer (:mod:`xlt.tasks.entity_start`). The
embedding matrix grows by the markers' rows, each initialised as the mean of the existing rows plus
their per-dimension standard deviation times a normal draw from the candidate's seed (so a seed
gives the same matrix every time). A sentence longer than ``max_length`` sub-words is cut to a
window that keeps both entities when they fit, else what follows each start marker (counted as
``truncated``). The label called ``no_relation`` is the negative class.

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
undirected types). Accuracy (all pairs, ``no_relation`` included) is reported beside them, and
KBP37's own F1 (:func:`kbp37_f1`, a macro-average over relation types), which published KBP37 and
RELX numbers use.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .base import IGNORE, Features, TaskKind, pad_inputs

MARKERS = ("[E1start]", "[E1end]", "[E2start]", "[E2end]")
NO_RELATION = "no_relation"


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


_DIRECTION = re.compile(r"\((e1,e2|e2,e1)\)$")


def relation_type(label: str) -> str:
    """A directed label's relation type: ``org:founded_by(e2,e1)`` → ``org:founded_by``."""
    return _DIRECTION.sub("", label)


def kbp37_f1(gold: Sequence[str], pred: Sequence[str], no_relation: str = "no_relation") -> float:
    """KBP37's and RELX's F1 (Zhang & Wang 2015; RELX's ``finetune.py``): per relation type, the
    micro-F1 over its two directed labels (a prediction counts when it equals the gold label,
    direction included), averaged over the types, in percent. The types are those of the gold
    labels and the predictions other than ``no_relation`` (RELX averages over the label set's 18
    types; the two agree whenever every type occurs, as in KBP37's and RELX's test sets)."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    types = sorted({relation_type(x) for x in (*gold, *pred) if x != no_relation})
    f1s = []
    for t in types:
        correct = sum(g == p and relation_type(g) == t for g, p in zip(gold, pred, strict=True))
        guessed = sum(p != no_relation and relation_type(p) == t for p in pred)
        positives = sum(g != no_relation and relation_type(g) == t for g in gold)
        f1s.append(2 * correct / (guessed + positives))
    return 100 * sum(f1s) / len(f1s) if f1s else 0.0


def relation_score_from_stats(stats: np.ndarray) -> float | np.ndarray:
    """The main relation score, micro F1 in percent, of the examples whose statistics are the rows.

    F1 = 2·correct / (guessed + gold), the harmonic mean of the scorer's precision and recall
    (equal up to float rounding; 0 when nothing is guessed or gold). Works on the last two axes, so
    ``stats`` may carry leading batch axes (…, n, 4).
    """
    tot = stats.sum(axis=-2).astype(np.float64)
    denom = tot[..., 1] + tot[..., 2]
    return 100 * 2 * tot[..., 0] / np.maximum(denom, 1)


# --------------------------------------------------------------------------------------------
# the task kind


def marked_words(record: Mapping[str, Any]) -> list[str]:
    """The record's tokens with the four markers around its head (e1) and tail (e2) spans."""
    (h0, h1), (t0, t1) = record["head"], record["tail"]
    words: list[str] = []
    for i, tok in enumerate(record["tokens"]):
        words += [MARKERS[0]] if i == h0 else []
        words += [MARKERS[2]] if i == t0 else []
        words.append(tok)
        words += [MARKERS[1]] if i == h1 - 1 else []
        words += [MARKERS[3]] if i == t1 - 1 else []
    return words


def marker_ids(tokenizer) -> tuple[int, int, int, int]:
    """The ids of the four markers in ``tokenizer`` (an error when they were not added)."""
    vocab = tokenizer.get_vocab()
    missing = [m for m in MARKERS if m not in vocab]
    if missing:
        raise ValueError(
            f"the tokenizer lacks the relation markers {missing}: load it with "
            "xlt.tasks.load_tokenizer(spec, encoder_dir), which adds them"
        )
    return tuple(vocab[m] for m in MARKERS)  # type: ignore[return-value]


def fit_window(body: list[int], ids: Sequence[int], room: int) -> list[int]:
    """At most ``room`` sub-words of ``body`` that keep both start markers (``ids``: the four
    marker ids): the span from the first to the last marker when it fits (centred), else the
    span from the first start marker on, else the beginnings of both entities (half each)."""
    pos = {t: body.index(t) for t in ids}
    lo, hi = min(pos.values()), max(pos.values()) + 1
    if hi - lo <= room:
        start = min(max(0, lo - (room - (hi - lo)) // 2), len(body) - room)
        return body[start : start + room]
    s1, s2 = sorted((pos[ids[0]], pos[ids[2]]))
    if s2 - s1 < room:
        return body[s1 : s1 + room]
    half = room // 2
    return body[s1 : s1 + half] + body[s2 : s2 + room - half]


class Relation(TaskKind):
    name = "relation"
    schema = "relation"
    token_level = False
    main_metric = "f1"
    metric_name = "micro-F1 without no_relation (TACRED scorer)"
    also_reported = ("f1_kbp37",)  # KBP37's and RELX's published macro-F1

    def gold(self, record: Mapping[str, Any]) -> str:
        return record["label"]

    def record_labels(self, record: Mapping[str, Any]) -> Iterable[str]:
        return [record["label"]]

    def sort_labels(self, labels: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(set(labels), key=lambda x: (x != NO_RELATION, x)))

    def prepare_tokenizer(self, tokenizer) -> None:
        """Add the four markers as special tokens (never split; a second call adds nothing)."""
        tokenizer.add_tokens(list(MARKERS), special_tokens=True)

    def encode(self, spec, tokenizer, records: Sequence[Mapping], max_length: int) -> Features:
        """Marked sentences → sub-word ids, the label id and, in ``extra``, the positions of
        ``[E1start]`` (``e1``) and ``[E2start]`` (``e2``)."""
        ids = marker_ids(tokenizer)
        label_id = {lab: i for i, lab in enumerate(spec.labels)}
        feats = Features([], [], [], [], [], kind=self.name, extra={"e1": [], "e2": []})
        if not records:
            return feats
        enc = tokenizer([marked_words(r) for r in records], is_split_into_words=True)
        for i, r in enumerate(records):
            row, words = list(enc["input_ids"][i]), enc.word_ids(i)
            if len(row) > max_length:
                inner = [p for p, w in enumerate(words) if w is not None]
                a, b = inner[0], inner[-1] + 1
                room = max_length - (len(row) - (b - a))
                row = row[:a] + fit_window(row[a:b], ids, room) + row[b:]
                feats.truncated += 1
            feats.input_ids.append(row)
            feats.targets.append(label_id.get(r.get("label"), IGNORE))
            feats.first_pos.append([])
            feats.word_index.append([])
            feats.n_words.append(1)
            feats.extra["e1"].append(row.index(ids[0]))
            feats.extra["e2"].append(row.index(ids[2]))
        return feats

    def collate(self, feats: Features, idx: np.ndarray, pad_id: int) -> dict:
        import torch

        return {
            **pad_inputs(feats, idx, pad_id),
            "labels": torch.tensor([feats.targets[i] for i in idx], dtype=torch.long),
            "e1_pos": torch.tensor([feats.extra["e1"][i] for i in idx], dtype=torch.long),
            "e2_pos": torch.tensor([feats.extra["e2"][i] for i in idx], dtype=torch.long),
        }

    def build_model(self, spec, encoder_dir: str, seed: int):
        from transformers import AutoTokenizer

        from .entity_start import EntityStartModel

        tokenizer = AutoTokenizer.from_pretrained(str(encoder_dir))
        self.prepare_tokenizer(tokenizer)
        markers = dict(zip(MARKERS, marker_ids(tokenizer), strict=True))
        return EntityStartModel.from_encoder(str(encoder_dir), spec.labels, markers, seed)

    def decode(self, spec, logits: np.ndarray, feats: Features, i: int) -> str:
        return spec.labels[int(logits.argmax(-1))]

    def scores(self, gold, pred, lang: str = "") -> dict[str, float]:
        """The TACRED scorer's micro P/R/F1 and accuracy, and KBP37's macro ``f1_kbp37``."""
        return {**relation_scores(gold, pred, NO_RELATION), "f1_kbp37": kbp37_f1(gold, pred, NO_RELATION)}  # fmt: skip

    def example_stats(self, gold, pred, labels: Sequence[str] = (), lang: str = "") -> np.ndarray:
        """Per example: (correct positive, guessed positive, gold positive, correct label)."""
        return relation_example_stats(gold, pred, NO_RELATION)

    def score_from_stats(self, stats: np.ndarray):
        return relation_score_from_stats(stats)

    def majority_baseline(self, train: Sequence[Mapping]):
        label = Counter(r["label"] for r in train).most_common(1)[0][0]
        return label, lambda gold: label


KIND = Relation()
