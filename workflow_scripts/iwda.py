"""Rule iwda: one (task, target) of the IWDA study, every seed in turn: each seed's variant
candidate records and its analysis document."""

from xlt.runtime import job
from xlt.studies.iwda.cell import run_iwda_cell

with job(snakemake.log[0], snakemake.threads):
    inp, outputs = snakemake.input, dict(snakemake.output.items())
    for cell in snakemake.params.cells:
        prefix = cell["outputs"]
        run_iwda_cell(
            cell["cfg"],
            inp.encoder,
            {role: getattr(inp, role) for role in ("source", "target", "unlabelled")},
            snakemake.params.evals,
            {k[len(prefix) :]: v for k, v in outputs.items() if k.startswith(prefix)},
        )
