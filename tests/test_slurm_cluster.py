"""Snakemake really submits through Slurm: the local single-node cluster + tests/slurm-local.

Runs when asked for (``XLT_SLURM_TESTS=1``, which also brings the cluster up with
``scripts/slurm-local up``; needs root and apt on Debian/Ubuntu), in CI (``CI=true``) on a root
Debian/Ubuntu runner, or when the cluster is already up (``scripts/slurm-local status`` exits 0).
Otherwise skipped::

    XLT_SLURM_TESTS=1 pytest -m slurm tests/test_slurm_cluster.py

A cluster the test brought up is taken down again afterwards (set ``XLT_SLURM_KEEP=1`` to keep it);
one that was already up is left alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SLURM_LOCAL = REPO / "scripts" / "slurm-local"
PROFILE = REPO / "tests" / "slurm-local"

pytestmark = pytest.mark.slurm


def _run(cmd: list[str], timeout: float, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def _cluster_up() -> bool:
    try:
        return _run([str(SLURM_LOCAL), "status"], timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="module")
def slurm_cluster():
    """The local Slurm cluster, up; skip the module when it is neither up nor requested."""
    was_up = _cluster_up()
    in_ci = os.environ.get("CI") == "true" and os.geteuid() == 0 and shutil.which("apt-get")
    if not was_up and os.environ.get("XLT_SLURM_TESTS") != "1" and not in_ci:
        pytest.skip(
            "Slurm tests not requested (set XLT_SLURM_TESTS=1 or run scripts/slurm-local up)"
        )
    if not was_up:
        up = _run([str(SLURM_LOCAL), "up"], timeout=900)
        assert up.returncode == 0, f"scripts/slurm-local up failed:\n{up.stdout}\n{up.stderr}"
    yield
    if not was_up and os.environ.get("XLT_SLURM_KEEP") != "1":
        _run([str(SLURM_LOCAL), "down"], timeout=120)


# Rule names are xlt's, so that the test profile's real grouping is exercised: the three `prep`
# rules (two unconnected prepare_data jobs + train_tokenizer) must go out as ONE Slurm job,
# pretrain_encoder (not grouped) as another. Each job writes the Slurm job id it ran under.
SNAKEFILE = textwrap.dedent(
    """
    LANGS = ["de", "sw"]

    rule all:
        input:
            "results/encoder.txt",

    rule prepare_data:
        output:
            "results/data/{lang}.txt",
        shell:
            "echo \\"${{SLURM_JOB_ID:-none}}\\" > {output}.tmp && mv {output}.tmp {output}"

    rule train_tokenizer:
        input:
            expand("results/data/{lang}.txt", lang=LANGS),
        output:
            "results/tokenizer.txt",
        shell:
            "echo \\"${{SLURM_JOB_ID:-none}}\\" > {output}.tmp && mv {output}.tmp {output}"

    rule pretrain_encoder:
        input:
            "results/tokenizer.txt",
        output:
            "results/encoder.txt",
        threads: 2
        shell:
            "echo \\"${{SLURM_JOB_ID:-none}} ${{SLURM_CPUS_PER_TASK:-none}}\\" > {output}.tmp"
            " && mv {output}.tmp {output}"
    """
)


def _job_state(job_id: str) -> str:
    # no accounting database: squeue still knows finished jobs for MinJobAge (600 s)
    out = _run(["squeue", "--states=all", "-h", "-j", job_id, "-o", "%T"], timeout=30)
    return out.stdout.strip()


def test_snakemake_runs_jobs_through_slurm(slurm_cluster, tmp_path: Path) -> None:
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--profile",
        str(PROFILE),
        "--snakefile",
        str(tmp_path / "Snakefile"),
        "--directory",
        str(tmp_path),
        "all",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    proc = _run(cmd, timeout=600, cwd=tmp_path, env=env)
    log = f"$ {' '.join(cmd)}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    assert proc.returncode == 0, log

    results = tmp_path / "results"
    prep = [results / "data" / "de.txt", results / "data" / "sw.txt", results / "tokenizer.txt"]
    for path in [*prep, results / "encoder.txt"]:
        assert path.is_file(), f"{path} missing\n{log}"

    # every job ran inside a Slurm allocation
    prep_ids = {p.read_text().strip() for p in prep}
    enc_id, enc_cpus = (results / "encoder.txt").read_text().split()
    assert all(i.isdigit() for i in prep_ids | {enc_id}), (prep_ids, enc_id, log)
    # the `prep` group (2 unconnected prepare_data + train_tokenizer) was ONE submission
    assert len(prep_ids) == 1, f"prep group split over Slurm jobs {prep_ids}\n{log}"
    (prep_id,) = prep_ids
    assert enc_id != prep_id
    # threads -> --cpus-per-task
    assert enc_cpus == "2", log

    for job_id in (prep_id, enc_id):
        assert _job_state(job_id) == "COMPLETED", (job_id, _job_state(job_id))

    # the plugin's per-rule/group log directories (kept: slurm-keep-successful-logs)
    slurm_logs = tmp_path / ".snakemake" / "slurm_logs"
    # (named group_<group>_<rules...>, e.g. group_prep_prepare_data_train_tokenizer)
    assert list(slurm_logs.glob("group_prep*/*.log")), log
    assert (slurm_logs / "rule_pretrain_encoder" / f"{enc_id}.log").is_file(), log


def test_the_test_study_runs_through_slurm(slurm_cluster, tmp_path: Path) -> None:
    """xlt's own DAG on configs/test.yaml, one table's worth of jobs, submitted through Slurm."""
    target = "results/tables/zero_shot_sentiment.csv"
    cmd = [sys.executable, "-m", "snakemake", "--profile", str(PROFILE), "--snakefile",
           str(REPO / "Snakefile"), "--directory", str(tmp_path), target,
           "--configfile", str(REPO / "configs" / "test.yaml")]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    proc = _run(cmd, timeout=900, cwd=tmp_path, env=env)
    log = f"$ {' '.join(cmd)}\n--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-6000:]}"  # fmt: skip
    assert proc.returncode == 0, log
    assert (tmp_path / target).is_file() and (tmp_path / target).with_suffix(".md").is_file()
    slurm_logs = tmp_path / ".snakemake" / "slurm_logs"
    finetune_jobs = sorted(p.stem for p in slurm_logs.rglob("*.log") if "rule_finetune" in p.parts)  # fmt: skip
    assert len(finetune_jobs) == 2, (finetune_jobs, log)  # sentiment: 2 seeds, one job each
    assert list(slurm_logs.glob("group_prep*/*.log")), log  # world + tokenizer: one submission
    for job_id in finetune_jobs:
        assert _job_state(job_id) == "COMPLETED", (job_id, _job_state(job_id))
