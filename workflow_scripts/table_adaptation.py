"""Rules table_adaptation / table_projection_ablation: translate-train methods per language."""

from xlt.pool import read_table
from xlt.runtime import job
from xlt.studies.translate_train.report import adaptation_tables
from xlt.tables import write_markdown, write_table

with job(snakemake.log[0]):
    tables = adaptation_tables(read_table(snakemake.input.pool), snakemake.params.task)
    df, markdown = tables[snakemake.params.part]
    write_table(df, snakemake.output.csv, None)
    write_markdown(snakemake.output.md, markdown)
