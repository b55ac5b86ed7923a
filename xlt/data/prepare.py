"""``prepare_split``: one (dataset, language, split) from its source to a common-schema JSONL.

resolve the source -> fetch it (file / verified download / pinned hub revision) -> read it with
the dataset's format reader -> validate (schema, labels, unique ids) -> cap (seeded subset, file
order kept) -> write the JSONL atomically. Nothing is written when any step fails.

The provenance of a file or url source has ``reader``: the encoding declared and used, and the
count of each warning the reader logged (``invalid_iob2_transition``, ``misdeclared_encoding``;
see ``xlt.data.readers.ReadReport``).
"""

from __future__ import annotations

import os
import random
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from xlt.data.readers import READER_KINDS, ReadReport, RecordList, read_file
from xlt.data.sources import (
    fetch,
    hub_split_name,
    load_hub_records,
    resolve_source,
    sha256_of,
)
from xlt.io import Kind, write_jsonl

Record = dict[str, Any]
TASK_TYPES = ("tagging", "classification")


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
    if produced is not None and produced != task_type:
        raise ValueError(
            f"dataset {dataset_name!r}: format {fmt!r} gives {produced} records but "
            f"task_type is {task_type!r}"
        )
    options = dict(dataset_cfg.get("options") or {})
    if produced is None:
        options.setdefault("kind", task_type)
    return fmt, options


def load_split(
    dataset_name: str,
    dataset_cfg: Mapping[str, Any],
    lang: str,
    split: str,
    cache_dir: str | os.PathLike,
) -> tuple[list[Record], dict[str, Any]]:
    """Validated records of one split and where they came from (provenance of the input)."""
    task_type = task_type_of(dataset_name, dataset_cfg)
    labels = dataset_cfg.get("labels")
    if labels and dataset_cfg.get("label_map"):
        # labels a label_map renames are allowed in the file (they are mapped afterwards)
        labels = [*labels, *dataset_cfg["label_map"]]
    source = resolve_source(dataset_name, dataset_cfg, lang, split)
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
        if "tags" in r:
            r["tags"] = [mapping.get(t, t) for t in r["tags"]]
        if "label" in r:
            r["label"] = mapping.get(r["label"], r["label"])
        out.append(r)
    return out
