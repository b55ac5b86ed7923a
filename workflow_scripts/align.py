"""Rule align: fast_align links between source sentences and their translations."""

from xlt.io import read_jsonl, write_json, write_jsonl
from xlt.runtime import job
from xlt.translate import AlignConfig, align_translated, read_parallel

with job(snakemake.log[0]):
    translated = read_jsonl(snakemake.input.translated)
    extra = [pair for path in snakemake.input.extra for pair in read_parallel(path)]
    links, stats = align_translated(
        translated, AlignConfig.from_config(snakemake.params.align), extra
    )
    stats["extra_files"] = list(snakemake.input.extra)
    write_jsonl(snakemake.output.links, links)
    write_json(snakemake.output.stats, stats)
