"""Rule comparison: one task's methods side by side (table + figure) from its pool and LMS runs."""

from xlt.runtime import job
from xlt.studies.comparison.report import write_outputs

with job(snakemake.log[0]):
    inputs = dict(snakemake.input.items())
    write_outputs(
        inputs["table"],
        inputs["arrays"],
        inputs.get("runs"),
        snakemake.params.study,
        dict(snakemake.output.items()),
        snakemake.params.lms or None,
    )
