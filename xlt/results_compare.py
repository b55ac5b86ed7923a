"""Generated results documents compared cell by cell: does a change (precision, machine kind,
code) move the scores by more than a tolerance?

Every table of a results document (``docs/results/*.md``, :mod:`xlt.results_doc`) that has a
``lang`` and a ``mean`` column (the zero-shot tables) is read. A side of a difference is one or
more documents (comma-separated); its score for (table, language) is the mean of that cell over
them (each document's ``mean`` is already over its seeds, so with equal seed counts this is the
pooled mean). Each ``--diff LABEL A B`` is one column, A − B, bold where it exceeds the tolerance,
with a line that counts the cells within it::

    python -m xlt.results_compare --tolerance 0.5 --tolerance ner_wikiann=1.0 \\
        --diff "fp32 − bf16" docs/results/real-e5+fp32.md docs/results/real-e5.all-bf16.md

A document may hold such tables generated in place, between ``<!-- results-compare ARGS -->`` and
``<!-- /results-compare -->`` (ARGS as on the command line, paths from the repository root):
``--update FILE ...`` rewrites every block from its arguments, ``--check FILE ...`` exits 1 naming
each stale block, so a comparison quoted in a document is never typed.
"""

from __future__ import annotations

import argparse
import math
import re
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from xlt.io import atomic_open

REPO = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- results-compare (.*?) -->\n)(.*?)(<!-- /results-compare -->)", re.S)


class CompareError(ValueError):
    """A document or argument that cannot be compared; the message names it and the fix."""


def read_tables(doc: str | Path) -> dict[str, list[dict[str, str]]]:
    """Every ``### title`` of a Markdown document followed by a pipe table: title -> rows."""
    path = Path(doc)
    if not path.exists():
        raise CompareError(f"{path}: no such results document (write it with scripts/results-doc)")
    tables: dict[str, list[dict[str, str]]] = {}
    title, header = None, None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            title, header = line[4:].strip(), None
        elif title and line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if header is None:
                header = cells
                tables[title] = []
            elif not set("".join(cells)) <= set("-: "):
                tables[title].append(dict(zip(header, cells, strict=False)))
        elif header is not None and line.strip():
            title, header = None, None
    return tables


def scores(docs: Sequence[str | Path]) -> dict[tuple[str, str], tuple[float, str]]:
    """(table, lang) -> (mean of the ``mean`` cell over ``docs``, role) for the tables that have
    ``lang`` and ``mean`` columns in every document."""
    per_doc = []
    for doc in docs:
        cells = {}
        for title, rows in read_tables(doc).items():
            for row in rows:
                if "lang" in row and "mean" in row:
                    try:
                        cells[(title, row["lang"])] = (float(row["mean"]), row.get("role", ""))
                    except ValueError:
                        continue
        if not cells:
            raise CompareError(f"{doc}: no table with `lang` and `mean` columns to compare")
        per_doc.append(cells)
    keys = [k for k in per_doc[0] if all(k in d for d in per_doc[1:])]
    return {k: (sum(d[k][0] for d in per_doc) / len(per_doc), per_doc[0][k][1]) for k in keys}


def parse_tolerance(specs: Sequence[str]) -> tuple[float, dict[str, float]]:
    """``["0.5", "ner_wikiann=1.0"]`` -> (0.5, {"ner_wikiann": 1.0}): a default and per-table
    tolerances (matched as a substring of the table's title)."""
    default, per = math.inf, {}
    for spec in specs:
        key, _, value = spec.rpartition("=")
        try:
            tol = float(value)
        except ValueError:
            raise CompareError(f"--tolerance {spec!r}: expected NUMBER or TABLE=NUMBER (e.g. ner_wikiann=1.0)") from None  # fmt: skip
        if key:
            per[key] = tol
        else:
            default = tol
    return default, per


