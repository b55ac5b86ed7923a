# Translate-train (methods.md §4): translate the source training split, align it with fast_align,
# project its labels (a sentence label, NLI pairs included, carries over: carry_labels); and
# measure projection quality on the synthetic world. Which datasets and
# targets, and which candidates train on the projections: xlt.studies.translate_train.

from xlt.translate import CACHED_ENGINES


rule translate:
    input:
        unpack(translate_inputs),
    output:
        data="results/translate/{dataset}/{lang}/{engine}-{noise}/translated.jsonl",
        provenance="results/translate/{dataset}/{lang}/{engine}-{noise}/translated.provenance.json",
    log:
        "logs/translate/{dataset}/{lang}/{engine}-{noise}/translate.log",
    benchmark:
        "benchmarks/translate/{dataset}/{lang}/{engine}-{noise}/translate.tsv"
    wildcard_constraints:
        dataset=NAME,
        engine=TRANSLATE_ENGINES,
        noise="[a-z0-9]+",
    conda:
        "../envs/data.yaml"
    resources:
        googletrans=lambda wc: int(wc.engine == "googletrans"),
    params:
        cfg=lambda wc: canonical(translate_params(wc)),
        kind=lambda wc: dataset_projection_kind(wc.dataset),
        source=TRANSLATE_SOURCE,
        world=lambda wc: canonical(world_params()) if wc.engine == "synthetic" else {},
        cache=lambda wc: (
            TRANSLATE.get("cache", {}) if wc.engine in CACHED_ENGINES else None
        ),
    script:
        "../workflow_scripts/translate.py"


rule align:
    input:
        translated="results/translate/{dataset}/{lang}/{engine}-{noise}/translated.jsonl",
        extra=lambda wc: extra_parallel_files(wc.lang),
    output:
        links="results/translate/{dataset}/{lang}/{engine}-{noise}/alignments.jsonl",
        stats="results/translate/{dataset}/{lang}/{engine}-{noise}/alignments.stats.json",
    log:
        "logs/translate/{dataset}/{lang}/{engine}-{noise}/align.log",
    benchmark:
        "benchmarks/translate/{dataset}/{lang}/{engine}-{noise}/align.tsv"
    wildcard_constraints:
        dataset=NAME,
        engine=TRANSLATE_ENGINES,
        noise="[a-z0-9]+",
    conda:
        "../envs/data.yaml"
    params:
        align=canonical(TRANSLATE.get("align", {})),
    script:
        "../workflow_scripts/align.py"


rule project:
    input:
        translated="results/translate/{dataset}/{lang}/{engine}-{noise}/translated.jsonl",
        links="results/translate/{dataset}/{lang}/{engine}-{noise}/alignments.jsonl",
    output:
        data="results/translate/{dataset}/{lang}/{engine}-{noise}/{strategy}/train.jsonl",
        stats="results/translate/{dataset}/{lang}/{engine}-{noise}/{strategy}/stats.json",
    log:
        "logs/translate/{dataset}/{lang}/{engine}-{noise}/{strategy}/project.log",
    wildcard_constraints:
        dataset=NAME,
        engine=TRANSLATE_ENGINES,
        noise="[a-z0-9]+",
        strategy=STRATEGIES,
    conda:
        "../envs/data.yaml"
    params:
        kind=lambda wc: dataset_projection_kind(wc.dataset),
        policy=canonical(TRANSLATE.get("project", {})),
    script:
        "../workflow_scripts/project.py"


rule carry_labels:
    input:
        translated="results/translate/{dataset}/{lang}/{engine}-{noise}/translated.jsonl",
    output:
        data="results/translate/{dataset}/{lang}/{engine}-{noise}/sentence/train.jsonl",
        stats="results/translate/{dataset}/{lang}/{engine}-{noise}/sentence/stats.json",
    log:
        "logs/translate/{dataset}/{lang}/{engine}-{noise}/sentence/carry.log",
    wildcard_constraints:
        dataset=NAME,
        engine=TRANSLATE_ENGINES,
        noise="[a-z0-9]+",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow_scripts/carry_labels.py"


rule projection_quality:
    input:
        source=PLAN.data_file("synth-ner", TRANSLATE_SOURCE, "train"),
        extra=[f for lang in quality_targets() for f in extra_parallel_files(lang)],
    output:
        **table_outputs(
            "results/tables/projection_quality",
            "../report/projection_quality.rst",
            "Translate-train",
            "Label projection quality (synthetic world)",
            subcategory="label projection",
        ),
        png=result(
            "results/figures/projection_quality.png",
            "../report/projection_quality.rst",
            "Translate-train",
            "Label projection quality (synthetic world)",
            FIGURE,
            subcategory="label projection",
        ),
    log:
        "logs/tables/projection_quality.log",
    benchmark:
        "benchmarks/tables/projection_quality.tsv"
    conda:
        "../envs/data.yaml"
    params:
        extra_langs=[
            lang for lang in quality_targets() for f in extra_parallel_files(lang)
        ],
        source=TRANSLATE_SOURCE,
        world=canonical(world_params()),
        quality=canonical(TRANSLATE.get("quality", {})),
        noise_levels=canonical(TRANSLATE.get("noise_levels")),
        align=canonical(TRANSLATE.get("align", {})),
        policy=canonical(TRANSLATE.get("project", {})),
        seed=TRANSLATE.get("seed", config["seed"]),
    script:
        "../workflow_scripts/projection_quality.py"
