"""The experiment plan: a validated, resolved view of the config that the rules query.

The JSON schema checks types and ranges; this module checks what a schema cannot: that a task's
dataset, languages and encoder exist, and it turns grids into candidate lists and file paths.
Errors name the config key and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .config import ConfigError, check_name
from .world import DATASETS as SYNTH_DATASETS
from .world.world import LABELS as SYNTH_LABELS

SPLITS = ("train", "dev", "test")
# Candidate methods (methods.md §4). Per-target methods expand to one method per translate target
# (to-de, bilingual-de, ...); the others train one model for all languages.
METHODS = ("zero-shot", "to", "to-w2w", "bilingual", "mtl", "mtl-ws")
PER_TARGET = ("to", "to-w2w", "bilingual")
TABLE_METHODS = ("zero-shot", "to", "bilingual", "mtl", "mtl-ws")
KIND_OF_TASK_TYPE = {"tagging": ("ner", "tagging"), "classification": ("classification",)}


def hp_name(lr: float, epochs: int, batch_size: int) -> str:
    return f"lr{lr:g}-ep{epochs}-bs{batch_size}"


_HP = re.compile(r"^lr(?P<lr>.+)-ep(?P<epochs>\d+)-bs(?P<batch_size>\d+)$")


def parse_hp(hp: str) -> dict[str, Any]:
    """Invert :func:`hp_name`: ``lr3e-05-ep3-bs32`` → {lr: 3e-05, epochs: 3, batch_size: 32}."""
    m = _HP.match(hp)
    if not m:
        raise ConfigError(
            f"malformed hyper-parameter directory {hp!r}; expected e.g. lr3e-05-ep3-bs32"
        )
    return {"lr": float(m["lr"]), "epochs": int(m["epochs"]), "batch_size": int(m["batch_size"])}


@dataclass(frozen=True)
class Candidate:
    task: str
    method: str
    lr: float
    epochs: int
    batch_size: int
    seed: int

    @property
    def hp(self) -> str:
        return hp_name(self.lr, self.epochs, self.batch_size)

    @property
    def dir(self) -> str:
        return f"results/candidates/{self.task}/{self.method}/{self.hp}/seed{self.seed}"

    @property
    def id(self) -> str:
        return f"{self.method}/{self.hp}/seed{self.seed}"


@dataclass(frozen=True)
class Task:
    name: str
    dataset: str
    kind: str
    source: str
    targets: tuple[str, ...]
    encoder: str
    methods: tuple[str, ...]  # as configured (zero-shot, to, bilingual, ...)
    grid: Mapping[str, Any]
    adapt_grid: Mapping[str, Any]  # grid of the translate-train methods
    translate_targets: tuple[str, ...] = ()
    source_dataset: str = ""  # the source language's dataset, when not ``dataset``
    pooling: str = "first"  # classification: first-token or mean-of-tokens sentence vector

    def dataset_of(self, lang: str) -> str:
        return self.source_dataset if lang == self.source and self.source_dataset else self.dataset

    @property
    def languages(self) -> tuple[str, ...]:
        return (self.source, *self.targets)

    def method_names(self) -> list[str]:
        """Methods with per-target ones expanded: ``to`` -> ``to-de``, ``to-es``, ..."""
        out = []
        for m in self.methods:
            if m in PER_TARGET:
                out += [f"{m}-{lang}" for lang in self.translate_targets]
            else:
                out.append(m)
        return out

    def grid_for(self, method: str) -> Mapping[str, Any]:
        return self.grid if method == "zero-shot" else self.adapt_grid

    def candidates(self) -> list[Candidate]:
        out = []
        for m in self.method_names():
            g = self.grid_for(m)
            out += [
                Candidate(self.name, m, float(lr), int(ep), int(g["batch_size"]), int(seed))
                for lr in g["lr"]
                for ep in g["epochs"]
                for seed in g["seeds"]
            ]
        return out


class Plan:
    def __init__(self, config: Mapping[str, Any]):
        self.config = config
        self.world_languages = tuple(config.get("world", {}).get("languages", ()))
        self.datasets = dict(config.get("datasets", {}))
        self.encoders = dict(config["encoders"])
        # every name becomes a directory (results/encoders/<name>, ...) or a wildcard value
        for section in ("encoders", "datasets", "tasks"):
            for name in config.get(section) or {}:
                check_name(name, section)
        for name in self.datasets:
            if name.startswith("synth-"):
                raise ConfigError(f"datasets.{name}: names starting with 'synth-' are reserved")
        self._check_world()
        self.tasks = {name: self._task(name, spec) for name, spec in config["tasks"].items()}
        for name, spec in self.encoders.items():
            self._check_encoder(name, spec)
        self._check_translate()
        self._check_lms()
        self.interpolation = self._interpolation()
        self.metaxl = self._metaxl()
        self.iwda = self._iwda()

    # --- validation ----------------------------------------------------------------------
    def _task(self, name: str, spec: Mapping[str, Any]) -> Task:
        d = dict(self.config.get("defaults", {}))
        grid = {**d.get("grid", {}), **spec.get("grid", {})}
        missing = [k for k in ("lr", "epochs", "seeds", "batch_size") if k not in grid]
        if missing:
            raise ConfigError(
                f"tasks.{name}.grid: missing {missing} (set them here or in defaults.grid)"
            )
        methods = tuple(spec.get("methods", d.get("methods", ["zero-shot"])))
        adapting = [m for m in methods if m != "zero-shot"]
        translate = self.config.get("translate", {})
        targets = tuple(spec["targets"])
        tt: tuple[str, ...] = ()
        if adapting:
            if "to-w2w" in methods and spec["kind"] != "ner":
                raise ConfigError(
                    f"tasks.{name}.methods: to-w2w (the projection ablation) needs entity spans; "
                    f"a {spec['kind']} task is always projected word to word: use to"
                )
            if spec["dataset"] not in translate.get("datasets", []):
                raise ConfigError(
                    f"tasks.{name}.methods: {adapting} need translated training data, but "
                    f"dataset {spec['dataset']!r} is not in translate.datasets"
                )
            tt = tuple(lang for lang in translate.get("targets", []) if lang in targets)
            if not tt:
                raise ConfigError(
                    f"tasks.{name}.methods: {adapting} need at least one of the task's targets "
                    f"in translate.targets (has {translate.get('targets', [])})"
                )
        adapt_grid = {**grid, **self.config.get("adapt", {}).get("grid", {})}
        task = Task(
            name=name,
            dataset=spec["dataset"],
            kind=spec["kind"],
            source=spec.get("source", d.get("source", "en")),
            targets=targets,
            encoder=spec.get("encoder", d.get("encoder", "tiny")),
            methods=methods,
            grid=grid,
            adapt_grid=adapt_grid,
            translate_targets=tt,
            source_dataset=spec.get("source_dataset", ""),
            pooling=spec.get("pooling", "first"),
        )
        for key, ds in (("dataset", task.dataset), ("source_dataset", task.source_dataset)):
            if ds and ds not in SYNTH_DATASETS and ds not in self.datasets:
                known = sorted(self.datasets) + [s for s in SYNTH_DATASETS if s in SYNTH_LABELS]
                raise ConfigError(
                    f"tasks.{name}.{key}: unknown dataset {ds!r}; known: {known} "
                    "(define real datasets under datasets:)"
                )
        if task.source in task.targets:
            raise ConfigError(
                f"tasks.{name}.targets: the source language {task.source!r} is not a target"
            )
        if task.encoder not in self.encoders:
            raise ConfigError(
                f"tasks.{name}.encoder: unknown encoder {task.encoder!r}; known: {sorted(self.encoders)}"
            )
        if task.dataset in self.datasets:
            ttype = self.datasets[task.dataset]["task_type"]
            if task.kind not in KIND_OF_TASK_TYPE[ttype]:
                raise ConfigError(
                    f"tasks.{name}.kind: {task.kind!r} does not fit dataset {task.dataset!r} "
                    f"({ttype}); use one of {list(KIND_OF_TASK_TYPE[ttype])}"
                )
        for lang in task.languages:
            splits = self.splits(task.dataset_of(lang), lang, where=f"tasks.{name}")
            need = ("train", "dev", "test") if lang == task.source else ("dev", "test")
            lacking = [s for s in need if s not in splits]
            if lacking:
                raise ConfigError(
                    f"tasks.{name}: dataset {task.dataset!r} has no {lacking} split for {lang!r} "
                    f"(it has {list(splits)})"
                )
        return task

    def _check_world(self) -> None:
        """Profiles of every world language exist and parse; sentiment and entity priors are
        usable."""
        world = self.config.get("world") or {}
        if not self.world_languages:
            return
        from .world.grammar import NER_TYPES, SENTIMENT_LABELS
        from .world.profiles import load_profiles

        profiles = world.get("profiles") or {}
        for code in profiles:
            if not re.fullmatch(r"[a-z]{2,3}", str(code)):
                raise ConfigError(f"world.profiles: {code!r} is not a language code (2-3 letters)")
        try:
            load_profiles(list(self.world_languages), profiles)
        except (ValueError, TypeError) as e:
            raise ConfigError(f"world.languages / world.profiles: {e}") from None
        source = world.get("source", "en")
        if source not in self.world_languages:
            raise ConfigError(
                f"world.source: {source!r} is not in world.languages {list(self.world_languages)}"
            )
        for name, labels in (("sentiment_priors", SENTIMENT_LABELS), ("entity_priors", NER_TYPES)):
            for key, spec in (world.get(name) or {}).items():
                nested = {"": spec} if key == "default" else spec
                if key != "default" and key not in self.world_languages:
                    raise ConfigError(
                        f"world.{name}.{key}: {key!r} is not in world.languages "
                        f"{list(self.world_languages)}"
                    )
                if not isinstance(nested, Mapping):
                    raise ConfigError(f"world.{name}.{key}: expected a mapping")
                for sub, weights in nested.items():
                    where = f"world.{name}.{key}" + (f".{sub}" if sub else "")
                    if key != "default" and sub not in ("default", *SPLITS):
                        raise ConfigError(f"{where}: use default, train, dev or test")
                    _check_priors(weights, where, labels)

    def _check_translate(self) -> None:
        """translate: targets, noise levels and quality targets the engine can produce."""
        tr = self.config.get("translate") or {}
        if not (tr.get("datasets") or (tr.get("quality") or {}).get("targets")):
            return
        engine = tr.get("engine", "synthetic")
        levels = tr.get("noise_levels") or {}
        synthetic = [d for d in tr.get("datasets", []) if d in SYNTH_DATASETS]
        for ds in tr.get("datasets", []):
            if ds not in SYNTH_DATASETS and ds not in self.datasets:
                raise ConfigError(
                    f"translate.datasets: unknown dataset {ds!r}; known: "
                    f"{sorted(self.datasets) + ['synth-ner', 'synth-pos']}"
                )
        if engine == "synthetic" or synthetic:
            outside = [t for t in tr.get("targets", []) if t not in self.world_languages]
            if outside and (engine == "synthetic"):
                raise ConfigError(
                    f"translate.targets: {outside} are not languages of the synthetic world "
                    f"(world.languages is {list(self.world_languages)}); the synthetic engine "
                    "realises sentences only in world languages: add them there or drop them"
                )
            if engine == "synthetic" and tr.get("train_noise", "low") not in levels:
                raise ConfigError(
                    f"translate.train_noise: {tr.get('train_noise', 'low')!r} is not a level of "
                    f"translate.noise_levels {sorted(levels)}; use one of them or define it there"
                )
        quality = tr.get("quality") or {}
        if quality.get("targets"):
            outside = [t for t in quality["targets"] if t not in self.world_languages]
            if outside:
                raise ConfigError(
                    f"translate.quality.targets: {outside} are not in world.languages "
                    f"{list(self.world_languages)} (projection quality is measured on the world)"
                )
            unknown = [n for n in quality.get("noise", []) if n not in levels]
            if unknown:
                raise ConfigError(
                    f"translate.quality.noise: {unknown} are not levels of translate.noise_levels "
                    f"{sorted(levels)}"
                )

    def _check_lms(self) -> None:
        """lms: its tasks exist, have two pivots with dev data, and run the methods it selects."""
        from .select.langvec import iso639_3
        from .select.lms import LMSConfig, task_pivots

        section = dict(self.config.get("lms") or {})
        tasks = section.pop("tasks", list(self.tasks))
        unknown = [t for t in tasks if t not in self.tasks]
        if unknown:
            raise ConfigError(
                f"lms.tasks: unknown task(s) {unknown}; tasks are {sorted(self.tasks)}"
            )
        if not tasks:
            return
        try:
            cfg = LMSConfig.from_dict(section)
        except (ValueError, TypeError) as e:
            raise ConfigError(str(e)) from None
        for name in tasks:
            t = self.tasks[name]
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
            missing = [m for m in cfg.methods if m not in t.method_names()]
            if missing:
                raise ConfigError(
                    f"lms.methods: {missing} are not methods of task {name!r} (it runs "
                    f"{t.method_names()}); add them to tasks.{name}.methods, drop them from "
                    f"lms.methods, or leave {name!r} out of lms.tasks"
                )

    def _check_encoder(self, name: str, spec: Mapping[str, Any]) -> None:
        if spec["kind"] != "tiny":
            return
        for ds in self.corpus_datasets(name):
            if ds not in SYNTH_DATASETS and ds not in self.datasets:
                raise ConfigError(f"encoders.{name}: unknown corpus dataset {ds!r}")

    # --- queries -------------------------------------------------------------------------
    def splits(self, dataset: str, lang: str, where: str = "") -> tuple[str, ...]:
        """The splits ``dataset`` has for ``lang`` (an unknown language is a ConfigError)."""
        if dataset in SYNTH_DATASETS:
            if lang not in self.world_languages:
                raise ConfigError(
                    f"{where}: unknown language {lang!r} for the synthetic world; "
                    f"world.languages is {list(self.world_languages)} (add it there, with a "
                    "profile under world.profiles if xlt has none)"
                )
            return ("train",) if dataset in ("synth-text", "synth-parallel") else SPLITS
        langs = self.datasets[dataset]["languages"]
        if lang not in langs:
            raise ConfigError(
                f"{where}: unknown language {lang!r} for dataset {dataset!r}; "
                f"datasets.{dataset}.languages has {sorted(langs)}"
            )
        return tuple(langs[lang])

    def data_file(self, dataset: str, lang: str, split: str) -> str:
        return f"results/data/{dataset}/{lang}/{split}.jsonl"

    # --- translate-train ------------------------------------------------------------------
    def translate_dir(self, dataset: str, lang: str, engine: str | None = None, noise: str | None = None) -> str:  # fmt: skip
        """``results/translate/{dataset}/{lang}/{engine}-{noise}`` (config defaults filled in)."""
        tr = self.config.get("translate", {})
        engine = engine or tr.get("engine", "synthetic")
        if noise is None:
            noise = tr.get("train_noise", "low") if engine == "synthetic" else "none"
        return f"results/translate/{dataset}/{lang}/{engine}-{noise}"

    def projected_file(self, dataset: str, lang: str, strategy: str = "span-to-span") -> str:
        """The projected (translated, aligned, label-projected) training set of ``lang``."""
        return f"{self.translate_dir(dataset, lang)}/{strategy}/train.jsonl"

    def method_data(self, task: str, method: str) -> dict[str, Any]:
        """Training files of a candidate method: ``train`` (list) and, for MTL-WS, ``warmup``
        ({lang: file}) — the translated data of each target used by the warm-start."""
        t = self.tasks[task]
        src = [self.data_file(t.dataset_of(t.source), t.source, "train")]
        # spans exist only for NER; POS tags are projected word to word
        default = "span-to-span" if t.kind == "ner" else "word-to-word"
        proj = {lang: self.projected_file(t.dataset, lang, default) for lang in t.translate_targets}
        if method == "zero-shot":
            return {"train": src, "warmup": {}}
        if method == "mtl":
            return {"train": src + list(proj.values()), "warmup": {}}
        if method == "mtl-ws":
            return {"train": src, "warmup": proj}
        for base in ("to-w2w", "to", "bilingual"):
            if method.startswith(base + "-"):
                lang = method[len(base) + 1 :]
                if lang not in proj:
                    break
                strategy = "word-to-word" if base == "to-w2w" else default
                target = [self.projected_file(t.dataset, lang, strategy)]
                return {"train": target if base != "bilingual" else src + target, "warmup": {}}
        raise ConfigError(
            f"tasks.{task}: unknown method {method!r}; the task's methods are {t.method_names()}"
        )

    def candidate_params(self, task: str, seed: int, **settings: Any) -> dict[str, Any]:
        """What a study's candidate job is given: the ``finetune`` section (without ``threads``
        and ``keep_weights``, which change no result, so editing them re-runs nothing), the task's
        identity and seed, and ``settings`` (method, hyper-parameters)."""
        t = self.tasks[task]
        skip = ("threads", "keep_weights")
        finetune = {k: v for k, v in self.config.get("finetune", {}).items() if k not in skip}
        return {
            **finetune,
            "task": task,
            "kind": t.kind,
            "pooling": t.pooling,
            "labels": self.labels(task),
            "source": t.source,
            "encoder": t.encoder,
            "seed": int(seed),
            **settings,
        }

    def labels(self, task: str) -> list[str] | None:
        t = self.tasks[task]
        if t.dataset in SYNTH_LABELS:
            return list(SYNTH_LABELS[t.dataset])
        return self.datasets[t.dataset].get("labels")

    def candidates(self, task: str | None = None) -> list[Candidate]:
        """Every candidate of a task (or of all tasks): its methods' grids and, with a ``metaxl``
        or ``iwda`` section, that study's grid (rules/metaxl.smk, rules/iwda.smk), so they all land
        in the task's pool."""
        tasks = [task] if task else list(self.tasks)
        studies = [s for s in (self.metaxl, self.iwda) if s]
        return [c for t in tasks for c in self.tasks[t].candidates() + [c for s in studies for c in s.candidates(self, t)]]  # fmt: skip

    def train_size(self, dataset: str) -> int | None:
        """Examples in each training split of ``dataset`` where the config fixes it (the synthetic
        world's ``sizes.train``, a real dataset's ``cap.train``), else None (known once read)."""
        if dataset in SYNTH_DATASETS:
            return int((self.config.get("world") or {}).get("sizes", {}).get("train", 2000))
        cap = self.datasets[dataset].get("cap")
        return None if cap is None else int(cap if isinstance(cap, int) else cap.get("train") or 0) or None  # fmt: skip

    def encoder_depth(self, encoder: str) -> int | None:
        """Transformer layers of an encoder where the config says (tiny: ``layers``; the bundled
        multilingual-e5-small: 12), else None (a hub model: checked when the job loads it)."""
        spec = self.encoders[encoder]
        if spec.get("kind") == "tiny":
            return int(spec.get("layers", 2))
        return 12 if spec.get("kind") == "bundled" else None

    def corpus_datasets(self, encoder: str) -> list[str]:
        spec = self.encoders[encoder]
        return list(spec.get("corpus_datasets") or [spec["corpus"]])

    def corpus_files(self, encoder: str) -> list[str]:
        spec = self.encoders[encoder]
        wanted = spec.get("corpus_splits", ["train"])
        files = []
        for ds in self.corpus_datasets(encoder):
            if ds in SYNTH_DATASETS:
                langs = self.world_languages
            else:
                langs = tuple(self.datasets[ds]["languages"])
            for lang in langs:
                for split in self.splits(ds, lang):
                    if split in wanted:
                        files.append(self.data_file(ds, lang, split))
        if not files:
            raise ConfigError(f"encoders.{encoder}: the corpus has no files (check corpus_splits)")
        return files

    def synthetic_outputs(self) -> list[str]:
        """Every file the synthetic world writes."""
        out = []
        for lang in self.world_languages:
            for ds in ("synth-ner", "synth-pos", "synth-sentiment"):
                out += [self.data_file(ds, lang, s) for s in SPLITS]
            out.append(self.data_file("synth-text", lang, "train"))
            if lang != self.config["world"].get("source", "en"):
                out.append(self.data_file("synth-parallel", lang, "train"))
        return out

    def real_data_files(self) -> list[str]:
        return [
            self.data_file(ds, lang, split)
            for ds, spec in self.datasets.items()
            for lang, splits in spec["languages"].items()
            for split in splits
        ]

    def _metaxl(self):
        """The validated ``metaxl`` section (xlt.methods.metaxl_settings), or None."""
        from .methods.metaxl_settings import metaxl_settings

        return metaxl_settings(self)

    def _iwda(self):
        """The validated ``iwda`` section (xlt.methods.iwda_settings), or None."""
        from .methods.iwda_settings import iwda_settings

        return iwda_settings(self)

    def _interpolation(self):
        """The validated ``interpolation`` section (xlt.analysis.settings), or None."""
        from .analysis.settings import interpolation_settings

        return interpolation_settings(self)


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


def _check_priors(weights: Any, where: str, labels: tuple[str, ...]) -> None:
    """Class weights (sentiment labels, entity types): a mapping of known labels to non-negative
    numbers, not all 0."""
    if not isinstance(weights, Mapping) or not weights:
        raise ConfigError(f"{where}: expected {{label: weight}} with labels from {list(labels)}")
    for label, w in weights.items():
        if label not in labels:
            raise ConfigError(f"{where}: unknown label {label!r}; labels are {list(labels)}")
        if isinstance(w, bool) or not isinstance(w, int | float) or w < 0:
            raise ConfigError(f"{where}.{label}: {w!r} is not a non-negative number")
    if sum(weights.values()) <= 0:
        raise ConfigError(f"{where}: all weights are 0; give at least one class a positive weight")
