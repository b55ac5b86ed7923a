"""Candidate pools: every candidate of a task, scored on every language, in one place.

A pool is stored as two files:

- ``results/pools/{task}.parquet``: one row per candidate x language with the main dev/test score
  (``dev``, ``test``) and every other metric (``dev_<metric>``, ``test_<metric>``), plus the
  candidate's method and hyper-parameters;
- ``results/pools/{task}.npz``: ``features`` (candidates x languages x hidden: mean first-token
  vector over each language's dev text) and ``stats_<lang>`` (candidates x dev examples x k:
  per-example sufficient statistics, so any subset of a dev set can be re-scored).

:class:`Pool` loads both and offers the matrices selection methods need. A candidate file that
cannot be read (corrupt or truncated ``metrics.json``, ``predictions.json``, ``features.npz``)
raises a DataError naming the file and the fix: ``snakemake all --forcerun <that file>``, which
re-trains exactly that candidate and rebuilds the pool and everything made from it.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .io import DataError, atomic_open, output_error, read_json, read_jsonl, rebuild_fix
from .metrics import example_stats, scores
from .tasks import get_kind

ID_COLUMNS = ["candidate", "method", "hp", "lr", "epochs", "batch_size", "seed"]
METRICS_KEYS = (*ID_COLUMNS[1:], "scores", "main_metric")
PREDICTIONS_KEYS = ("labels", "dev")


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
    task = get_kind(kind)
    langs = sorted(dev_files)
    dev = {lang: read_jsonl(dev_files[lang], task.schema) for lang in langs}
    gold = {lang: [task.gold(r) for r in recs] for lang, recs in dev.items()}
    rows, feats, stats, ids = [], [], {lang: [] for lang in langs}, []
    labels: list[str] = []
    for mpath, ppath, fpath in zip(metrics_files, predictions_files, features_files, strict=True):
        m = read_candidate_json(mpath, METRICS_KEYS)
        check_scores(mpath, m, langs)
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
        preds = read_candidate_json(ppath, PREDICTIONS_KEYS)
        labels = preds["labels"]
        for lang in langs:
            if lang not in preds["dev"]:
                raise candidate_error(ppath, f"has no dev predictions for {lang!r}")
            stats[lang].append(example_stats(kind, gold[lang], preds["dev"][lang], labels, lang))
        feats.append(read_features(fpath, langs))
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


def candidate_error(path: str | Path, problem: str, line: int | None = None) -> DataError:
    """An unusable candidate file: the fix is to re-train exactly that candidate (and to rebuild
    the pool and what was made from it: deleting the candidate would not, see ``rebuild_fix``)."""
    return DataError(
        path,
        line,
        problem,
        rebuild_fix(path, "re-train exactly this candidate and rebuild everything made from it"),
    )


def read_candidate_json(path: str | Path, required: Sequence[str]) -> dict:
    """A candidate's JSON file, checked for the keys the pool needs."""
    try:
        obj = read_json(path)
    except DataError as e:
        raise candidate_error(path, e.problem, e.line) from None
    except UnicodeDecodeError as e:
        raise candidate_error(path, f"not UTF-8 text (byte {e.start}): corrupt") from None
    if not isinstance(obj, dict):
        raise candidate_error(path, f"expected a JSON object, found {type(obj).__name__}")
    missing = [k for k in required if k not in obj]
    if missing:
        raise candidate_error(path, f"lacks {missing} (truncated or written by another version)")
    return obj


def check_scores(path: str | Path, m: Mapping, langs: Sequence[str]) -> None:
    for lang in langs:
        for split in ("dev", "test"):
            got = m["scores"].get(lang, {}).get(split) if isinstance(m["scores"], dict) else None
            if not isinstance(got, dict) or m["main_metric"] not in got:
                raise candidate_error(
                    path, f"has no {split} {m['main_metric']!r} score for {lang!r}"
                )


# what reading a truncated, empty or foreign .npz / .parquet raises (pyarrow's ArrowInvalid is a
# ValueError; a missing key of an .npz a KeyError)
UNREADABLE = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile)


def describe_error(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


def read_table(path: str | Path) -> pd.DataFrame:
    """A pool's table (``results/pools/{task}.parquet``); a broken one names itself and the
    fix. Every reader of a pool table (tables, figures, LMS, comparison) reads it here."""
    try:
        return pd.read_parquet(path)
    except UNREADABLE as e:
        raise output_error(path, f"unreadable pool table ({describe_error(e)})") from None


def read_features(path: str | Path, langs: Sequence[str]) -> np.ndarray:
    """A candidate's (languages x hidden) features, in the pool's language order."""
    try:
        with np.load(path) as z:
            order = {str(lg): i for i, lg in enumerate(z["langs"])}
            missing = [lg for lg in langs if lg not in order]
            if missing:
                raise candidate_error(path, f"has no features for {missing}")
            return np.stack([z["features"][order[lg]] for lg in langs])
    except DataError:
        raise
    except UNREADABLE as e:
        raise candidate_error(path, f"unreadable features ({describe_error(e)})") from None


def _add_majority(table: pd.DataFrame, kind: str, train_file, test_files) -> pd.DataFrame:
    """The trivial baseline: the source-train majority label predicted everywhere (test score)."""
    task = get_kind(kind)
    baseline = task.majority_baseline(read_jsonl(train_file, task.schema)) if train_file else None
    if baseline is None:
        return table
    majority, predict = baseline
    base = {}
    for lang, path in test_files.items():
        gold = [task.gold(r) for r in read_jsonl(path, task.schema)]
        base[lang] = scores(kind, gold, [predict(g) for g in gold], lang)[task.main_metric]
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
        """Both files of a pool; a broken one is a DataError naming it and the fix."""
        table = read_table(table_path)
        try:
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
        except UNREADABLE as e:
            raise output_error(
                arrays_path, f"unreadable pool arrays ({describe_error(e)})"
            ) from None

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
