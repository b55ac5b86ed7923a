"""Formatting and lint are part of the test suite: ruff, snakefmt and snakemake --lint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1800)


def test_ruff_check():
    res = run(str(BIN / "ruff"), "check", ".")
    assert res.returncode == 0, res.stdout + res.stderr


def test_ruff_format():
    res = run(str(BIN / "ruff"), "format", "--check", ".")
    assert res.returncode == 0, res.stdout + res.stderr


def test_snakefmt():
    res = run(str(BIN / "snakefmt"), "--check", "Snakefile", "rules")
    assert res.returncode == 0, res.stdout + res.stderr


def test_snakemake_lint():
    res = run(str(BIN / "snakemake"), "--lint")
    assert res.returncode == 0, res.stdout + res.stderr
