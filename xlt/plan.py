"""The experiment plan: a validated, resolved view of the config's datasets, encoders and tasks.

The JSON schema checks types and ranges; this module checks what a schema cannot: that a task's
dataset, languages and encoder exist, and it answers the questions every study asks (data files,
splits, labels, a candidate's settings). It knows no study: each study validates its own config
section against the plan (:mod:`xlt.studies`). Errors name the config key and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .bundled import package_file_problem
from .config import ConfigError, check_name
from .world import DATASETS as SYNTH_DATASETS
from .world import DEFAULT_DATASETS
from .world.world import LABELS as SYNTH_LABELS

SPLITS = ("train", "dev", "test")
# the task_type of each synthetic dataset with labels (as datasets.<name>.task_type)
SYNTH_TASK_TYPE = {"synth-ner": "tagging", "synth-pos": "tagging", "synth-sentiment": "classification", "synth-nli": "classification", "synth-parsing": "parsing", "synth-qa": "qa", "synth-relation": "relation"}  # fmt: skip
KIND_OF_TASK_TYPE = {"tagging": ("ner", "tagging"), "classification": ("classification",), "qa": ("qa",), "relation": ("relation",), "parsing": ("parsing",)}  # fmt: skip


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
    methods: tuple[str, ...]  # as configured (zero-shot, to, bilingual, ...; xlt.studies)
    grid: Mapping[str, Any]  # the task's candidate grid (lr, epochs, seeds, batch_size)
    source_dataset: str = ""  # the source language's dataset, when not ``dataset``
    pooling: str = "first"  # classification: first-token or mean-of-tokens sentence vector
    max_length: int | None = None  # the task's own finetune.max_length (QA: 384 at paper scale)

    @property
    def overrides(self) -> dict[str, Any]:
        """What the task sets in its candidates' ``finetune`` settings (``max_length``)."""
        return {"max_length": self.max_length} if self.max_length else {}

    def dataset_of(self, lang: str) -> str:
        return self.source_dataset if lang == self.source and self.source_dataset else self.dataset

    @property
    def languages(self) -> tuple[str, ...]:
        return (self.source, *self.targets)


class Plan:
    def __init__(self, config: Mapping[str, Any]):
        self.config = config
        self.world_languages = tuple(config.get("world", {}).get("languages", ()))
        self.world_datasets = tuple(config.get("world", {}).get("datasets") or DEFAULT_DATASETS)
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
        targets = tuple(spec["targets"])
        task = Task(
            name=name,
            dataset=spec["dataset"],
            kind=spec["kind"],
            source=spec.get("source", d.get("source", "en")),
            targets=targets,
            encoder=spec.get("encoder", d.get("encoder", "tiny")),
            methods=methods,
            grid=grid,
            source_dataset=spec.get("source_dataset", ""),
            pooling=spec.get("pooling", "first"),
            max_length=spec.get("max_length"),
        )
        for key, ds in (("dataset", task.dataset), ("source_dataset", task.source_dataset)):
            if ds and ds not in SYNTH_DATASETS and ds not in self.datasets:
                known = sorted(self.datasets) + [s for s in SYNTH_DATASETS if s not in ("synth-text", "synth-parallel")]  # fmt: skip
                raise ConfigError(
                    f"tasks.{name}.{key}: unknown dataset {ds!r}; known: {known} "
                    "(define real datasets under datasets:)"
                )
            if ds in SYNTH_DATASETS and ds not in self.world_datasets:
                raise ConfigError(
                    f"tasks.{name}.{key}: the synthetic world does not generate {ds!r}; add it to "
                    f"world.datasets (now {list(self.world_datasets)})"
                )
        if task.source in task.targets:
            raise ConfigError(
                f"tasks.{name}.targets: the source language {task.source!r} is not a target"
            )
        if task.encoder not in self.encoders:
            raise ConfigError(
                f"tasks.{name}.encoder: unknown encoder {task.encoder!r}; known: {sorted(self.encoders)}"
            )
        for ds in filter(None, (task.dataset, task.source_dataset)):
            ttype = self.task_type(ds)
            if ttype is not None and task.kind not in KIND_OF_TASK_TYPE.get(ttype, ()):
                raise ConfigError(
                    f"tasks.{name}.kind: {task.kind!r} does not fit dataset {ds!r} ({ttype}); "
                    f"use one of {list(KIND_OF_TASK_TYPE.get(ttype, ()))}"
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

    def _check_encoder(self, name: str, spec: Mapping[str, Any]) -> None:
        if spec["kind"] == "bundled" and "file" in spec:
            problem = package_file_problem(spec["file"])
            if problem:
                raise ConfigError(f"encoders.{name}.file: {spec['file']!r} is {problem}")
        if spec["kind"] != "tiny":
            return
        for ds in self.corpus_datasets(name):
            if ds not in SYNTH_DATASETS and ds not in self.datasets:
                raise ConfigError(f"encoders.{name}: unknown corpus dataset {ds!r}")

    # --- queries -------------------------------------------------------------------------
    def task_type(self, dataset: str) -> str | None:
        """The common-schema kind of a dataset's records (``datasets.<name>.task_type``, or the
        synthetic world's own), None for the world's text-only datasets."""
        if dataset in self.datasets:
            return self.datasets[dataset]["task_type"]
        return SYNTH_TASK_TYPE.get(dataset)

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

    def candidate_params(self, task: str, seed: int, **settings: Any) -> dict[str, Any]:
        """What a study's candidate job is given: the ``finetune`` section (without ``threads``
        and ``keep_weights``, which change no result, so editing them re-runs nothing), the task's
        identity and seed, and ``settings`` (method, hyper-parameters)."""
        t = self.tasks[task]
        skip = ("threads", "keep_weights")
        finetune = {k: v for k, v in self.config.get("finetune", {}).items() if k not in skip}
        return {
            **finetune,
            **t.overrides,
            "task": task,
            "kind": t.kind,
            "encoder_kind": self.encoders[t.encoder]["kind"],
            "pooling": t.pooling,
            "labels": self.labels(task),
            "source": t.source,
            "encoder": t.encoder,
            "seed": int(seed),
            **settings,
        }

    def labels(self, task: str) -> list[str] | None:
        t = self.tasks[task]
        if t.dataset in SYNTH_DATASETS:
            return list(SYNTH_LABELS[t.dataset]) if t.dataset in SYNTH_LABELS else None
        return self.datasets[t.dataset].get("labels")

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
        """Every file the synthetic world writes (``world.datasets``)."""
        out = []
        source = self.config["world"].get("source", "en")
        for lang in self.world_languages:
            for ds in self.world_datasets:
                if ds == "synth-text":
                    out.append(self.data_file(ds, lang, "train"))
                elif ds == "synth-parallel":
                    out += [self.data_file(ds, lang, "train")] if lang != source else []
                else:
                    out += [self.data_file(ds, lang, s) for s in SPLITS]
        return out

    def real_data_files(self) -> list[str]:
        return [
            self.data_file(ds, lang, split)
            for ds, spec in self.datasets.items()
            for lang, splits in spec["languages"].items()
            for split in splits
        ]


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
