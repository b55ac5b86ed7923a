"""What every study package shares: the interface the registry expects, seeds-to-jobs, targets.

A study is a package ``xlt.studies.<name>`` whose ``settings(plan, studies)`` (torch-free) turns its
config section into validated settings, or ``None`` when the config does not run it. The settings
object answers what the rules ask of a study (:class:`StudySettings`); everything else (how a
job trains, how a table is made) lives in the package's other modules, which the rules reach
through its ``workflow_scripts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from xlt.config import ConfigError

if TYPE_CHECKING:
    from xlt.plan import Candidate, Plan


class StudySettings(Protocol):
    """The validated settings of one study, as the registry (:mod:`xlt.studies`) uses them."""

    def candidates(self, plan: Plan, task: str) -> list[Candidate]:
        """The candidate models the study trains for ``task`` (they land in its pool)."""
        ...

    def outputs(self, plan: Plan) -> list[str]:
        """The tables and figures the study makes (for the workflow's ``rule all``)."""
        ...


class SeedJobs:
    """How a study's seeds map to jobs (mixed into the settings of MetaXL and IWDA).

    By default one job runs every seed of a cell in turn: on the tiny encoder a seed costs a few
    seconds, and each job pays about 6 s for its process start and the torch and transformers
    imports. With ``job_per_seed`` (a cluster, where seeds should run in parallel) each seed is
    its own job, with a ``{seed}`` wildcard in its paths. Needs ``seeds`` and ``job_per_seed``.
    """

    seeds: tuple[int, ...]
    job_per_seed: bool

    def job_seeds(self, seed=None) -> list[tuple[str, object]]:
        """``(output-key prefix, seed)`` of every seed one job runs, in order. With
        ``job_per_seed``: the ``{seed}`` wildcard, or ``seed`` (the job's wildcard value) when
        given."""
        if self.job_per_seed:
            return [("seed_", "{seed}" if seed is None else int(seed))]
        return [(f"seed{s}_", s) for s in self.seeds]

    def job_path(self, stem: str, ext: str) -> str:
        """A job's log or benchmark path: ``stem`` (+ ``/seed{seed}`` per seed) + ``ext``."""
        return f"{stem}/seed{{seed}}{ext}" if self.job_per_seed else f"{stem}{ext}"


def study_targets(
    plan: Plan, section: str, name: str, spec: Mapping[str, Any] | None
) -> tuple[str, ...]:
    """The targets a study section (``interpolation``, ``metaxl``) names for task ``name``: the
    task must exist and every target must be one of its targets (ConfigError naming the key)."""
    key = f"{section}.tasks.{name}"
    if name not in plan.tasks:
        raise ConfigError(f"{key}: unknown task {name!r}; tasks are {sorted(plan.tasks)}")
    task = plan.tasks[name]
    targets = tuple((spec or {}).get("targets") or ())
    if not targets:
        raise ConfigError(f"{key}.targets: empty; list target languages from {list(task.targets)}")  # fmt: skip
    for lang in targets:
        if lang not in task.targets:
            raise ConfigError(
                f"{key}.targets: {lang!r} is not a target of task {name!r} "
                f"(tasks.{name}.targets is {list(task.targets)}); add it there or drop it here"
            )
    return targets


def check_kind(plan: Plan, key: str, name: str, kinds: tuple[str, ...], why: str) -> None:
    """A study that is defined for some task kinds only refuses a task of another kind before any
    job runs (ConfigError naming ``key``, the kinds it takes and ``why``)."""
    kind = plan.tasks[name].kind
    if kind not in kinds:
        raise ConfigError(
            f"{key}: task {name!r} is a {kind} task; this study takes {list(kinds)} tasks only "
            f"({why}); drop the task from {key.rpartition('.')[0]}"
        )
