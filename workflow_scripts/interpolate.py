"""Rule interpolate: score both 1-D paths and the plane between one pair's endpoints (one seed)."""

from xlt.analysis.interpolation import run_interpolation
from xlt.runtime import job

with job(snakemake.log[0], snakemake.threads):
    inp = snakemake.input
    run_interpolation(
        snakemake.params.cfg,
        inp.encoder,
        {"src": inp.src, "tgt": inp.tgt, "bi": inp.bi},
        {"src": inp.src_metrics, "tgt": inp.tgt_metrics, "bi": inp.bi_metrics},
        snakemake.params.evals,
        snakemake.output[0],
    )
