# Candidates: one job per task x method x hyper-parameters x seed.


# the weights are an output only with finetune.keep_weights (no rule reads them otherwise)
rule finetune:
    input:
        encoder=encoder_dir,
        train=train_files,
        warmup=lambda wc: list(warmup_files(wc).values()),
        evals=lambda wc: list(eval_files(wc).values()),
    output:
        **weights_output("results/candidates/{task}/{method}/{hp}/seed{seed}/model"),
        metrics="results/candidates/{task}/{method}/{hp}/seed{seed}/metrics.json",
        predictions="results/candidates/{task}/{method}/{hp}/seed{seed}/predictions.json.gz",
        features="results/candidates/{task}/{method}/{hp}/seed{seed}/features.npz",
    log:
        "logs/candidates/{task}/{method}/{hp}/seed{seed}.log",
    benchmark:
        "benchmarks/candidates/{task}/{method}/{hp}/seed{seed}.tsv"
    # candidates before the selection and table jobs, so the study's tail runs in parallel
    priority: 1
    conda:
        "../envs/torch.yaml"
    threads: config["finetune"]["threads"]
    params:
        cfg=finetune_params,
        evals=eval_files,
        warmup=warmup_files,
    script:
        "../workflow_scripts/finetune.py"
