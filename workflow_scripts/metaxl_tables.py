"""Rule metaxl_tables: one task's MetaXL tables and PCA figure from its candidate records."""

from xlt.analysis.metaxl_report import write_outputs
from xlt.runtime import job

with job(snakemake.log[0]):
    write_outputs(
        snakemake.params.study,
        list(snakemake.input.metrics),
        list(snakemake.input.representations),
        dict(snakemake.output.items()),
    )
