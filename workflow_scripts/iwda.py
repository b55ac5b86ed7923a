"""Rule iwda: one (task, target, seed) of the IWDA study: every variant's candidate record and the
job's analysis document."""

from xlt.methods.iwda import run_iwda_cell
from xlt.runtime import job

with job(snakemake.log[0], snakemake.threads):
    inp = snakemake.input
    run_iwda_cell(
        snakemake.params.cfg,
        inp.encoder,
        {role: getattr(inp, role) for role in ("source", "target", "unlabelled")},
        snakemake.params.evals,
        dict(snakemake.output.items()),
    )
