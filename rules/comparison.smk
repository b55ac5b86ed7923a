# Every line of work side by side, per task (xlt.studies.comparison.report): one row per method that the
# run trained (zero-shot with En-Dev, the LMS study's selection rules, translate-train, MetaXL's
# grid, IWDA and its supervised upper bound), mean ± sd over seeds per target, the target-language
# resources each used, and a paired t-test against zero-shot En-Dev. It reads the task's pool and,
# where LMS ran on the task, the LMS study's repeated runs: never a candidate's weights, so
# rebuilding it re-runs no training job. Its report category sorts first in the report's menu.


rule comparison:
    input:
        unpack(lambda wc: COMPARISON.inputs(wc.task)),
    output:
        **table_outputs(
            "results/tables/comparison_{task}",
            "../report/comparison.rst",
            "All methods compared",
            "Every method: scores, resources, paired tests",
        ),
        # the front page's numbers (report/workflow.rst)
        headline="results/tables/comparison_{task}_headline.csv",
        figure=result(
            "results/figures/comparison_{task}.png",
            "../report/comparison_figure.rst",
            "All methods compared",
            "What each kind of target data buys",
            FIGURE,
        ),
    log:
        "logs/tables/comparison_{task}.log",
    conda:
        "../envs/torch.yaml"
    params:
        study=lambda wc: canonical(COMPARISON.describe(PLAN, wc.task)),
        lms=comparison_lms,
    script:
        "../workflow_scripts/comparison.py"
