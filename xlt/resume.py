"""Resuming after a crash: the lock a killed Snakemake run leaves behind.

Snakemake locks a working directory while it runs and unlocks it when it stops, but a run that is
killed (``kill -9``, out of memory, a closed terminal, a power loss) cannot: the next run then
stops with "Directory cannot be locked" until ``snakemake --unlock``. Unlocking is safe only when
no other Snakemake run works in that directory (``--unlock`` removes every lock, a live run's
too), which is what :func:`resume` checks before it unlocks. ``make run`` calls it first, so a
plain ``make run`` resumes an interrupted one; the workflow profile (``profiles/default``) adds
``--rerun-incomplete`` to every run, so the jobs that were running are recomputed. See
``docs/recovery.md``.

Command line (the arguments are those of the run to resume; only ``--directory`` matters)::

    python -m xlt.resume [--directory DIR] [other snakemake arguments]
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import psutil

LOCKS = Path(".snakemake") / "locks"  # where Snakemake keeps a directory's locks


def workdir(args: Sequence[str]) -> Path:
    """The working directory a Snakemake command line runs in (``--directory``/``-d``)."""
    for i, arg in enumerate(args):
        if arg in ("--directory", "-d") and i + 1 < len(args):
            return Path(args[i + 1]).resolve()
        if arg.startswith("--directory="):
            return Path(arg.split("=", 1)[1]).resolve()
    return Path.cwd().resolve()


def snakemake_processes(directory: str | os.PathLike) -> list[psutil.Process]:
    """Other processes working in ``directory`` whose command line names Snakemake: a run, or a
    job it started (``.snakemake/scripts/...``), which may outlive a killed run for a while."""
    directory = Path(directory).resolve()
    me = psutil.Process()
    skip = {me.pid, *(p.pid for p in me.parents())}
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            if proc.pid in skip or not any("snakemake" in a for a in proc.info["cmdline"] or ()):
                continue
            if Path(proc.cwd()).resolve() == directory:
                found.append(proc)
        except (psutil.Error, OSError):  # gone, a zombie, or not ours to inspect
            continue
    return found


def resume(args: Sequence[str] = (), snakemake: str | None = None) -> tuple[bool, str]:
    """Unlock the working directory of the Snakemake command line ``args`` if a killed run left
    it locked and no Snakemake process works there any more. Returns (ok to run, message)."""
    directory = workdir(args)
    locks = directory / LOCKS
    if not locks.is_dir() or not any(locks.iterdir()):
        return True, ""
    live = snakemake_processes(directory)
    if live:
        pids = ", ".join(f"{p.pid} ({' '.join(p.cmdline()[:3])})" for p in live)
        return False, (
            f"{directory} is locked by a Snakemake run that is still working there: process(es) "
            f"{pids}. Wait for it to finish, or stop it (kill <pid>) and run this again."
        )
    exe = snakemake or str(Path(sys.executable).with_name("snakemake"))
    done = subprocess.run([exe, *args, "--unlock"], capture_output=True, text=True)
    if done.returncode != 0:
        return False, f"`snakemake --unlock` failed:\n{done.stdout}{done.stderr}"
    return True, (
        f"unlocked {directory}: the lock was left by an interrupted run (no Snakemake process "
        "works there); the jobs it was running will be recomputed (--rerun-incomplete)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    ok, message = resume(sys.argv[1:] if argv is None else argv)
    if message:
        print(message, file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
