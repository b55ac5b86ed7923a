"""Results documents generated from a finished run, never typed: ``docs/results/<config>.md``.

Two steps, two thin scripts (run from the repository root, with the project's ``.venv``):

- ``scripts/run-config CONFIG [--overlay FILE ...]`` (:func:`run`) runs ``snakemake --cores 2 all
  --configfile CONFIG FILE ...``, timed, and writes the run record ``results/run-<name>.json`` (the
  name is the config's stem, joined by ``+`` with each overlay's: ``real-e5+fp32``): start, end, wall seconds,
  exit status, commit (and whether the tree had uncommitted changes), machine (CPU model, cores),
  peak memory, the command and the config's digests. Then it calls the next step.
- ``scripts/results-doc CONFIG RESULTS_DIR [--overlay FILE ...]`` (:func:`write_doc`) validates the config, asks the
  study registry (:func:`xlt.studies.load`) for every table the config makes, and writes one
  Markdown document: a header from the run record (and the precision each task's models trained
  in, from their candidate records' provenance), then every table of every study as the run
  wrote it (``results/tables/*.md``), each study's headline table beside the paper's own numbers
  (``docs/paper/<study>.csv``, transcribed once from the paper; ``docs/paper/papers.yaml`` says
  which xlt table faces which paper table), with what differs between the two set-ups.

An overlay is a small config merged over the first as Snakemake merges several ``--configfile``
files (``configs/examples/fp32.yaml``: the same run in fp32), so a variant of a config needs no copy
of it. It refuses, naming the file and the fix, when the run record is missing or belongs to another
version of the config, or when a table is missing or older than the run's start (a table the run
did not rebuild would be quoted under the wrong header). The document is written atomically.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from xlt.config import ConfigError, validate
from xlt.io import DataError, atomic_open, read_json, write_json

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "schemas" / "config.schema.yaml"
PAPERS = REPO / "docs" / "paper"

# study package -> (heading in the results document, its document under docs/studies/)
STUDIES = {
    "zero_shot": ("Zero-shot", "zero-shot"),
    "translate_train": ("Translate-train", "translate-train"),
    "lms": ("LMS", "lms"),
    "interpolation": ("Interpolation", "interpolation"),
    "metaxl": ("MetaXL", "metaxl"),
    "iwda": ("IWDA", "iwda"),
    "comparison": ("All methods compared", "comparison"),
}


class ResultsError(RuntimeError):
    """A results document cannot be written (the message names the file and the fix)."""


# ---------------------------------------------------------------------------------------------
# the machine and the commit


def machine() -> dict[str, Any]:
    """CPU model (``/proc/cpuinfo``) and the cores this process may use."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": model, "cores": cores}


def commit(cwd: str | Path = ".") -> dict[str, Any]:
    """The checked-out commit and whether tracked files differ from it."""

    def git(*args: str) -> str:
        res = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
        if res.returncode != 0:
            raise ResultsError(f"git {' '.join(args)} failed in {cwd}: {res.stderr.strip()}")
        return res.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}  # fmt: skip


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# A run's config: one file, or a file and its overlays (merged in order, as Snakemake merges them).
Configs = str | Path | Sequence[str | Path]


def config_files(config: Configs) -> list[str]:
    return [str(config)] if isinstance(config, str | Path) else [str(c) for c in config]


def config_name(config: Configs) -> str:
    """``real-e5`` for one file, ``real-e5+fp32`` for a file and its overlay."""
    return "+".join(Path(c).stem for c in config_files(config))


def config_args(config: Configs) -> str:
    """The config as the scripts take it: ``CONFIG --overlay FILE ...``."""
    first, *rest = config_files(config)
    return " ".join([first, *(f"--overlay {o}" for o in rest)])


def config_sha256(config: Configs) -> str:
    files = config_files(config)
    if len(files) == 1:
        return sha256(files[0])
    return hashlib.sha256(b"".join(Path(c).read_bytes() for c in files)).hexdigest()


