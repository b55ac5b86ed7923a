"""Fine-tune one candidate and score it on every language: the unit of every model pool.

``finetune`` trains a task head on the encoder with the one training loop, then evaluates on the
dev and test set of every configured language, keeps compact per-example dev predictions (any
subset can be re-scored later) and the mean first-token vector of each language's dev text (the
model features of learned model selection).
"""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xlt.studies.translate_train.warmstart import WarmStart, WarmStartConfig

from . import __version__
from .io import atomic_open, atomic_path, write_json
from .metrics import MAIN_METRIC, scores
from .tasks import (
    TaskSpec,
    bucket_batches,
    build_model,
    collate,
    encode,
    get_kind,
    gold_answers,
    infer_labels,
    load_tokenizer,
    padding_efficiency,
    predict,
)
from .train.loop import Hook, LoopConfig, LossFn, autocast, default_loss, resolve_device, train
from .train.precision import resolve as resolve_precision

log = logging.getLogger("xlt.finetune")


@dataclass(frozen=True)
class FinetuneConfig:
    kind: str
    labels: tuple[str, ...]
    lr: float
    epochs: int
    batch_size: int
    seed: int
    max_length: int = 128
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    eval_batch_size: int = 128
    device: str = "auto"
    precision: str = "auto"  # auto | fp32 | bf16 | fp16 (xlt.train.precision)
    encoder_kind: str | None = None  # tiny | bundled | hub: what precision auto decides on
    pooling: str = "first"  # classification: first | mean (see TaskSpec)
    # keep the word-embedding matrix fixed (no gradient, no AdamW state): multilingual-e5-small's
    # 250k x 384 = 96M of its 118M parameters, so CPU fine-tuning is much faster and leaner
    freeze_embeddings: bool = False
    head_lr: float | None = None  # the task head's learning rate (None: lr; LoopConfig.head_lr)

    @property
    def spec(self) -> TaskSpec:
        return TaskSpec(self.kind, tuple(self.labels), self.pooling)

    def precision_info(self) -> dict[str, Any]:
        """The precision this job uses, why, and what was detected (xlt.train.precision)."""
        return resolve_precision(self.precision, resolve_device(self.device).type, self.encoder_kind, self.kind)  # fmt: skip

    def loop(self) -> LoopConfig:
        return LoopConfig(
            lr=self.lr,
            epochs=self.epochs,
            weight_decay=self.weight_decay,
            warmup_ratio=self.warmup_ratio,
            seed=self.seed,
            device=self.device,
            precision=self.precision_info()["used"],
            head_lr=self.head_lr,
        )


@dataclass
class CandidateResult:
    scores: dict[str, dict[str, dict[str, float]]]  # lang -> split -> metric -> value
    predictions: dict[str, list]  # lang -> per-example dev predictions
    features: dict[str, np.ndarray]  # lang -> mean first-token vector of its dev text
    loss_curve: list[float]
    info: dict[str, Any] = field(default_factory=dict)
    model: Any = None


def training_batches(feats, batch_size: int, pad_id: int, seed: int):
    """A batch factory for the loop: length-bucketed, reshuffled every epoch."""

    def batches(epoch: int):
        rng = np.random.default_rng([seed, epoch])
        for idx in bucket_batches(feats.lengths, batch_size, rng):
            yield collate(feats, idx, pad_id)

    return batches


