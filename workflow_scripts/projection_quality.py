"""Rule projection_quality: projected vs gold target labels on the synthetic world."""

from collections import defaultdict

from xlt.io import read_jsonl
from xlt.runtime import job
from xlt.tables import write_table
from xlt.translate import (
    AlignConfig,
    ProjectionPolicy,
    QualityConfig,
    projection_quality,
    quality_figure,
    quality_notes,
    read_parallel,
)
from xlt.world import World

with job(snakemake.log[0]):
    p, out = snakemake.params, snakemake.output
    extra = defaultdict(list)
    for lang, path in zip(p.extra_langs, snakemake.input.extra, strict=True):
        extra[lang] += read_parallel(path)
    policy = ProjectionPolicy.from_config(p.policy)
    df = projection_quality(
        read_jsonl(snakemake.input.source),
        World(**p.world),
        QualityConfig.from_config(p.quality),
        AlignConfig.from_config(p.align),
        policy,
        noise_levels=p.noise_levels,
        extra=extra,
        seed=p.seed,
        src=p.source,
    )
    title = "Label projection quality (synthetic world, fast_align)"
    write_table(df, out.csv, out.md, title, quality_notes(policy))
    quality_figure(df, out.png)
