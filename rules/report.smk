# Tables and figures: report() outputs with captions (snakemake --report results/report.html).


rule table_zero_shot:
    input:
        pool="results/pools/{task}.parquet",
    output:
        **table_outputs(
            "results/tables/zero_shot_{task}",
            "../report/zero_shot.rst",
            "Zero-shot transfer",
            "Scores per language, En-Dev and oracle picks",
        ),
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
        result(
            "results/figures/scores_{task}.png",
            "../report/scores.rst",
            "Zero-shot transfer",
            "Every candidate's scores",
            FIGURE,
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
        **table_outputs(
            "results/tables/adaptation_{task}",
            "../report/adaptation.rst",
            "Translate-train",
            "Translate-train methods (Table 1)",
        ),
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
        **table_outputs(
            "results/tables/adaptation_ablation_{task}",
            "../report/adaptation_ablation.rst",
            "Translate-train",
            "Word-to-word vs span-to-span projection (Table 5)",
        ),
    log:
        "logs/tables/adaptation_ablation_{task}.log",
    conda:
        "../envs/report.yaml"
    params:
        task=lambda wc: canonical(STUDIES["translate_train"].describe(PLAN, wc.task)),
        part="ablation",
    script:
        "../workflow_scripts/table_adaptation.py"
