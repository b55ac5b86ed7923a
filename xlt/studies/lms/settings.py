"""The LMS study's settings (seed 000, methods.md §1): the ``lms`` section validated against the plan.

LMS trains no candidate of its own: it reads the pool of each task in ``lms.tasks`` (every task by
default) and selects among the candidates of ``lms.methods``. Its jobs per task (``rules/lms.smk``)
are the main run, the repeated runs, the feature ablations and the number-of-models study, and one
report job that writes Tables 2, 3, 4, 7 and 10 and the KDE and Kendall-τ figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xlt.config import ConfigError
from xlt.plan import Candidate, Plan

if TYPE_CHECKING:
    from .lms import LMSConfig

TABLES = ("lms", "lms_features", "lms_langvec", "lms_runs", "lms_nmodels")
FIGURES = ("kde", "kendall")


@dataclass(frozen=True)
class LMSSettings:
    tasks: tuple[str, ...]
    section: Mapping[str, Any]  # the lms section without ``tasks`` (LMSConfig.from_dict)

    @property
    def config(self) -> LMSConfig:
        from .lms import LMSConfig

        return LMSConfig.from_dict(self.section)

    def params(self, *groups: str) -> dict[str, Any]:
        """The settings a job depends on (:data:`xlt.studies.lms.lms.PARAM_GROUPS`)."""
        from .lms import params_for

        return params_for(self.section, *groups)

    def candidates(self, plan: Plan, task: str) -> list[Candidate]:
        return []  # LMS selects among the other studies' candidates

    def outputs(self, plan: Plan) -> list[str]:
        """Every table (CSV + Markdown) and figure of the study, for the workflow's rule all."""
        out = []
        for task in self.tasks:
            out += [
                f"results/tables/{n}_{task}.{ext}" for n in TABLES for ext in ("csv", "md", "html")
            ]
            out += [f"results/figures/lms_{f}_{task}.png" for f in FIGURES]
        return out


def settings(plan: Plan, studies: Mapping[str, Any]) -> LMSSettings | None:
    """The validated ``lms`` section: its tasks exist, have two pivots with dev data, lang2vec
    codes, and run the methods it selects among (``studies``: the studies built before it)."""
    from .langvec import iso639_3
    from .lms import LMSConfig, task_pivots

    section = dict(plan.config.get("lms") or {})
    tasks = section.pop("tasks", list(plan.tasks))
    unknown = [t for t in tasks if t not in plan.tasks]
    if unknown:
        raise ConfigError(f"lms.tasks: unknown task(s) {unknown}; tasks are {sorted(plan.tasks)}")
    if not tasks:
        return None
    try:
        cfg = LMSConfig.from_dict(section)
    except (ValueError, TypeError) as e:
        raise ConfigError(str(e)) from None
    for name in tasks:
        t = plan.tasks[name]
        try:
            task_pivots(cfg.pivots, t.languages, t.source)
        except ValueError as e:
            raise ConfigError(
                f"{e} (task {name!r}: add pivots from its targets to lms.pivots, or drop the "
                "task from lms.tasks)"
            ) from None
        for lang in t.languages:  # lang2vec vectors (Pivot-Dev, Table 3) need ISO 639-3
            try:
                iso639_3(lang)
            except ValueError as e:
                raise ConfigError(
                    f"tasks.{name}: {e}; or leave {name!r} out of lms.tasks"
                ) from None
        methods = studies.methods(name)
        missing = [m for m in cfg.methods if m not in methods]
        if missing:
            raise ConfigError(
                f"lms.methods: {missing} are not methods of task {name!r} (it runs "
                f"{methods}); add them to tasks.{name}.methods, drop them from "
                f"lms.methods, or leave {name!r} out of lms.tasks"
            )
    return LMSSettings(tasks=tuple(tasks), section=section)
