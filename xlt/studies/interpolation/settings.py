"""The ``interpolation`` config section (methods.md §3), validated against the plan; torch-free.

``interpolation_settings(plan)`` returns ``None`` when the config has no such section, else an
:class:`InterpolationSettings`; an invalid value raises :class:`~xlt.config.ConfigError` naming the
key and the fix, so the workflow stops before any job runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from xlt.config import ConfigError
from xlt.plan import Candidate, Plan
from xlt.studies.base import study_targets

GRIDS_1D = ("paper", "coarse")
GRIDS_2D = ("paper", "coarse", "sketch", "none")
EVAL_SPLITS = ("dev", "test")
# the paper's extra points near both endpoints (seed 002, §4 footnote)
PAPER_EXTRA = (0.025, 0.05, 0.075, 0.125, 0.15, 0.175, 0.825, 0.85, 0.875, 0.925, 0.95, 0.975)
DEFAULTS: dict[str, Any] = {
    "seeds": [1, 2, 3],
    "lr": 2.0e-5,
    "epochs": 5,
    "batch_size": 32,
    "warmup_ratio": 0.1,
    "weight_decay": 0.0,
    "grid_1d": "paper",
    "grid_2d": "coarse",
    "splits": ["dev"],
}


def alpha_grid(kind: str, plane: bool = False) -> list[float]:
    """Mixing coefficients, sorted: ``paper`` = −0.5 … 1.5 step 0.1 plus, on a 1-D path, the
    paper's 12 extra points near 0 and 1 (33 values; the plane uses the 21 regular ones, as the
    paper does); ``coarse`` = −0.5 … 1.5 step 0.25 (9 values); ``sketch`` = step 0.5 (5 values:
    −0.5, 0, 0.5, 1, 1.5; the default run's plane)."""
    if kind == "paper":
        base = [-0.5 + 0.1 * i for i in range(21)]
        values = base if plane else [*base, *PAPER_EXTRA]
    elif kind == "coarse":
        values = [-0.5 + 0.25 * i for i in range(9)]
    elif kind == "sketch":
        values = [-0.5 + 0.5 * i for i in range(5)]
    else:
        raise ValueError(f"unknown alpha grid {kind!r}; use one of {GRIDS_1D}")
    return sorted({round(v, 4) + 0.0 for v in values})


@dataclass(frozen=True)
class InterpolationSettings:
    tasks: Mapping[str, tuple[str, ...]]  # task -> target languages paired with its source
    seeds: tuple[int, ...]
    lr: float
    epochs: int
    batch_size: int
    warmup_ratio: float
    weight_decay: float
    grid_1d: str
    grid_2d: str
    splits: tuple[str, ...]

    def alphas_1d(self) -> list[float]:
        return alpha_grid(self.grid_1d)

    def alphas_2d(self) -> list[float]:
        return [] if self.grid_2d == "none" else alpha_grid(self.grid_2d, plane=True)

    def endpoints(self, task: str) -> list[str]:
        """Endpoint names of a task: ``src`` (shared by its pairs), ``tgt-<lang>``, ``bi-<lang>``."""
        return ["src", *[f"{k}-{lang}" for lang in self.targets(task) for k in ("tgt", "bi")]]

    # --- what the rules ask for (rules/interpolation.smk) -----------------------------------------
    def targets(self, task: str) -> tuple[str, ...]:
        if task not in self.tasks:
            raise ConfigError(
                f"interpolation.tasks: task {task!r} is not in the interpolation study (it has "
                f"{sorted(self.tasks)}); add it there to make its interpolation outputs"
            )
        return self.tasks[task]

    def train_files(self, plan: Plan, task: str, endpoint: str) -> list[str]:
        """Training files of an endpoint: ``src``, ``tgt-<lang>`` or ``bi-<lang>``."""
        t = plan.tasks[task]
        kind, _, lang = endpoint.partition("-")
        if endpoint not in self.endpoints(task):
            raise ValueError(f"{task}: unknown endpoint {endpoint!r}; have {self.endpoints(task)}")
        langs = {"src": [t.source], "tgt": [lang], "bi": [t.source, lang]}[kind]
        return [plan.data_file(t.dataset_of(lg), lg, "train") for lg in langs]

    def eval_files(self, plan: Plan, task: str, target: str | None = None) -> dict[str, str]:
        """``{lang/split: file}``: the source and the task's targets (or one ``target``)."""
        t = plan.tasks[task]
        langs = [t.source, *([target] if target else self.targets(task))]
        return {f"{lg}/{s}": plan.data_file(t.dataset_of(lg), lg, s) for lg in langs for s in self.splits}  # fmt: skip

    def endpoint_params(self, plan: Plan, task: str, endpoint: str, seed: int) -> dict[str, Any]:
        """Settings of one endpoint's candidate job (xlt.finetune.run_candidate)."""
        hp = ("lr", "epochs", "batch_size", "warmup_ratio", "weight_decay")
        return plan.candidate_params(task, seed, method=f"interpolation-{endpoint}", **{k: getattr(self, k) for k in hp})  # fmt: skip

    def job_params(self, plan: Plan, task: str, pair: str, seed: int) -> dict[str, Any]:
        """Settings of one (task, pair, seed) job: θ_tgt and θ_bi (``endpoints``: candidate
        settings and training files of each; xlt.finetune.run_candidate), then the interpolation
        between them and θ_src (xlt.studies.interpolation.interpolation.run_interpolation)."""
        t = plan.tasks[task]
        src, _, tgt = pair.partition("-")
        if src != t.source or tgt not in self.targets(task):
            raise ConfigError(
                f"interpolation: no pair {pair!r} for task {task!r}; its pairs are "
                f"{[f'{t.source}-{lang}' for lang in self.targets(task)]}"
            )
        ft = {**plan.config.get("finetune", {}), **t.overrides}
        endpoints = {
            kind: {
                "cfg": self.endpoint_params(plan, task, f"{kind}-{tgt}", seed),
                "train": self.train_files(plan, task, f"{kind}-{tgt}"),
            }
            for kind in ("tgt", "bi")
        }
        return {
            "task": task,
            "kind": t.kind,
            "pooling": t.pooling,
            "source": t.source,
            "target": tgt,
            "seed": int(seed),
            "max_length": ft.get("max_length", 128),
            "eval_batch_size": ft.get("eval_batch_size", 128),
            "device": ft.get("device", "auto"),
            "grid_1d": self.alphas_1d(),
            "grid_2d": self.alphas_2d(),
            "endpoints": endpoints,
        }

    def candidates(self, plan: Plan, task: str) -> list[Candidate]:
        return []  # its endpoints are scored in the study's own documents, not in the pool

    def documents(self, plan: Plan, task: str) -> list[str]:
        """The per-(pair, seed) documents of a task, which its tables and figures read."""
        src = plan.tasks[task].source
        return [
            f"results/interpolation/{task}/{src}-{lang}/seed{seed}.json.gz"
            for lang in self.targets(task)
            for seed in self.seeds
        ]

    def outputs(self, plan: Plan) -> list[str]:
        """Tables and figures of every task of the study (for rule all)."""
        figures = ["1d", "geometry", "variance"] + (["2d"] if self.alphas_2d() else [])
        out = []
        for task in self.tasks:
            out += [f"results/tables/interpolation_{n}_{task}.{ext}" for n in ("1d", "geometry") for ext in ("csv", "md", "html")]  # fmt: skip
            out += [f"results/figures/interpolation_{n}_{task}.png" for n in figures]
        return out


def interpolation_settings(plan: Plan) -> InterpolationSettings | None:
    """The validated ``interpolation`` section of ``plan.config`` (``None`` when absent)."""

    section = plan.config.get("interpolation")
    if not section:
        return None
    cfg = {**DEFAULTS, **section}
    tasks_cfg = cfg.get("tasks") or {}
    if not tasks_cfg:
        raise ConfigError(
            "interpolation.tasks: empty; name at least one task and its targets, e.g. "
            "{ner: {targets: [de, zh]}}"
        )
    tasks: dict[str, tuple[str, ...]] = {}
    for name, spec in tasks_cfg.items():
        key = f"interpolation.tasks.{name}"
        targets = study_targets(plan, "interpolation", name, spec)
        task = plan.tasks[name]
        for lang in (task.source, *targets):
            splits = plan.splits(task.dataset_of(lang), lang, where=key)
            if "train" not in splits:
                raise ConfigError(
                    f"{key}.targets: {task.dataset_of(lang)!r} has no train split for {lang!r} "
                    f"(it has {list(splits)}); the endpoints θ_tgt and θ_bi train on it"
                )
        tasks[name] = targets
    seeds = tuple(int(s) for s in cfg["seeds"] or ())
    if not seeds:
        raise ConfigError("interpolation.seeds: empty; give at least one seed (the paper uses 3)")
    for key, allowed in (("grid_1d", GRIDS_1D), ("grid_2d", GRIDS_2D)):
        if cfg[key] not in allowed:
            raise ConfigError(f"interpolation.{key}: {cfg[key]!r}; use one of {list(allowed)}")
    splits = tuple(cfg["splits"] or ())
    if "dev" not in splits or set(splits) - set(EVAL_SPLITS):
        raise ConfigError(
            f"interpolation.splits: {list(splits)}; use [dev] or [dev, test] (dev is always scored)"
        )
    return InterpolationSettings(
        tasks=tasks,
        seeds=seeds,
        lr=float(cfg["lr"]),
        epochs=int(cfg["epochs"]),
        batch_size=int(cfg["batch_size"]),
        warmup_ratio=float(cfg["warmup_ratio"]),
        weight_decay=float(cfg["weight_decay"]),
        grid_1d=str(cfg["grid_1d"]),
        grid_2d=str(cfg["grid_2d"]),
        splits=splits,
    )


# what rules/interpolation.smk uses without an ``interpolation`` section: every path it is asked
# for names the missing task (see InterpolationSettings.targets)
NO_STUDY = InterpolationSettings(
    tasks={}, seeds=(), lr=DEFAULTS["lr"], epochs=DEFAULTS["epochs"],
    batch_size=DEFAULTS["batch_size"], warmup_ratio=DEFAULTS["warmup_ratio"],
    weight_decay=DEFAULTS["weight_decay"], grid_1d="paper", grid_2d="none", splits=("dev",),
)  # fmt: skip
