# Shared helpers: the resolved experiment plan, the registry of studies, and the paths rules ask.
import re

from xlt.plan import ConfigError, Plan, parse_hp
from xlt.studies import Studies

try:
    PLAN = Plan(config)  # datasets, encoders, tasks (xlt.plan)
    STUDIES = Studies(PLAN)  # every study's validated section (xlt.studies)
except ConfigError as e:
    raise WorkflowError(f"invalid configuration: {e}") from None

# a wildcard value that is a name: starts with a letter or digit (never "." or ".."), no "/"
NAME = "[A-Za-z0-9][A-Za-z0-9_.-]*"


def one_of(names):
    """A wildcard constraint matching exactly these names (regex characters escaped)."""
    return "|".join(re.escape(n) for n in names) or "^$"


wildcard_constraints:
    task=one_of(PLAN.tasks),
    method="[a-z][a-z0-9-]*",
    hp="lr[^/]+",
    seed=r"\d+",
    lang="[a-z]{2,3}",
    split="train|dev|test",
    encoder=NAME,


def canonical(obj):
    """``obj`` with dict keys sorted recursively: params compare equal however a config orders
    its keys, so reordering a config file re-runs nothing."""
    if isinstance(obj, dict):
        return {k: canonical(obj[k]) for k in sorted(obj)}
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    return obj


def task_of(wildcards):
    return PLAN.tasks[wildcards.task]


def encoder_dir(wildcards):
    return f"results/encoders/{task_of(wildcards).encoder}"


def source_train_file(wildcards):
    t = task_of(wildcards)
    return PLAN.data_file(t.dataset_of(t.source), t.source, "train")


def method_data(wildcards):
    """Training files of a candidate of rules/finetune.smk, from the study that trains its method
    (zero-shot: the source; translate-train: source and/or projected translations)."""
    study = "zero_shot" if wildcards.method == "zero-shot" else "translate_train"
    if STUDIES[study] is None:
        raise WorkflowError(f"tasks.{wildcards.task}: no method {wildcards.method!r}")
    return STUDIES[study].method_data(PLAN, wildcards.task, wildcards.method)


def train_files(wildcards):
    return method_data(wildcards)["train"]


def warmup_files(wildcards):
    """{lang: projected training file} of the MTL-WS warm-start (empty for other methods)."""
    return method_data(wildcards)["warmup"]


def eval_files(wildcards):
    t = task_of(wildcards)
    return {
        f"{lang}/{split}": PLAN.data_file(t.dataset_of(lang), lang, split)
        for lang in t.languages
        for split in ("dev", "test")
    }


def split_files(wildcards, split):
    """{lang: file} of one split for every language of the task."""
    t = task_of(wildcards)
    return {
        lang: PLAN.data_file(t.dataset_of(lang), lang, split) for lang in t.languages
    }


def candidate_files(name):
    """Input function: ``name`` (metrics.json, …) of every candidate of a task."""

    def files(wildcards):
        return [f"{c.dir}/{name}" for c in STUDIES.candidates(wildcards.task)]

    return files


def metaxl_files(name):
    """Input function: ``name`` (metrics.json, …) of every candidate of a task's MetaXL grid."""

    def files(wildcards):
        return [
            f"{c.dir}/{name}"
            for c in STUDIES["metaxl"].candidates(PLAN, wildcards.task)
        ]

    return files


def finetune_params(wildcards):
    t = task_of(wildcards)
    return canonical(
        {
            "task": t.name,
            "method": wildcards.method,
            "kind": t.kind,
            "pooling": t.pooling,
            "labels": PLAN.labels(t.name),
            "source": t.source,
            "encoder": t.encoder,
            "encoder_kind": PLAN.encoders[t.encoder]["kind"],
            "seed": int(wildcards.seed),
            **parse_hp(wildcards.hp),
            **config["finetune"],
            **t.overrides,
            # only MTL-WS candidates depend on (and re-run with) the warm-start settings
            **(
                {"mtl_ws": config.get("adapt", {}).get("mtl_ws", {})}
                if wildcards.method == "mtl-ws"
                else {}
            ),
        }
    )


def weights_output(path):
    """{"weights": directory} with finetune.keep_weights, else nothing: weights that no rule
    reads are never written (a temp() output would survive a run that targets the candidate).
    """
    return {"weights": directory(path)} if config["finetune"]["keep_weights"] else {}


def all_outputs():
    """Every table and figure of every study the config runs (rule all)."""
    return STUDIES.outputs()


# --- comparison helpers (rules/comparison.smk) ------------------------------------------
COMPARISON = STUDIES["comparison"]


