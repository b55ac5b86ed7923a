"""Sequence classification: one label per text or text pair (sentiment, topic, NLI).

A record with ``text_pair`` is encoded as a pair with the tokenizer's own template
(``[CLS] premise [SEP] hypothesis [SEP]`` for BERT, ``<s> premise </s></s> hypothesis </s>`` for
XLM-R); where the tokenizer marks the second segment (BERT's ``token_type_ids``, 1 from the
hypothesis on), the model gets those segment ids too; XLM-R-family tokenizers have none. When a
pair is longer than ``max_length``, the longer of the two texts is cut first. The head classifies the first token's vector ([CLS]; ``pooling="first"``) or the mean of
all real tokens' vectors (``pooling="mean"``, through the encoder's own pooler), which lets a tiny
encoder carry script-independent cues (digits, emoticons) into the sentence vector. Metrics:
accuracy and macro-F1 in percent (accuracy is the main one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .base import IGNORE, Features, TaskKind, from_pretrained, pad_inputs


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


class Classification(TaskKind):
    name = "classification"
    schema = "classification"
    token_level = False
    main_metric = "accuracy"
    metric_name = "accuracy"

    def gold(self, record: Mapping[str, Any]) -> str:
        return record["label"]

    def record_labels(self, record: Mapping[str, Any]) -> Iterable[str]:
        return [record["label"]]

    def encode(self, spec, tokenizer, records: Sequence[Mapping], max_length: int) -> Features:
        texts = [r["text"] for r in records]
        pairs = [r.get("text_pair") for r in records]
        extra: dict[str, list] = {}
        if any(p is not None for p in pairs):
            enc = tokenizer(texts, [p or "" for p in pairs], truncation="longest_first", max_length=max_length)  # fmt: skip
            segments = enc.get("token_type_ids")
            if segments is not None and any(any(row) for row in segments):
                extra["token_type_ids"] = list(segments)
        else:
            enc = tokenizer(texts, truncation=True, max_length=max_length)
        label_id = {lab: i for i, lab in enumerate(spec.labels)}
        targets = [label_id.get(r.get("label"), IGNORE) for r in records]
        empty: list[list[int]] = [[] for _ in records]
        return Features(list(enc["input_ids"]), targets, empty, empty, [1] * len(records), kind=self.name, extra=extra)  # fmt: skip

    def collate(self, feats: Features, idx: np.ndarray, pad_id: int) -> dict:
        import torch

        labels = torch.tensor([feats.targets[i] for i in idx], dtype=torch.long)
        batch = pad_inputs(feats, idx, pad_id)
        if "token_type_ids" in feats.extra:  # BERT pairs: segment 1 from the second text on
            types = torch.zeros_like(batch["input_ids"])
            for row, i in enumerate(idx):
                seg = feats.extra["token_type_ids"][i]
                types[row, : len(seg)] = torch.tensor(seg)
            batch["token_type_ids"] = types
        return {**batch, "labels": labels}

    def build_model(self, spec, encoder_dir: str, seed: int):
        from transformers import AutoModelForSequenceClassification

        model = from_pretrained(AutoModelForSequenceClassification, spec, encoder_dir, seed)
        if spec.pooling == "mean":
            from .pooling import mean_pool

            mean_pool(model, encoder_dir)
        return model

    def decode(self, spec, logits: np.ndarray, feats: Features, i: int) -> str:
        return spec.labels[int(logits.argmax(-1))]

    def scores(self, gold, pred, lang: str = "") -> dict[str, float]:
        return classification_scores(gold, pred)

    def example_stats(self, gold, pred, labels: Sequence[str] = (), lang: str = "") -> np.ndarray:
        """Per example: the one-hot of its (gold label, predicted label) pair, flattened (k×k)."""
        index = {lab: i for i, lab in enumerate(labels)}
        k = len(labels)
        out = np.zeros((len(gold), k * k), dtype=np.int8)
        for n, (g, p) in enumerate(zip(gold, pred, strict=True)):
            out[n, index[g] * k + index[p]] = 1
        return out

    def score_from_stats(self, stats: np.ndarray):
        tot = stats.sum(axis=-2).astype(np.float64)
        k = int(round(np.sqrt(stats.shape[-1])))
        conf = tot.reshape(*tot.shape[:-1], k, k)
        return 100 * np.trace(conf, axis1=-2, axis2=-1) / np.maximum(conf.sum(axis=(-2, -1)), 1)

    def majority_baseline(self, train: Sequence[Mapping]):
        label = Counter(r["label"] for r in train).most_common(1)[0][0]
        return label, lambda gold: label


KIND = Classification()
