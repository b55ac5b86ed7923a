"""Rules lms_figure_*: one figure of a task's LMS study (PNG)."""

from xlt.io import read_json
from xlt.pool import Pool
from xlt.runtime import job
from xlt.select.experiments import write_study_figure

with job(snakemake.log[0]):
    docs = {k: read_json(v) for k, v in snakemake.input.items() if k not in ("table", "arrays")}
    pool = Pool.load(snakemake.input.table, snakemake.input.arrays)
    write_study_figure(snakemake.params.figure, pool, docs, snakemake.output[0])
