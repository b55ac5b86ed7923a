"""Rules metaxl and metaxl_related: every setting of one few-shot cell, for every seed in turn, each
scored on every language of the task (its own candidate record)."""

from xlt.runtime import job
from xlt.studies.metaxl.metaxl import run_metaxl_candidate

with job(snakemake.log[0], snakemake.threads):
    outputs = dict(snakemake.output.items())
    for c in snakemake.params.jobs:
        prefix = c["outputs"]
        run_metaxl_candidate(
            c["cfg"],
            snakemake.input.encoder,
            c["train"],
            snakemake.params.evals,
            {k[len(prefix) :]: v for k, v in outputs.items() if k.startswith(prefix)},
        )
