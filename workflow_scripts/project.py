"""Rule project: source labels projected onto the translations (one strategy)."""

import logging

from xlt.io import read_jsonl, write_json, write_jsonl
from xlt.runtime import job
from xlt.translate import ProjectionPolicy, project_records

with job(snakemake.log[0]):
    translated = read_jsonl(snakemake.input.translated)
    links = {r["id"]: r["links"] for r in read_jsonl(snakemake.input.links)}
    policy = ProjectionPolicy.from_config(snakemake.params.policy)
    res = project_records(
        translated, links, snakemake.params.kind, snakemake.wildcards.strategy, policy
    )
    if not res.records:
        logging.warning("every sentence was dropped; check translate.project and the alignments")
    write_jsonl(snakemake.output.data, res.records)
    write_json(snakemake.output.stats, res.stats)
