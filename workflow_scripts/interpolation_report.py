"""Rule interpolation_report: one task's tables (CSV + Markdown) and figures."""

from xlt.runtime import job
from xlt.studies.interpolation.report import load_docs, write_figures, write_tables

with job(snakemake.log[0]):
    docs = load_docs(snakemake.input)
    out = dict(snakemake.output.items())
    write_tables(docs, snakemake.wildcards.task, out)
    write_figures(docs, snakemake.wildcards.task, {k: v for k, v in out.items() if k.startswith("fig_")})  # fmt: skip
