"""Multilingual warm-start (MTL-WS, Li et al.; methods.md §4) as a hook of the one training loop.

Before the loop trains on the source data, the hook warms the parameters up on the translated
data of every target language: for z = 1..Z, each language ℓ starts from θ_{z−1} and takes K plain
SGD steps (learning rate β) on its own batches, giving θ_z^ℓ; then
θ_z = θ_{z−1} + γ/|L_tgt| · Σ_ℓ (θ_z^ℓ − θ_{z−1}). The loop then fine-tunes θ_Z on the source
data exactly as zero-shot does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import torch

from xlt.train.loop import Batch, Hook, LoopState, LossFn, cycle, default_loss, move

log = logging.getLogger("xlt.warmstart")


@dataclass(frozen=True)
class WarmStartConfig:
    Z: int = 50  # warm-up iterations
    K: int = 5  # SGD steps per language and iteration
    gamma: float = 5e-5  # step size of the warm-up (outer) update
    beta: float = 1e-3  # learning rate of the inner SGD steps
    batch_size: int = 8

    def __post_init__(self) -> None:
        if self.Z < 1 or self.K < 1:
            raise ValueError(f"mtl_ws: Z and K must be >= 1 (got Z={self.Z}, K={self.K})")
        if not (self.gamma > 0 and self.beta > 0):
            raise ValueError(f"mtl_ws: gamma and beta must be positive (got {self.gamma}, {self.beta})")  # fmt: skip


class WarmStart(Hook):
    """Runs the multilingual warm-up when the loop starts (before any source-language step)."""

    def __init__(
        self,
        batches: Mapping[str, Callable[[int], Iterable[Batch]]],
        cfg: WarmStartConfig,
        loss_fn: LossFn = default_loss,
    ):
        if not batches:
            raise ValueError("warm-start needs translated data of at least one target language")
        self.batches, self.cfg, self.loss_fn = dict(batches), cfg, loss_fn

    def on_train_start(self, state: LoopState) -> None:
        model, cfg = state.model, self.cfg
        params = [p for p in model.parameters() if p.requires_grad]
        streams = {
            lang: cycle(f, f"warm-start: language {lang!r}") for lang, f in self.batches.items()
        }
        losses: dict[str, float] = dict.fromkeys(streams, 0.0)
        for _z in range(cfg.Z):
            base = [p.detach().clone() for p in params]
            total = [torch.zeros_like(p) for p in params]
            for lang, stream in streams.items():
                for _k in range(cfg.K):
                    batch = move(next(stream), state.device)
                    with state.autocast():
                        loss = self.loss_fn(model, batch)
                    grads = torch.autograd.grad(loss, params, allow_unused=True)
                    with torch.no_grad():
                        for p, g in zip(params, grads, strict=True):
                            if g is not None:
                                p.sub_(cfg.beta * g)
                    losses[lang] = float(loss.detach())
                with torch.no_grad():
                    for p, b, t in zip(params, base, total, strict=True):
                        t.add_(p - b)
                        p.copy_(b)
            with torch.no_grad():
                scale = cfg.gamma / len(streams)
                for p, b, t in zip(params, base, total, strict=True):
                    p.copy_(b + scale * t)
        state.extra["warmup"] = {
            "iterations": cfg.Z,
            "inner_steps": cfg.Z * cfg.K * len(streams),
            "languages": sorted(streams),
            "last_inner_loss": {k: round(v, 4) for k, v in losses.items()},
        }
        log.info("warm-start: %d iterations x %d languages x %d steps", cfg.Z, len(streams), cfg.K)
