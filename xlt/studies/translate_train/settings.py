"""The translate-train study's settings (seed 003, methods.md §4): the ``translate`` and ``adapt``
sections and the translate-train methods of each task, validated against the plan; torch-free.

A task runs translate-train when its ``methods`` name any of :data:`METHODS`: ``to`` (target only:
the projected translation of one target), ``to-w2w`` (the same, projected word to word: Table 5's
ablation, NER only), ``bilingual`` (source ∪ one target's translation), ``mtl`` (source ∪ every
target's translation, one model) and ``mtl-ws`` (the multilingual warm-start on the translations,
then source fine-tuning). Per-target methods expand to one candidate method per translate target
(``to-de``, ``bilingual-de``, …). Their candidates train with the zero-shot candidates' rule
(``rules/finetune.smk``) and grid, overridden by ``adapt.grid``; the translations, alignments and
projections are made by ``rules/translate.smk`` (:mod:`xlt.translate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from xlt.config import ConfigError
from xlt.plan import Candidate, Plan
from xlt.world import DATASETS as SYNTH_DATASETS

METHODS = ("to", "to-w2w", "bilingual", "mtl", "mtl-ws")
PER_TARGET = ("to", "to-w2w", "bilingual")
TABLE_METHODS = ("zero-shot", "to", "bilingual", "mtl", "mtl-ws")
STRATEGIES = ("span-to-span", "word-to-word")
SENTENCE = "sentence"  # a classification dataset's "strategy": labels carried over, no projection


@dataclass(frozen=True)
class TranslateTrainSettings:
    translate: Mapping[str, Any]  # the translate section
    adapt: Mapping[str, Any]  # the adapt section (grid, mtl_ws)
    targets: Mapping[str, tuple[str, ...]]  # task -> its targets in translate.targets

    # --- candidates ---------------------------------------------------------------------------
    def methods(self, plan: Plan, task: str) -> list[str]:
        """The task's translate-train methods with per-target ones expanded: ``to`` -> ``to-de``,
        ``to-es``, ... (in the order the task lists them)."""
        out = []
        for m in plan.tasks[task].methods:
            if m in PER_TARGET:
                out += [f"{m}-{lang}" for lang in self.targets.get(task, ())]
            elif m in METHODS:
                out.append(m)
        return out

    def grid(self, plan: Plan, task: str) -> Mapping[str, Any]:
        """The grid of the translate-train candidates: the task's, overridden by ``adapt.grid``."""
        return {**plan.tasks[task].grid, **(self.adapt.get("grid") or {})}

    def candidates(self, plan: Plan, task: str) -> list[Candidate]:
        g = self.grid(plan, task)
        return [
            Candidate(task, m, float(lr), int(ep), int(g["batch_size"]), int(seed))
            for m in self.methods(plan, task)
            for lr in g["lr"]
            for ep in g["epochs"]
            for seed in g["seeds"]
        ]

    # --- files -------------------------------------------------------------------------------
    def translate_dir(self, dataset: str, lang: str, engine: str | None = None, noise: str | None = None) -> str:  # fmt: skip
        """``results/translate/{dataset}/{lang}/{engine}-{noise}`` (config defaults filled in)."""
        engine = engine or self.translate.get("engine", "synthetic")
        if noise is None:
            noise = self.translate.get("train_noise", "low") if engine == "synthetic" else "none"
        return f"results/translate/{dataset}/{lang}/{engine}-{noise}"

    def projected_file(self, dataset: str, lang: str, strategy: str = "span-to-span") -> str:
        """The projected (translated, aligned, label-projected) training set of ``lang``."""
        return f"{self.translate_dir(dataset, lang)}/{strategy}/train.jsonl"

    def method_data(self, plan: Plan, task: str, method: str) -> dict[str, Any]:
        """Training files of a translate-train candidate method: ``train`` (list) and, for MTL-WS,
        ``warmup`` ({lang: file}) — the translated data of each target used by the warm-start."""
        t = plan.tasks[task]
        source_ds = t.dataset_of(t.source)  # what is translated: the source's training split
        src = [plan.data_file(source_ds, t.source, "train")]
        # spans exist only for NER; POS tags are projected word to word; a sentence label
        # (classification, NLI pairs) carries over without alignment
        default = {"ner": "span-to-span", "classification": SENTENCE}.get(t.kind, "word-to-word")
        targets = self.targets.get(task, ())
        proj = {lang: self.projected_file(source_ds, lang, default) for lang in targets}
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
                target = [self.projected_file(source_ds, lang, strategy)]
                return {"train": target if base != "bilingual" else src + target, "warmup": {}}
        raise ConfigError(
            f"tasks.{task}: unknown translate-train method {method!r}; the task's are "
            f"{self.methods(plan, task)}"
        )

    def projection_kind(self, plan: Plan, dataset: str) -> str:
        """``ner`` (span projection), ``pos`` (word-to-word UPOS) or ``sentence`` (a sentence
        label or an NLI pair's label: carried over, nothing to project), from the tasks on
        ``dataset``. Dependency trees are not projected: translate-train does not apply to a
        parsing task (the config is refused)."""
        kinds = {
            t.kind for t in plan.tasks.values() if dataset in (t.dataset, t.dataset_of(t.source))
        }
        if not kinds and dataset in ("synth-ner", "synth-pos", "synth-sentiment", "synth-nli"):
            kinds = {"ner" if dataset == "synth-ner" else "tagging" if dataset == "synth-pos" else "classification"}  # fmt: skip
        if len(kinds) != 1 or kinds - {"ner", "tagging", "classification"}:
            raise ConfigError(
                f"translate: cannot tell how to project dataset {dataset!r} (tasks using it have "
                f"kinds {sorted(kinds)}); define one ner, tagging or classification task on it"
            )
        return {"ner": "ner", "tagging": "pos", "classification": SENTENCE}[kinds.pop()]

    # --- outputs -----------------------------------------------------------------------------
    def describe(self, plan: Plan, task: str) -> dict[str, Any]:
        """What the translate-train tables need to know of a task (their rule's params)."""
        t = plan.tasks[task]
        return {
            "name": task,
            "kind": t.kind,
            "methods": list(t.methods),
            "translate_targets": list(self.targets.get(task, ())),
        }

    def outputs(self, plan: Plan) -> list[str]:
        """Projected training sets of translate.datasets × targets × strategies, the
        projection-quality table and figure, and each adapting task's tables."""
        out = []
        tr = self.translate
        for ds in tr.get("datasets", []):
            strategies = tr.get("strategies", ["span-to-span"])
            kind = self.projection_kind(plan, ds)
            if kind == "pos":
                strategies = ["word-to-word"]  # UPOS has no spans
            elif kind == SENTENCE:
                strategies = [SENTENCE]  # the label carries over: no alignment, no projection
            out += [
                self.projected_file(ds, lang, strategy)
                for lang in tr.get("targets", [])
                for strategy in strategies
            ]
        if (tr.get("quality") or {}).get("targets"):
            out += [
                "results/tables/projection_quality.csv",
                "results/tables/projection_quality.md",
                "results/tables/projection_quality.html",
                "results/figures/projection_quality.png",
            ]
        for name, t in plan.tasks.items():
            if self.targets.get(name):
                out += [f"results/tables/adaptation_{name}.{ext}" for ext in ("csv", "md", "html")]
            if self.targets.get(name) and "to-w2w" in t.methods:
                out += [f"results/tables/adaptation_ablation_{name}.{ext}" for ext in ("csv", "md", "html")]  # fmt: skip
        return out


