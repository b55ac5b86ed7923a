"""Rule interpolation_report: one task's tables (CSV + Markdown) and figures."""

from xlt.analysis.interpolation_report import load_docs, write_figures, write_tables
from xlt.runtime import job

with job(snakemake.log[0]):
    docs = load_docs(snakemake.input)
    out = dict(snakemake.output.items())
    write_tables(docs, snakemake.wildcards.task, out)
    write_figures(docs, snakemake.wildcards.task, {k: v for k, v in out.items() if k.startswith("fig_")})  # fmt: skip
