"""Rule lms_report: every table (CSV + Markdown) and figure (PNG) of a task's LMS study."""

from xlt.io import read_output_json
from xlt.pool import Pool
from xlt.runtime import job
from xlt.studies.lms.experiments import write_study_figure, write_study_table
from xlt.studies.lms.lms import LMSConfig

with job(snakemake.log[0]):
    inputs = dict(snakemake.input.items())
    out = dict(snakemake.output.items())
    pool = Pool.load(inputs.pop("table"), inputs.pop("arrays"))
    docs = {k: read_output_json(v) for k, v in inputs.items()}
    cfg = LMSConfig.from_dict(snakemake.params.lms)
    task = snakemake.wildcards.task
    for name in snakemake.params.tables:
        write_study_table(name, pool, docs, cfg, out[f"{name}_csv"], out[f"{name}_md"], task)
    for name in ("kde", "kendall"):
        write_study_figure(name, pool, docs, out[f"figure_{name}"])
