# The interpolation study (seed 002, Wu et al.; methods.md §3), when the config has an
# `interpolation:` section. Per task and seed: θ_src (source train only, shared by the task's pairs;
# the candidate job, workflow_scripts/finetune.py; its weights are temp()). Per (task, pair, seed),
# one job trains θ_tgt (target train) and θ_bi (source + target train) from the same encoder and
# head seed (their weights live only in the job's temporary directory), then writes every point of
# both 1-D paths and the plane into one model in place and scores it (xlt.studies.interpolation.interpolation).
# One job per task builds the tables and figures from its documents
# (xlt.studies.interpolation.report). Paths and params come from the validated section
# (xlt.studies.interpolation.settings.InterpolationSettings).
from xlt.studies.interpolation.settings import NO_STUDY

STUDY = STUDIES["interpolation"] or NO_STUDY


rule interpolation_endpoint:
    input:
        encoder=encoder_dir,
        train=lambda wc: STUDY.train_files(PLAN, wc.task, "src"),
        evals=lambda wc: list(STUDY.eval_files(PLAN, wc.task).values()),
    output:
        metrics="results/interpolation/{task}/seed{seed}/src/metrics.json",
        predictions="results/interpolation/{task}/seed{seed}/src/predictions.json.gz",
        features="results/interpolation/{task}/seed{seed}/src/features.npz",
        weights=temp(directory("results/interpolation/{task}/seed{seed}/src/model")),
    log:
        "logs/interpolation/{task}/seed{seed}/src.log",
    benchmark:
        "benchmarks/interpolation/{task}/seed{seed}/src.tsv"
    conda:
        "../envs/torch.yaml"
    threads: config["finetune"]["threads"]
    params:
        cfg=lambda wc: canonical(STUDY.endpoint_params(PLAN, wc.task, "src", wc.seed)),
        evals=lambda wc: STUDY.eval_files(PLAN, wc.task),
        warmup={},
    script:
        "../workflow_scripts/finetune.py"


rule interpolate:
    input:
        encoder=encoder_dir,
        src="results/interpolation/{task}/seed{seed}/src/model",
        src_metrics="results/interpolation/{task}/seed{seed}/src/metrics.json",
        train=lambda wc: STUDY.train_files(PLAN, wc.task, f"bi-{wc.tgt}"),
        evals=lambda wc: list(STUDY.eval_files(PLAN, wc.task, wc.tgt).values()),
    output:
        **{
            f"{kind}_{part}": f"results/interpolation/{{task}}/{{src}}-{{tgt}}/seed{{seed}}/{kind}/{name}"
            for kind in ("tgt", "bi")
            for part, name in (
                ("metrics", "metrics.json"),
                ("predictions", "predictions.json.gz"),
                ("features", "features.npz"),
            )
        },
        doc="results/interpolation/{task}/{src}-{tgt}/seed{seed}.json.gz",
    log:
        "logs/interpolation/{task}/{src}-{tgt}/seed{seed}.log",
    benchmark:
        "benchmarks/interpolation/{task}/{src}-{tgt}/seed{seed}.tsv"
    wildcard_constraints:
        src="[a-z]{2,3}",
        tgt="[a-z]{2,3}",
    conda:
        "../envs/torch.yaml"
    threads: config["finetune"]["threads"]
    params:
        cfg=lambda wc: canonical(
            STUDY.job_params(PLAN, wc.task, f"{wc.src}-{wc.tgt}", wc.seed)
        ),
        evals=lambda wc: STUDY.eval_files(PLAN, wc.task, wc.tgt),
    script:
        "../workflow_scripts/interpolate.py"


# Tables (CSV + Markdown) and figures of one task: one job, a few seconds once the documents exist.
rule interpolation_report:
    input:
        lambda wc: STUDY.documents(PLAN, wc.task),
    output:
        **(
            {
                "fig_2d": result(
                    "results/figures/interpolation_2d_{task}.png",
                    "../report/interpolation_2d.rst",
                    "Interpolation",
                    "2-D plane (Fig. 3)",
                    FIGURE,
                )
            }
            if STUDY.alphas_2d()
            else {}
        ),
        **table_outputs(
            "results/tables/interpolation_1d_{task}",
            "../report/interpolation_1d.rst",
            "Interpolation",
            "1-D paths",
            key="{ext}_1d",
        ),
        **table_outputs(
            "results/tables/interpolation_geometry_{task}",
            "../report/interpolation_geometry.rst",
            "Interpolation",
            "Endpoint geometry",
            key="{ext}_geometry",
        ),
        fig_1d=result(
            "results/figures/interpolation_1d_{task}.png",
            "../report/interpolation_1d_figure.rst",
            "Interpolation",
            "1-D paths (Fig. 2)",
            FIGURE,
        ),
        fig_geometry=result(
            "results/figures/interpolation_geometry_{task}.png",
            "../report/interpolation_geometry_figure.rst",
            "Interpolation",
            "Endpoint geometry (Fig. 4)",
            FIGURE,
        ),
        fig_variance=result(
            "results/figures/interpolation_variance_{task}.png",
            "../report/interpolation_variance.rst",
            "Interpolation",
            "Variance along the 1-D paths (Fig. 5)",
            FIGURE,
        ),
    log:
        "logs/tables/interpolation_{task}.log",
    conda:
        "../envs/report.yaml"
    script:
        "../workflow_scripts/interpolation_report.py"
