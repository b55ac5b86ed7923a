"""Knowledge distillation (KD; seed 004 App. C.2, after Hinton et al.) as a loss of the one loop.

A fresh pre-trained student (embeddings and bottom ``freeze_layers`` layers frozen) minimises the
mean squared error between its temperature-T softmax and the teacher's (T = 3) on source and
target text, plus ``source_weight`` × the source task loss (0.1). Token tasks distil every
non-padding token. Target labels are never read (:func:`xlt.studies.iwda.iwda.unlabelled`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F

from xlt.studies.iwda.configs import DistillConfig
from xlt.studies.iwda.iwda import unlabelled
from xlt.tasks import IGNORE, build_model
from xlt.train.loop import Batch, LossFn


def kd_loss(
    student: torch.Tensor,
    teacher: torch.Tensor,
    temperature: float,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """MSE between the temperature-T softmax of student and teacher logits (per unit, mean)."""
    diff = (student / temperature).softmax(-1) - (teacher / temperature).softmax(-1)
    per_unit = diff.pow(2).mean(-1)
    return per_unit[mask].mean() if mask is not None else per_unit.mean()


def source_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over labelled units only (0 when the batch has none, e.g. all target text)."""
    flat, gold = logits.reshape(-1, logits.shape[-1]), labels.reshape(-1)
    n = (gold != IGNORE).sum()
    return F.cross_entropy(flat.float(), gold, ignore_index=IGNORE, reduction="sum") / n.clamp(min=1)  # fmt: skip


def kd_objective(teacher: torch.nn.Module, cfg: DistillConfig, token_level: bool) -> LossFn:
    teacher.eval()  # no gradients reach it: its forward runs under no_grad

    def loss(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        student = model(**inputs).logits
        with torch.no_grad():
            target = teacher.to(student.device)(**inputs).logits
        mask = batch["attention_mask"].bool() if token_level else None
        kd = kd_loss(student.float(), target.float(), cfg.temperature, mask)
        return kd + cfg.source_weight * source_loss(student, batch["labels"])

    return loss


def freeze_bottom(model: torch.nn.Module, n_layers: int) -> None:
    """Freeze the embeddings and the bottom ``n_layers`` encoder layers (none when 0); more layers
    than the encoder has is an error naming ``iwda.distill.freeze_layers``."""
    base = model.base_model
    layers = getattr(getattr(base, "encoder", None), "layer", None)
    if layers is None or not hasattr(base, "embeddings"):
        raise ValueError(f"iwda.distill.freeze_layers: {type(model).__name__} has no embeddings/encoder.layer to freeze; set freeze_layers: 0")  # fmt: skip
    if n_layers > len(layers):
        raise ValueError(f"iwda.distill.freeze_layers: {n_layers}, but the encoder has {len(layers)} layers; use at most {len(layers)}")  # fmt: skip
    for module in [base.embeddings, *list(layers)[:n_layers]] if n_layers else []:
        module.requires_grad_(False)


def run_distill(
    cfg,
    dcfg: DistillConfig,
    encoder_dir: str | Path,
    teacher: torch.nn.Module,
    source: Sequence[Mapping],
    target: Sequence[Mapping],
    evals: Mapping[str, Mapping[str, Sequence[Mapping]]],
):
    """Distil ``teacher`` into a fresh student on source + target text (``cfg``: the student's
    learning rate, epochs, batch size); returns the student's CandidateResult."""
    from xlt.finetune import finetune

    spec = cfg.spec
    student = build_model(spec, str(encoder_dir), cfg.seed)
    freeze_bottom(student, dcfg.freeze_layers)
    train = [*source, *unlabelled(target, spec.token_level)]
    was_training = teacher.training
    loss = kd_objective(teacher, dcfg, spec.token_level)
    result = finetune(cfg, encoder_dir, train, evals, model=student, loss_fn=loss)
    teacher.train(was_training)
    result.info["distill"] = {"temperature": dcfg.temperature, "source_weight": dcfg.source_weight,
                              "frozen_layers": dcfg.freeze_layers, "target_texts": len(train) - len(source)}  # fmt: skip
    return result
