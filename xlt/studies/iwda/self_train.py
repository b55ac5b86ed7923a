"""Self-training (ST; seed 004 App. C.2, after Dong & de Melo) through the one training loop.

Starting from a fine-tuned model (zero-shot or IWDA), each iteration pseudo-labels the unlabelled
target examples not yet taken, adds the most confident ``fraction`` of all of them to the training
set, and fine-tunes on source + pseudo-labelled data (the source loss keeps the model anchored).
Confidence: the predicted class probability (sequence tasks) or its mean over the words' first
sub-words (token tasks). Target labels are never read (:func:`xlt.studies.iwda.iwda.unlabelled`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from xlt.studies.iwda.configs import SelfTrainConfig
from xlt.studies.iwda.iwda import aligned_batch, load_tokenizer, unlabelled
from xlt.tasks import Features, TaskSpec, bucket_batches, encode
from xlt.train.loop import autocast, move, resolve_device

log = logging.getLogger("xlt.self_train")


@torch.no_grad()
def pseudo_labels(
    model, spec: TaskSpec, feats: Features, pad_id: int, batch_size: int, device,
    precision: str = "fp32",
) -> tuple[list, np.ndarray]:  # fmt: skip
    """Predicted label(s) per example and its confidence (mean max-probability over its units),
    the forward in ``precision`` (the model's training precision)."""
    was_training = model.training
    model.eval()
    labels: list = [None] * len(feats)
    conf = np.zeros(len(feats))
    try:
        for idx in bucket_batches(feats.lengths, batch_size):
            batch = aligned_batch(feats, idx, pad_id, spec.token_level)
            batch.pop("labels")
            mask = batch.pop("align_mask", None)
            with autocast(device, precision):
                probs = model(**move(batch, device)).logits.float().softmax(-1).cpu()
            best, ids = probs.max(-1)
            for row, i in enumerate(idx):
                if spec.token_level:
                    tags = [spec.default_label] * feats.n_words[i]
                    sel = mask[row]
                    for w, p in zip(feats.word_index[i], ids[row][sel].tolist(), strict=True):
                        tags[w] = spec.labels[p]
                    labels[i] = tags
                    conf[i] = float(best[row][sel].mean()) if bool(sel.any()) else 0.0
                else:
                    labels[i], conf[i] = spec.labels[int(ids[row])], float(best[row])
    finally:
        model.train(was_training)
    return labels, conf


def select_confident(conf: np.ndarray, taken: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` most confident examples not yet taken (ties: lower index first)."""
    free = np.flatnonzero(~taken)
    order = free[np.argsort(-conf[free], kind="stable")]
    return order[:n]


def run_self_training(
    cfg,
    scfg: SelfTrainConfig,
    encoder_dir: str | Path,
    source: Sequence[Mapping],
    target: Sequence[Mapping],
    evals: Mapping[str, Mapping[str, Sequence[Mapping]]],
    *,
    model,
):
    """Self-train ``model`` (a fine-tuned task model) on ``target``'s text; returns the last
    iteration's CandidateResult (scored on ``evals``)."""
    from xlt.finetune import finetune

    spec = cfg.spec
    target = unlabelled(target, spec.token_level)
    tok = load_tokenizer(str(encoder_dir))
    feats = encode(spec, tok, target, cfg.max_length)
    if len(feats) == 0:
        raise ValueError("self_train: no unlabelled target examples")
    device = resolve_device(cfg.device)
    step_cfg = replace(cfg, epochs=scfg.epochs, lr=cfg.lr if scfg.lr is None else scfg.lr)
    n = max(1, round(scfg.fraction * len(feats)))
    taken = np.zeros(len(feats), dtype=bool)
    pseudo: list[dict] = []
    history = []
    result = None
    for it in range(scfg.iterations):
        model.to(device)
        labels, conf = pseudo_labels(model, spec, feats, tok.pad_token_id, cfg.eval_batch_size, device, cfg.precision_info()["used"])  # fmt: skip
        chosen = select_confident(conf, taken, n)
        taken[chosen] = True
        key = "tags" if spec.token_level else "label"
        pseudo.extend({**target[i], key: labels[i]} for i in chosen)
        history.append({"added": len(chosen), "total": len(pseudo),
                        "min_confidence": round(float(conf[chosen].min()), 4) if len(chosen) else None})  # fmt: skip
        last = it == scfg.iterations - 1
        result = finetune(step_cfg, encoder_dir, [*source, *pseudo], evals if last else {}, model=model)  # fmt: skip
        model = result.model
        log.info("self-training iteration %d: %d pseudo-labelled target examples", it + 1, len(pseudo))  # fmt: skip
    result.info["self_training"] = history
    return result
