# IWDA (seed 004, Xian, Ji & Zhao; methods.md §5), when the config has an `iwda:` section. Per task
# and target, one job runs every seed in turn (one process start and one set of imports for all;
# iwda.job_per_seed: one job per seed):
# per seed, it trains zero-shot (stage 1) and the supervised upper bound, then each
# configured variant (alignment without weights, IWDA, oracle, self-training, IWDA + ST, IWDA + KD)
# from copies of the stage-1 model through the one training loop (xlt.studies.iwda.iwda); only the text
# of the target's unlabelled split reaches them. Every candidate lands in the task's pool; the job
# also writes its analysis document (label-shift estimates, conditional feature shift per model,
# the re-sampled-prior study) per seed. With iwda.levels, each job also trains the variants per level
# of controlled prior shift on the unlabelled split subsampled to that level's prior, and scores
# them in the analysis document only. One job per task builds the tables and the figures from those
# documents alone (xlt.studies.iwda.report).
from xlt.studies.iwda.settings import NO_STUDY as NO_IWDA

IW = STUDIES["iwda"] or NO_IWDA
# each table's name in the report (the paper's tables or section)
IWDA_RESULTS = {
    "iwda": "IWDA and its variants (Tables 1-3)",
    "iwda_shift": "Label and feature shift (§2)",
    "iwda_levels": "IWDA under controlled prior shift (Fig. 1)",
}


rule iwda:
    input:
        unpack(lambda wc: IW.train_files(PLAN, wc.task, wc.target)),
        encoder=encoder_dir,
        evals=lambda wc: list(eval_files(wc).values()),
    output:
        **IW.job_outputs(),
    log:
        IW.job_path("logs/iwda/{task}/{target}", ".log"),
    benchmark:
        IW.job_path("benchmarks/iwda/{task}/{target}", ".tsv")
    wildcard_constraints:
        target="[a-z]{2,3}",
    priority: 2  # the longest jobs of a default run: started first, they do not end it alone
    conda:
        "../envs/torch.yaml"
    threads: config["finetune"]["threads"]
    params:
        cells=lambda wc: canonical(
            IW.job_params(PLAN, wc.task, wc.target, wc.get("seed"))
        ),
        evals=eval_files,
    script:
        "../workflow_scripts/iwda.py"


rule iwda_report:
    input:
        lambda wc: IW.analysis_files(PLAN, wc.task),
    output:
        **{
            key: path
            for name in IW.table_names()
            for key, path in table_outputs(
                f"results/tables/{name}_{{task}}",
                f"../report/{name}.rst",
                "IWDA",
                IWDA_RESULTS[name],
                key=f"{name}_{{ext}}",
            ).items()
        },
        **(
            {
                "levels_figure": result(
                    "results/figures/iwda_levels_{task}.png",
                    "../report/iwda_levels_figure.rst",
                    "IWDA",
                    "Score against prior-shift level (Fig. 1)",
                    FIGURE,
                )
            }
            if IW.levels
            else {}
        ),
        figure=result(
            "results/figures/iwda_shift_{task}.png",
            "../report/iwda_shift_figure.rst",
            "IWDA",
            "Score against label and feature shift (Figs. 1-2)",
            FIGURE,
        ),
    log:
        "logs/tables/iwda_{task}.log",
    conda:
        "../envs/report.yaml"
    script:
        "../workflow_scripts/iwda_report.py"