def config_digest(config: Configs) -> str:
    """sha256 of the config's content (parsed YAML as canonical JSON; each overlay's after it): an
    edited comment or a reordered key leaves it unchanged, a changed value does not."""
    content = [yaml.safe_load(Path(c).read_text(encoding="utf-8")) for c in config_files(config)]
    content = content[0] if len(content) == 1 else content
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def record_path(config: Configs, results: str | Path) -> Path:
    return Path(results) / f"run-{config_name(config)}.json"


# ---------------------------------------------------------------------------------------------
# step 1: the timed run


def _max_rss_kb(time_log: Path) -> int | None:
    """``Maximum resident set size (kbytes)`` from ``/usr/bin/time -v`` output."""
    if not time_log.exists():
        return None
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_log.read_text())
    return int(m.group(1)) if m else None


def run(config: Configs, cores: int = 2, results: str = "results", targets: Sequence[str] = ("all",)) -> Path:  # fmt: skip
    """Run the workflow on ``config`` (timed), write the run record, return its path.

    The previous record is removed first, so a failed run leaves none (and no results document
    can be written from half a run)."""
    for c in config_files(config):
        if not Path(c).is_file():
            raise ResultsError(f"{c}: no such config file")
    record = record_path(config, results)
    record.unlink(missing_ok=True)
    snakemake = str(Path(sys.executable).parent / "snakemake")
    # targets before --configfile, which takes several values (it would read "all" as a file)
    cmd = [snakemake, "--cores", str(cores), *targets, "--configfile", *config_files(config)]
    shown = shlex.join([os.path.relpath(snakemake), *cmd[1:]])
    with tempfile.TemporaryDirectory() as tmp:
        time_log = Path(tmp) / "time.log"
        timed = ["/usr/bin/time", "-v", "-o", str(time_log), *cmd] if Path("/usr/bin/time").exists() else cmd  # fmt: skip
        start, t0, load0 = datetime.now(UTC), time.monotonic(), os.getloadavg()[0]
        print(f"run-config: {shown}", flush=True)
        rc = subprocess.call(timed)
        wall = time.monotonic() - t0
        end, load1 = datetime.now(UTC), os.getloadavg()[0]
        rss = _max_rss_kb(time_log)
    if rc != 0:
        raise ResultsError(f"{shown} exited with status {rc} after {wall:.0f} s; no run record written")  # fmt: skip
    write_json(
        record,
        {
            "config": config_args(config),
            "config_sha256": config_sha256(config),
            "config_digest": config_digest(config),
            "command": shown,
            "start": start.isoformat(timespec="seconds"),
            "end": end.isoformat(timespec="seconds"),
            "wall_s": round(wall, 1),
            "returncode": rc,
            **commit(),
            "machine": machine(),
            "max_rss_kb": rss,
            "load_avg": [round(load0, 2), round(load1, 2)],  # 1-min load at start and end
        },
    )
    print(f"run-config: {record} ({format_duration(wall)})", flush=True)
    return record


def format_duration(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h} h {m} min {s} s" if h else f"{m} min {s} s"


# ---------------------------------------------------------------------------------------------
# step 2: the document


def load_config(config: Configs) -> dict[str, Any]:
    """The config (overlays merged), schema-validated (defaults filled in), as the workflow reads
    it."""
    from snakemake.utils import update_config  # merges --configfile files as the workflow does

    cfg: dict[str, Any] = {}
    for c in config_files(config):
        try:
            update_config(cfg, yaml.safe_load(Path(c).read_text()) or {})
        except (OSError, yaml.YAMLError) as e:
            raise ResultsError(f"{c}: cannot read the config: {e}") from None
    try:
        validate(cfg, SCHEMA)
    except ConfigError as e:
        raise ResultsError(f"{config_args(config)}: invalid configuration: {e}") from None
    return cfg


