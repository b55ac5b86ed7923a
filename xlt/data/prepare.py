"""``prepare_split``: one (dataset, language, split) from its source to a common-schema JSONL.

resolve the source -> fetch it (file / verified download / pinned hub revision) -> read it with
the dataset's format reader -> validate (schema, labels, unique ids) -> select lines (the
dataset's ``splits``) -> cap (seeded subset, file order kept) -> write the JSONL atomically.
Nothing is written when any step fails.

The provenance of a file or url source has ``reader``: the encoding declared and used, and the
count of each warning the reader logged (``invalid_iob2_transition``, ``misdeclared_encoding``,
``unterminated_sentence`` of a CoNLL-U file that ends inside a sentence;
see ``xlt.data.readers.ReadReport``).

Splits made of parts (``datasets.<name>.splits``): by default a split is every example of its
own file (the source with ``{split}`` substituted). ``splits`` may instead make a split of one
or more parts, each ``{from: <split whose file to read>, lines: "a-b,c-d"}`` (either key may be
left out: ``from`` defaults to the split itself, ``lines`` to every example). Lines are 1-based
and inclusive and count the file's examples in file order; for the one-example-per-line formats
(XNLI, UMSAB) that is the line number, which their ids carry. Because XNLI is translated line
by line, a line split keeps every evaluated line a translation of no training line::

    splits:
      train: [{from: test, lines: "1-3000"}, {from: dev, lines: "1-1989"}]
      dev: {lines: "1990-2490"}
      test: {lines: "3001-5010"}

No two splits may take the same line of the same file (in any language: line i is the same
example in all of them), a split not named takes all of its own file, and
``allow_overlap: true`` lifts the check. The provenance of such a split lists its ``parts``:
each part's file, its ``lines``, how many examples the file has and how many were taken. The
same mechanism renames a split's file: UMSAB's dev set is ``splits: {dev: {from: val}}``.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from xlt.data.readers import READER_KINDS, ReadReport, RecordList, read_file, reader_options
from xlt.data.sources import (
    STANDARD_SPLITS,
    check_lang_split,
    fetch,
    hub_split_name,
    load_hub_records,
    resolve_source,
    sha256_of,
)
from xlt.io import DataError, Kind, write_jsonl

Record = dict[str, Any]
TASK_TYPES = ("tagging", "classification", "qa", "relation", "parsing")
LINE_RANGE = re.compile(r"\s*([0-9]+)\s*(?:-\s*([0-9]+)\s*)?")
PART_KEYS = frozenset({"from", "lines"})
FILE_SPLIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def split_seed(seed: int, dataset: str, lang: str, split: str) -> int:
    """A per-split seed that is stable across processes (unlike ``hash()``)."""
    return zlib.crc32(f"{seed}/{dataset}/{lang}/{split}".encode())


def cap_for(dataset_name: str, dataset_cfg: Mapping[str, Any], split: str) -> int | None:
    """``cap`` may be one number for every split or a ``{split: n}`` mapping; None = keep all."""
    cap = dataset_cfg.get("cap")
    if isinstance(cap, Mapping):
        cap = cap.get(split)
    if cap is None:
        return None
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        raise ValueError(
            f"dataset {dataset_name!r}: cap for {split!r} must be a positive integer, got {cap!r}"
        )
    return cap


def cap_records(records: Sequence[Record], n: int | None, seed: int) -> list[Record]:
    """At most ``n`` records: a seeded random subset, in the original file order."""
    if n is None or len(records) <= n:
        return list(records)
    keep = sorted(random.Random(seed).sample(range(len(records)), n))
    return [records[i] for i in keep]


def task_type_of(dataset_name: str, dataset_cfg: Mapping[str, Any]) -> Kind:
    task_type = dataset_cfg.get("task_type")
    if task_type not in TASK_TYPES:
        raise ValueError(
            f"dataset {dataset_name!r}: task_type must be one of {list(TASK_TYPES)}, "
            f"got {task_type!r}"
        )
    return cast(Kind, task_type)


def reader_call(
    dataset_name: str, dataset_cfg: Mapping[str, Any], task_type: str
) -> tuple[str, dict[str, Any]]:
    """The reader format and its options; checks the format produces the dataset's task type."""
    fmt = dataset_cfg.get("format")
    if fmt not in READER_KINDS:
        raise ValueError(
            f"dataset {dataset_name!r}: format must be one of {sorted(READER_KINDS)}, got {fmt!r}"
        )
    produced = READER_KINDS[fmt]
    if task_type not in produced:
        raise ValueError(
            f"dataset {dataset_name!r}: format {fmt!r} gives "
            f"{' or '.join(f'{kind} records' for kind in produced)} but task_type is {task_type!r}"
        )
    options = dict(dataset_cfg.get("options") or {})
    if "kind" in reader_options(fmt) and options.setdefault("kind", task_type) != task_type:
        raise ValueError(
            f"datasets.{dataset_name}.options.kind is {options['kind']!r} but task_type is "
            f"{task_type!r}; remove options.kind"
        )
    return fmt, options


