"""Every command in the README works as printed, on a fresh copy of the repository after
`make install`: each shell line of its ```bash / ```sh blocks is checked as a new user would
type it.

- a ``snakemake`` command runs as a dry run (``-n`` added; ``--report FILE`` dropped, since a
  report needs a finished run: the workflow tests build one); the program must resolve as
  printed (``.venv/bin/snakemake``, or ``snakemake`` after the README activates the venv), and a
  command that executes jobs must say how many (``--cores``/``--jobs``, or a ``--profile``);
- a ``make`` command must name a real target: ``make -n`` on a copy without ``.venv`` prints
  what it would do (not "Nothing to be done", not "No rule to make target");
- any other program must exist (it is not run), and a program that is not part of a usual
  system (``dot``) must come with the package that provides it (``graphviz``) named in the same
  block or the paragraph before it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO / "README.md"]
VENV_BIN = Path(sys.executable).parent  # the venv `make install` made

SHELL_FENCES = {"bash", "sh", "shell", "console"}
# programs a README may name that are not a usual system's: the package a reader must install
NEEDS_PACKAGE = {"dot": "graphviz"}
# installers and desktop openers: they act on the reader's machine; not checked here
NOT_CHECKED = {"sudo", "apt-get", "apt", "brew", "dnf", "yum", "open", "xdg-open"}
BUILTINS = {"cd", "export", "set", "unset", "alias", "echo", "source", "."}
# snakemake options under which no job runs (so no --cores is needed)
NO_JOBS = {"-n", "--dry-run", "--dryrun", "--report", "--rulegraph", "--dag", "--d3dag",
           "--filegraph", "--lint", "-l", "--list-rules", "--list-target-rules", "--summary",
           "-S", "--detailed-summary", "-D", "--unlock", "--cleanup-metadata", "--version"}  # fmt: skip
CORES = re.compile(r"^(--cores|--jobs|-c|-j|--profile|--workflow-profile)(=.*|\d+)?$")
SEPARATORS = {"|", "||", "&&", ";", "&"}
REDIRECTS = {">", ">>", "<", "2>", "&>", ">&"}


@dataclass(frozen=True)
class Command:
    """One simple command of a shell line of a document."""

    doc: str  # the document's name
    line: str  # the line as printed (continuations joined)
    argv: tuple[str, ...]
    context: str  # the block and the paragraph before it
    activated: bool  # the document activated .venv before this line

    @property
    def id(self) -> str:
        return f"{self.doc}: {shlex.join(self.argv)}"


def _simple_commands(line: str) -> list[list[str]]:
    """The simple commands of a shell line (split at pipes, &&, ;), without comments,
    redirections and leading VAR=value assignments."""
    lex = shlex.shlex(line, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    out: list[list[str]] = [[]]
    tokens = list(lex)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in SEPARATORS:
            out.append([])
        elif tok in REDIRECTS:
            i += 1  # and its target
        elif out[-1] or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", tok):
            out[-1].append(tok)
        i += 1
    return [argv for argv in out if argv]


def commands(path: Path) -> list[Command]:
    """Every simple command of the shell blocks of a Markdown document, in order."""
    text = path.read_text()
    found: list[Command] = []
    activated = False
    last_end = 0
    for m in re.finditer(r"^```([\w-]*)[^\n]*\n(.*?)^```", text, re.M | re.S):
        before = text[last_end : m.start()].rstrip().rsplit("\n\n", 1)[-1]
        last_end = m.end()
        if m[1].lower() not in SHELL_FENCES:
            continue
        block = re.sub(r"\\\n\s*", " ", m[2])  # join continued lines
        for raw in block.splitlines():
            line = raw.strip()
            if m[1].lower() == "console":
                if not line.startswith("$ "):
                    continue  # output, not a command
                line = line[2:]
            if not line or line.startswith("#"):
                continue
            for argv in _simple_commands(line):
                if argv[0] in ("source", ".") and argv[1:2] == [".venv/bin/activate"]:
                    activated = True
                found.append(Command(path.name, line, tuple(argv), before + "\n" + m[2], activated))  # fmt: skip
    return found


ALL = [c for doc in DOCUMENTS for c in commands(doc)]


def _copy(dest: Path) -> Path:
    """A fresh copy of the repository's files (tracked and new, not ignored: no .venv, no
    results)."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, files):
        src = REPO / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A fresh copy after `make install`: its .venv is this test run's environment."""
    dest = _copy(tmp_path_factory.mktemp("clone"))
    (dest / ".venv").symlink_to(VENV_BIN.parent, target_is_directory=True)
    return dest


@pytest.fixture(scope="module")
def bare_clone(tmp_path_factory) -> Path:
    """A fresh copy before `make install` (no .venv), for what `make -n` would do."""
    return _copy(tmp_path_factory.mktemp("bare"))


def _path(activated: bool) -> str:
    """The PATH of a new shell: no virtual environment on it unless the README activated one."""
    parts = [p for p in os.environ.get("PATH", "").split(os.pathsep)
             if p and Path(p).resolve() != VENV_BIN.resolve()]  # fmt: skip
    return os.pathsep.join(([str(VENV_BIN)] if activated else []) + parts)


