"""Rules lms_table_*: one table of a task's LMS study (CSV + Markdown)."""

from xlt.io import read_json
from xlt.pool import Pool
from xlt.runtime import job
from xlt.select.experiments import write_study_table
from xlt.select.lms import LMSConfig

with job(snakemake.log[0]):
    docs = {k: read_json(v) for k, v in snakemake.input.items() if k not in ("table", "arrays")}
    write_study_table(
        snakemake.params.table,
        Pool.load(snakemake.input.table, snakemake.input.arrays),
        docs,
        LMSConfig.from_dict(snakemake.params.lms),
        snakemake.output.csv,
        snakemake.output.md,
        snakemake.wildcards.task,
    )
