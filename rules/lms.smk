# LMS (Chen & Ritter): learned model selection, its baselines and the paper's tables/figures.
# The scorer is trained once per task (rule lms); repeated runs, ablations and the
# number-of-models study reuse its hyper-parameters; tables and figures only read JSON.
# params carry exactly the lms: settings a job depends on (xlt.studies.lms.lms.PARAM_GROUPS), so a
# config change re-runs exactly the affected jobs. Targets for rule all:
# xlt.studies.lms.settings.LMSSettings.outputs. One torch thread per job: the scorer's
# matrices are small, a second thread gains ~10% on an idle machine and loses up to 10x when other
# processes share the cores (OpenMP barriers); Snakemake runs the study's jobs in parallel instead.
# Environments: torch.yaml (torch, lang2vec) for training and tables, report.yaml for figures.
from xlt.studies.lms.lms import params_for

LMS_CONFIG = {
    k: v for k, v in config.get("lms", {}).items() if k != "tasks"
}  # LMSConfig
LMS_POOL = {
    "table": "results/pools/{task}.parquet",
    "arrays": "results/pools/{task}.npz",
}
# (table, file name, caption, name in the report)
LMS_TABLES = [
    ("selection", "lms", "lms_selection", "Selection rules: LMS vs En-Dev (Table 2)"),
    ("features", "lms_features", "lms_features", "Model-feature ablation (Table 3)"),
    ("langvec", "lms_langvec", "lms_langvec", "Language-feature ablation (Table 4)"),
    ("runs", "lms_runs", "lms_runs", "Repeated runs, z-test (Table 7)"),
    ("nmodels", "lms_nmodels", "lms_nmodels", "Fewer meta-train models (Table 10)"),
]
LMS_FIGURES = {
    "kde": "Score distributions and picks (Figs. 2-3)",
    "kendall": "Kendall τ against meta-train models (Fig. 4)",
}
LMS_TASK = {
    "source": lambda wc: task_of(wc).source,
    "targets": lambda wc: list(task_of(wc).targets),
}


rule lms:
    input:
        **LMS_POOL,
    output:
        "results/selection/{task}/lms.json",
    log:
        "logs/selection/{task}/lms.log",
    benchmark:
        "benchmarks/selection/{task}/lms.tsv"
    conda:
        "../envs/torch.yaml"
    threads: 1
    params:
        **LMS_TASK,
        lms=params_for(LMS_CONFIG, "scorer"),
        step="main",
    script:
        "../workflow_scripts/lms_study.py"


rule lms_runs:
    input:
        **LMS_POOL,
        main="results/selection/{task}/lms.json",
    output:
        "results/selection/{task}/lms_runs.json",
    log:
        "logs/selection/{task}/lms_runs.log",
    benchmark:
        "benchmarks/selection/{task}/lms_runs.tsv"
    conda:
        "../envs/torch.yaml"
    threads: 1
    params:
        **LMS_TASK,
        lms=params_for(LMS_CONFIG, "scorer", "runs"),
        step="runs",
    script:
        "../workflow_scripts/lms_study.py"


rule lms_ablation:
    input:
        **LMS_POOL,
        main="results/selection/{task}/lms.json",
    output:
        "results/selection/{task}/lms_ablation.json",
    log:
        "logs/selection/{task}/lms_ablation.log",
    benchmark:
        "benchmarks/selection/{task}/lms_ablation.tsv"
    conda:
        "../envs/torch.yaml"
    threads: 1
    params:
        **LMS_TASK,
        lms=params_for(LMS_CONFIG, "scorer"),
        step="ablation",
    script:
        "../workflow_scripts/lms_study.py"


rule lms_nmodels:
    input:
        **LMS_POOL,
        main="results/selection/{task}/lms.json",
    output:
        "results/selection/{task}/lms_nmodels.json",
    log:
        "logs/selection/{task}/lms_nmodels.log",
    benchmark:
        "benchmarks/selection/{task}/lms_nmodels.tsv"
    conda:
        "../envs/torch.yaml"
    threads: 1
    params:
        **LMS_TASK,
        lms=params_for(LMS_CONFIG, "scorer", "nmodels"),
        step="nmodels",
    script:
        "../workflow_scripts/lms_study.py"


# Tables 2, 3, 4, 7, 10 and the KDE / Kendall-τ figures of a task: one job (each is a second's
# work once the study's JSON documents exist); xlt.studies.lms.experiments builds each from the
# documents it needs.
rule lms_report:
    input:
        **LMS_POOL,
        main="results/selection/{task}/lms.json",
        ablation="results/selection/{task}/lms_ablation.json",
        runs="results/selection/{task}/lms_runs.json",
        nmodels="results/selection/{task}/lms_nmodels.json",
    output:
        **{
            key: path
            for table, name, caption, label in LMS_TABLES
            for key, path in table_outputs(
                f"results/tables/{name}_{{task}}",
                f"../report/{caption}.rst",
                "Model selection (LMS)",
                label,
                key=f"{table}_{{ext}}",
            ).items()
        },
        **{
            f"figure_{figure}": result(
                f"results/figures/lms_{figure}_{{task}}.png",
                f"../report/lms_{figure}.rst",
                "Model selection (LMS)",
                label,
                FIGURE,
            )
            for figure, label in LMS_FIGURES.items()
        },
    log:
        "logs/tables/lms_{task}.log",
    conda:
        "../envs/torch.yaml"
    params:
        lms=params_for(LMS_CONFIG, "scorer", "baselines", "runs", "nmodels"),
        tables=[table for table, *_ in LMS_TABLES],
    script:
        "../workflow_scripts/lms_report.py"
