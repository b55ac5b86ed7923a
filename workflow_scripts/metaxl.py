"""Rule metaxl_candidate: one candidate of the MetaXL grid, scored on every language."""

from xlt.methods.metaxl import run_metaxl_candidate
from xlt.runtime import job

with job(snakemake.log[0], snakemake.threads):
    files = {k: v for k, v in snakemake.input.items() if k in ("target", "source")}
    run_metaxl_candidate(
        snakemake.params.cfg,
        snakemake.input.encoder,
        files,
        snakemake.params.evals,
        dict(snakemake.output.items()),
    )
