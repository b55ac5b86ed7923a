"""The IWDA study's settings objects (``iwda.stage2``, ``iwda.self_train``, ``iwda.distill``), each
validated on construction with a message naming the key and the fix. Kept apart from the code that
trains (which needs torch), so that reading a config (``xlt.studies.iwda.settings``, at every
Snakemake start) imports no torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xlt.studies.iwda.checks import (
    Rule,
    at_least_one,
    check,
    is_int,
    is_number,
    non_negative,
    optional,
    positive,
    unit,
)

VARIANTS = ("align", "iwda", "oracle")


@dataclass(frozen=True)
class IWDAConfig:
    """Stage-2 settings (``iwda.stage2``; defaults: the paper's, Appendix C)."""

    variant: str = "iwda"  # align (w ≡ 1) | iwda (estimated w) | oracle (true target prior)
    epochs: int = 4  # stage 2, in source epochs (token tasks: scaled by target/source length)
    lr: float | None = None  # model learning rate of stage 2 (None: the stage-1 learning rate)
    lambda_da: float = 5e-3  # weight of W₁ in the model's loss
    da_warmup: float = 0.1  # fraction of stage-2 steps over which λ rises linearly to lambda_da
    lambda_gp: float = 10.0  # μ, zero-centred gradient penalty
    critic_hidden: int = 2048
    critic_lr: float = 5e-4
    critic_weight_decay: float = 0.01
    critic_steps: int = 1  # critic updates per training step
    lr_iw: float = 5e-4  # AdamW learning rate of δ = w − w(0) (decays linearly to 0)
    lambda_iw: float = 2.0  # ξ: AdamW weight decay of δ, the pull of w towards w(0)
    lambda_iw_init: float = 0.25  # ρ: w(0) = (1−ρ) w_QP + ρ·1
    stats_momentum: float = 0.99  # moving average of the batch confusion/target statistics
    target_batch_size: int | None = None  # None: the source batch size (paper: 8 per domain)

    RULES: ClassVar[dict[str, Rule]] = {
        "variant": (lambda v: v in VARIANTS, f"one of {list(VARIANTS)}"),
        "epochs": (at_least_one, "an integer >= 1"),
        "lr": (optional(positive), "a learning rate > 0 (or leave it out: stage 1's)"),
        "lambda_da": (non_negative, "a number >= 0"),
        "da_warmup": (unit, "a fraction in [0, 1]"),
        "lambda_gp": (non_negative, "a number >= 0"),
        "critic_hidden": (at_least_one, "an integer >= 1"),
        "critic_lr": (positive, "a learning rate > 0"),
        "critic_weight_decay": (non_negative, "a weight decay >= 0"),
        "critic_steps": (at_least_one, "an integer >= 1"),
        "lr_iw": (non_negative, "a learning rate >= 0 (0 keeps w at w(0))"),
        "lambda_iw": (non_negative, "a weight decay >= 0"),
        "lambda_iw_init": (unit, "a fraction in [0, 1]"),
        "stats_momentum": (lambda v: is_number(v) and 0 <= v < 1, "a number in [0, 1)"),
        "target_batch_size": (optional(at_least_one), "an integer >= 1 (or leave it out: the source batch size)"),
    }  # fmt: skip

    def __post_init__(self) -> None:
        check("iwda.stage2", self, self.RULES)


@dataclass(frozen=True)
class SelfTrainConfig:
    """``iwda.self_train`` (App. C.2)."""

    iterations: int = 3
    fraction: float = 0.02  # of all unlabelled target examples, added per iteration
    epochs: int = 1  # passes over source + pseudo-labelled data per iteration
    lr: float | None = None  # None: the fine-tuning config's learning rate

    RULES: ClassVar[dict[str, Rule]] = {
        "iterations": (at_least_one, "an integer >= 1"),
        "fraction": (lambda v: positive(v) and v <= 1, "a fraction in (0, 1]"),
        "epochs": (at_least_one, "an integer >= 1"),
        "lr": (optional(positive), "a learning rate > 0 (or leave it out: iwda.lr)"),
    }

    def __post_init__(self) -> None:
        check("iwda.self_train", self, self.RULES)


@dataclass(frozen=True)
class DistillConfig:
    """``iwda.distill`` (App. C.2: T = 3, source loss weight 0.1, bottom 3 layers frozen)."""

    temperature: float = 3.0
    source_weight: float = 0.1
    freeze_layers: int = 3  # bottom encoder layers (and the embeddings) kept frozen
    lr: float | None = None  # the student's learning rate (None: the study's)
    epochs: int | None = None  # the student's epochs (None: the study's stage-1 epochs)

    RULES: ClassVar[dict[str, Rule]] = {
        "temperature": (positive, "a temperature > 0"),
        "source_weight": (non_negative, "a weight >= 0"),
        "freeze_layers": (lambda v: is_int(v) and v >= 0, "an integer >= 0"),
        "lr": (optional(positive), "a learning rate > 0 (or leave it out: iwda.lr)"),
        "epochs": (optional(at_least_one), "an integer >= 1 (or leave it out: iwda.epochs)"),
    }

    def __post_init__(self) -> None:
        check("iwda.distill", self, self.RULES)
