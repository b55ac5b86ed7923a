# Encoders: a WordPiece tokenizer + tiny BERT trained here, or a hub encoder fetched once.
# Either way the result is a Hugging Face directory loaded with from_pretrained downstream.


rule train_tokenizer:
    input:
        corpus=lambda wc: PLAN.corpus_files(wc.encoder),
    output:
        directory("results/encoders/{encoder}.tokenizer"),
    log:
        "logs/encoders/{encoder}.tokenizer.log",
    benchmark:
        "benchmarks/encoders/{encoder}.tokenizer.tsv"
    conda:
        "../envs/torch.yaml"
    params:
        spec=lambda wc: canonical(config["encoders"][wc.encoder]),
    script:
        "../workflow_scripts/train_tokenizer.py"


rule pretrain_encoder:
    input:
        tokenizer="results/encoders/{encoder}.tokenizer",
        corpus=lambda wc: PLAN.corpus_files(wc.encoder),
    output:
        directory("results/encoders/{encoder}"),
    log:
        "logs/encoders/{encoder}.log",
    benchmark:
        "benchmarks/encoders/{encoder}.tsv"
    wildcard_constraints:
        encoder=one_of(n for n, e in config["encoders"].items() if e["kind"] == "tiny"),
    conda:
        "../envs/torch.yaml"
    threads: 2
    params:
        spec=lambda wc: canonical(config["encoders"][wc.encoder]),
        seed=config["seed"],
        device=config["finetune"]["device"],
        precision=config["finetune"]["precision"],
    script:
        "../workflow_scripts/pretrain_encoder.py"


rule fetch_encoder:
    output:
        directory("results/encoders/{encoder}"),
    log:
        "logs/encoders/{encoder}.fetch.log",
    wildcard_constraints:
        encoder=one_of(
            n for n, e in config["encoders"].items() if e["kind"] in ("hub", "bundled")
        ),
    conda:
        "../envs/torch.yaml"
    params:
        spec=lambda wc: canonical(config["encoders"][wc.encoder]),
    script:
        "../workflow_scripts/fetch_encoder.py"
