"""Rule carry_labels: a translated classification set (texts or NLI pairs) as training data.

A sentence label needs no alignment or projection: every translation keeps its source's label.
"""

from xlt.io import read_jsonl, write_json, write_jsonl
from xlt.runtime import job
from xlt.translate import carry_labels

with job(snakemake.log[0]):
    records, stats = carry_labels(read_jsonl(snakemake.input.translated))
    write_jsonl(snakemake.output.data, records)
    write_json(snakemake.output.stats, stats)