def read_record(config: Configs, results: str | Path) -> dict[str, Any]:
    path = record_path(config, results)
    args = config_args(config)
    if not path.is_file():
        raise ResultsError(
            f"{path}: no run record; run the config with `scripts/run-config {args}` "
            "(it times the run and writes this record), then call results-doc again"
        )
    rec = read_json(path)
    missing = [k for k in ("start", "end", "wall_s", "commit", "machine", "command", "config_sha256") if k not in rec]  # fmt: skip
    if missing:
        raise ResultsError(f"{path}: run record lacks {missing}; re-run `scripts/run-config {args}`")  # fmt: skip
    same = rec["config_digest"] == config_digest(config) if "config_digest" in rec else rec["config_sha256"] == config_sha256(config)  # fmt: skip
    if not same:
        raise ResultsError(
            f"{args} changed since the run recorded in {path}; re-run `scripts/run-config {args}`"
        )
    return rec


def _in_results(path: str, results: Path) -> Path:
    """An output path of the registry (``results/...``) inside ``results``."""
    parts = Path(path).parts
    return results.joinpath(*parts[1:]) if parts and parts[0] == "results" else results / path


@dataclass(frozen=True)
class StudyTables:
    name: str  # the study package
    tables: tuple[Path, ...]  # its Markdown tables, in the registry's order


def study_tables(cfg: Mapping[str, Any], results: Path) -> list[StudyTables]:
    from xlt.studies import load

    try:
        studies = load(cfg)
    except ConfigError as e:
        raise ResultsError(f"invalid configuration: {e}") from None
    out = []
    for name, settings in studies.running().items():
        md = [_in_results(p, results) for p in settings.outputs(studies.plan) if p.startswith("results/tables/") and p.endswith(".md")]  # fmt: skip
        if md:
            out.append(StudyTables(name, tuple(md)))
    return out


def check_tables(groups: Sequence[StudyTables], start: datetime, record: Path) -> None:
    """Every table exists and was written by the recorded run (not before its start)."""
    missing = [str(p) for g in groups for p in g.tables if not p.is_file()]
    if missing:
        raise ResultsError(
            f"{len(missing)} table(s) of the config are missing: {', '.join(missing)}; the run in "
            f"{record} did not finish them; re-run the config with scripts/run-config"
        )
    t0 = start.timestamp()
    stale = [str(p) for g in groups for p in g.tables if p.stat().st_mtime < t0 - 1]
    if stale:
        raise ResultsError(
            f"{len(stale)} table(s) are older than the run recorded in {record} (started "
            f"{start.isoformat()}): {', '.join(stale)}; that run did not rebuild them, so they may "
            "come from another run; delete them (or results/) and re-run scripts/run-config"
        )


def precisions(results: Path, start: datetime, end: datetime) -> dict[tuple[str, str], dict[str, Any]]:  # fmt: skip
    """Which precision trained the models of this run: ``(used, requested) -> {"tasks": {task:
    count}, "reasons": set}``, from the ``provenance.precision`` of every candidate record
    (``results/candidates/**/metrics.json``) written between the run's start and end (a record
    written before was reused, one after belongs to a later run)."""
    t0, t1 = start.timestamp() - 1, end.timestamp() + 1
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted((results / "candidates").glob("**/metrics.json")):
        if not t0 <= path.stat().st_mtime <= t1:
            continue
        try:
            rec = read_json(path)
        except DataError as e:
            raise ResultsError(f"{e}; delete that candidate directory and re-run the config") from None  # fmt: skip
        info = (rec.get("provenance") or {}).get("precision")
        if not info:
            continue
        task = path.relative_to(results / "candidates").parts[0]
        entry = out.setdefault((info["used"], info["requested"]), {"tasks": {}, "reasons": set()})  # fmt: skip
        entry["tasks"][task] = entry["tasks"].get(task, 0) + 1
        entry["reasons"].add(info["reason"])
    return out


def _precision_cell(prec: Mapping[tuple[str, str], Mapping[str, Any]]) -> str:
    parts = []
    for (used, requested), e in sorted(prec.items()):
        tasks = ", ".join(f"{t} ({n} candidate record{'s' * (n != 1)})" for t, n in sorted(e["tasks"].items()))  # fmt: skip
        parts.append(f"**{used}**: {tasks}; requested `{requested}`: {'; '.join(sorted(e['reasons']))}")  # fmt: skip
    return " · ".join(parts)


# --- the paper beside xlt --------------------------------------------------------------------