def load_split(
    dataset_name: str,
    dataset_cfg: Mapping[str, Any],
    lang: str,
    split: str,
    cache_dir: str | os.PathLike,
) -> tuple[list[Record], dict[str, Any]]:
    """Validated records of one split and where they came from (provenance of the input).

    A split of its own whole file has that file's provenance; a split made of parts (see the
    module docstring) has ``parts``, one entry per part with its file's provenance.
    """
    check_lang_split(dataset_name, dataset_cfg, lang, split)
    parts = check_splits(dataset_name, dataset_cfg)[split]
    if split not in (dataset_cfg.get("splits") or {}):  # all of its own file, as ever
        return load_file(dataset_name, dataset_cfg, lang, split, cache_dir)
    records: list[Record] = []
    origins = []
    first_part: dict[str, str] = {}
    for part in parts:
        found, origin = load_file(dataset_name, dataset_cfg, lang, part.source, cache_dir)
        where = origin.get("path") or f"hub:{origin.get('hub')}@{origin.get('revision')}"
        fix = f"fix datasets.{dataset_name}.splits.{split} (lines are 1-based and inclusive)"
        taken = select_lines(found, part, where, fix)
        for rec in taken:
            earlier = first_part.setdefault(str(rec["id"]), part.describe())
            if earlier != part.describe():
                raise ValueError(
                    f"dataset {dataset_name!r} ({lang}/{split}): id {rec['id']!r} occurs in "
                    f"{earlier} and in {part.describe()}; ids must be unique within a split"
                )
        records.extend(taken)
        origins.append(
            {
                "from": part.source,
                "lines": format_lines(part.lines),
                "n_examples": len(found),
                "n_taken": len(taken),
                **origin,
            }
        )
    return records, {"parts": origins}


def load_file(
    dataset_name: str,
    dataset_cfg: Mapping[str, Any],
    lang: str,
    split: str,
    cache_dir: str | os.PathLike,
) -> tuple[list[Record], dict[str, Any]]:
    """Validated records of the file of (lang, split) and its provenance.

    ``split`` names the file (the source's ``{split}``), which may be a split the language
    does not list (a part's ``from``, e.g. UMSAB's ``val``).
    """
    task_type = task_type_of(dataset_name, dataset_cfg)
    labels = dataset_cfg.get("labels")
    if labels and dataset_cfg.get("label_map"):
        # labels a label_map renames are allowed in the file (they are mapped afterwards)
        labels = [*labels, *dataset_cfg["label_map"]]
    source = resolve_source(dataset_name, dataset_cfg, lang, split, check_split=False)
    kind = source["kind"]
    if kind == "synthetic":
        raise ValueError(
            f"dataset {dataset_name!r} ({lang}/{split}) is synthetic: the synthetic world "
            "generator makes it, prepare_split does not"
        )
    if kind == "hub":
        records = load_hub_records(dataset_name, source, lang, split, cache_dir, task_type)
        where = f"hub:{source['hub']}@{source['revision']}"
        checked = RecordList(where, task_type, labels)
        for n, rec in enumerate(records):
            checked.add(rec, n + 1)
        origin = {
            "source": "hub",
            "hub": source["hub"],
            "revision": source["revision"],
            "config": source.get("config"),
            "hub_split": hub_split_name(source, split),
            "sha256": None,
        }
        return checked.result(), origin
    fmt, options = reader_call(dataset_name, dataset_cfg, task_type)
    path = fetch(dataset_name, source, lang, split, cache_dir)
    report = ReadReport()
    records = read_file(fmt, path, lang=lang, split=split, labels=labels, report=report, **options)
    origin = {
        "source": kind,
        "path": str(path),
        "sha256": sha256_of(path),
        "reader": report.as_dict(),
    }
    if kind == "url":
        origin.update(
            url=source["url"], member=source.get("member"), download_sha256=source["sha256"]
        )
    return records, origin


