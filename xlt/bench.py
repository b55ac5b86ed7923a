"""``make bench``: speed and efficiency measurements, printed as ratios in one run.

(a) MLM pretraining throughput (real tokens per second) of xlt's implementation (packed
    sequences, vocabulary logits only at masked positions) vs stock ``BertForMaskedLM`` on the
    same sentences and model size with every sentence padded to the maximum length;
(b) padding efficiency of the fine-tuning loop's length-bucketed batches (real tokens / tokens
    processed) on the default world's English NER training set;
(c) learned model selection: scorer training + selection for all targets of a task on a
    240-candidate pool (the paper's pair-batched scorer training, hyper-parameter search
    ``--lms-search``).

``--lms-control`` runs only the LMS positive control instead: the paper's scorer and grid on
planted pools (xlt.studies.lms.bench.make_planted_pool) whose Kendall τ ceiling is known, with
signal (``shared``) and without (``none``); ``--signals`` adds the model- and language-feature
controls (eng, pivot, target, fusion, lang).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from .encoder import (
    SPECIAL_TOKENS,
    PretrainConfig,
    TinyBertConfig,
    masked_only_loss,
    new_tiny_bert,
    pack,
    packed_batches,
    tokenize_corpus,
    train_tokenizer,
)
from .tasks import TaskSpec, bucket_batches, encode, padding_efficiency
from .train.loop import Hook, LoopConfig, LoopState, make_optimizer
from .world import NER_LABELS, UPOS_LABELS, World
from .world.grammar import sentiment_frame, tagging_frame


def _sentences(n: int, langs=("en", "de", "es", "ru", "ar", "zh"), seed: int = 1) -> dict[str, list[str]]:  # fmt: skip
    world = World(langs, seed=seed)
    rng = random.Random(seed)
    out: dict[str, list[str]] = {lang: [] for lang in langs}
    for i in range(n):
        lang = langs[i % len(langs)]
        frame = tagging_frame(rng) if i % 2 else sentiment_frame(rng, rng.choice(["positive", "negative", "neutral"]))  # fmt: skip
        out[lang].append(world.realise(frame, lang, rng).text)
    return out


def _time_steps(model, batches, loss_fn, steps: int, warmup: int = 3) -> tuple[float, int]:
    """Seconds for ``steps`` optimiser steps (after ``warmup``) and the real tokens they saw."""
    opt = make_optimizer(model, LoopConfig(lr=5e-4))
    model.train()
    it = iter(batches)
    real = 0
    for i in range(warmup + steps):
        if i == warmup:
            t0 = time.perf_counter()
            real = 0
        batch = next(it)
        loss = loss_fn(model, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        real += int(batch["attention_mask"].sum()) if "attention_mask" in batch else batch["input_ids"].numel()  # fmt: skip
    return time.perf_counter() - t0, real


def bench_mlm(n_sentences: int = 6000, steps: int = 20, batch_size: int = 32, seq_len: int = 128) -> dict:  # fmt: skip
    size = TinyBertConfig()
    texts = _sentences(n_sentences)
    flat = [t for ts in texts.values() for t in ts]
    with tempfile.TemporaryDirectory() as tmp:
        tok = train_tokenizer(flat, size.vocab_size, Path(tmp) / "tok", seq_len)
    cfg = PretrainConfig(batch_size=batch_size, seq_len=seq_len)
    # ours: monolingual packed blocks, masked-only logits
    blocks = torch.cat([pack(tokenize_corpus(tok, ts), seq_len, tok.cls_token_id, tok.sep_token_id) for ts in texts.values()])  # fmt: skip
    ours = new_tiny_bert(size, tok, seed=1)
    t_ours, real_ours = _time_steps(ours, _cycle(packed_batches(blocks, batch_size, tok, cfg)), masked_only_loss, steps)  # fmt: skip
    # stock: one sentence per row padded to the maximum length, BertForMaskedLM's own loss
    stock = new_tiny_bert(size, tok, seed=1)
    t_stock, real_stock = _time_steps(stock, _stock_batches(tok, flat, batch_size, seq_len, cfg), lambda m, b: m(**b).loss, steps)  # fmt: skip
    ours_tps, stock_tps = real_ours / t_ours, real_stock / t_stock
    return {
        "ours_tokens_per_s": round(ours_tps),
        "stock_tokens_per_s": round(stock_tps),
        "ratio": round(ours_tps / stock_tps, 2),
        "steps": steps,
        "batch_size": batch_size,
        "seq_len": seq_len,
        "model": f"BERT hidden {size.hidden_size}, {size.layers} layers, vocab {len(tok)}",
    }


def _cycle(factory):
    epoch = 0
    while True:
        yield from factory(epoch)
        epoch += 1


def _stock_batches(tok, texts, batch_size, seq_len, cfg):
    g = torch.Generator().manual_seed(0)
    from .encoder import mask_tokens

    special = [tok.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS]
    while True:
        for i in range(0, len(texts) - batch_size + 1, batch_size):
            enc = tok(texts[i : i + batch_size], padding="max_length", truncation=True, max_length=seq_len, return_tensors="pt")  # fmt: skip
            inputs, labels = mask_tokens(enc["input_ids"], mask_prob=cfg.mask_prob, mask_id=tok.mask_token_id, vocab_size=len(tok), special_ids=special, generator=g)  # fmt: skip
            yield {"input_ids": inputs, "attention_mask": enc["attention_mask"], "labels": labels}


def bench_padding(n: int = 2000, batch_size: int = 32) -> dict:
    world = World(("en",), seed=1)
    rng = random.Random(1)
    recs = []
    for i in range(n):
        s = world.realise(tagging_frame(rng), "en", rng)
        recs.append({"id": str(i), "tokens": s.tokens, "tags": s.ner})
    with tempfile.TemporaryDirectory() as tmp:
        tok = train_tokenizer([" ".join(r["tokens"]) for r in recs], 2000, Path(tmp) / "tok")
    feats = encode(TaskSpec("ner", NER_LABELS), tok, recs, 128)
    lengths = feats.lengths
    eff = np.mean([padding_efficiency(lengths, bucket_batches(lengths, batch_size, np.random.default_rng(e))) for e in range(3)])  # fmt: skip
    naive = [np.arange(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]
    return {
        "bucketed": round(float(eff), 4),
        "unsorted_dynamic": round(padding_efficiency(lengths, naive), 4),
        "pad_to_128": round(float(lengths.mean()) / 128, 4),
    }


class _StepTimer(Hook):
    """Wall time of the steps after the first ``warmup`` ones (CUDA work synchronised)."""

    def __init__(self, warmup: int):
        self.warmup = warmup

    def _sync(self, state: LoopState) -> None:
        if state.device.type == "cuda":
            torch.cuda.synchronize(state.device)

    def on_step_end(self, state: LoopState) -> None:
        if state.step == self.warmup:
            self._sync(state)
            state.extra["t_timed"] = time.perf_counter()

    def on_train_end(self, state: LoopState) -> None:
        self._sync(state)
        state.extra["timed_seconds"] = time.perf_counter() - state.extra["t_timed"]


CANDIDATE_SIZES = {
    # bert-base-multilingual-cased's shape (randomly initialised: no hub access needed)
    "paper": {"vocab_size": 119547, "hidden_size": 768, "num_hidden_layers": 12,
              "num_attention_heads": 12, "intermediate_size": 3072},
    "tiny": {"vocab_size": 1000, "hidden_size": 32, "num_hidden_layers": 1,
             "num_attention_heads": 2, "intermediate_size": 64},
}  # fmt: skip


def bench_candidate_step(size: str = "paper", steps: int = 20, batch_size: int = 32, seq_len: int = 128, device: str = "auto", precision: str = "bf16", warmup: int = 3) -> dict:  # fmt: skip
    """Fine-tuning throughput of one candidate at paper size (an mBERT-shaped token classifier,
    batch 32 x 128, AdamW) through the one training loop, on the GPU when there is one."""
    from transformers import BertConfig, BertForTokenClassification

    from .train.loop import resolve_device, train

    cfg = BertConfig(**CANDIDATE_SIZES[size], max_position_embeddings=512, num_labels=len(NER_LABELS))  # fmt: skip
    torch.manual_seed(1)
    model = BertForTokenClassification(cfg)
    gen = torch.Generator().manual_seed(1)
    shape = (batch_size, seq_len)

    def batches(_epoch):
        for _ in range(warmup + steps):
            ids = torch.randint(5, cfg.vocab_size, shape, generator=gen)
            labels = torch.randint(0, cfg.num_labels, shape, generator=gen)
            yield {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}

    dev = resolve_device(device)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    loop = LoopConfig(lr=5e-5, epochs=1, device=device, precision=precision, warmup_ratio=0.1)
    state = train(model, batches, warmup + steps, loop, hooks=[_StepTimer(warmup)], desc="candidate-step")  # fmt: skip
    secs = state.extra["timed_seconds"]
    return {
        "size": size,
        "parameters": sum(p.numel() for p in model.parameters()),
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
        "precision": precision,
        "steps": steps,
        "batch": f"{batch_size} x {seq_len}",
        "steps_per_s": round(steps / secs, 3),
        "sequences_per_s": round(steps * batch_size / secs, 1),
        "tokens_per_s": round(steps * batch_size * seq_len / secs),
        "peak_gpu_mem_gb": (
            round(torch.cuda.max_memory_allocated(dev) / 2**30, 2) if dev.type == "cuda" else None
        ),
        "final_loss": round(state.losses[-1], 4),
    }


E5_SHAPE = {"vocab_size": 250037, "hidden_size": 384, "num_hidden_layers": 12,
            "num_attention_heads": 12, "intermediate_size": 1536}  # fmt: skip
# make bench --quick (the tests): the same code at a toy shape
QUICK_SHAPE = {"vocab_size": 4000, "hidden_size": 64, "num_hidden_layers": 2,
               "num_attention_heads": 2, "intermediate_size": 128}  # fmt: skip


def bench_precision(steps: int = 8, batch_size: int = 16, seq_len: int = 48, eval_batch: int = 64, rounds: int = 3, shape: dict | None = None) -> dict:  # fmt: skip
    """fp32 against bf16 for multilingual-e5-small-shaped fine-tuning (the input embeddings
    frozen, as the real-data configs train it; AdamW; batch 16 x 48, a typical sentence batch)
    and scoring (batch 64), on the CPU, with what ``precision: auto`` would choose here.

    The precisions alternate round by round and each keeps its fastest round, so a machine whose
    speed drifts (shared cores) biases neither. The model is randomly initialised: speed depends on
    the shapes, not the weights (accuracy parity is measured on real runs, docs/real-data.md)."""
    from transformers import BertConfig, BertForTokenClassification

    from .train.loop import autocast
    from .train.precision import resolve

    shape = shape or E5_SHAPE
    cfg = BertConfig(**shape, max_position_embeddings=514, num_labels=len(NER_LABELS))
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(5, cfg.vocab_size, (batch_size, seq_len), generator=gen)
    labels = torch.randint(0, cfg.num_labels, (batch_size, seq_len), generator=gen)
    eval_ids = torch.randint(5, cfg.vocab_size, (eval_batch, seq_len), generator=gen)
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}
    device = torch.device("cpu")
    runs = {}
    for precision in ("fp32", "bf16"):
        torch.manual_seed(1)
        model = BertForTokenClassification(cfg)
        model.get_input_embeddings().weight.requires_grad_(False)
        runs[precision] = (model, make_optimizer(model, LoopConfig(lr=1e-4)))

    def train_round(precision: str) -> float:
        model, opt = runs[precision]
        model.train()
        t0 = time.perf_counter()
        for _ in range(steps):
            with autocast(device, precision):
                loss = model(**batch).loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return (time.perf_counter() - t0) / steps

    @torch.no_grad()
    def eval_round(precision: str) -> float:
        model = runs[precision][0].eval()
        t0 = time.perf_counter()
        for _ in range(steps):
            with autocast(device, precision):
                model(input_ids=eval_ids, attention_mask=torch.ones_like(eval_ids))
        return (time.perf_counter() - t0) / steps

    for precision in runs:  # warm-up: kernels, allocator
        train_round(precision)
        eval_round(precision)
    best = {(p, kind): math.inf for p in runs for kind in ("train", "eval")}
    for _ in range(rounds):
        for precision in runs:
            best[precision, "train"] = min(best[precision, "train"], train_round(precision))
            best[precision, "eval"] = min(best[precision, "eval"], eval_round(precision))
    tok = {k: round((batch_size if k[1] == "train" else eval_batch) * seq_len / v) for k, v in best.items()}  # fmt: skip
    auto = resolve("auto", "cpu", "bundled", "tagging")
    return {
        "model": (
            "multilingual-e5-small shape (12 x 384, vocab 250k, embeddings frozen)"
            if shape == E5_SHAPE
            else f"BERT {shape['num_hidden_layers']} x {shape['hidden_size']}, vocab {shape['vocab_size']}"
        ),
        "batch": f"train {batch_size} x {seq_len}, score {eval_batch} x {seq_len}",
        "threads": torch.get_num_threads(),
        "cpu": auto["cpu"]["model"],
        "bf16_flags": auto["cpu"]["bf16_flags"],
        "auto_chooses": auto["used"],
        "train_tokens_per_s": {p: tok[p, "train"] for p in runs},
        "score_tokens_per_s": {p: tok[p, "eval"] for p in runs},
        "train_speedup": round(best["fp32", "train"] / best["bf16", "train"], 2),
        "score_speedup": round(best["fp32", "eval"] / best["bf16", "eval"], 2),
    }


def print_precision(r: dict) -> None:
    print(f"(g) fp32 vs bf16, {r['model']}, {r['batch']}, {r['threads']} threads, {r['cpu']} (bf16 flags {r['bf16_flags'] or 'none'}; precision auto chooses {r['auto_chooses']} for tagging):")  # fmt: skip
    t, s = r["train_tokens_per_s"], r["score_tokens_per_s"]
    print(f"    fine-tuning: fp32 {t['fp32']} tokens/s, bf16 {t['bf16']} tokens/s: {r['train_speedup']}x")  # fmt: skip
    print(f"    scoring:     fp32 {s['fp32']} tokens/s, bf16 {s['bf16']} tokens/s: {r['score_speedup']}x")  # fmt: skip


def print_candidate_step(r: dict) -> None:
    print(f"(d) one paper-size candidate: {r['size']} BERT ({r['parameters'] / 1e6:.0f}M parameters), token classification, batch {r['batch']}, AdamW, {r['precision']} on {r['device']}:")  # fmt: skip
    print(f"    {r['steps_per_s']} steps/s, {r['sequences_per_s']} sequences/s, {r['tokens_per_s']} tokens/s; peak GPU memory {r['peak_gpu_mem_gb']} GB")  # fmt: skip


def bench_metaxl_step(steps: int = 20, batch_size: int = 16, seq_len: int = 64, warmup: int = 3) -> dict:  # fmt: skip
    """Cost of one MetaXL (joint) step relative to one JT step, the comparison the study makes:
    JT pairs each source batch with a target batch, (L_s + L_t)/2; MetaXL (joint) adds the RTN
    after the last layer and the meta step (differentiable one-step update, meta loss on a second
    target batch, φ's update). A tiny BERT token classifier of the default size, fp32 on the CPU,
    eager attention for both (as the study runs them), both timed in this one run through the
    one training loop."""
    from transformers import BertConfig, BertForTokenClassification

    from xlt.studies.metaxl.metaxl import (
        MetaXLConfig,
        MetaXLStep,
        PairTarget,
        RTNSet,
        eager_attention,
    )

    from .train.loop import train

    size = TinyBertConfig()
    cfg = BertConfig(vocab_size=size.vocab_size, hidden_size=size.hidden_size, num_hidden_layers=size.layers, num_attention_heads=size.heads, intermediate_size=size.intermediate_size, num_labels=len(NER_LABELS))  # fmt: skip
    gen = torch.Generator().manual_seed(1)
    data = [
        {"input_ids": (ids := torch.randint(5, cfg.vocab_size, (batch_size, seq_len), generator=gen)),
         "attention_mask": torch.ones_like(ids),
         "labels": torch.randint(0, cfg.num_labels, (batch_size, seq_len), generator=gen)}
        for _ in range(warmup + steps + 2)
    ]  # fmt: skip
    loop = LoopConfig(lr=3e-5, device="cpu", warmup_ratio=0.0)
    res = {}
    for name in ("jt", "metaxl"):
        torch.manual_seed(1)
        model = BertForTokenClassification(cfg)
        eager_attention(model)
        rtns = RTNSet(model, (-1,), seed=1) if name == "metaxl" else None
        hooks: list[Hook] = [PairTarget(lambda _e: data[1:], rtns)]
        if rtns is not None:
            hooks.append(MetaXLStep(rtns, MetaXLConfig(meta_lr=3e-5), lambda _e: data[2:]))
        hooks.append(_StepTimer(warmup))
        state = train(model, lambda _e: data[: warmup + steps], warmup + steps, loop, hooks=hooks, desc=f"{name}-step")  # fmt: skip
        res[f"{name}_step_s"] = round(state.extra["timed_seconds"] / steps, 5)
    return {
        **res,
        "ratio": round(res["metaxl_step_s"] / res["jt_step_s"], 2),
        "steps": steps,
        "batch": f"{batch_size} x {seq_len} source + {batch_size} x {seq_len} target",
        "model": f"BERT hidden {size.hidden_size}, {size.layers} layers, RTN after the last layer",
    }


def print_metaxl_step(r: dict) -> None:
    print(f"(e) MetaXL (joint) step vs JT step (both paired), {r['model']}, batch {r['batch']}, fp32 CPU:")  # fmt: skip
    print(f"    JT {r['jt_step_s'] * 1000:.1f} ms, MetaXL (joint) {r['metaxl_step_s'] * 1000:.1f} ms per step; ratio {r['ratio']:.2f}x   (target <= 3.5)")  # fmt: skip


def bench_iwda_step(steps: int = 20, batch_size: int = 16, seq_len: int = 64, warmup: int = 3, k: int = 9) -> dict:  # fmt: skip
    """Cost of one IWDA step (source step + target forward + critic update with gradient penalty +
    λ·W₁ through the model + importance-weight update) relative to one zero-shot step on the same
    source batches and model (a tiny BERT sentence classifier of the default size, critic 2048
    wide, fp32 CPU, both timed in this one run through the one training loop); and the time of
    importance-weight estimation (confusion matrix, target distribution, QP, shrinkage) from 10k
    source and 10k target predictions over ``k`` classes."""
    from transformers import BertConfig, BertForSequenceClassification

    from xlt.studies.iwda.iwda import (
        IWDA,
        IWDAConfig,
        LabelShift,
        label_shift,
        weights_positive_control,
    )

    from .train.loop import train

    size = TinyBertConfig()
    cfg = BertConfig(vocab_size=size.vocab_size, hidden_size=size.hidden_size, num_hidden_layers=size.layers, num_attention_heads=size.heads, intermediate_size=size.intermediate_size, num_labels=3)  # fmt: skip
    gen = torch.Generator().manual_seed(1)
    ids = lambda: torch.randint(5, cfg.vocab_size, (batch_size, seq_len), generator=gen)  # noqa: E731
    source = [{"input_ids": (x := ids()), "attention_mask": torch.ones_like(x), "labels": torch.randint(0, 3, (batch_size,), generator=gen)} for _ in range(warmup + steps)]  # fmt: skip
    target = [{"input_ids": (x := ids()), "attention_mask": torch.ones_like(x)} for _ in range(warmup + steps)]  # fmt: skip
    shift = LabelShift(np.full(3, 1 / 3), np.eye(3) / 3, np.array([0.2, 0.3, 0.5]), np.ones(3), np.ones(3), True)  # fmt: skip
    loop = LoopConfig(lr=1e-5, device="cpu")
    res = {}
    for name in ("zero_shot", "iwda"):
        torch.manual_seed(1)
        model = BertForSequenceClassification(cfg)
        hooks: list[Hook] = [_StepTimer(warmup)]
        if name == "iwda":
            hooks.insert(0, IWDA(lambda _e: target, IWDAConfig(), shift, token_level=False))
        state = train(model, lambda _e: source, warmup + steps, loop, hooks=hooks, desc=f"{name}-step")  # fmt: skip
        res[f"{name}_step_s"] = round(state.extra["timed_seconds"] / steps, 5)
    rng = np.random.default_rng(1)
    gold, tgt = rng.integers(0, k, 10_000), rng.integers(0, k, 10_000)
    pred = np.where(rng.random(10_000) < 0.8, gold, rng.integers(0, k, 10_000))
    t0 = time.perf_counter()
    label_shift("iwda", pred, gold, tgt, k)
    iw_s = round(time.perf_counter() - t0, 4)
    control = {f"tv{tv}": weights_positive_control(tv) for tv in (0.3, 0.0)}
    return {
        **res,
        "weights_control": control,
        "ratio": round(res["iwda_step_s"] / res["zero_shot_step_s"], 2),
        "iw_estimation_s": iw_s,
        "iw_classes": k,
        "steps": steps,
        "batch": f"{batch_size} x {seq_len} per domain",
        "model": f"BERT hidden {size.hidden_size}, {size.layers} layers, critic 2048 wide",
    }


def print_iwda_step(r: dict) -> None:
    print(f"(f) IWDA step vs zero-shot step, {r['model']}, batch {r['batch']}, fp32 CPU:")
    print(f"    zero-shot {r['zero_shot_step_s'] * 1000:.1f} ms, IWDA {r['iwda_step_s'] * 1000:.1f} ms per step; ratio {r['ratio']:.2f}x")  # fmt: skip
    print(f"    importance-weight estimation from 10k target predictions ({r['iw_classes']} classes): {r['iw_estimation_s'] * 1000:.1f} ms")  # fmt: skip
    c, n = r["weights_control"]["tv0.3"], r["weights_control"]["tv0.0"]
    print(f"    weights positive control (fixed classifier, {c['classes']} classes, App. C: lr_iw {c['lr_iw']}, lambda_iw {c['lambda_iw']}, rho {c['lambda_iw_init']}, batch {c['batch_size']}/domain):")  # fmt: skip
    print(f"      label shift TV {c['tv']}: l1 to the true w {c['true']}: {c['l1_init']:.3f} at w(0) -> {c['l1_final']:.3f} after {c['steps']} steps; within {c['tolerance']} from step {c['first_step_within']}   (target <= {c['tolerance']} by step 1000)")  # fmt: skip
    print(f"      no shift: max |w - 1| over {n['steps']} steps {n['max_abs_w_minus_1']:.3f}   (target <= 0.1)")  # fmt: skip


def _e5_records(n: int, seed: int = 1) -> list[dict]:
    """``n`` English UPOS-tagged sentences of the synthetic world."""
    world, rng = World(("en",), seed=seed), random.Random(seed)
    sents = [world.realise(tagging_frame(rng), "en", rng) for _ in range(n)]
    return [{"id": str(i), "tokens": s.tokens, "tags": s.upos} for i, s in enumerate(sents)]  # fmt: skip


def _e5_arm(arm: str, enc_dir: str, n: int, batch_size: int, epochs: int, threads: int) -> dict:
    """One arm of :func:`bench_e5_finetune`, run in its own process (so its peak RSS is its own)."""
    import resource

    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from .finetune import FinetuneConfig, finetune

    torch.set_num_threads(threads)
    records, labels = _e5_records(n), UPOS_LABELS
    settings = {"lr": 5e-5, "weight_decay": 0.01, "warmup_ratio": 0.1}
    spec = TaskSpec("tagging", tuple(labels))
    tok = AutoTokenizer.from_pretrained(enc_dir)
    feats = encode(spec, tok, records, 128)
    real = int(feats.lengths.sum()) * epochs
    if arm == "xlt":
        cfg = FinetuneConfig("tagging", tuple(labels), epochs=epochs, batch_size=batch_size, seed=1, device="cpu", freeze_embeddings=True, **settings)  # fmt: skip
        info = finetune(cfg, enc_dir, records, {}).info
        seconds, padding = info["train_seconds"], info["padding_efficiency"]
    else:
        from transformers import DataCollatorForTokenClassification, Trainer, TrainingArguments

        data = [{"input_ids": i, "labels": t} for i, t in zip(feats.input_ids, feats.targets, strict=True)]  # fmt: skip
        model = AutoModelForTokenClassification.from_pretrained(enc_dir, num_labels=len(labels))
        with tempfile.TemporaryDirectory() as tmp:
            args = TrainingArguments(tmp, per_device_train_batch_size=batch_size, num_train_epochs=epochs, seed=1, use_cpu=True, report_to=[], save_strategy="no", logging_strategy="no", disable_tqdm=True, learning_rate=settings["lr"], weight_decay=settings["weight_decay"], warmup_steps=settings["warmup_ratio"])  # fmt: skip
            trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=DataCollatorForTokenClassification(tok))  # fmt: skip
            seconds = trainer.train().metrics["train_runtime"]
        padding = None
    return {"tokens_per_s": real / seconds, "seconds": seconds, "real_tokens": real, "padding": padding,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}  # fmt: skip


def bench_e5_finetune(n: int = 200, batch_size: int = 16, epochs: int = 1, threads: int = 2, encoder_dir: str | None = None, rounds: int = 2) -> dict:  # fmt: skip
    """Fine-tuning real tokens/s of multilingual-e5-small (the bundled encoder) on ``n`` English
    UPOS sentences: xlt's loop (frozen word embeddings, length-bucketed dynamic padding) vs the
    stock Hugging Face ``Trainer`` (same batch size, lr, schedule, epochs). Each arm runs in its
    own process (so its peak resident memory is its own), ``rounds`` times in the order xlt,
    stock, stock, xlt, …; the fastest round of each arm is reported (a shared machine's load
    only ever slows a round down)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    order = [arm for r in range(rounds) for arm in (("xlt", "stock") if r % 2 == 0 else ("stock", "xlt"))]  # fmt: skip
    runs: dict[str, list[dict]] = {"xlt": [], "stock": []}
    with tempfile.TemporaryDirectory() as tmp:
        if encoder_dir is None:
            from .bundled import materialise

            encoder_dir = str(Path(tmp) / "e5")
            materialise(encoder_dir)
        for arm in order:
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as ex:
                runs[arm].append(ex.submit(_e5_arm, arm, encoder_dir, n, batch_size, epochs, threads).result())  # fmt: skip
    arms = {arm: max(rs, key=lambda r: r["tokens_per_s"]) for arm, rs in runs.items()}
    x, s = arms["xlt"], arms["stock"]
    return {
        "sentences": n,
        "batch_size": batch_size,
        "epochs": epochs,
        "xlt_tokens_per_s": round(x["tokens_per_s"], 1),
        "stock_tokens_per_s": round(s["tokens_per_s"], 1),
        "ratio": round(x["tokens_per_s"] / s["tokens_per_s"], 2),
        "xlt_peak_rss_gb": round(x["peak_rss_gb"], 2),
        "stock_peak_rss_gb": round(s["peak_rss_gb"], 2),
        "real_tokens": x["real_tokens"],
        "xlt_padding_efficiency": x["padding"],
        "rounds": {arm: [round(r["tokens_per_s"], 1) for r in rs] for arm, rs in runs.items()},
    }


def print_e5_finetune(r: dict) -> None:
    print(f"(g) fine-tuning multilingual-e5-small (4-bit bundled, fp32 CPU), UPOS on {r['sentences']} English sentences, batch {r['batch_size']}, {r['epochs']} epoch(s):")  # fmt: skip
    print(f"    xlt loop (frozen embeddings, bucketed): {r['xlt_tokens_per_s']:>7} real tokens/s, peak RSS {r['xlt_peak_rss_gb']} GB")  # fmt: skip
    print(f"    stock HF Trainer:                       {r['stock_tokens_per_s']:>7} real tokens/s, peak RSS {r['stock_peak_rss_gb']} GB")  # fmt: skip
    print(f"    ratio: {r['ratio']:.2f}x   (target >= 1.5); xlt padding efficiency {r['xlt_padding_efficiency']:.3f}; best of rounds {r['rounds']}")  # fmt: skip


def bench_interpolation(n_models: int = 40, n_dev: int = 300, seed: int = 1) -> dict:
    """Interpolated models scored per second on two NER dev sets of the default world's size
    (en and de, ``n_dev`` sentences each) with the default tiny encoder's shape, and the memory
    the interpolator holds (the three endpoint copies) relative to the model's own weights."""
    import resource

    from xlt.studies.interpolation.interpolation import GridScorer, Interpolator, model_bytes

    from .tasks import build_model

    world = World(("en", "de"), seed=seed)
    rng = random.Random(seed)
    sets = {}
    for lang in ("en", "de"):
        recs = []
        for i in range(n_dev):
            s = world.realise(tagging_frame(rng), lang, rng)
            recs.append({"id": f"{lang}{i}", "tokens": s.tokens, "tags": s.ner})
        sets[(lang, "dev")] = recs
    size = TinyBertConfig()
    spec = TaskSpec("ner", NER_LABELS)
    with tempfile.TemporaryDirectory() as tmp:
        texts = [" ".join(r["tokens"]) for recs in sets.values() for r in recs]
        tok = train_tokenizer(texts, size.vocab_size, Path(tmp) / "tok")
        new_tiny_bert(size, tok, seed=seed).save_pretrained(Path(tmp) / "enc")
        tok.save_pretrained(Path(tmp) / "enc")
        model = build_model(spec, str(Path(tmp) / "enc"), seed).eval()
    g = torch.Generator().manual_seed(seed)
    base = model.state_dict()
    states = {
        e: {k: v + 0.01 * torch.randn(v.shape, generator=g) if v.is_floating_point() else v.clone()
            for k, v in base.items()}
        for e in ("src", "tgt", "bi")
    }  # fmt: skip
    interp = Interpolator(model, states)
    del states, base
    scorer = GridScorer(interp, spec, tok, sets, 128, 128, "cpu")
    alphas = np.linspace(-0.5, 1.5, n_models)
    scorer.score(0.0, 0.0)  # warm-up
    t0 = time.perf_counter()
    for a in alphas:
        scorer.score(float(a), 0.0)
    seconds = time.perf_counter() - t0
    return {
        "models": n_models,
        "sets": len(sets),
        "sentences_per_set": n_dev,
        "models_per_second": round(n_models / seconds, 2),
        "model_mb": round(model_bytes(model) / 2**20, 2),
        "held_mb": round(interp.held_bytes() / 2**20, 2),
        "copies": round(interp.held_bytes() / model_bytes(model), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def print_interpolation(r: dict) -> None:
    print(f"(h) interpolation: {r['models']} interpolated models, each scored on {r['sets']} NER dev sets of {r['sentences_per_set']} sentences:")  # fmt: skip
    print(f"    {r['models_per_second']:.2f} models/s (each built in place from the endpoint tensors, no reload)")  # fmt: skip
    print(f"    held endpoint tensors: {r['held_mb']} MB = {r['copies']:.2f} x the model's {r['model_mb']} MB   (target: model + endpoints <= 4 copies)")  # fmt: skip


#: control signal -> the LMS settings that can see it (model features; language features)
CONTROL_SETTINGS = {
    "shared": {}, "none": {}, "eng": {"model_features": "eng"}, "pivot": {"model_features": "pivot"},
    "target": {"model_features": "target"}, "fusion": {"model_features": "fusion"},
    "lang": {"model_features": "eng", "lang_features": "syntax"},
}  # fmt: skip


def bench_lms_control(signals, quick: bool = False, workers: int = 1, hidden: int = 1024) -> list[dict]:  # fmt: skip
    """The LMS positive control on each planted signal: the paper's scorer (``hidden`` 1024),
    grid and 240 candidates (120/60/60); ``quick``: a 32-wide scorer, one grid point, 160
    candidates. ``workers``: scorer-training processes (``--threads``)."""
    from xlt.studies.lms.bench import PLANTED, lms_control

    unknown = [s for s in signals if s not in PLANTED]
    if unknown:
        raise SystemExit(f"--signals: unknown {unknown}; use some of {list(PLANTED)}")
    small = {"hidden": 32, "batch_sizes": [64], "lrs": [1e-3]} if quick else {"hidden": hidden}
    n = 160 if quick else 240
    settings = [{**small, **CONTROL_SETTINGS[s]} for s in signals]
    return [lms_control(s, c, n_candidates=n, workers=workers) for s, c in zip(signals, settings, strict=True)]  # fmt: skip


def print_lms_control(results: list[dict]) -> None:
    r0 = results[0]
    print(f"(i) LMS positive control: planted pools of {r0['candidates']} candidates (meta-train/dev/test 50/25/25 %), Kendall τ of LMS's ranking of the meta-test candidates vs their target test scores, mean over targets:")  # fmt: skip
    for r in results:
        hps = ", ".join(f"bs {f['batch_size']} lr {f['lr']:g} epoch {f['epoch']}" for f in r["folds"][:1])  # fmt: skip
        print(f"    {r['signal']:>6} ({r['model_features']}/{r['lang_features']} features, hidden {r['hidden']}): τ {r['tau']:+.3f} (chance sd {r['chance_sd']:.3f})   ceiling {r['ceiling']:+.3f} (expected {r['expected_ceiling']:.3f}; best pivot dev {r['pivot_ceiling']:+.3f})   {r['steps']} Adam steps in {r['trainings']} trainings, {r['seconds']:.0f} s; chosen {hps}")  # fmt: skip


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="fewer steps (for tests)")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument(
        "--candidate-step",
        action="store_true",
        help="only time fine-tuning steps of one paper-size candidate (for a GPU: make bench-gpu)",
    )
    ap.add_argument(
        "--metaxl-step",
        action="store_true",
        help="only time one MetaXL step against one JT step (tiny encoder, CPU)",
    )
    ap.add_argument(
        "--iwda-step",
        action="store_true",
        help="only time one IWDA step against one zero-shot step, and IW estimation (tiny, CPU)",
    )
    ap.add_argument(
        "--e5-finetune",
        action="store_true",
        help="only fine-tuning tokens/s of the bundled multilingual-e5-small: xlt vs stock Trainer",
    )
    ap.add_argument(
        "--lms-control",
        action="store_true",
        help="only the LMS positive control: planted pools with and without signal (paper's scorer)",
    )
    ap.add_argument(
        "--signals",
        default="shared,none",
        help="--lms-control: planted signals, comma-separated (shared, none, eng, pivot, target, fusion, lang)",
    )
    ap.add_argument(
        "--lms-hidden",
        type=int,
        default=1024,
        help="(c) and --lms-control: width of the scorer's FFNNs (the paper's 1024)",
    )
    ap.add_argument(
        "--lms-search",
        choices=["shared", "per-fold"],
        default="shared",
        help="(c): hyper-parameter search of the timed LMS run (per-fold: the paper's, ~3.5x the steps)",
    )
    ap.add_argument("--e5-dir", help="--e5-finetune: an already converted encoder directory")
    ap.add_argument(
        "--precision-e5",
        action="store_true",
        help="only fp32 vs bf16 tokens/s of e5-small-shaped fine-tuning and scoring (CPU)",
    )
    ap.add_argument("--size", choices=sorted(CANDIDATE_SIZES), default="paper")
    ap.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default="bf16")
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.lms_control:
        res = {"lms_control": bench_lms_control(args.signals.split(","), args.quick, args.threads, args.lms_hidden)}  # fmt: skip
        print_lms_control(res["lms_control"])
    elif args.precision_e5:
        res = {"precision": bench_precision(steps=2, rounds=1, shape=QUICK_SHAPE) if args.quick else bench_precision()}  # fmt: skip
        print_precision(res["precision"])
    elif args.e5_finetune:
        res = {"e5_finetune": bench_e5_finetune(n=48 if args.quick else 200, threads=args.threads, encoder_dir=args.e5_dir, rounds=1 if args.quick else 2)}  # fmt: skip
        print_e5_finetune(res["e5_finetune"])
    elif args.iwda_step:
        res = {"iwda_step": bench_iwda_step(steps=3 if args.quick else args.steps)}
        print_iwda_step(res["iwda_step"])
    elif args.metaxl_step:
        res = {"metaxl_step": bench_metaxl_step(steps=3 if args.quick else args.steps)}
        print_metaxl_step(res["metaxl_step"])
    elif args.candidate_step:
        res = {"candidate_step": bench_candidate_step(args.size, steps=args.steps, precision=args.precision)}  # fmt: skip
        print_candidate_step(res["candidate_step"])
    else:
        res = bench_all(args)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    return res


def bench_all(args) -> dict:
    """(a) MLM throughput, (b) padding efficiency, (c) LMS time: what ``make bench`` prints."""
    res = {
        "mlm": bench_mlm(n_sentences=1200 if args.quick else 6000, steps=3 if args.quick else 20),
        "padding": bench_padding(n=300 if args.quick else 2000),
    }
    from xlt.studies.lms.bench import bench_lms

    quick_lms = {"hidden": 64, "batch_sizes": [32], "lrs": [1e-4]} if args.quick else {}
    res["lms"] = bench_lms(
        n_candidates=48 if args.quick else 240,
        threads=args.threads,
        lms={"hp_search": args.lms_search, "hidden": args.lms_hidden, **quick_lms},
    )
    m, p = res["mlm"], res["padding"]
    print(f"(a) MLM pretraining, {m['model']}, batch {m['batch_size']} x {m['seq_len']}:")
    print(f"    xlt (packed, masked-only logits): {m['ours_tokens_per_s']:>8} real tokens/s")
    print(f"    stock BertForMaskedLM, pad-to-max: {m['stock_tokens_per_s']:>7} real tokens/s")
    print(f"    ratio: {m['ratio']:.1f}x   (target >= 5)")
    print("(b) fine-tuning padding efficiency (real tokens / tokens processed):")
    print(f"    length-bucketed: {p['bucketed']:.3f}   (target >= 0.85)")
    print(
        f"    unsorted dynamic padding: {p['unsorted_dynamic']:.3f};  pad-to-128: {p['pad_to_128']:.3f}"
    )
    lm = res["lms"]
    print(
        f"(c) LMS (hidden {lm['hidden']}, hp search {lm['hp_search']}, {lm['trainings']} scorer trainings, {lm['folds']} folds), "
        f"{lm['targets']} targets, {lm['candidates']} candidates:"
    )
    print(f"    training + selection: {lm['seconds']:.1f} s wall, {lm['cpu_seconds']:.1f} s CPU, {lm['steps']} Adam steps ({lm['ms_per_step']:.2f} ms/step)   (target <= 600 s)")  # fmt: skip
    print(f"    chosen (batch size, lr): {lm['chosen']}; the per-fold search would take {lm['per_fold_steps']} steps, ~{lm['per_fold_seconds_estimate']:.0f} s at this rate")  # fmt: skip
    res["interpolation"] = bench_interpolation(n_models=6 if args.quick else 40, n_dev=60 if args.quick else 300)  # fmt: skip
    print_interpolation(res["interpolation"])
    res["precision"] = bench_precision(steps=2, rounds=1, shape=QUICK_SHAPE) if args.quick else bench_precision()  # fmt: skip
    print_precision(res["precision"])
    return res


if __name__ == "__main__":
    main()
