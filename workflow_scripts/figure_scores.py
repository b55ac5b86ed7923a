"""Rule figure_scores: the distribution of candidates' test scores per language."""

from xlt.pool import read_table
from xlt.runtime import job
from xlt.studies.zero_shot.report import scores_figure

with job(snakemake.log[0]):
    scores_figure(read_table(snakemake.input.pool), snakemake.params.task, snakemake.output[0])