def comparison_lms(wildcards):
    """The lms: settings the comparison's LMS rows depend on (those of Table 7: scorer,
    baselines, runs) where LMS runs on the task, else nothing (an lms: change re-runs no other
    task's comparison)."""
    if wildcards.task not in COMPARISON.lms_tasks:
        return {}
    return STUDIES["lms"].params("scorer", "baselines", "runs")


# --- translate-train helpers (rules/translate.smk) -------------------------------------------------------------------------
from xlt.translate import FRAME_DATASET, FileConfig
from xlt.world import DATASETS as SYNTH_DATASETS

TRANSLATE = config.get("translate", {})
TRANSLATE_SOURCE = TRANSLATE.get("source", config.get("world", {}).get("source", "en"))
TRANSLATE_ENGINES = "synthetic|googletrans|file|apertium|ctranslate2"
STRATEGIES = "span-to-span|word-to-word"


def translate_inputs(wildcards):
    """The source split, plus what the engine reads: frames (synthetic POS), the user's file."""
    out = {"data": PLAN.data_file(wildcards.dataset, TRANSLATE_SOURCE, "train")}
    if wildcards.engine == "synthetic" and wildcards.dataset in FRAME_DATASET:
        frames = FRAME_DATASET[wildcards.dataset]
        out["frames"] = PLAN.data_file(frames, TRANSLATE_SOURCE, "train")
    if wildcards.engine == "file":
        spec = FileConfig.from_config(TRANSLATE.get("file"))
        path = spec.resolve(TRANSLATE_SOURCE, wildcards.lang, wildcards.dataset)
        out["file"] = str(path)
    return out


def translate_params(wildcards):
    """Only the settings of the engine in use, so other changes do not re-run translations."""
    engine = wildcards.engine
    cfg = {
        "engine": engine,
        "noise": wildcards.noise,
        "seed": TRANSLATE.get("seed", config["seed"]),
    }
    if engine == "synthetic":
        levels = TRANSLATE.get("noise_levels")
        if levels and wildcards.noise in levels:
            cfg["noise_levels"] = {wildcards.noise: levels[wildcards.noise]}
    else:
        cfg["segment"] = TRANSLATE.get("segment", True)
        if engine in TRANSLATE:
            cfg[engine] = TRANSLATE[engine]
    return cfg


def world_params():
    """What ``xlt.world.World`` needs (the synthetic engine and projection quality)."""
    w = config.get("world", {})
    return {
        "languages": w.get("languages", []),
        "seed": w.get("seed", 1),
        "profiles": w.get("profiles", {}),
    }


def extra_parallel_files(lang):
    """Extra bitext for the aligner: translate.align.extra_parallel lists synth-* datasets
    (their train split of ``lang``) or file patterns with {lang}/{src}."""
    spec = TRANSLATE.get("align", {}).get("extra_parallel") or []
    out = []
    for item in [spec] if isinstance(spec, str) else spec:
        if item in SYNTH_DATASETS:
            if lang in PLAN.world_languages and lang != TRANSLATE_SOURCE:
                out.append(PLAN.data_file(item, lang, "train"))
        else:
            out.append(item.format(lang=lang, src=TRANSLATE_SOURCE))
    return out


def dataset_projection_kind(dataset):
    """ner (span projection) or pos (word-to-word UPOS), from the tasks that use the dataset."""
    return STUDIES["translate_train"].projection_kind(PLAN, dataset)


def quality_targets():
    return list(TRANSLATE.get("quality", {}).get("targets", []))


# --- the report (snakemake --report results/report.html) ------------------------------------
# A report keeps one row per combination of labels within a (sub)category: every result gets a
# name of its own (with the paper's table or figure where there is one), its type and its task.
TABLE, CSV, FIGURE = "table", "table (CSV download)", "figure"


def result(path, caption, category, name, kind, subcategory="{task}"):
    """``path`` as a report() output labelled ``name`` (unique in its category), ``kind``
    (TABLE, CSV or FIGURE) and, for a per-task result, its task."""
    labels = {"result": name, "type": kind}
    if "{task}" in path:
        labels["task"] = "{task}"
    return report(
        path,
        caption=caption,
        category=category,
        subcategory=subcategory,
        labels=labels,
    )


def table_outputs(stem, caption, category, name, key="{ext}", subcategory="{task}"):
    """The outputs of a table ``stem`` (a path without extension): HTML (shown inline in the
    report), CSV (a download in the report) and Markdown; ``key`` names them ({ext} is html, csv
    or md)."""
    return {
        key.format(ext="html"): result(
            f"{stem}.html", caption, category, name, TABLE, subcategory
        ),
        key.format(ext="csv"): result(
            f"{stem}.csv", caption, category, name, CSV, subcategory
        ),
        key.format(ext="md"): f"{stem}.md",
    }
