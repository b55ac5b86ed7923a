"""Rule table_zero_shot: per-language zero-shot scores, En-Dev and oracle picks."""

import pandas as pd

from xlt.runtime import job
from xlt.studies.zero_shot.report import zero_shot_notes, zero_shot_table
from xlt.tables import write_table

with job(snakemake.log[0]):
    task = snakemake.params.task
    df = zero_shot_table(pd.read_parquet(snakemake.input.pool), task)
    title = f"Zero-shot transfer: {task['name']}"
    write_table(df, snakemake.output.csv, snakemake.output.md, title, zero_shot_notes(task))
