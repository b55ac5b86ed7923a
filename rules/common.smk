# Shared helpers: the resolved experiment plan and the paths rules ask for.
from xlt.plan import ConfigError, Plan, parse_hp

try:
    PLAN = Plan(config)
except ConfigError as e:
    raise WorkflowError(f"invalid configuration: {e}") from None


wildcard_constraints:
    task="|".join(PLAN.tasks),
    method="[a-z][a-z0-9-]*",
    hp="lr[^/]+",
    seed=r"\d+",
    lang="[a-z]{2,3}",
    split="train|dev|test",
    encoder="[A-Za-z0-9_.-]+",


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


def train_files(wildcards):
    t = task_of(wildcards)
    return [PLAN.data_file(t.dataset, t.source, "train")]


def eval_files(wildcards):
    t = task_of(wildcards)
    return {
        f"{lang}/{split}": PLAN.data_file(t.dataset, lang, split)
        for lang in t.languages
        for split in ("dev", "test")
    }


def split_files(wildcards, split):
    """{lang: file} of one split for every language of the task."""
    t = task_of(wildcards)
    return {lang: PLAN.data_file(t.dataset, lang, split) for lang in t.languages}


def candidate_files(name):
    """Input function: ``name`` (metrics.json, …) of every candidate of a task."""

    def files(wildcards):
        return [f"{c.dir}/{name}" for c in PLAN.candidates(wildcards.task)]

    return files


def finetune_params(wildcards):
    t = task_of(wildcards)
    return canonical(
        {
            "task": t.name,
            "method": wildcards.method,
            "kind": t.kind,
            "labels": PLAN.labels(t.name),
            "source": t.source,
            "encoder": t.encoder,
            "seed": int(wildcards.seed),
            **parse_hp(wildcards.hp),
            **config["finetune"],
        }
    )


def weights_output(path):
    keep = config["finetune"].get("keep_weights", False)
    return directory(path) if keep else temp(directory(path))


def all_outputs():
    out = []
    for task in PLAN.tasks:
        out += [
            f"results/tables/zero_shot_{task}.csv",
            f"results/tables/zero_shot_{task}.md",
            f"results/figures/scores_{task}.png",
        ]
    return out
