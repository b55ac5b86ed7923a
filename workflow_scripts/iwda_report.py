"""Rule iwda_report: one task's IWDA tables and shift figure from its analysis documents."""

from xlt.analysis.iwda_report import write_outputs
from xlt.runtime import job

with job(snakemake.log[0]):
    write_outputs(list(snakemake.input), snakemake.wildcards.task, dict(snakemake.output.items()))
