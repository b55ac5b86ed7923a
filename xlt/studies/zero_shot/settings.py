"""The zero-shot study's settings: every task's source-only candidates over its grid; torch-free.

Each task with ``zero-shot`` among its ``methods`` trains one candidate per point of its grid
(``tasks.<task>.grid`` over ``defaults.grid``: learning rates × epochs × seeds, one batch size) on
its source language's training split, and every candidate is scored on the dev and test split of
every language of the task (``rules/finetune.smk``, :func:`xlt.finetune.run_candidate`). These
candidates are the pool that model selection (LMS) and the comparison read; the study's own outputs
are the per-language table and the score figure of every task.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from xlt.plan import Candidate, Plan

METHOD = "zero-shot"


@dataclass(frozen=True)
class ZeroShotSettings:
    def candidates(self, plan: Plan, task: str) -> list[Candidate]:
        t = plan.tasks[task]
        if METHOD not in t.methods:
            return []
        g = t.grid
        return [
            Candidate(task, METHOD, float(lr), int(ep), int(g["batch_size"]), int(seed))
            for lr in g["lr"]
            for ep in g["epochs"]
            for seed in g["seeds"]
        ]

    def method_data(self, plan: Plan, task: str, method: str) -> dict[str, Any]:
        """Training files of a zero-shot candidate: the source's training split."""
        t = plan.tasks[task]
        return {"train": [plan.data_file(t.dataset_of(t.source), t.source, "train")], "warmup": {}}

    def outputs(self, plan: Plan) -> list[str]:
        out = []
        for name in plan.tasks:
            out += [f"results/tables/zero_shot_{name}.{ext}" for ext in ("csv", "md", "html")]
            out.append(f"results/figures/scores_{name}.png")
        return out


def settings(plan: Plan, studies: Mapping[str, Any] | None = None) -> ZeroShotSettings:
    return ZeroShotSettings()
