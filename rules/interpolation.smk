# The interpolation study (seed 002, Wu et al.; methods.md §3), when the config has an
# `interpolation:` section. Per task and seed: θ_src (source train only, shared by the task's
# pairs), and per target θ_tgt and θ_bi (source + target train), all from the same encoder and head
# seed, trained by the candidate job (xlt.finetune, workflow_scripts/finetune.py). One job per
# (task, pair, seed) writes every point of both 1-D paths and the plane into one model and scores
# it (xlt.analysis.interpolation); the endpoint weights are temp(): deleted once the jobs that need
# them have run. Tables and figures only read its documents (xlt.analysis.interpolation_report).
# Paths and params come from the validated section (xlt.analysis.settings.InterpolationSettings).
from xlt.analysis.settings import NO_STUDY

STUDY = PLAN.interpolation or NO_STUDY


rule interpolation_endpoint:
    input:
        encoder=encoder_dir,
        train=lambda wc: STUDY.train_files(PLAN, wc.task, wc.endpoint),
        evals=lambda wc: list(STUDY.eval_files(PLAN, wc.task).values()),
    output:
        metrics="results/interpolation/{task}/seed{seed}/{endpoint}/metrics.json",
        predictions="results/interpolation/{task}/seed{seed}/{endpoint}/predictions.json.gz",
        features="results/interpolation/{task}/seed{seed}/{endpoint}/features.npz",
        weights=temp(
            directory("results/interpolation/{task}/seed{seed}/{endpoint}/model")
        ),
    log:
        "logs/interpolation/{task}/seed{seed}/{endpoint}.log",
    benchmark:
        "benchmarks/interpolation/{task}/seed{seed}/{endpoint}.tsv"
    wildcard_constraints:
        endpoint="src|(tgt|bi)-[a-z]{2,3}",
    conda:
        "../envs/torch.yaml"
    threads: config["finetune"]["threads"]
    params:
        cfg=lambda wc: canonical(
            STUDY.endpoint_params(PLAN, wc.task, wc.endpoint, wc.seed)
        ),
        evals=lambda wc: STUDY.eval_files(PLAN, wc.task),
        warmup={},
    script:
        "../workflow_scripts/finetune.py"


rule interpolate:
    input:
        encoder=encoder_dir,
        src="results/interpolation/{task}/seed{seed}/src/model",
        tgt="results/interpolation/{task}/seed{seed}/tgt-{tgt}/model",
        bi="results/interpolation/{task}/seed{seed}/bi-{tgt}/model",
        src_metrics="results/interpolation/{task}/seed{seed}/src/metrics.json",
        tgt_metrics="results/interpolation/{task}/seed{seed}/tgt-{tgt}/metrics.json",
        bi_metrics="results/interpolation/{task}/seed{seed}/bi-{tgt}/metrics.json",
        evals=lambda wc: list(STUDY.eval_files(PLAN, wc.task, wc.tgt).values()),
    output:
        "results/interpolation/{task}/{src}-{tgt}/seed{seed}.json.gz",
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


rule interpolation_tables:
    input:
        lambda wc: STUDY.documents(PLAN, wc.task),
    output:
        csv_1d=report(
            "results/tables/interpolation_1d_{task}.csv",
            caption="../report/interpolation_1d.rst",
            category="Interpolation",
            subcategory="{task}",
            labels={"task": "{task}", "type": "table (csv)"},
        ),
        md_1d="results/tables/interpolation_1d_{task}.md",
        csv_geometry=report(
            "results/tables/interpolation_geometry_{task}.csv",
            caption="../report/interpolation_geometry.rst",
            category="Interpolation",
            subcategory="{task}",
            labels={"task": "{task}", "type": "table (csv)"},
        ),
        md_geometry="results/tables/interpolation_geometry_{task}.md",
    log:
        "logs/tables/interpolation_{task}.log",
    conda:
        "../envs/report.yaml"
    params:
        part="tables",
    script:
        "../workflow_scripts/interpolation_report.py"


rule interpolation_figures:
    input:
        lambda wc: STUDY.documents(PLAN, wc.task),
    output:
        fig_1d=report(
            "results/figures/interpolation_1d_{task}.png",
            caption="../report/interpolation_1d_figure.rst",
            category="Interpolation",
            subcategory="{task}",
            labels={"task": "{task}", "type": "figure"},
        ),
        fig_geometry=report(
            "results/figures/interpolation_geometry_{task}.png",
            caption="../report/interpolation_geometry_figure.rst",
            category="Interpolation",
            subcategory="{task}",
            labels={"task": "{task}", "type": "figure"},
        ),
        fig_variance=report(
            "results/figures/interpolation_variance_{task}.png",
            caption="../report/interpolation_variance.rst",
            category="Interpolation",
            subcategory="{task}",
            labels={"task": "{task}", "type": "figure"},
        ),
    log:
        "logs/figures/interpolation_{task}.log",
    conda:
        "../envs/report.yaml"
    params:
        part="figures",
    script:
        "../workflow_scripts/interpolation_report.py"


rule interpolation_plane:
    input:
        lambda wc: STUDY.documents(PLAN, wc.task),
    output:
        fig_2d=report(
            "results/figures/interpolation_2d_{task}.png",
            caption="../report/interpolation_2d.rst",
            category="Interpolation",
            subcategory="{task}",
            labels={"task": "{task}", "type": "figure"},
        ),
    log:
        "logs/figures/interpolation_2d_{task}.log",
    conda:
        "../envs/report.yaml"
    params:
        part="figures",
    script:
        "../workflow_scripts/interpolation_report.py"
