"""Rule fetch_encoder: a hub encoder (id + revision) or a local copy, saved as an HF directory."""

from xlt.encoder import fetch_encoder
from xlt.runtime import job

with job(snakemake.log[0]):
    fetch_encoder(snakemake.wildcards.encoder, snakemake.params.spec, snakemake.output[0])
