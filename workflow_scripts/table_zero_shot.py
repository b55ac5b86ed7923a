"""Rule table_zero_shot: per-language zero-shot scores, En-Dev and oracle picks."""

from xlt.pool import read_table
from xlt.runtime import job
from xlt.studies.zero_shot.report import zero_shot_notes, zero_shot_table
from xlt.tables import write_table

with job(snakemake.log[0]):
    task = snakemake.params.task
    df = zero_shot_table(read_table(snakemake.input.pool), task)
    title = f"Zero-shot transfer: {task['name']}"
    write_table(df, snakemake.output.csv, snakemake.output.md, title, zero_shot_notes(task))
