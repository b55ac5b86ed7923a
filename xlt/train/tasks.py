"""Task encoders: examples → sub-word features, length-bucketed batches, heads and predictions.

Token tasks put each word's label on its *first* sub-word only (the others are ignored in the loss
and never scored): the first that carries characters of the word, never a bare word-boundary piece
(SentencePiece's ``▁`` alone, which starts most pre-split Chinese and Japanese words). Sequence
tasks classify from the first token ([CLS]), or from the mean of all real tokens with
``pooling="mean"``, which lets a tiny encoder carry script-independent cues (digits, emoticons)
into the sentence vector. Batches group examples of similar length and pad dynamically, so
little compute is spent on padding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..metrics import KINDS

IGNORE = -100
POOLINGS = ("first", "mean")


@dataclass(frozen=True)
class TaskSpec:
    kind: str  # ner | tagging | classification
    labels: tuple[str, ...]
    pooling: str = "first"  # sequence tasks: first | mean

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"task kind must be one of {KINDS}, got {self.kind!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if len(set(self.labels)) != len(self.labels) or not self.labels:
            raise ValueError(f"labels must be a non-empty list without repeats: {self.labels}")

    @property
    def token_level(self) -> bool:
        return self.kind in ("ner", "tagging")

    @property
    def default_label(self) -> str:
        return "O" if "O" in self.labels else self.labels[0]


@dataclass
class Features:
    """Encoded examples of one dataset (all lists have one entry per example)."""

    input_ids: list[list[int]]
    targets: list  # per-token label ids (token tasks) or one label id
    first_pos: list[list[int]]  # token tasks: positions of each word's first sub-word
    word_index: list[list[int]]  # token tasks: the word at each of those positions
    n_words: list[int]
    truncated: int = 0  # words that fell beyond max_length (predicted as the default label)

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.fromiter((len(x) for x in self.input_ids), dtype=np.int64, count=len(self))


def encode(spec: TaskSpec, tokenizer, records: Sequence[Mapping], max_length: int) -> Features:
    label_id = {lab: i for i, lab in enumerate(spec.labels)}
    if spec.token_level:
        words = [list(r["tokens"]) for r in records]
        enc = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_length)
        is_bare = _bare_boundary(tokenizer)
        ids, targets, firsts, windex, nwords, truncated = [], [], [], [], [], 0
        for i, r in enumerate(records):
            wids, row = enc.word_ids(i), enc["input_ids"][i]
            tgt = [IGNORE] * len(wids)
            first, words = [], []
            for pos, w in enumerate(wids):
                if w is None or (words and words[-1] == w):
                    continue
                more = pos + 1 < len(wids) and wids[pos + 1] == w
                if more and is_bare(row[pos]):  # label the sub-word carrying the characters
                    continue
                tgt[pos] = label_id.get(r["tags"][w], IGNORE) if "tags" in r else IGNORE
                first.append(pos)
                words.append(w)
            ids.append(row)
            targets.append(tgt)
            firsts.append(first)
            windex.append(words)
            nwords.append(len(r["tokens"]))
            truncated += len(r["tokens"]) - 1 - max(words, default=-1)
        return Features(ids, targets, firsts, windex, nwords, truncated)
    texts = [r["text"] for r in records]
    pairs = [r.get("text_pair") for r in records]
    if any(p is not None for p in pairs):
        enc = tokenizer(texts, [p or "" for p in pairs], truncation=True, max_length=max_length)
    else:
        enc = tokenizer(texts, truncation=True, max_length=max_length)
    targets = [label_id.get(r.get("label"), IGNORE) for r in records]
    empty = [[] for _ in records]
    return Features(list(enc["input_ids"]), targets, empty, empty, [1] * len(records))


def _bare_boundary(tokenizer):
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


def bucket_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None = None, pool: int = 50
) -> list[np.ndarray]:
    """Batches of similar-length examples.

    Training (``rng`` given): shuffle, sort within pools of ``pool`` batches, shuffle the batches.
    Evaluation: sort everything by length.
    """
    n = len(lengths)
    if rng is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, n, batch_size)]
    perm = rng.permutation(n)
    chunk = batch_size * pool
    batches = []
    for s in range(0, n, chunk):
        part = perm[s : s + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def padding_efficiency(lengths: np.ndarray, batches: Sequence[np.ndarray]) -> float:
    real = sum(int(lengths[b].sum()) for b in batches)
    padded = sum(len(b) * int(lengths[b].max()) for b in batches)
    return real / max(1, padded)


def collate(feats: Features, idx: np.ndarray, pad_id: int, token_level: bool) -> dict:
    width = max(len(feats.input_ids[i]) for i in idx)
    ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(idx), width), dtype=torch.long)
    labels = torch.full((len(idx), width), IGNORE, dtype=torch.long) if token_level else None
    for row, i in enumerate(idx):
        seq = feats.input_ids[i]
        ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
        if token_level:
            labels[row, : len(seq)] = torch.tensor(feats.targets[i])
    if not token_level:
        labels = torch.tensor([feats.targets[i] for i in idx], dtype=torch.long)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def build_model(spec: TaskSpec, encoder_dir: str, seed: int):
    """A task head on top of the encoder, initialised deterministically from ``seed``."""
    from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification
    from transformers.utils import logging as hf_logging

    torch.manual_seed(seed)
    cls = (
        AutoModelForTokenClassification if spec.token_level else AutoModelForSequenceClassification
    )
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "newly initialised head" is expected here
    try:
        model = cls.from_pretrained(
            encoder_dir,
            num_labels=len(spec.labels),
            id2label=dict(enumerate(spec.labels)),
            label2id={lab: i for i, lab in enumerate(spec.labels)},
        )
    finally:
        hf_logging.set_verbosity(verbosity)
    if spec.pooling == "mean" and not spec.token_level:
        mean_pool(model, encoder_dir)
    return model


class MeanPooler(torch.nn.Module):
    """The encoder's own pooler (dense + tanh) applied to the mean of the real tokens' vectors."""

    def __init__(self, inner: torch.nn.Module):
        super().__init__()
        self.inner = inner
        self.mask: torch.Tensor | None = None

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        mask = self.mask if self.mask is not None else torch.ones(hidden_states.shape[:2])
        m = mask.to(hidden_states.device, hidden_states.dtype).unsqueeze(-1)
        mean = (hidden_states * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.inner(mean.unsqueeze(1))


def mean_pool(model, encoder_dir: str) -> None:
    base = model.base_model
    if isinstance(getattr(base, "pooler", None), MeanPooler):
        return
    if getattr(base, "pooler", None) is None:
        raise ValueError(
            f"pooling: mean needs an encoder with a pooler layer (BERT family); {encoder_dir} has "
            "none. Set the task's pooling to 'first'."
        )
    base.pooler = MeanPooler(base.pooler)

    # on the encoder itself, so a direct call of the base model (representations, MetaXL's
    # functional steps) refreshes the mask as well as a call of the whole model; it finds the
    # pooler through the module it is called on, so a deep copy of the model keeps working
    base.register_forward_pre_hook(remember_mask, with_kwargs=True)


def remember_mask(module, args, kwargs) -> None:
    """Forward pre-hook of a mean-pooled encoder: hand this call's attention mask to its pooler."""
    module.pooler.mask = kwargs.get("attention_mask", args[1] if len(args) > 1 else None)


@torch.no_grad()
def predict(
    model, spec: TaskSpec, feats: Features, pad_id: int, batch_size: int, device
) -> tuple[list, np.ndarray]:
    """Predicted labels per example and the mean first-token final-layer vector of the set."""
    model.eval()
    out: list = [None] * len(feats)
    first_sum = None
    for idx in bucket_batches(feats.lengths, batch_size):
        batch = collate(feats, idx, pad_id, spec.token_level)
        batch.pop("labels")
        batch = {k: v.to(device) for k, v in batch.items()}
        res = model(**batch, output_hidden_states=True)
        first = res.hidden_states[-1][:, 0].float().sum(0).cpu().numpy()
        first_sum = first if first_sum is None else first_sum + first
        best = res.logits.argmax(-1).cpu().numpy()
        for row, i in enumerate(idx):
            if spec.token_level:
                tags = [spec.default_label] * feats.n_words[i]
                for w, p in zip(feats.word_index[i], feats.first_pos[i], strict=True):
                    tags[w] = spec.labels[best[row, p]]
                out[i] = tags
            else:
                out[i] = spec.labels[best[row]]
    model.train()
    mean = first_sum / max(1, len(feats)) if first_sum is not None else np.zeros(0)
    return out, mean.astype(np.float32)