def _env(activated: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    return env | {"PATH": _path(activated), "PYTHONWARNINGS": "ignore"}


def _resolves(program: str, cwd: Path, activated: bool) -> bool:
    if "/" in program:
        return (cwd / program).exists()
    return shutil.which(program, path=_path(activated)) is not None


def test_the_readme_has_commands_to_check():
    programs = {Path(c.argv[0]).name for c in ALL}
    assert {"snakemake", "make"} <= programs, f"no snakemake or make command found in {DOCUMENTS}"


def test_commands_are_split_as_a_shell_would():
    split = _simple_commands(".venv/bin/snakemake --rulegraph | dot -Tsvg > rules.svg  # the DAG")
    assert split == [[".venv/bin/snakemake", "--rulegraph"], ["dot", "-Tsvg"]]
    assert _simple_commands("CORES=4 make run && echo done") == [["make", "run"], ["echo", "done"]]


def problem(cmd: Command, clone: Path, bare_clone: Path) -> str | None:
    """Why ``cmd`` does not work as printed on a fresh copy (None: it does)."""
    program, args = cmd.argv[0], list(cmd.argv[1:])
    where = f"{cmd.doc}: `{cmd.line}`"
    if program in BUILTINS or program in NOT_CHECKED:
        return None
    if Path(program).name == "snakemake":
        if not _resolves(program, clone, cmd.activated):
            return (f"{where}: `{program}` is not found in a new shell after `make install`; "
                    "write .venv/bin/snakemake (or activate the venv first)")  # fmt: skip
        if not any(a.split("=")[0] in NO_JOBS for a in args) and not any(CORES.match(a) for a in args):  # fmt: skip
            return (
                f"{where}: Snakemake refuses to run jobs without --cores N (or --jobs, --profile)"
            )
        dry, skip = [], False
        for a in args:  # a report needs a finished run: check the rest of the line
            if skip:
                skip = False
            elif a == "--report":
                skip = True
            elif not a.startswith("--report="):
                dry.append(a)
        res = subprocess.run([str(clone / ".venv/bin/snakemake"), "-n", *dry], cwd=clone,
                             env=_env(True), capture_output=True, text=True, timeout=900)  # fmt: skip
        if res.returncode != 0:
            return f"{where}: the dry run failed:\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}"
        return None
    if program == "make":
        res = subprocess.run(["make", "-n", *args], cwd=bare_clone, env=_env(False),
                             capture_output=True, text=True, timeout=120)  # fmt: skip
        out = (res.stdout + res.stderr).strip()
        if res.returncode != 0 or "No rule to make target" in out:
            return f"{where}: make -n fails: {out[-1000:]}"
        if "Nothing to be done" in out or not res.stdout.strip():
            return f"{where}: the target has no recipe (make -n: {out[-500:]})"
        return None
    package = NEEDS_PACKAGE.get(program)
    if package is not None:
        if package.lower() not in cmd.context.lower():
            return f"{where}: `{program}` comes with {package}, which the README does not name there"  # fmt: skip
        return None
    if not _resolves(program, clone, cmd.activated):
        return f"{where}: `{program}` is not installed"
    return None


@pytest.mark.slow  # a dry run of the paper config takes about a minute
@pytest.mark.parametrize("cmd", ALL, ids=[c.id for c in ALL])
def test_command_works_as_printed(cmd: Command, clone: Path, bare_clone: Path):
    why = problem(cmd, clone, bare_clone)
    if why:
        pytest.fail(why, pytrace=False)


def _command(line: str, context: str = "", activated: bool = False) -> Command:
    (argv,) = _simple_commands(line)
    return Command("README.md", line, tuple(argv), context, activated)


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("snakemake --forcerun comparison all", "not found in a new shell"),
        (".venv/bin/snakemake --forcerun comparison all", "without --cores"),
        (".venv/bin/snakemake --cores 2 all --configfile configs/absent.yaml", "dry run failed"),
        ("make no-such-target", "make -n fails"),
        ("dot -Tsvg", "graphviz"),
        ("no-such-program --help", "not installed"),
    ],
)
def test_a_broken_command_is_caught(line: str, why: str, clone: Path, bare_clone: Path):
    assert why in (problem(_command(line), clone, bare_clone) or "")


def test_a_make_target_without_a_recipe_is_caught(clone: Path, tmp_path: Path):
    (tmp_path / "Makefile").write_text(".PHONY: report dag\ndag:\n\techo drawing\n")
    assert "no recipe" in problem(_command("make report"), clone, tmp_path)
    assert problem(_command("make dag"), clone, tmp_path) is None


def test_what_works_passes(clone: Path, bare_clone: Path):
    line = "snakemake --cores 2 results/tables/zero_shot_ner.csv"
    assert problem(_command(line, activated=True), clone, bare_clone) is None
    assert problem(_command("dot -Tsvg", "needs graphviz (apt-get install graphviz)"), clone, bare_clone) is None  # fmt: skip
    assert problem(_command("make report"), clone, bare_clone) is None
