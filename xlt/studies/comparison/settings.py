"""The comparison's settings: every task gets one, from what the other studies ran; torch-free.

The comparison trains nothing: per task it reads the pool (every candidate of every study) and,
where LMS runs on the task, the LMS study's repeated runs, and writes one table and one figure
(:mod:`.report`). What it needs to know of a task besides those records is :meth:`describe`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from xlt.plan import Candidate, Plan


@dataclass(frozen=True)
class ComparisonSettings:
    translate_targets: Mapping[str, tuple[str, ...]]  # task -> translate-train targets
    metaxl_n: Mapping[str, int]  # task -> few-shot size of its MetaXL cells
    lms_tasks: tuple[str, ...]  # tasks the LMS study runs on (their runs join the table)

    def describe(self, plan: Plan, task: str) -> dict[str, Any]:
        """What the comparison needs to know of a task besides its records (the rule's params)."""
        t = plan.tasks[task]
        return {
            "task": task,
            "kind": t.kind,
            "source": t.source,
            "targets": list(t.targets),
            "translate_targets": list(self.translate_targets.get(task, ())),
            "metaxl_n": self.metaxl_n.get(task),
        }

    def inputs(self, task: str) -> dict[str, str]:
        """The task's pool and, where LMS runs on it, the LMS repeated runs (never weights)."""
        out = {"table": f"results/pools/{task}.parquet", "arrays": f"results/pools/{task}.npz"}
        if task in self.lms_tasks:
            out["runs"] = f"results/selection/{task}/lms_runs.json"
        return out

    def candidates(self, plan: Plan, task: str) -> list[Candidate]:
        return []

    def outputs(self, plan: Plan) -> list[str]:
        return [
            f
            for name in plan.tasks
            for f in (
                f"results/tables/comparison_{name}.csv",
                f"results/tables/comparison_{name}.md",
                f"results/tables/comparison_{name}.html",
                f"results/tables/comparison_{name}_headline.csv",
                f"results/figures/comparison_{name}.png",
            )
        ]


def settings(plan: Plan, studies: Mapping[str, Any]) -> ComparisonSettings:
    tt, mx, lms = studies["translate_train"], studies["metaxl"], studies["lms"]
    return ComparisonSettings(
        translate_targets=dict(tt.targets) if tt else {},
        metaxl_n={t: mx.n for t in mx.tasks} if mx else {},
        lms_tasks=tuple(lms.tasks) if lms else (),
    )