def prepare_split(
    dataset_name: str,
    dataset_cfg: Mapping[str, Any],
    lang: str,
    split: str,
    out_path: str | os.PathLike,
    cache_dir: str | os.PathLike = "resources",
    seed: int = 0,
) -> dict[str, Any]:
    """Write ``out_path`` (common-schema JSONL) for one split; return its provenance."""
    records, origin = load_split(dataset_name, dataset_cfg, lang, split, cache_dir)
    records = map_labels(records, dataset_cfg.get("label_map") or {})
    _check_mapped(dataset_name, dataset_cfg)
    cap = cap_for(dataset_name, dataset_cfg, split)
    derived_seed = split_seed(seed, dataset_name, lang, split)
    kept = cap_records(records, cap, derived_seed)
    n_written = write_jsonl(Path(out_path), kept)
    return {
        "dataset": dataset_name,
        "lang": lang,
        "split": split,
        "task_type": dataset_cfg["task_type"],
        "format": dataset_cfg.get("format"),
        **origin,
        "n_read": len(records),
        "n_written": n_written,
        "cap": cap,
        "cap_seed": derived_seed if cap is not None and len(records) > cap else None,
        "label_map": dict(dataset_cfg.get("label_map") or {}),
    }


def _check_mapped(dataset_name: str, dataset_cfg: Mapping[str, Any]) -> None:
    labels, mapping = dataset_cfg.get("labels"), dataset_cfg.get("label_map") or {}
    bad = sorted({v for v in mapping.values() if labels and v not in labels})
    if bad:
        raise ValueError(
            f"datasets.{dataset_name}.label_map maps to {bad}, which are not in its labels "
            f"{labels}; add them to labels or fix the map"
        )


def map_labels(records: list[dict], mapping: Mapping[str, str]) -> list[dict]:
    """Rename tags/labels (e.g. ``{B-MISC: O, I-MISC: O}`` to evaluate on a smaller label set)."""
    if not mapping:
        return records
    out = []
    for r in records:
        r = dict(r)
        if "deprels" in r:  # parsing: the label set is the dependency relations
            r["deprels"] = [mapping.get(t, t) for t in r["deprels"]]
        elif "tags" in r:
            r["tags"] = [mapping.get(t, t) for t in r["tags"]]
        if "label" in r:
            r["label"] = mapping.get(r["label"], r["label"])
        out.append(r)
    return out


# --------------------------------------------------------------------------------------------
# splits made of parts: which lines of which file


Ranges = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Part:
    """Examples of the file of split ``source`` (its ``{split}``): all, or the 1-based,
    inclusive, sorted and disjoint ``lines`` ranges."""

    source: str
    lines: Ranges | None = None

    def describe(self) -> str:
        return (
            f"{self.source} lines {format_lines(self.lines)}"
            if self.lines
            else f"all of {self.source}"
        )


def format_lines(ranges: Ranges | None) -> str | None:
    """``((1, 3000), (4000, 4000))`` -> ``"1-3000,4000"``; None stays None (every line)."""
    if ranges is None:
        return None
    return ",".join(f"{a}-{b}" if a != b else str(a) for a, b in ranges)


def parse_lines(spec: Any, where: str) -> Ranges:
    """``"1-3000,4001-5010"`` (or one number) as sorted 1-based inclusive ranges; checked."""
    if isinstance(spec, int) and not isinstance(spec, bool):
        spec = str(spec)
    if not isinstance(spec, str):
        raise ValueError(
            f"{where}: lines must be 1-based inclusive ranges such as '1-3000' or "
            f"'1-100,201-300', got {spec!r}"
        )
    ranges = []
    for piece in spec.split(","):
        match = LINE_RANGE.fullmatch(piece)
        if match is None:
            raise ValueError(
                f"{where}: {piece.strip()!r} is not a line range (write 'first-last' or one "
                "number, 1-based; separate ranges by commas)"
            )
        first, last = int(match[1]), int(match[2] or match[1])
        if not 1 <= first <= last:
            raise ValueError(f"{where}: range {piece.strip()!r} needs 1 <= first <= last")
        ranges.append((first, last))
    ranges.sort()
    for (a1, b1), (a2, b2) in itertools.pairwise(ranges):
        if a2 <= b1:
            raise ValueError(f"{where}: ranges {a1}-{b1} and {a2}-{b2} overlap; merge them")
    return tuple(ranges)


