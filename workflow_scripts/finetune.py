"""Rule finetune: train one candidate and score it on every language."""

from xlt.finetune import run_candidate
from xlt.runtime import job

with job(snakemake.log[0], snakemake.threads):
    run_candidate(
        snakemake.params.cfg,
        snakemake.input.encoder,
        list(snakemake.input.train),
        snakemake.params.evals,
        dict(snakemake.output.items()),
        warmup_paths=snakemake.params.warmup,
    )
