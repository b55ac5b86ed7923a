"""Rule pool: gather a task's candidates into one table + arrays."""

from xlt.pool import build_pool
from xlt.runtime import job

with job(snakemake.log[0]):
    build_pool(
        snakemake.params.kind,
        snakemake.input.metrics,
        snakemake.input.predictions,
        snakemake.input.features,
        snakemake.params.dev,
        snakemake.params.train,
        snakemake.params.test,
        snakemake.output.table,
        snakemake.output.arrays,
    )
