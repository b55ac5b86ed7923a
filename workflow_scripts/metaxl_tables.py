"""Rule metaxl_tables: one task's MetaXL tables and PCA figure from its candidate records."""

from xlt.runtime import job
from xlt.studies.metaxl.report import write_outputs

with job(snakemake.log[0]):
    write_outputs(
        snakemake.params.study,
        list(snakemake.input.metrics),
        list(snakemake.input.representations),
        dict(snakemake.output.items()),
    )
