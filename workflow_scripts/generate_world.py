"""Rule generate_world: write every synthetic dataset (see xlt.world)."""

from pathlib import Path

from xlt.runtime import job
from xlt.world import WorldConfig, generate

with job(snakemake.log[0]):
    generate(WorldConfig.from_config(snakemake.params.world), Path(snakemake.output.summary).parent)
