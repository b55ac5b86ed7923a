"""Rule iwda_report: one task's IWDA tables and shift figure from its analysis documents."""

from xlt.runtime import job
from xlt.studies.iwda.report import write_outputs

with job(snakemake.log[0]):
    write_outputs(list(snakemake.input), snakemake.wildcards.task, dict(snakemake.output.items()))
