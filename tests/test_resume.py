"""Resuming after a crash: a killed run's lock is removed, a live run's never (xlt.resume)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from xlt.resume import resume, workdir

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def test_workdir_follows_the_snakemake_command_line(tmp_path: Path) -> None:
    assert workdir(["all", "--directory", str(tmp_path)]) == tmp_path.resolve()
    assert workdir([f"--directory={tmp_path}"]) == tmp_path.resolve()
    assert workdir(["-d", str(tmp_path), "--cores", "2"]) == tmp_path.resolve()
    assert workdir(["all"]) == Path.cwd().resolve()


def test_resume_unlocks_a_killed_runs_directory_but_never_a_live_ones(tmp_path: Path) -> None:
    (tmp_path / "Snakefile").write_text(
        'rule slow:\n    output: "done.txt"\n    shell: "sleep 120 && touch {output}"\n'
    )
    args = ["--snakefile", str(tmp_path / "Snakefile"), "--directory", str(tmp_path)]
    assert resume(args) == (True, "")  # never run: nothing to unlock
    run = subprocess.Popen(
        [SNAKEMAKE, *args, "--cores", "1"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    locks = tmp_path / ".snakemake" / "locks"
    try:
        while not (locks.is_dir() and any(locks.iterdir())):  # until locked, or the run ended
            assert run.poll() is None, "the run ended without taking its lock"
            time.sleep(0.2)
        ok, message = resume(args)
        assert not ok and str(run.pid) in message and "still working there" in message
        assert any(locks.iterdir())  # the live run keeps its lock
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # kill -9: the run and its job, no clean-up
        run.wait()
    again = subprocess.run([SNAKEMAKE, *args, "--cores", "1"], capture_output=True, text=True)
    assert again.returncode != 0 and "cannot be locked" in again.stdout + again.stderr
    ok, message = resume(args)
    assert ok and f"unlocked {tmp_path.resolve()}" in message
    assert not locks.exists() or not any(locks.iterdir())
    dry = subprocess.run([SNAKEMAKE, *args, "--cores", "1", "-n"], capture_output=True, text=True)
    assert dry.returncode == 0 and "slow" in dry.stdout