def finetune(
    cfg: FinetuneConfig,
    encoder_dir: str | Path,
    train_records: Sequence[Mapping],
    evals: Mapping[str, Mapping[str, Sequence[Mapping]]],
    *,
    hooks: Sequence[Hook] = (),
    warmup: Mapping[str, Sequence[Mapping]] | None = None,
    warmup_cfg: WarmStartConfig | None = None,
    model=None,
    loss_fn: LossFn = default_loss,
) -> CandidateResult:
    """Train on ``train_records``; score on ``evals[lang][split]`` (dev predictions kept).

    With ``warmup`` ({lang: translated records}) the loop first runs the multilingual warm-start
    (MTL-WS) on them, then trains on ``train_records`` as zero-shot does.
    """
    t0 = time.time()
    spec = cfg.spec
    tokenizer = load_tokenizer(spec, str(encoder_dir))
    pad_id = tokenizer.pad_token_id
    feats = encode(spec, tokenizer, train_records, cfg.max_length)
    if len(feats) == 0:
        raise ValueError("no training examples")
    model = model if model is not None else build_model(spec, str(encoder_dir), cfg.seed)
    if cfg.freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    steps_per_epoch = len(bucket_batches(feats.lengths, cfg.batch_size))
    hooks = list(hooks)
    if warmup:
        wcfg = warmup_cfg or WarmStartConfig()
        factories = {
            lang: training_batches(
                encode(spec, tokenizer, recs, cfg.max_length),
                wcfg.batch_size,
                pad_id,
                cfg.seed,
            )  # fmt: skip
            for lang, recs in warmup.items()
        }
        hooks.append(WarmStart(factories, wcfg))
    eff = padding_efficiency(
        feats.lengths,
        bucket_batches(feats.lengths, cfg.batch_size, np.random.default_rng(cfg.seed)),
    )
    state = train(
        model,
        training_batches(feats, cfg.batch_size, pad_id, cfg.seed),
        steps_per_epoch,
        cfg.loop(),
        loss_fn=loss_fn,
        hooks=hooks,
        desc="finetune",
    )
    device = resolve_device(cfg.device)
    result = evaluate(model, spec, tokenizer, evals, cfg, device)
    result.loss_curve = state.losses
    result.info.update(
        {
            "train_examples": len(feats),
            "steps": state.step,
            "train_seconds": round(state.extra["seconds"], 2),
            "seconds": round(time.time() - t0, 2),
            "padding_efficiency": round(eff, 4),
            "truncated_train_words": feats.truncated,
            "device": str(device),
            **({"warmup": state.extra["warmup"]} if "warmup" in state.extra else {}),
        }
    )
    result.model = model
    return result


def evaluate(
    model, spec: TaskSpec, tokenizer, evals, cfg: FinetuneConfig, device
) -> CandidateResult:
    precision = cfg.precision_info()["used"]
    out_scores: dict[str, dict[str, dict[str, float]]] = {}
    preds: dict[str, list] = {}
    features: dict[str, np.ndarray] = {}
    truncated = 0
    for lang, splits in evals.items():
        for split, records in splits.items():
            if not records:
                continue
            feats = encode(spec, tokenizer, records, cfg.max_length)
            truncated += feats.truncated
            with autocast(device, precision):  # scoring in the precision the model trained in
                pred, first = predict(model, spec, feats, tokenizer.pad_token_id, cfg.eval_batch_size, device, f"{lang}/{split}")  # fmt: skip
            out_scores.setdefault(lang, {})[split] = {
                k: round(v, 4)
                for k, v in scores(spec.kind, gold_answers(spec.kind, records), pred, lang).items()
            }
            if split == "dev":
                preds[lang] = pred
                features[lang] = first
    return CandidateResult(out_scores, preds, features, [], {"truncated_eval_words": truncated})


