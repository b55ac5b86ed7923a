# Data: the synthetic world and real datasets, each written once in the common JSONL schema.


rule generate_world:
    output:
        PLAN.synthetic_outputs(),
        summary="results/data/world.json",
    log:
        "logs/data/generate_world.log",
    benchmark:
        "benchmarks/data/generate_world.tsv"
    conda:
        "../envs/data.yaml"
    params:
        world=canonical(config["world"]),
    script:
        "../workflow_scripts/generate_world.py"


rule prepare_data:
    output:
        data="results/data/{dataset}/{lang}/{split}.jsonl",
        provenance="results/data/{dataset}/{lang}/{split}.provenance.json",
    log:
        "logs/data/{dataset}/{lang}/{split}.log",
    wildcard_constraints:
        dataset=one_of(PLAN.datasets),
    conda:
        "../envs/data.yaml"
    params:
        spec=lambda wc: canonical(config["datasets"][wc.dataset]),
        seed=config["seed"],
    script:
        "../workflow_scripts/prepare_data.py"
