# Tables and figures: report() outputs with captions (snakemake --report results/report.html).


rule table_zero_shot:
    input:
        pool="results/pools/{task}.parquet",
    output:
        csv=report(
            "results/tables/zero_shot_{task}.csv",
            caption="../report/zero_shot.rst",
            category="Zero-shot transfer",
            subcategory="{task}",
            labels={"task": "{task}", "type": "table (csv)"},
        ),
        md="results/tables/zero_shot_{task}.md",
    log:
        "logs/tables/zero_shot_{task}.log",
    conda:
        "../envs/report.yaml"
    params:
        task=lambda wc: canonical(vars(task_of(wc))),
    script:
        "../workflow_scripts/table_zero_shot.py"


rule figure_scores:
    input:
        pool="results/pools/{task}.parquet",
    output:
        report(
            "results/figures/scores_{task}.png",
            caption="../report/scores.rst",
            category="Zero-shot transfer",
            subcategory="{task}",
            labels={"task": "{task}", "type": "figure"},
        ),
    log:
        "logs/figures/scores_{task}.log",
    conda:
        "../envs/report.yaml"
    params:
        task=lambda wc: canonical(vars(task_of(wc))),
    script:
        "../workflow_scripts/figure_scores.py"


rule table_adaptation:
    input:
        pool="results/pools/{task}.parquet",
    output:
        csv=report(
            "results/tables/adaptation_{task}.csv",
            caption="../report/adaptation.rst",
            category="Translate-train",
            subcategory="{task}",
            labels={"task": "{task}", "type": "table (csv)"},
        ),
        md="results/tables/adaptation_{task}.md",
    log:
        "logs/tables/adaptation_{task}.log",
    conda:
        "../envs/report.yaml"
    params:
        task=lambda wc: canonical(STUDIES["translate_train"].describe(PLAN, wc.task)),
        part="main",
    script:
        "../workflow_scripts/table_adaptation.py"


rule table_projection_ablation:
    input:
        pool="results/pools/{task}.parquet",
    output:
        csv=report(
            "results/tables/adaptation_ablation_{task}.csv",
            caption="../report/adaptation_ablation.rst",
            category="Translate-train",
            subcategory="{task}",
            labels={"task": "{task}", "type": "table (csv)"},
        ),
        md="results/tables/adaptation_ablation_{task}.md",
    log:
        "logs/tables/adaptation_ablation_{task}.log",
    conda:
        "../envs/report.yaml"
    params:
        task=lambda wc: canonical(STUDIES["translate_train"].describe(PLAN, wc.task)),
        part="ablation",
    script:
        "../workflow_scripts/table_adaptation.py"
