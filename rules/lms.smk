# LMS (Chen & Ritter): learned model selection, its baselines and the paper's tables/figures.
# The scorer is trained once per task (rule lms); repeated runs, ablations and the
# number-of-models study reuse its hyper-parameters; tables and figures only read JSON.
# params carry exactly the lms: settings a job depends on (xlt.select.lms.PARAM_GROUPS), so a
# config change re-runs exactly the affected jobs. Targets for rule all:
# xlt.select.experiments.study_outputs(PLAN.tasks). One torch thread per job: the scorer's
# matrices are small, a second thread gains ~10% on an idle machine and loses up to 10x when other
# processes share the cores (OpenMP barriers); Snakemake runs the study's jobs in parallel instead.
# Environments: torch.yaml (torch, lang2vec) for training and tables, report.yaml for figures.
from xlt.select.lms import params_for

LMS_CONFIG = {k: v for k, v in config.get("lms", {}).items() if k != "tasks"}
LMS_POOL = {
    "table": "results/pools/{task}.parquet",
    "arrays": "results/pools/{task}.npz",
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


rule lms_table_selection:
    input:
        **LMS_POOL,
        main="results/selection/{task}/lms.json",
    output:
        csv=report(
            "results/tables/lms_{task}.csv",
            caption="../report/lms_selection.rst",
            category="Model selection (LMS)",
            subcategory="{task}",
            labels={"task": "{task}", "type": "table (csv)"},
        ),
        md="results/tables/lms_{task}.md",
    log:
        "logs/tables/lms_{task}.log",
    conda:
        "../envs/torch.yaml"
    params:
        lms=params_for(LMS_CONFIG, "scorer", "baselines"),
        table="selection",
    script:
        "../workflow_scripts/lms_table.py"


rule lms_table_features:
    input:
        **LMS_POOL,
        main="results/selection/{task}/lms.json",
        ablation="results/selection/{task}/lms_ablation.json",
    output:
        csv=report(
            "results/tables/lms_features_{task}.csv",
            caption="../report/lms_features.rst",
            category="Model selection (LMS)",
            subcategory="{task}",
            labels={"task": "{task}", "type": "table (csv)"},
        ),
        md="results/tables/lms_features_{task}.md",
    log:
        "logs/tables/lms_features_{task}.log",
    conda:
        "../envs/torch.yaml"
    params:
        lms=params_for(LMS_CONFIG, "scorer"),
        table="features",
    script:
        "../workflow_scripts/lms_table.py"


rule lms_table_langvec:
    input:
        **LMS_POOL,
        main="results/selection/{task}/lms.json",
        ablation="results/selection/{task}/lms_ablation.json",
    output:
        csv=report(
            "results/tables/lms_langvec_{task}.csv",
            caption="../report/lms_langvec.rst",
            category="Model selection (LMS)",
            subcategory="{task}",
            labels={"task": "{task}", "type": "table (csv)"},
        ),
        md="results/tables/lms_langvec_{task}.md",
    log:
        "logs/tables/lms_langvec_{task}.log",
    conda:
        "../envs/torch.yaml"
    params:
        lms=params_for(LMS_CONFIG, "scorer"),
        table="langvec",
    script:
        "../workflow_scripts/lms_table.py"


rule lms_table_runs:
    input:
        **LMS_POOL,
        runs="results/selection/{task}/lms_runs.json",
    output:
        csv=report(
            "results/tables/lms_runs_{task}.csv",
            caption="../report/lms_runs.rst",
            category="Model selection (LMS)",
            subcategory="{task}",
            labels={"task": "{task}", "type": "table (csv)"},
        ),
        md="results/tables/lms_runs_{task}.md",
    log:
        "logs/tables/lms_runs_{task}.log",
    conda:
        "../envs/torch.yaml"
    params:
        lms=params_for(LMS_CONFIG, "scorer", "baselines", "runs"),
        table="runs",
    script:
        "../workflow_scripts/lms_table.py"


rule lms_table_nmodels:
    input:
        **LMS_POOL,
        nmodels="results/selection/{task}/lms_nmodels.json",
    output:
        csv=report(
            "results/tables/lms_nmodels_{task}.csv",
            caption="../report/lms_nmodels.rst",
            category="Model selection (LMS)",
            subcategory="{task}",
            labels={"task": "{task}", "type": "table (csv)"},
        ),
        md="results/tables/lms_nmodels_{task}.md",
    log:
        "logs/tables/lms_nmodels_{task}.log",
    conda:
        "../envs/torch.yaml"
    params:
        lms=params_for(LMS_CONFIG, "scorer", "nmodels"),
        table="nmodels",
    script:
        "../workflow_scripts/lms_table.py"


rule lms_figure_kde:
    input:
        **LMS_POOL,
        main="results/selection/{task}/lms.json",
    output:
        report(
            "results/figures/lms_kde_{task}.png",
            caption="../report/lms_kde.rst",
            category="Model selection (LMS)",
            subcategory="{task}",
            labels={"task": "{task}", "type": "figure"},
        ),
    log:
        "logs/figures/lms_kde_{task}.log",
    conda:
        "../envs/report.yaml"
    params:
        figure="kde",
    script:
        "../workflow_scripts/lms_figure.py"


rule lms_figure_kendall:
    input:
        **LMS_POOL,
        nmodels="results/selection/{task}/lms_nmodels.json",
    output:
        report(
            "results/figures/lms_kendall_{task}.png",
            caption="../report/lms_kendall.rst",
            category="Model selection (LMS)",
            subcategory="{task}",
            labels={"task": "{task}", "type": "figure"},
        ),
    log:
        "logs/figures/lms_kendall_{task}.log",
    conda:
        "../envs/report.yaml"
    params:
        figure="kendall",
    script:
        "../workflow_scripts/lms_figure.py"
