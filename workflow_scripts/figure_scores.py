"""Rule figure_scores: the distribution of candidates' test scores per language."""

import pandas as pd

from xlt.runtime import job
from xlt.studies.zero_shot.report import scores_figure

with job(snakemake.log[0]):
    scores_figure(pd.read_parquet(snakemake.input.pool), snakemake.params.task, snakemake.output[0])