def compare(diffs: Sequence[tuple[str, Sequence[str | Path], Sequence[str | Path]]], tolerance: Sequence[str] = ()) -> str:  # fmt: skip
    """The Markdown table of one or more differences ``(label, a_docs, b_docs)``: per (table,
    language) the score of ``a_docs`` minus that of ``b_docs``, outside the tolerance in bold."""
    if not diffs:
        raise CompareError("nothing to compare: give --diff LABEL A[,A2...] B[,B2...]")
    default, per = parse_tolerance(tolerance)
    sides = [(label, scores(a), scores(b)) for label, a, b in diffs]
    keys = [k for k in sides[0][1] if all(k in sa and k in sb for _, sa, sb in sides)]
    if not keys:
        raise CompareError(f"{diffs[0][1][0]} and {diffs[0][2][0]}: no (table, lang) cell in common")  # fmt: skip
    lines = [
        "| table | lang | role | " + " | ".join(label for label, _, _ in sides) + " | tolerance |",
        "|---|---|---|" + "---|" * len(sides) + "---|",
    ]
    outside: dict[str, list[str]] = {label: [] for label, _, _ in sides}
    for title, lang in keys:
        tol = next((t for key, t in per.items() if key in title), default)
        task = title.split(": ")[-1]
        cells = [task, lang, sides[0][1][(title, lang)][1]]
        for label, sa, sb in sides:
            diff = sa[(title, lang)][0] - sb[(title, lang)][0]
            ok = abs(diff) <= tol + 1e-9
            cells.append(f"{diff:+.2f}" if ok else f"**{diff:+.2f}**")
            if not ok:
                outside[label].append(f"{task} {lang} ({diff:+.2f})")
        cells.append("–" if math.isinf(tol) else f"{tol:g}")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for (label, a, b), bad in zip(diffs, outside.values(), strict=True):
        lines.append(
            f"- {label}: mean over {', '.join(f'`{d}`' for d in a)} minus mean over "
            f"{', '.join(f'`{d}`' for d in b)}: **within tolerance {len(keys) - len(bad)} of "
            f"{len(keys)}**" + (f"; outside: {', '.join(bad)}." if bad else ".")
        )
    return "\n".join(lines) + "\n"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m xlt.results_compare", description=__doc__.split("\n\n")[0])  # fmt: skip
    p.add_argument("--diff", nargs=3, action="append", default=[], metavar=("LABEL", "A", "B"), help="a column: documents A (comma-separated) minus documents B")  # fmt: skip
    p.add_argument("--tolerance", action="append", default=[], metavar="[TABLE=]NUMBER")
    p.add_argument("--update", nargs="+", metavar="FILE", help="rewrite the blocks in these documents")  # fmt: skip
    p.add_argument("--check", nargs="+", metavar="FILE", help="exit 1 if a block in these is stale")  # fmt: skip
    return p


def _diffs(specs: Sequence[Sequence[str]], root: Path | None = None) -> list:
    """``[LABEL, "a1.md,a2.md", "b.md"]`` per --diff -> ``(label, [paths], [paths])``."""
    at = (lambda d: root / d) if root else Path
    return [(label, [at(d) for d in a.split(",")], [at(d) for d in b.split(",")]) for label, a, b in specs]  # fmt: skip


def _block(args: str, root: Path) -> str:
    try:
        a = _parser().parse_args(shlex.split(args))
    except SystemExit:  # argparse has printed what is wrong with the arguments
        raise CompareError(f"results-compare block {args!r}: unreadable arguments (see above)") from None  # fmt: skip
    if not a.diff:
        raise CompareError(f"results-compare block {args!r}: needs --diff LABEL A B")
    return compare(_diffs(a.diff, root), a.tolerance).replace(str(root) + "/", "")


def refresh(path: str | Path, root: Path = REPO, write: bool = True) -> list[str]:
    """Regenerate every results-compare block of ``path``; return the arguments of the blocks that
    were stale (and, with ``write``, rewrite the file atomically)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    stale: list[str] = []

    def sub(m: re.Match) -> str:
        try:
            new = _block(m.group(2), root)
        except CompareError as e:
            raise CompareError(f"{path}: {e}") from None
        if new != m.group(3):
            stale.append(m.group(2))
        return m.group(1) + new + m.group(4)

    out = BLOCK.sub(sub, text)
    if write and stale:
        with atomic_open(path) as fh:
            fh.write(out)
    return stale


def main(argv: Sequence[str] | None = None, root: Path = REPO) -> int:
    a = _parser().parse_args(argv)
    try:
        if a.update or a.check:
            bad = {f: refresh(f, root, write=bool(a.update)) for f in (a.update or a.check)}
            for f, stale in bad.items():
                for args in stale:
                    print(f"{f}: results-compare block {args!r} is {'rewritten' if a.update else 'stale: run python -m xlt.results_compare --update ' + str(f)}")  # fmt: skip
            return 1 if a.check and any(bad.values()) else 0
        print(compare(_diffs(a.diff), a.tolerance), end="")
    except CompareError as e:
        print(f"results-compare: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
