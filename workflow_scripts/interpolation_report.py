"""Rules interpolation_tables / interpolation_figures / interpolation_plane: one task's study."""

from xlt.analysis.interpolation_report import load_docs, write_figures, write_tables
from xlt.runtime import job

with job(snakemake.log[0]):
    docs = load_docs(snakemake.input)
    write = write_tables if snakemake.params.part == "tables" else write_figures
    write(docs, snakemake.wildcards.task, dict(snakemake.output.items()))