def settings(plan: Plan, studies: Mapping[str, Any] | None = None) -> TranslateTrainSettings | None:
    """The validated translate-train settings (``None`` when no task adapts and the config
    translates nothing)."""
    translate = dict(plan.config.get("translate") or {})
    targets: dict[str, tuple[str, ...]] = {}
    for name, t in plan.tasks.items():
        adapting = [m for m in t.methods if m in METHODS]
        if not adapting:
            continue
        if t.kind in ("qa", "relation"):
            raise ConfigError(
                f"tasks.{name}.methods: {adapting} project token labels (NER spans, POS tags) "
                f"onto translations; a {t.kind} task has no such projection here: use zero-shot"
            )
        if t.kind == "parsing":
            raise ConfigError(
                f"tasks.{name}.methods: {adapting}: translate-train does not apply to a parsing "
                "task: xlt projects word labels and spans, not dependency trees (a translated "
                "tree needs its heads re-attached through the alignment, which xlt does not "
                "implement); use zero-shot"
            )
        if "to-w2w" in t.methods and t.kind != "ner":
            raise ConfigError(
                f"tasks.{name}.methods: to-w2w (the projection ablation) needs entity spans; "
                f"a {t.kind} task is always projected word to word: use to"
            )
        source_ds = t.dataset_of(t.source)  # translate-train translates the source's training data
        if source_ds not in translate.get("datasets", []):
            raise ConfigError(
                f"tasks.{name}.methods: {adapting} need translated training data, but "
                f"dataset {source_ds!r} is not in translate.datasets"
            )
        tt = tuple(lang for lang in translate.get("targets", []) if lang in t.targets)
        if not tt:
            raise ConfigError(
                f"tasks.{name}.methods: {adapting} need at least one of the task's targets "
                f"in translate.targets (has {translate.get('targets', [])})"
            )
        targets[name] = tt
    if not (targets or translate.get("datasets") or (translate.get("quality") or {}).get("targets")):  # fmt: skip
        return None
    _check_translate(plan, translate)
    return TranslateTrainSettings(
        translate=translate, adapt=dict(plan.config.get("adapt") or {}), targets=targets
    )


