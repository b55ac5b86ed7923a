"""Token tagging (POS and any per-word label): one label per word, on its first sub-word.

Each word's label goes on its *first* sub-word only (the others are ignored in the loss and never
scored): the first that carries characters of the word, never a bare word-boundary piece
(SentencePiece's ``▁`` alone, which starts most pre-split Chinese and Japanese words). Words cut off
by ``max_length`` are predicted as the default label (``O`` where the label set has one). Metric:
token accuracy in percent (not XTREME's "POS F1").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .base import IGNORE, Features, TaskKind, from_pretrained, pad_inputs


def token_accuracy(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> float:
    check_lengths(gold, pred)
    n = sum(len(g) for g in gold)
    ok = sum(a == b for g, p in zip(gold, pred, strict=True) for a, b in zip(g, p, strict=True))
    return 100 * ok / max(1, n)


def check_lengths(gold, pred) -> None:
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sequences but {len(pred)} predicted")
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sequence {i}: {len(g)} gold tags but {len(p)} predicted")


def bare_boundary(tokenizer):
    """``id -> bool``: is the sub-word a bare word-boundary piece (SentencePiece's ``▁`` alone)?

    With words given pre-split, XLM-R's tokenizer starts most Chinese and Japanese words with a
    bare ``▁`` followed by the characters; such a piece carries none of the word's characters.
    """
    cache: dict[int, bool] = {}

    def is_bare(token_id: int) -> bool:
        if token_id not in cache:
            piece = tokenizer.convert_ids_to_tokens(token_id)
            cache[token_id] = bool(piece) and not piece.strip("\u2581")
        return cache[token_id]

    return is_bare


def encode_words(
    tokenizer,
    records: Sequence[Mapping],
    max_length: int,
    label_ids: Sequence[Sequence[int]] | None,
) -> Features:
    """Pre-split words → sub-word ids, each word's first sub-word position, and ``label_ids``
    (one id per word, or ``None``: no targets) on those positions (IGNORE elsewhere)."""
    words = [list(r["tokens"]) for r in records]
    enc = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_length)
    is_bare = bare_boundary(tokenizer)
    ids, targets, firsts, windex, nwords, truncated = [], [], [], [], [], 0
    for i, r in enumerate(records):
        wids, row = enc.word_ids(i), enc["input_ids"][i]
        tgt = [IGNORE] * len(wids)
        first, kept = [], []
        for pos, w in enumerate(wids):
            if w is None or (kept and kept[-1] == w):
                continue
            more = pos + 1 < len(wids) and wids[pos + 1] == w
            if more and is_bare(row[pos]):  # label the sub-word carrying the characters
                continue
            tgt[pos] = label_ids[i][w] if label_ids is not None else IGNORE
            first.append(pos)
            kept.append(w)
        ids.append(row)
        targets.append(tgt)
        firsts.append(first)
        windex.append(kept)
        nwords.append(len(r["tokens"]))
        truncated += len(r["tokens"]) - 1 - max(kept, default=-1)
    return Features(ids, targets, firsts, windex, nwords, truncated)


class Tagging(TaskKind):
    name = "tagging"
    schema = "tagging"
    token_level = True
    main_metric = "accuracy"
    metric_name = "token accuracy"
    # UD POS, configs/real-e5.yaml in bf16 against fp32 on two CPU kinds: every language within
    # 0.5 points (docs/real-data.md); NER (a subclass) was not within 1.0 F1 and keeps fp32
    bf16_parity = True

    def gold(self, record: Mapping[str, Any]) -> list[str]:
        return record["tags"]

    def record_labels(self, record: Mapping[str, Any]) -> Iterable[str]:
        return record["tags"]

    def sort_labels(self, labels: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(set(labels), key=lambda x: (x != "O", x)))

    def encode(self, spec, tokenizer, records: Sequence[Mapping], max_length: int) -> Features:
        label_id = {lab: i for i, lab in enumerate(spec.labels)}
        labels = [[label_id.get(t, IGNORE) for t in r["tags"]] if "tags" in r else [IGNORE] * len(r["tokens"]) for r in records]  # fmt: skip
        feats = encode_words(tokenizer, records, max_length, labels)
        feats.kind = self.name
        return feats

    def collate(self, feats: Features, idx: np.ndarray, pad_id: int) -> dict:
        import torch

        batch = pad_inputs(feats, idx, pad_id)
        labels = torch.full(batch["input_ids"].shape, IGNORE, dtype=torch.long)
        for row, i in enumerate(idx):
            labels[row, : len(feats.targets[i])] = torch.tensor(feats.targets[i])
        return {**batch, "labels": labels}

    def build_model(self, spec, encoder_dir: str, seed: int):
        from transformers import AutoModelForTokenClassification

        return from_pretrained(AutoModelForTokenClassification, spec, encoder_dir, seed)

    def decode(self, spec, logits: np.ndarray, feats: Features, i: int) -> list[str]:
        best = logits.argmax(-1)
        tags = [spec.default_label] * feats.n_words[i]
        for w, p in zip(feats.word_index[i], feats.first_pos[i], strict=True):
            tags[w] = spec.labels[best[p]]
        return tags

    def scores(self, gold, pred, lang: str = "") -> dict[str, float]:
        return {"accuracy": token_accuracy(gold, pred)}

    def example_stats(self, gold, pred, labels: Sequence[str] = (), lang: str = "") -> np.ndarray:
        """Per sentence: (correct tokens, tokens)."""
        rows = [(sum(a == b for a, b in zip(g, p, strict=True)), len(g)) for g, p in zip(gold, pred, strict=True)]  # fmt: skip
        return np.asarray(rows, dtype=np.int32).reshape(-1, 2)

    def score_from_stats(self, stats: np.ndarray):
        tot = stats.sum(axis=-2).astype(np.float64)
        return 100 * tot[..., 0] / np.maximum(tot[..., 1], 1)

    def majority_baseline(self, train: Sequence[Mapping]):
        label = majority_label(self, train)
        return label, lambda gold: [label] * len(gold)


def majority_label(kind: TaskKind, train: Sequence[Mapping]) -> str:
    """The most frequent label of ``train`` (ties: the first seen)."""
    return Counter(lab for r in train for lab in kind.record_labels(r)).most_common(1)[0][0]


KIND = Tagging()
