"""Rule interpolate: train θ_tgt and θ_bi of one pair and seed (their weights live only in this
job's temporary directory), then score both 1-D paths and the plane between them and θ_src."""

import tempfile

from xlt.finetune import run_candidate
from xlt.runtime import job
from xlt.studies.interpolation.interpolation import run_interpolation

with job(snakemake.log[0], snakemake.threads):
    inp, out, cfg = snakemake.input, snakemake.output, snakemake.params.cfg
    with tempfile.TemporaryDirectory(prefix="xlt-endpoints-") as tmp:
        dirs, metrics = {"src": inp.src}, {"src": inp.src_metrics}
        for kind, endpoint in cfg["endpoints"].items():
            dirs[kind], metrics[kind] = f"{tmp}/{kind}", out[f"{kind}_metrics"]
            records = {p: out[f"{kind}_{p}"] for p in ("metrics", "predictions", "features")}
            run_candidate(endpoint["cfg"], inp.encoder, endpoint["train"], snakemake.params.evals,
                          {**records, "weights": dirs[kind]})  # fmt: skip
        run_interpolation(cfg, inp.encoder, dirs, metrics, snakemake.params.evals, out.doc)