def _check_translate(plan: Plan, tr: Mapping[str, Any]) -> None:
    """translate: targets, noise levels and quality targets the engine can produce."""
    engine = tr.get("engine", "synthetic")
    levels = tr.get("noise_levels") or {}
    synthetic = [d for d in tr.get("datasets", []) if d in SYNTH_DATASETS]
    for ds in tr.get("datasets", []):
        if ds not in SYNTH_DATASETS and ds not in plan.datasets:
            raise ConfigError(
                f"translate.datasets: unknown dataset {ds!r}; known: "
                f"{sorted(plan.datasets) + ['synth-ner', 'synth-pos']}"
            )
    if engine == "synthetic" or synthetic:
        outside = [t for t in tr.get("targets", []) if t not in plan.world_languages]
        if outside and (engine == "synthetic"):
            raise ConfigError(
                f"translate.targets: {outside} are not languages of the synthetic world "
                f"(world.languages is {list(plan.world_languages)}); the synthetic engine "
                "realises sentences only in world languages: add them there or drop them"
            )
        if engine == "synthetic" and tr.get("train_noise", "low") not in levels:
            raise ConfigError(
                f"translate.train_noise: {tr.get('train_noise', 'low')!r} is not a level of "
                f"translate.noise_levels {sorted(levels)}; use one of them or define it there"
            )
    if tr.get("datasets"):
        from xlt.translate import TranslationError, check_engine

        try:
            check_engine(tr)
        except (TranslationError, ImportError, ValueError) as e:
            raise ConfigError(f"translate: {e}") from None
    quality = tr.get("quality") or {}
    if quality.get("targets"):
        outside = [t for t in quality["targets"] if t not in plan.world_languages]
        if outside:
            raise ConfigError(
                f"translate.quality.targets: {outside} are not in world.languages "
                f"{list(plan.world_languages)} (projection quality is measured on the world)"
            )
        unknown = [n for n in quality.get("noise", []) if n not in levels]
        if unknown:
            raise ConfigError(
                f"translate.quality.noise: {unknown} are not levels of translate.noise_levels "
                f"{sorted(levels)}"
            )
