"""The ``iwda`` config section (seed 004, methods.md §5), validated against the plan; torch-free.

``iwda_settings(plan)`` returns ``None`` when the config has no such section, else an
:class:`IWDASettings`; an invalid value raises :class:`~xlt.config.ConfigError` naming the key and
the fix, so the workflow stops before any job runs.

Per task and target, one job (rules/iwda.smk) trains, for each seed in turn, from the same encoder:

- ``zero-shot``: stage 1, fine-tuned on the labelled source (every other variant but
  ``supervised`` starts from a copy of it);
- ``supervised``: the upper bound, fine-tuned on the target's labelled training set;
- the configured ``variants``: ``align`` (the critic's alignment, w ≡ 1), ``iwda`` (estimated
  importance weights), ``oracle`` (the true target prior), ``st`` (self-training on the zero-shot
  model), ``iwda-st`` (self-training on the IWDA model), ``iwda-kd`` (a fresh student distilled
  from the IWDA model on source + target text).

Only the text of the target's ``unlabelled`` split reaches the methods (its labels are stripped on
read; the split may not be ``test``, which every model is scored on). A candidate's method name
encodes its setting, e.g. ``iw.de.iwda``; candidates live in
``results/candidates/{task}/{method}/{hp}/seed{seed}/`` like every other method's, so they land in
the task's pool.

With ``levels`` (the paper's prior-shift protocol, §4.2), each job also subsamples the unlabelled
split to controlled class priors, one per level of total variation from the source prior, and
trains every variant per level; those models are scored in the analysis document (on the target's
test split reweighted to the level's prior) and the ``iwda_levels`` table and figure, not in the
pool, whose IWDA candidates are then zero-shot and supervised only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from xlt.config import ConfigError
from xlt.plan import Candidate, Plan, hp_name
from xlt.studies.base import SeedJobs, check_kind, study_targets

ALWAYS = ("zero-shot", "supervised")
VARIANTS = ("align", "iwda", "oracle", "st", "iwda-st", "iwda-kd")
NEEDS_IWDA = ("iwda-st", "iwda-kd")  # variants that start from the IWDA model
PREFIX = "iw"
CANDIDATE_FILES = {
    "metrics": "metrics.json",
    "predictions": "predictions.json.gz",
    "features": "features.npz",
}
DEFAULTS: dict[str, Any] = {
    "unlabelled": "train",
    "variants": list(VARIANTS),
    "seeds": [1, 2, 3],
    "lr": 2.0e-5,
    "epochs": 4,
    "batch_size": 32,
    "stage2": {},
    "self_train": {},
    "distill": {},
    "shift": {},
    "levels": None,
    "job_per_seed": False,
}
SHIFT_DEFAULTS = {"subsets": 50, "size": 100, "concentration": 1.0}
LEVEL_KINDS = ("classification",)  # levels subsample examples: one label per example


@dataclass(frozen=True)
class IWDASettings(SeedJobs):
    tasks: Mapping[str, tuple[str, ...]]  # task -> targets with unlabelled data
    unlabelled: str  # the split of each target whose text is the unlabelled data
    variants: tuple[str, ...]
    seeds: tuple[int, ...]
    lr: float
    epochs: int
    batch_size: int
    stage2: Mapping[str, Any] = field(default_factory=dict)  # xlt.studies.iwda.iwda.IWDAConfig
    self_train: Mapping[str, Any] = field(default_factory=dict)  # SelfTrainConfig
    distill: Mapping[str, Any] = field(default_factory=dict)  # DistillConfig (+ lr, epochs)
    shift: Mapping[str, Any] = field(default_factory=lambda: dict(SHIFT_DEFAULTS))
    job_per_seed: bool = False  # SeedJobs: one job per seed instead of one for all seeds
    levels: Mapping[str, Any] | None = None  # {tv: [...], size: int | None, seed: int}

    def methods(self, target: str) -> list[str]:
        """Candidate method names of one target, in training order (with ``levels``: zero-shot
        and supervised only, the models every level shares)."""
        variants = () if self.levels else self.variants
        return [f"{PREFIX}.{target}.{v}" for v in (*ALWAYS, *variants)]

    def targets(self, task: str) -> tuple[str, ...]:
        if task not in self.tasks:
            raise ConfigError(
                f"iwda.tasks: task {task!r} is not in the IWDA study (it has {sorted(self.tasks)}); "
                "add it there to make its IWDA outputs"
            )
        return self.tasks[task]

    def candidates(self, plan: Plan, task: str) -> list[Candidate]:
        if task not in self.tasks:
            return []
        return [
            Candidate(task, m, self.lr, self.epochs, self.batch_size, seed)
            for tgt in self.targets(task)
            for m in self.methods(tgt)
            for seed in self.seeds
        ]

    # --- what the rules ask for (rules/iwda.smk) ----------------------------------------------
    def job_outputs(self) -> dict[str, str]:
        """Named outputs of the job of one (task, target), for every seed of the study or, with
        ``job_per_seed``, one seed (:class:`~xlt.studies.base.SeedJobs`), with ``{task}`` and
        ``{target}`` (and ``{seed}``) left as wildcards: per seed and variant ``i``,
        ``{prefix}v{i}_metrics`` … ``{prefix}v{i}_features``, and ``{prefix}analysis`` (that
        seed's JSON: label-shift estimates, feature shift per model, the re-sampled-prior study
        of the zero-shot model)."""
        hp = hp_name(self.lr, self.epochs, self.batch_size)
        out: dict[str, str] = {}
        for prefix, seed in self.job_seeds():
            for i, method in enumerate(self.methods("{target}")):
                d = f"results/candidates/{{task}}/{method}/{hp}/seed{seed}"
                out |= {f"{prefix}v{i}_{k}": f"{d}/{f}" for k, f in CANDIDATE_FILES.items()}
            out[f"{prefix}analysis"] = f"results/iwda/{{task}}/{{target}}/seed{seed}.json"
        return out

    def train_files(self, plan: Plan, task: str, target: str) -> dict[str, str]:
        """``source`` (labelled source train), ``target`` (the target's labelled train: the
        supervised upper bound) and ``unlabelled`` (the split whose text IWDA adapts to)."""
        t = plan.tasks[task]
        return {
            "source": plan.data_file(t.dataset_of(t.source), t.source, "train"),
            "target": plan.data_file(t.dataset_of(target), target, "train"),
            "unlabelled": plan.data_file(t.dataset_of(target), target, self.unlabelled),
        }

    def analysis_files(self, plan: Plan, task: str) -> list[str]:
        return [
            f"results/iwda/{task}/{tgt}/seed{seed}.json"
            for tgt in self.targets(task)
            for seed in self.seeds
        ]

    def job_params(self, plan: Plan, task: str, target: str, seed=None) -> list[dict[str, Any]]:
        """Per seed of one job, in turn: the settings of one cell (xlt.studies.iwda.cell.run_iwda_cell)
        and the prefix of its outputs in :meth:`job_outputs` (``seed``: the job's ``{seed}``
        wildcard with ``job_per_seed``)."""
        if target not in self.targets(task):
            raise ConfigError(
                f"iwda: {target!r} is not an IWDA target of task {task!r} "
                f"(iwda.tasks.{task}.targets is {list(self.targets(task))})"
            )
        return [
            {"cfg": self.cell_params(plan, task, target, seed), "outputs": prefix}
            for prefix, seed in self.job_seeds(seed)
        ]

    def cell_params(self, plan: Plan, task: str, target: str, seed: int) -> dict[str, Any]:
        """Settings of one (task, target, seed) cell (xlt.studies.iwda.cell.run_iwda_cell)."""
        base = plan.candidate_params(task, seed, lr=self.lr, epochs=self.epochs, batch_size=self.batch_size)  # fmt: skip
        return {
            "base": base,
            "target": target,
            "methods": self.methods(target),
            "variants": list(self.variants),
            "stage2": dict(self.stage2),
            "self_train": dict(self.self_train),
            "distill": dict(self.distill),
            "shift": dict(self.shift),
            "levels": dict(self.levels) if self.levels else None,
        }

    def table_names(self) -> list[str]:
        return ["iwda", "iwda_shift", *(["iwda_levels"] if self.levels else [])]

    def figure_names(self) -> list[str]:
        return ["iwda_shift", *(["iwda_levels"] if self.levels else [])]

    def outputs(self, plan: Plan) -> list[str]:
        """Tables and figures of every task of the study (for rule all)."""
        out = []
        for task in self.tasks:
            out += [f"results/tables/{n}_{task}.{ext}" for n in self.table_names() for ext in ("csv", "md", "html")]  # fmt: skip
            out += [f"results/figures/{n}_{task}.png" for n in self.figure_names()]
        return out


def iwda_settings(plan: Plan) -> IWDASettings | None:
    """The validated ``iwda`` section of ``plan.config`` (``None`` when absent)."""
    from xlt.studies.iwda.configs import DistillConfig, IWDAConfig, SelfTrainConfig

    section = plan.config.get("iwda")
    if not section:
        return None
    cfg = {**DEFAULTS, **section}
    if not cfg.get("tasks"):
        raise ConfigError(
            "iwda.tasks: empty; name at least one task and its targets, e.g. "
            "{sentiment: {targets: [de, zh]}}"
        )
    split = str(cfg["unlabelled"])
    if split == "test":
        raise ConfigError(
            "iwda.unlabelled: 'test' would adapt every model to the text it is then scored on; "
            "use train (the paper's) or another split that no score is computed on"
        )
    tasks: dict[str, tuple[str, ...]] = {}
    for name, spec in cfg["tasks"].items():
        targets = study_targets(plan, "iwda", name, spec)
        check_kind(plan, f"iwda.tasks.{name}", name, ("ner", "tagging", "classification"), "importance weights are estimated over a fixed label set from the classifier's confusion matrix; a parser's head choice or a QA span is no fixed label set")  # fmt: skip
        task = plan.tasks[name]
        for lang in targets:
            splits = plan.splits(task.dataset_of(lang), lang, where=f"iwda.tasks.{name}")
            for need in (split, "train"):
                if need not in splits:
                    role = "unlabelled data (iwda.unlabelled)" if need == split else "the supervised upper bound's training data"  # fmt: skip
                    raise ConfigError(
                        f"iwda.tasks.{name}.targets: {task.dataset_of(lang)!r} has no {need!r} "
                        f"split for {lang!r} (it has {list(splits)}), which IWDA needs as {role}; "
                        f"give the target that split or drop it from iwda.tasks.{name}.targets"
                    )
        if "train" not in plan.splits(task.dataset_of(task.source), task.source, where=f"iwda.tasks.{name}"):  # fmt: skip
            raise ConfigError(f"iwda.tasks.{name}: the source {task.source!r} has no train split")
        tasks[name] = targets
    variants = tuple(cfg["variants"] or ())
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown or len(set(variants)) != len(variants):
        raise ConfigError(f"iwda.variants: {list(variants)}; use distinct values from {list(VARIANTS)} (zero-shot and supervised always run)")  # fmt: skip
    if any(v in variants for v in NEEDS_IWDA) and "iwda" not in variants:
        raise ConfigError(f"iwda.variants: {[v for v in variants if v in NEEDS_IWDA]} start from the IWDA model; add iwda")  # fmt: skip
    seeds = tuple(int(s) for s in cfg["seeds"] or ())
    if not seeds:
        raise ConfigError("iwda.seeds: empty; give at least one seed (3 for mean ± sd)")
    if not (isinstance(cfg["lr"], int | float) and cfg["lr"] > 0):
        raise ConfigError(f"iwda.lr: {cfg['lr']!r}; use a learning rate > 0")
    stage2 = dict(cfg["stage2"] or {})
    if "variant" in stage2:
        raise ConfigError(f"iwda.stage2.variant: {stage2['variant']!r} would be ignored (every job runs the variants of iwda.variants); remove it and list the variants there")  # fmt: skip
    subs = {}
    for key, klass in (("stage2", IWDAConfig), ("self_train", SelfTrainConfig), ("distill", DistillConfig)):  # fmt: skip
        subs[key] = dict(cfg[key] or {})
        try:
            klass(**subs[key])
        except ValueError as e:  # the message names iwda.<key>.<field>
            raise ConfigError(str(e)) from None
        except TypeError as e:  # an unknown field
            raise ConfigError(f"iwda.{key}: {e}; keys are the fields of {klass.__module__}.{klass.__name__}") from None  # fmt: skip
    freeze = DistillConfig(**subs["distill"]).freeze_layers
    if "iwda-kd" in variants:
        for name in tasks:
            layers = plan.encoder_depth(plan.tasks[name].encoder)  # None: checked by the job
            if layers is not None and freeze > layers:
                raise ConfigError(f"iwda.distill.freeze_layers: {freeze}, but task {name!r}'s encoder {plan.tasks[name].encoder!r} has {layers} layers; use at most {layers}")  # fmt: skip
    shift = {**SHIFT_DEFAULTS, **(cfg["shift"] or {})}
    if int(shift["subsets"]) < 3 or int(shift["size"]) < 10 or not float(shift["concentration"]) > 0:  # fmt: skip
        raise ConfigError(f"iwda.shift: {shift}; need subsets >= 3 (for a fitted line), size >= 10, concentration > 0")  # fmt: skip
    levels = _levels(plan, cfg.get("levels"), tasks)
    return IWDASettings(
        tasks=tasks,
        unlabelled=split,
        variants=variants,
        seeds=seeds,
        lr=float(cfg["lr"]),
        epochs=int(cfg["epochs"]),
        batch_size=int(cfg["batch_size"]),
        stage2=subs["stage2"],
        self_train=subs["self_train"],
        distill=subs["distill"],
        job_per_seed=bool(cfg["job_per_seed"]),  # a boolean (schema)
        shift=shift,
        levels=levels,
    )


def _levels(plan: Plan, section: Mapping[str, Any] | None, tasks: Mapping[str, Any]) -> dict[str, Any] | None:  # fmt: skip
    """``iwda.levels`` checked against the tasks (what needs the data, the size against the
    split's class counts and whether the source prior lets the levels exist, is checked when a job
    starts, before it trains)."""
    if not section:
        return None
    tv = [float(v) for v in section.get("tv") or ()]
    if not tv or any(not 0 <= v < 1 for v in tv) or len(set(tv)) != len(tv):
        raise ConfigError(f"iwda.levels.tv: {section.get('tv')!r}; list distinct total variations in [0, 1), e.g. [0, 0.2, 0.4]")  # fmt: skip
    for name in tasks:
        if plan.tasks[name].kind not in LEVEL_KINDS:
            raise ConfigError(f"iwda.levels: task {name!r} is {plan.tasks[name].kind!r}; controlled priors subsample whole examples, so levels need {list(LEVEL_KINDS)} tasks (drop levels or the task)")  # fmt: skip
    size = section.get("size")
    return {"tv": sorted(tv), "size": None if size is None else int(size), "seed": int(section.get("seed", 0))}  # fmt: skip


# what rules/iwda.smk uses without an ``iwda`` section
NO_STUDY = IWDASettings(tasks={}, unlabelled="train", variants=(), seeds=(), lr=1.0, epochs=1, batch_size=1)  # fmt: skip