def shared_lines(a: Part, b: Part) -> str | None:
    """The lines two parts both take (None: none), e.g. ``"2990-3000"`` or ``"every line"``."""
    if a.source != b.source:
        return None
    if a.lines is None or b.lines is None:
        other = a.lines if a.lines is not None else b.lines
        return "every line" if other is None else f"lines {format_lines(other)}"
    common = tuple(
        (max(x1, y1), min(x2, y2))
        for (x1, x2), (y1, y2) in itertools.product(a.lines, b.lines)
        if max(x1, y1) <= min(x2, y2)
    )
    return f"lines {format_lines(tuple(sorted(common)))}" if common else None


def split_parts(dataset_name: str, dataset_cfg: Mapping[str, Any], split: str) -> list[Part]:
    """The parts of one split (``[Part(split)]`` when ``splits`` does not name it)."""
    spec = (dataset_cfg.get("splits") or {}).get(split)
    if spec is None:
        return [Part(split)]
    base = f"datasets.{dataset_name}.splits.{split}"
    items = spec if isinstance(spec, list) else [spec]
    if not items:
        raise ValueError(f"{base}: an empty list; give at least one part or remove the key")
    parts = []
    for k, item in enumerate(items):
        where = f"{base}[{k}]" if isinstance(spec, list) else base
        if not isinstance(item, Mapping) or not item or set(item) - PART_KEYS:
            raise ValueError(
                f"{where}: a part is {{from: <split whose file to read>, lines: 'first-last'}} "
                f"(either key may be left out), got {item!r}"
            )
        source = item.get("from", split)
        if not isinstance(source, str) or not FILE_SPLIT.fullmatch(source):
            raise ValueError(f"{where}.from: {source!r} is not a split name (e.g. test, dev, val)")
        lines = parse_lines(item["lines"], f"{where}.lines") if "lines" in item else None
        parts.append(Part(source, lines))
    for a, b in itertools.combinations(parts, 2):
        shared = shared_lines(a, b)
        if shared is not None:
            raise ValueError(
                f"{base}: two parts both take {shared} of the {a.source!r} file; "
                "an example may enter a split once"
            )
    return parts


def check_splits(dataset_name: str, dataset_cfg: Mapping[str, Any]) -> dict[str, list[Part]]:
    """The parts of every split the dataset's languages name; no line in two splits.

    Lines are compared per file split (``from``), not per language: in a line-parallel
    dataset line i of every language is the same example. ``allow_overlap: true`` lifts
    the check; a split named under ``splits`` that no language has is an error (a typo).
    """
    configured = {
        s for splits in (dataset_cfg.get("languages") or {}).values() for s in splits or ()
    }
    order = [s for s in STANDARD_SPLITS if s in configured] + sorted(
        configured - set(STANDARD_SPLITS)
    )
    named = dataset_cfg.get("splits") or {}
    if not isinstance(named, Mapping):
        raise ValueError(
            f"datasets.{dataset_name}.splits must map splits to their parts, e.g. "
            "{train: {from: test, lines: '1-3000'}}"
        )
    stray = sorted(set(named) - configured)
    if stray:
        raise ValueError(
            f"datasets.{dataset_name}.splits names {stray}, which no language has "
            f"(configured: {order}; see datasets.{dataset_name}.languages)"
        )
    parts = {split: split_parts(dataset_name, dataset_cfg, split) for split in order}
    if dataset_cfg.get("allow_overlap"):
        return parts
    for s1, s2 in itertools.combinations(order, 2):
        for a, b in itertools.product(parts[s1], parts[s2]):
            shared = shared_lines(a, b)
            if shared is not None:
                raise ValueError(
                    f"datasets.{dataset_name}: {s1} ({a.describe()}) and {s2} ({b.describe()}) "
                    f"share {shared} of the {a.source!r} file (in a line-parallel dataset such "
                    "as XNLI a shared line is the same example in every language). Fix: give "
                    f"them disjoint lines under datasets.{dataset_name}.splits (a split not "
                    f"named there takes all of its own file), or set datasets.{dataset_name}."
                    "allow_overlap: true if the overlap is intended"
                )
    return parts


def select_lines(records: list[Record], part: Part, where: str, fix: str) -> list[Record]:
    """The examples ``part.lines`` names (all without lines); a range past the end is an error."""
    if part.lines is None:
        return records
    if part.lines[-1][1] > len(records):
        raise DataError(
            where,
            None,
            f"lines {format_lines(part.lines)} asked for, but the file has {len(records)} examples",
            fix,
        )
    return [rec for first, last in part.lines for rec in records[first - 1 : last]]
