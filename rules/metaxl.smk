# MetaXL (seed 001, Xia et al.; methods.md §2), when the config has a `metaxl:` section. Per task,
# few-shot target and seed: target-only, joint training (JT), JT with the RTN trained jointly and
# MetaXL, with English or a related language as the source, at several source sizes and RTN
# placements (xlt.methods.metaxl_settings). Every candidate is one job through the one training
# loop (xlt.methods.metaxl) and lands in the task's pool; the tables and the PCA figure only read
# the candidate records and their representations (xlt.analysis.metaxl_report).
from xlt.methods.metaxl_settings import NO_STUDY as NO_METAXL, PREFIX

MX = PLAN.metaxl or NO_METAXL


rule metaxl_candidate:
    input:
        unpack(lambda wc: MX.train_files(PLAN, wc.task, wc.method)),
        encoder=encoder_dir,
        evals=lambda wc: list(eval_files(wc).values()),
    output:
        **weights_output("results/candidates/{task}/{method}/{hp}/seed{seed}/model"),
        metrics="results/candidates/{task}/{method}/{hp}/seed{seed}/metrics.json",
        predictions="results/candidates/{task}/{method}/{hp}/seed{seed}/predictions.json.gz",
        features="results/candidates/{task}/{method}/{hp}/seed{seed}/features.npz",
        representations="results/candidates/{task}/{method}/{hp}/seed{seed}/representations.npz",
    log:
        "logs/candidates/{task}/{method}/{hp}/seed{seed}.log",
    benchmark:
        "benchmarks/candidates/{task}/{method}/{hp}/seed{seed}.tsv"
    wildcard_constraints:
        method=re.escape(PREFIX) + r"\.[A-Za-z0-9_.-]+",
    priority: 1
    conda:
        "../envs/torch.yaml"
    threads: config["finetune"]["threads"]
    params:
        cfg=lambda wc: canonical(MX.params(PLAN, wc.task, wc.method, wc.seed)),
        evals=eval_files,
    script:
        "../workflow_scripts/metaxl.py"


rule metaxl_tables:
    input:
        metrics=metaxl_files("metrics.json"),
        representations=metaxl_files("representations.npz"),
    output:
        **{
            f"{name}_{ext}": (
                report(
                    f"results/tables/{name}_{{task}}.csv",
                    caption=f"../report/{name}.rst",
                    category="MetaXL",
                    subcategory="{task}",
                    labels={"task": "{task}", "type": "table (csv)"},
                )
                if ext == "csv"
                else f"results/tables/{name}_{{task}}.md"
            )
            for name in MX.table_names()
            for ext in ("csv", "md")
        },
        pca=report(
            "results/figures/metaxl_pca_{task}.png",
            caption="../report/metaxl_pca.rst",
            category="MetaXL",
            subcategory="{task}",
            labels={"task": "{task}", "type": "figure"},
        ),
    log:
        "logs/tables/metaxl_{task}.log",
    conda:
        "../envs/report.yaml"
    params:
        study=lambda wc: canonical(MX.describe(PLAN, wc.task)),
    script:
        "../workflow_scripts/metaxl_tables.py"
