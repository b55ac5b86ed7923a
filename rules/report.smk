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
    params:
        task=lambda wc: canonical(vars(task_of(wc))),
    script:
        "../workflow_scripts/figure_scores.py"
