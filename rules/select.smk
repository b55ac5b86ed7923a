# Selection: gather a task's candidates into one pool; selection methods read the pool.


rule pool:
    input:
        metrics=candidate_files("metrics.json"),
        predictions=candidate_files("predictions.json.gz"),
        features=candidate_files("features.npz"),
        data=lambda wc: [source_train_file(wc), *eval_files(wc).values()],
    output:
        table="results/pools/{task}.parquet",
        arrays="results/pools/{task}.npz",
    log:
        "logs/pools/{task}.log",
    conda:
        "../envs/report.yaml"
    params:
        kind=lambda wc: task_of(wc).kind,
        dev=lambda wc: split_files(wc, "dev"),
        test=lambda wc: split_files(wc, "test"),
        train=source_train_file,
    script:
        "../workflow_scripts/pool.py"
