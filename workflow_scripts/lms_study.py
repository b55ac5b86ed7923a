"""Rules lms, lms_runs, lms_ablation, lms_nmodels: one step of a task's LMS study (JSON)."""

from xlt.io import read_output_json, write_json
from xlt.pool import Pool
from xlt.runtime import job
from xlt.studies.lms.experiments import run_study_step
from xlt.studies.lms.lms import LMSConfig

# guarded: with threads > 1 the scorers train in spawned worker processes, which import this
# script as their __main__ module (and must not run the step again)
if __name__ == "__main__":
    with job(snakemake.log[0], snakemake.threads):
        pool = Pool.load(snakemake.input.table, snakemake.input.arrays)
        main_path = getattr(snakemake.input, "main", None)  # every step but the main run reads it
        main = read_output_json(main_path) if main_path else None
        result = run_study_step(
            snakemake.params.step,
            pool,
            LMSConfig.from_dict(snakemake.params.lms),
            snakemake.params.source,
            snakemake.params.targets,
            main,
            workers=snakemake.threads,  # scorer trainings in parallel processes (same results)
        )
        write_json(snakemake.output[0], result)
