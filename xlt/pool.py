"""Candidate pools: every candidate of a task, scored on every language, in one place.

A pool is stored as two files:

- ``results/pools/{task}.parquet``: one row per candidate x language with the main dev/test score
  (``dev``, ``test``) and every other metric (``dev_<metric>``, ``test_<metric>``), plus the
  candidate's method and hyper-parameters;
- ``results/pools/{task}.npz``: ``features`` (candidates x languages x hidden: mean first-token
  vector over each language's dev text) and ``stats_<lang>`` (candidates x dev examples x k:
  per-example sufficient statistics, so any subset of a dev set can be re-scored).

:class:`Pool` loads both and offers the matrices selection methods need.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .io import atomic_open, read_json, read_jsonl
from .metrics import example_stats, scores

ID_COLUMNS = ["candidate", "method", "hp", "lr", "epochs", "batch_size", "seed"]


def _kind_to_schema(kind: str) -> str:
    return "classification" if kind == "classification" else "tagging"


def build_pool(
    kind: str,
    metrics_files: Sequence[str],
    predictions_files: Sequence[str],
    features_files: Sequence[str],
    dev_files: Mapping[str, str],
    train_file: str | None,
    test_files: Mapping[str, str],
    table_path: str,
    arrays_path: str,
) -> pd.DataFrame:
    """Gather candidate records into a pool (atomically written table + arrays)."""
    schema = _kind_to_schema(kind)
    langs = sorted(dev_files)
    dev = {lang: read_jsonl(dev_files[lang], schema) for lang in langs}
    gold = {lang: [_gold(r, kind) for r in recs] for lang, recs in dev.items()}
    rows, feats, stats, ids = [], [], {lang: [] for lang in langs}, []
    labels: list[str] = []
    for mpath, ppath, fpath in zip(metrics_files, predictions_files, features_files, strict=True):
        m = read_json(mpath)
        cid = f"{m['method']}/{m['hp']}/seed{m['seed']}"
        ids.append(cid)
        ident = {"candidate": cid, **{k: m[k] for k in ID_COLUMNS[1:]}}
        for lang in langs:
            row = dict(ident, lang=lang)
            for split in ("dev", "test"):
                for metric, v in m["scores"][lang][split].items():
                    row[f"{split}_{metric}"] = v
                row[split] = m["scores"][lang][split][m["main_metric"]]
            rows.append(row)
        preds = read_json(ppath)
        labels = preds["labels"]
        for lang in langs:
            stats[lang].append(example_stats(kind, gold[lang], preds["dev"][lang], labels))
        with np.load(fpath) as z:
            order = {str(lg): i for i, lg in enumerate(z["langs"])}
            feats.append(np.stack([z["features"][order[lg]] for lg in langs]))
    table = pd.DataFrame(rows)
    table = _add_majority(table, kind, train_file, test_files)
    with atomic_open(table_path, "wb") as fh:
        table.to_parquet(fh, index=False)
    arrays = {f"stats_{lang}": np.stack(stats[lang]) for lang in langs}
    with atomic_open(arrays_path, "wb") as fh:
        np.savez_compressed(
            fh,
            candidates=np.array(ids),
            langs=np.array(langs),
            features=np.stack(feats).astype(np.float32),
            kind=np.array(kind),
            labels=np.array(labels),
            **arrays,
        )
    return table


def _gold(rec: Mapping, kind: str):
    return rec["label"] if kind == "classification" else rec["tags"]


def _add_majority(table: pd.DataFrame, kind: str, train_file, test_files) -> pd.DataFrame:
    """The trivial baseline: the source-train majority label predicted everywhere (test score)."""
    if not train_file:
        return table
    schema = _kind_to_schema(kind)
    train = read_jsonl(train_file, schema)
    counts = Counter(lab for r in train for lab in ([r["label"]] if kind == "classification" else r["tags"]))  # fmt: skip
    majority = counts.most_common(1)[0][0]
    base = {}
    for lang, path in test_files.items():
        recs = read_jsonl(path, schema)
        gold = [_gold(r, kind) for r in recs]
        pred = [majority if kind == "classification" else [majority] * len(g) for g in gold]
        res = scores(kind, gold, pred)
        base[lang] = res["f1" if kind == "ner" else "accuracy"]
    table["majority_test"] = table["lang"].map(base)
    table.attrs["majority_label"] = majority
    return table


@dataclass
class Pool:
    """A task's candidates as matrices (candidates x languages)."""

    table: pd.DataFrame
    candidates: list[str]
    langs: list[str]
    features: np.ndarray  # (N, L, d)
    stats: dict[str, np.ndarray]  # lang -> (N, n_dev, k)
    kind: str
    labels: list[str]

    @classmethod
    def load(cls, table_path: str | Path, arrays_path: str | Path) -> Pool:
        table = pd.read_parquet(table_path)
        with np.load(arrays_path) as z:
            langs = [str(x) for x in z["langs"]]
            return cls(
                table=table,
                candidates=[str(x) for x in z["candidates"]],
                langs=langs,
                features=z["features"],
                stats={lang: z[f"stats_{lang}"] for lang in langs},
                kind=str(z["kind"]),
                labels=[str(x) for x in z["labels"]],
            )

    def matrix(self, column: str) -> np.ndarray:
        """``column`` (e.g. ``dev``, ``test``) as a (candidates x languages) array."""
        wide = self.table.pivot(index="candidate", columns="lang", values=column)
        return wide.loc[self.candidates, self.langs].to_numpy(dtype=np.float64)

    def meta(self) -> pd.DataFrame:
        first = self.table.drop_duplicates("candidate").set_index("candidate")
        return first.loc[self.candidates, ID_COLUMNS[1:]].reset_index()

    def lang_index(self, lang: str) -> int:
        if lang not in self.langs:
            raise ValueError(f"language {lang!r} is not in this pool ({self.langs})")
        return self.langs.index(lang)


def describe(pool: Pool) -> str:
    return json.dumps({"candidates": len(pool.candidates), "langs": pool.langs, "kind": pool.kind})
