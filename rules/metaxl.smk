# MetaXL (seed 001, Xia et al.; methods.md §2), when the config has a `metaxl:` section. Per task,
# few-shot target and seed: target-only, joint training (JT), JT with the RTN trained jointly and
# MetaXL, with English or a related language as the source, at several source sizes and RTN
# placements (xlt.studies.metaxl.settings). Every candidate trains through the one training loop
# (xlt.studies.metaxl.metaxl) and lands in the task's pool; the tables and the PCA figure only read the
# candidate records and their representations (xlt.studies.metaxl.report).
from xlt.studies.metaxl.settings import NO_STUDY as NO_METAXL

MX = STUDIES["metaxl"] or NO_METAXL
# each table's name in the report (the paper's table or section)
METAXL_RESULTS = {
    "metaxl": "MetaXL, JT and target only (Tables 2-3)",
    "metaxl_delta": "Paired differences from JT (Tables 2-3)",
    "metaxl_hausdorff": "Representation shift, Hausdorff distance (§4.5)",
    "metaxl_source_size": "Source-data size (Table 4)",
    "metaxl_layers": "RTN placement (Table 5)",
}


# The prepared training files hold enough examples for metaxl.n and the source sizes (a real
# dataset's size is known only once read): checked once per task, right after data preparation,
# before any training job of the task starts; a shortfall names the key and the largest value.
rule metaxl_sizes:
    input:
        lambda wc: [need["file"] for need in MX.size_needs(PLAN, wc.task)],
    output:
        MX.size_check_file("{task}"),
    log:
        "logs/metaxl/sizes_{task}.log",
    priority: 50
    params:
        needs=lambda wc: MX.size_needs(PLAN, wc.task),
    run:
        from xlt.runtime import job
        from xlt.studies.metaxl.settings import check_prepared_sizes

        with job(log[0]):
            check_prepared_sizes(params.needs, output[0])


# One job per (task, few-shot target) trains every setting of that cell for every seed in turn
# (target-only, JT and MetaXL at each source size and RTN placement; a few seconds each on the tiny
# encoder, so one process saves the start-up of many; metaxl.job_per_seed: one job per seed); a
# second job per cell trains the settings with the target's related language as the source
# (metaxl.related). Each setting and seed writes its own record.
rule metaxl:
    input:
        unpack(lambda wc: MX.job_train_files(PLAN, wc.task, wc.target, False)),
        sizes=MX.size_check_file("{task}"),
        encoder=encoder_dir,
        evals=lambda wc: list(eval_files(wc).values()),
    output:
        **MX.job_outputs(
            False, directory if config["finetune"]["keep_weights"] else None
        ),
    log:
        MX.job_path("logs/metaxl/{task}/{target}", ".log"),
    benchmark:
        MX.job_path("benchmarks/metaxl/{task}/{target}", ".tsv")
    wildcard_constraints:
        target="[a-z]{2,3}",
    priority: 1
    conda:
        "../envs/torch.yaml"
    threads: config["finetune"]["threads"]
    params:
        jobs=lambda wc: canonical(
            MX.job_params(PLAN, wc.task, wc.target, False, wc.get("seed"))
        ),
        evals=eval_files,
    script:
        "../workflow_scripts/metaxl.py"


use rule metaxl as metaxl_related with:
    input:
        unpack(lambda wc: MX.job_train_files(PLAN, wc.task, wc.target, True)),
        sizes=MX.size_check_file("{task}"),
        encoder=encoder_dir,
        evals=lambda wc: list(eval_files(wc).values()),
    output:
        **MX.job_outputs(
            True, directory if config["finetune"]["keep_weights"] else None
        ),
    log:
        MX.job_path("logs/metaxl/{task}/{target}/related-{related}", ".log"),
    benchmark:
        MX.job_path("benchmarks/metaxl/{task}/{target}/related-{related}", ".tsv")
    wildcard_constraints:
        target="[a-z]{2,3}",
        related=one_of(sorted(set(MX.related.values()))),
    params:
        jobs=lambda wc: canonical(
            MX.job_params(PLAN, wc.task, wc.target, True, wc.get("seed"))
        ),
        evals=eval_files,


rule metaxl_tables:
    input:
        metrics=metaxl_files("metrics.json"),
        representations=metaxl_files("representations.npz"),
    output:
        **{
            key: path
            for name in MX.table_names()
            for key, path in table_outputs(
                f"results/tables/{name}_{{task}}",
                f"../report/{name}.rst",
                "MetaXL",
                METAXL_RESULTS[name],
                key=f"{name}_{{ext}}",
            ).items()
        },
        pca=result(
            "results/figures/metaxl_pca_{task}.png",
            "../report/metaxl_pca.rst",
            "MetaXL",
            "Source and target representations, PCA (§4.5)",
            FIGURE,
        ),
    log:
        "logs/tables/metaxl_{task}.log",
    conda:
        "../envs/report.yaml"
    params:
        study=lambda wc: canonical(MX.describe(PLAN, wc.task)),
    script:
        "../workflow_scripts/metaxl_tables.py"
