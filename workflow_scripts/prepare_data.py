"""Rule prepare_data: one split of a real dataset, from its source into the common schema."""

from xlt.data.prepare import prepare_split
from xlt.io import write_json
from xlt.runtime import job

with job(snakemake.log[0]):
    w = snakemake.wildcards
    prov = prepare_split(
        w.dataset, snakemake.params.spec, w.lang, w.split, snakemake.output.data,
        cache_dir="resources", seed=snakemake.params.seed,
    )  # fmt: skip
    write_json(snakemake.output.provenance, prov)