def provenance(seed: int) -> dict[str, Any]:
    import torch
    import transformers

    return {
        "xlt": __version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "seed": seed,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_candidate(
    result: CandidateResult,
    cfg: FinetuneConfig,
    meta: Mapping[str, Any],
    metrics_path: str | Path,
    predictions_path: str | Path,
    features_path: str | Path,
    weights_dir: str | Path | None = None,
) -> None:
    """Write a candidate's record; metrics.json is written last, so it marks completion."""
    langs = sorted(result.features)
    with atomic_open(features_path, "wb") as fh:
        np.savez(
            fh, langs=np.array(langs), features=np.stack([result.features[lg] for lg in langs])
        )
    with atomic_open(predictions_path) as fh:
        import json

        json.dump({"labels": list(cfg.labels), "dev": result.predictions}, fh, ensure_ascii=False)
    if weights_dir is not None:
        with atomic_path(weights_dir) as tmp:
            result.model.save_pretrained(tmp)
    k = 10
    curve = [round(float(np.mean(result.loss_curve[i : i + k])), 4) for i in range(0, len(result.loss_curve), k)]  # fmt: skip
    write_json(
        metrics_path,
        {
            **meta,
            "main_metric": MAIN_METRIC[cfg.kind],
            "config": asdict(cfg) | {"labels": list(cfg.labels)},
            "scores": result.scores,
            "loss_curve": {"every": k, "values": curve},
            "info": result.info,
            "provenance": {**provenance(cfg.seed), "precision": cfg.precision_info()},
        },
    )


def load_labelled(path: str, kind: str, labels: Sequence[str] | None) -> list[dict]:
    """The records of a task kind's file, validated against its schema and label set."""
    from .io import read_jsonl

    return read_jsonl(path, get_kind(kind).schema, labels)


def finetune_config(params: Mapping[str, Any], labels: Sequence[str]) -> FinetuneConfig:
    """A candidate job's :class:`FinetuneConfig` from its params (the rule's ``cfg``)."""
    return FinetuneConfig(
        kind=params["kind"],
        labels=tuple(labels),
        lr=float(params["lr"]),
        epochs=int(params["epochs"]),
        batch_size=int(params["batch_size"]),
        seed=int(params["seed"]),
        max_length=int(params.get("max_length", 128)),
        weight_decay=float(params.get("weight_decay", 0.01)),
        warmup_ratio=float(params.get("warmup_ratio", 0.1)),
        eval_batch_size=int(params.get("eval_batch_size", 128)),
        device=params.get("device", "auto"),
        precision=params.get("precision", "auto"),
        encoder_kind=params.get("encoder_kind"),
        pooling=params.get("pooling", "first"),
        freeze_embeddings=bool(params.get("freeze_embeddings", False)),
        head_lr=None if params.get("head_lr") is None else float(params["head_lr"]),
    )


def load_evals(kind: str, labels, eval_paths: Mapping[str, str]) -> dict[str, dict[str, list]]:
    """``{lang: {split: records}}`` from ``{"<lang>/<split>": file}``."""
    evals: dict[str, dict[str, list]] = {}
    for key, path in eval_paths.items():
        lang, split = key.split("/")
        evals.setdefault(lang, {})[split] = load_labelled(path, kind, labels)
    return evals


def candidate_meta(params: Mapping[str, Any], cfg: FinetuneConfig) -> dict[str, Any]:
    """The identity of a candidate in its record: task, method, hyper-parameters, seed, encoder."""
    from .plan import hp_name

    return {
        "task": params.get("task"),
        "method": params.get("method", "zero-shot"),
        "hp": hp_name(cfg.lr, cfg.epochs, cfg.batch_size),
        "lr": cfg.lr,
        "epochs": cfg.epochs,
        "batch_size": cfg.batch_size,
        "seed": cfg.seed,
        "encoder": params.get("encoder"),
        "source": params.get("source"),
        **({"head_lr": cfg.head_lr} if cfg.head_lr is not None else {}),
    }


def run_candidate(
    params: Mapping[str, Any],
    encoder_dir: str,
    train_paths: Sequence[str],
    eval_paths: Mapping[str, str],
    outputs: Mapping[str, str],
    warmup_paths: Mapping[str, str] | None = None,
) -> CandidateResult:
    """One candidate job: read the data, fine-tune, evaluate, write the candidate record.

    ``train_paths``: the training files (concatenated); ``eval_paths`` maps ``"<lang>/<split>"``
    to a JSONL file; ``warmup_paths`` ({lang: file}) switches on the MTL-WS warm-start;
    ``outputs`` has ``metrics``, ``predictions``, ``features`` and optionally ``weights``.
    """
    if isinstance(train_paths, str):
        train_paths = [train_paths]
    kind, labels = params["kind"], params.get("labels")
    train_recs = [r for path in train_paths for r in load_labelled(path, kind, labels)]
    warmup = {
        lang: load_labelled(path, kind, labels) for lang, path in (warmup_paths or {}).items()
    }
    evals = load_evals(kind, labels, eval_paths)
    if not labels:
        labels = infer_labels(kind, [train_recs, *[r for s in evals.values() for r in s.values()]])
    cfg = finetune_config(params, labels)
    log.info("candidate %s/%s lr=%g epochs=%d seed=%d: %d train examples from %d files, %d eval sets",
             params.get("task"), params.get("method"), cfg.lr, cfg.epochs, cfg.seed,
             len(train_recs), len(train_paths), len(eval_paths))  # fmt: skip
    wcfg = WarmStartConfig(**params["mtl_ws"]) if warmup and params.get("mtl_ws") else None
    result = finetune(cfg, encoder_dir, train_recs, evals, warmup=warmup, warmup_cfg=wcfg)
    meta = {
        **candidate_meta(params, cfg),
        "train_files": list(train_paths),
        "warmup_files": dict(warmup_paths or {}),
    }
    write_candidate(
        result,
        cfg,
        meta,
        outputs["metrics"],
        outputs["predictions"],
        outputs["features"],
        outputs.get("weights"),
    )
    return result