def _num(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


def read_paper(study: str, papers: Path = PAPERS) -> list[dict[str, str]]:
    path = papers / f"{study.replace('_', '-')}.csv"
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def xlt_cells(rows: Sequence[Mapping[str, str]], spec: Mapping[str, Any]) -> dict[str, dict[str, float]]:  # fmt: skip
    """``{setting: {language: value}}`` from an xlt table's CSV rows, per the layout in
    ``papers.yaml``: ``rows`` (one row per setting, one column per language: the columns that
    have a ``<lang>_sd`` sibling), ``columns`` (one row per language, one column per setting) or
    ``long`` (one row per setting and language). Several rows of one cell (seeds) are averaged."""
    where = spec.get("where") or {}
    rows = [r for r in rows if all(str(r.get(k)) == str(v) for k, v in where.items())]
    names = spec.get("names") or {}
    cells: dict[str, dict[str, list[float]]] = {}

    def add(setting: str, lang: str, value: Any) -> None:
        cells.setdefault(names.get(setting, setting), {}).setdefault(lang, []).append(_num(value))

    layout = spec["layout"]
    if layout not in ("rows", "columns", "long"):
        raise ResultsError(f"papers.yaml: unknown layout {layout!r} (rows, columns or long)")
    for r in rows:
        if layout == "rows":
            for c in r:
                if f"{c}_sd" in r and c != "avg":
                    add(spec["setting"].format(**r), c, r[c])
        elif layout == "columns" and r[spec["language"]] not in spec.get("skip", ()):
            for s in spec["settings"]:
                add(s, r[spec["language"]], r.get(s))
        elif layout == "long":
            add(r[spec["setting"]], r[spec["language"]], r[spec["value"]])
    return {s: {lang: _mean(v)[0] for lang, v in langs.items()} for s, langs in cells.items()}


def _mean(values: Sequence[float]) -> tuple[float, int]:
    vals = [v for v in values if not math.isnan(v)]
    return (sum(vals) / len(vals) if vals else math.nan, len(vals))


def _fmt(v: float, digits: int = 1) -> str:
    return "–" if math.isnan(v) else f"{v:.{digits}f}"


def describe_xlt(cfg: Mapping[str, Any], task: str) -> str:
    """The encoder and training data of an xlt task, in a few words."""
    spec = cfg["tasks"][task]
    enc_name = spec.get("encoder") or cfg.get("defaults", {}).get("encoder", "tiny")
    enc = cfg["encoders"][enc_name]
    if enc["kind"] == "tiny":
        encoder = f"a tiny BERT pretrained here ({enc.get('layers', 2)} layers, hidden {enc.get('hidden_size', 128)})"  # fmt: skip
    elif enc["kind"] == "bundled":
        encoder = f"multilingual-e5-small, 4-bit ({enc['package']} {enc['version']})"
    else:
        encoder = enc.get("id") or enc.get("path", enc_name)
    ds = spec.get("source_dataset") or spec["dataset"]
    if ds.startswith("synth-"):
        train = cfg.get("world", {}).get("sizes", {}).get("train")
        data = f"the synthetic world ({train} training sentences per language)"
    else:
        d = cfg.get("datasets", {}).get(ds, {})
        cap = d.get("cap")
        cap = cap.get("train") if isinstance(cap, Mapping) else cap
        data = f"{ds} ({d.get('format', '?')}" + (f", {cap} training sentences" if cap else ", full training split") + ")"  # fmt: skip
    return f"{encoder}; {data}"


def beside_paper(
    study: str,
    cfg: Mapping[str, Any],
    tables: Sequence[Path],
    papers: Path = PAPERS,
) -> list[str]:
    """Markdown blocks: each headline table of ``study`` beside the paper table it reproduces."""
    meta = (yaml.safe_load((papers / "papers.yaml").read_text()) or {}).get(study.replace("_", "-"))
    paper_rows = read_paper(study, papers)
    if not meta or not paper_rows:
        return []
    kinds = {t: s["kind"] for t, s in cfg["tasks"].items()}
    blocks = []
    for head in meta["headlines"]:
        pattern = re.compile("^" + re.escape(head["xlt"]).replace(re.escape("{task}"), "(?P<task>.+)") + "$")  # fmt: skip
        for md in tables:
            m = pattern.match(md.stem)
            if not m or m.group("task") not in kinds:
                continue
            task = m.group("task")
            dataset = cfg["tasks"][task].get("dataset")
            if dataset not in head.get("datasets", [dataset]) or dataset in head.get("not_datasets", []):  # fmt: skip
                continue  # numbers of one dataset (XNLI, XQuAD, RELX) face only that dataset
            for table in head["paper"]:
                prow = [r for r in paper_rows if r["table"] == table and r["kind"] in (kinds[task], "any")]  # fmt: skip
                if not prow:
                    continue
                csv_path = md.with_suffix(".csv")
                if not csv_path.is_file():
                    raise ResultsError(f"{csv_path}: missing (the headline table's data); re-run the config")  # fmt: skip
                with open(csv_path, newline="", encoding="utf-8") as fh:
                    ours = xlt_cells(list(csv.DictReader(fh)), head)
                for model in dict.fromkeys(r["model"] for r in prow):
                    rows = [r for r in prow if r["model"] == model]
                    blocks.append(_beside(meta, table, rows, ours, md.stem, describe_xlt(cfg, task)))  # fmt: skip
    return blocks


def _beside(meta, table, prow, ours, stem, xlt_setup) -> str:
    paper: dict[str, dict[str, float]] = {}
    raw: dict[tuple[str, str], str] = {}  # as transcribed (a single value is shown as printed)
    for r in prow:
        paper.setdefault(r["setting"], {})[r["language"]] = _num(r["value"])
        raw[r["setting"], r["language"]] = r["value"]
    settings = [s for s in paper if s in ours]
    if not settings:
        return ""
    source = meta.get("source", "en")  # the papers' source language: not in the target means
    plangs = [lang for lang in dict.fromkeys(r["language"] for r in prow) if lang != source]
    xlangs = [
        lang for lang in dict.fromkeys(lang for s in settings for lang in ours[s]) if lang != source
    ]
    shared = [lang for lang in plangs if lang in xlangs]
    model = prow[0]["model"]
    datasets = ", ".join(dict.fromkeys(r["dataset"] for r in prow))
    metric = prow[0]["metric"]
    head = ["setting", f"paper: mean of {len(plangs)}", f"xlt: mean of {len(xlangs)}"]
    head += [f"{lang}: paper / xlt" for lang in shared]
    lines = [
        f"### Beside the paper: {meta['short']}, {table} ({model}) and `{stem}`",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for s in settings:
        pm, pn = _mean([paper[s].get(lang, math.nan) for lang in plangs])
        xm, xn = _mean([ours[s].get(lang, math.nan) for lang in xlangs])
        pcell = raw[s, plangs[0]] if len(plangs) == 1 and pn == 1 else _fmt(pm, 2)
        cells = [s, pcell + ("" if pn == len(plangs) else f" ({pn})"), _fmt(xm) + ("" if xn == len(xlangs) else f" ({xn})")]  # fmt: skip
        cells += [f"{raw.get((s, lang), '–')} / {_fmt(ours[s].get(lang, math.nan))}" for lang in shared]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Paper: {meta['paper']}, {table}, {metric} ({model}; {datasets}; targets "
        f"{', '.join(plangs)}; transcribed in `docs/paper/`). xlt: {xlt_setup}; targets "
        f"{', '.join(xlangs)}. "
        f"**What differs:** {meta['differs'].strip()} Means are over each side's own targets "
        "(a count in brackets: targets with a value).",
    ]
    return "\n".join(lines)


def render(config: Configs, cfg: Mapping[str, Any], rec: Mapping[str, Any], groups: Sequence[StudyTables], results: Path, papers: Path = PAPERS, precision: Mapping | None = None) -> str:  # fmt: skip
    mach = rec["machine"]
    sha = rec["commit"][:12] + (" (with uncommitted changes)" if rec.get("dirty") else "")
    rss = rec.get("max_rss_kb")
    first, *overlays = config_files(config)
    doc_args = " ".join([first, str(results), *(f"--overlay {o}" for o in overlays)])
    shown = " + ".join(f"`{c}`" for c in config_files(config))
    lines = [
        f"# Results: {shown}",
        "",
        f"Generated by `scripts/results-doc {doc_args}` from the tables of one run "
        f"(`{results}/tables/*.md`, as the run wrote them); do not edit: re-run "
        f"`scripts/run-config {config_args(config)}`. What each table means and how to read it: "
        "the study documents linked below.",
        "",
        "| run | |",
        "|---|---|",
        f"| config | {shown} (sha256 `{rec['config_sha256'][:12]}`) |",
        f"| commit | `{sha}` |",
        f"| date | {rec['start']} → {rec['end']} |",
        f"| machine | {mach['cpu']}, {mach['cores']} cores |",
        f"| wall time | **{format_duration(rec['wall_s'])}** (`{rec['command']}`) |",
    ]
    if precision:
        lines.append(f"| precision | {_precision_cell(precision)} |")
    if rss:
        lines.append(f"| peak memory | {rss / 1024**2:.1f} GB (largest single process) |")
    if rec.get("load_avg"):
        (l0, l1), busy = rec["load_avg"], max(rec["load_avg"]) > mach["cores"] + 0.5
        note = ": other work shared the cores, so the wall time overstates the run's own" if busy else ""  # fmt: skip
        lines.append(
            f"| load | 1-min load average {l0:.1f} at the start, {l1:.1f} at the end{note} |"
        )
    lines += ["", "Studies: " + ", ".join(f"[{STUDIES[g.name][0]}](#{_anchor(STUDIES[g.name][0])})" for g in groups), ""]  # fmt: skip
    for g in groups:
        title, doc = STUDIES[g.name]
        lines += [f"## {title}", "", f"How to read these tables: [docs/studies/{doc}.md](../studies/{doc}.md).", ""]  # fmt: skip
        for block in beside_paper(g.name, cfg, g.tables, papers):
            if block:
                lines += [block, ""]
        for md in g.tables:
            lines += [md.read_text(encoding="utf-8").strip(), "", f"*File: `{results}/tables/{md.name}`.*", ""]  # fmt: skip
    return "\n".join(lines).rstrip() + "\n"


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")


def write_doc(config: Configs, results: str = "results", out: str | Path = "docs/results", papers: Path = PAPERS) -> Path:  # fmt: skip
    """Write ``<out>/<name>.md`` (:func:`config_name`) from the run of ``config`` whose outputs
    are in ``results``; return its path."""
    cfg = load_config(config)
    rec = read_record(config, results)
    res = Path(results)
    groups = study_tables(cfg, res)
    start, end = (datetime.fromisoformat(rec[k]) for k in ("start", "end"))
    check_tables(groups, start, record_path(config, results))
    text = render(config, cfg, rec, groups, res, papers, precisions(res, start, end))
    path = Path(out) / f"{config_name(config)}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path) as fh:
        fh.write(text)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m xlt.results_doc", description=__doc__.split("\n")[0])  # fmt: skip
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run a config, timed; write results/run-<stem>.json and the document")  # fmt: skip
    r.add_argument("config")
    r.add_argument("--overlay", action="append", default=[], metavar="FILE", help="a config merged over CONFIG (repeatable)")  # fmt: skip
    r.add_argument("--cores", type=int, default=2)
    r.add_argument("--out", default="docs/results")
    d = sub.add_parser("doc", help="write docs/results/<stem>.md from a finished, recorded run")
    d.add_argument("config")
    d.add_argument("results", nargs="?", default="results")
    d.add_argument("--overlay", action="append", default=[], metavar="FILE", help="as given to run")  # fmt: skip
    d.add_argument("--out", default="docs/results")
    a = p.parse_args(argv)
    try:
        config = [a.config, *a.overlay] if a.overlay else a.config
        if a.cmd == "run":
            run(config, a.cores)
            path = write_doc(config, "results", a.out)
        else:
            path = write_doc(config, a.results, a.out)
    except ResultsError as e:
        print(f"results-doc: {e}", file=sys.stderr)
        return 1
    print(f"results-doc: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
