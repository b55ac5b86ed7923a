"""The studies of xlt, one package each, and the registry the workflow asks.

=================  =====================================================================  =========
package            what it is (paper)                                                     section
=================  =====================================================================  =========
zero_shot          fine-tune on the source, evaluate every language (the candidate pool)  tasks
translate_train    translate, align, project; TO, BILINGUAL, MTL, MTL-WS (seed 003)       translate
lms                learned model selection and its baselines (seed 000)                   lms
interpolation      interpolating source / target / bilingual models (seed 002)            interpolation
metaxl             meta representation transformation for few-shot targets (seed 001)     metaxl
iwda               importance-weighted domain alignment (seed 004)                        iwda
comparison         every method of a task side by side                                    (always)
=================  =====================================================================  =========

Each package exposes ``settings(plan, studies)``: its config section validated against the plan
(a :class:`~xlt.config.ConfigError` naming the key and the fix, before any job runs), or ``None``
when the config does not run it. The settings object answers the questions of
:class:`~xlt.studies.base.StudySettings` (its candidates per task, its outputs) plus whatever its
own rules ask (``rules/<study>.smk``). :class:`Studies` builds them in the order above, so a study
may read the settings of those before it (LMS checks the methods that zero-shot and translate-train
train; the comparison reads MetaXL's few-shot size).

The plan (:mod:`xlt.plan`) knows no study; a new study is a package here plus its name in
:data:`NAMES`, its rules and its report captions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xlt.plan import Candidate, Plan

NAMES = ("zero_shot", "translate_train", "lms", "interpolation", "metaxl", "iwda", "comparison")


class Studies(Mapping[str, Any]):
    """The validated settings of every study (``None`` for a study the config does not run)."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self._settings: dict[str, Any] = {}
        for name in NAMES:
            self._settings[name] = import_module(f"{__name__}.{name}").settings(plan, self)

    def __getitem__(self, name: str) -> Any:
        return self._settings[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._settings)

    def __len__(self) -> int:
        return len(self._settings)

    def running(self) -> dict[str, Any]:
        """The studies the config runs, with their settings."""
        return {name: s for name, s in self._settings.items() if s is not None}

    def candidates(self, task: str | None = None) -> list[Candidate]:
        """Every candidate of a task (or of all tasks), of every study built so far: all of them
        land in the task's pool."""
        tasks = [task] if task else list(self.plan.tasks)
        return [c for t in tasks for s in self.running().values() for c in s.candidates(self.plan, t)]  # fmt: skip

    def methods(self, task: str) -> list[str]:
        """The candidate method names of a task (studies built so far), in order."""
        return list(dict.fromkeys(c.method for c in self.candidates(task)))

    def outputs(self) -> list[str]:
        """Every table and figure of every study (the workflow's ``rule all``)."""
        return [f for s in self.running().values() for f in s.outputs(self.plan)]


def load(config: Mapping[str, Any]) -> Studies:
    """The plan and every study's settings of a (schema-validated) config: everything the
    workflow checks before any job runs (a :class:`~xlt.config.ConfigError` names the key)."""
    from xlt.plan import Plan

    return Studies(Plan(config))
