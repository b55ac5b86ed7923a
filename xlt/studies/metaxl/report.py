"""MetaXL tables and figures (seed 001, methods.md §2) from the candidate records of the grid.

Reads only what the candidate jobs wrote (``metrics.json`` with its ``metaxl`` settings,
``representations.npz``); no model is loaded. Scores are the few-shot target's *test* score
(F1 for NER, accuracy otherwise; in %), mean ± sd over seeds; "avg" averages the targets per
seed first. Tables follow the paper's layouts:

- ``metaxl_{task}`` (Tables 2/3): target-only, then JT and MetaXL per source setting
  (the task's source language; ``related``: each target's related language);
- ``metaxl_source_size_{task}`` (Table 4): JT and MetaXL per number of source examples;
- ``metaxl_layers_{task}`` (Table 5): JT, then JT w/ RTN and MetaXL per RTN placement;
- ``metaxl_hausdorff_{task}``: Hausdorff distance (cosine) between source and target dev
  representations of JT and MetaXL (MetaXL's source side through its RTNs), with their scores;
- ``metaxl_pca_{task}.png``: 2-D PCA of both languages' representations, JT vs MetaXL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xlt.analysis.shift import hausdorff, pca_2d
from xlt.figures import legend_outside, pyplot, save
from xlt.io import atomic_open, read_json
from xlt.metrics import METRIC_NAMES
from xlt.tables import fmt, to_markdown, write_markdown

NAMES = {"target-only": "target only", "jt": "JT", "jt-rtn": "JT w/ RTN", "metaxl": "MetaXL",
         "metaxl-joint": "MetaXL (joint)"}  # fmt: skip


def placement_label(layers: Sequence[int]) -> str:
    return "+".join(str(i) for i in layers)


def records(metrics: Sequence[str | Path], reps: Sequence[str | Path]) -> pd.DataFrame:
    """One row per candidate: its setting, seed, target test/dev score and Hausdorff distance."""
    rows = []
    for mpath, rpath in zip(metrics, reps, strict=True):
        m = read_json(mpath)
        mx, metric = m["metaxl"], m["main_metric"]
        tgt = mx["target"]
        with np.load(rpath) as z:
            dist = hausdorff(z["source"], z["target"])
        rows.append(
            {
                "method": mx["method"],
                "target": tgt,
                "source": mx["source_lang"] if mx["method"] != "target-only" else "",
                "size": int(mx["source_size"]) if mx["method"] != "target-only" else 0,
                "layers": placement_label(mx["layers"]),
                "seed": int(m["seed"]),
                "test": m["scores"][tgt]["test"][metric],
                "dev": m["scores"][tgt]["dev"][metric],
                "hausdorff": dist,
                "reps": str(rpath),
            }
        )
    return pd.DataFrame(rows)


def _row(df: pd.DataFrame, targets: Sequence[str], label: Mapping[str, Any], column: str = "test") -> dict:  # fmt: skip
    """Mean and sd over seeds per target, and of the per-seed average over targets."""
    row = dict(label)
    for t in targets:
        v = df[df["target"] == t][column]
        row[t], row[f"{t}_sd"] = (v.mean() if len(v) else np.nan), (v.std(ddof=1) if len(v) > 1 else np.nan)  # fmt: skip
    per_seed = df.groupby("seed").apply(lambda g: g.groupby("target")[column].mean().reindex(targets).mean(), include_groups=False)  # fmt: skip
    row["avg"], row["avg_sd"] = per_seed.mean(), (per_seed.std(ddof=1) if len(per_seed) > 1 else np.nan)  # fmt: skip
    row["seeds"] = int(df["seed"].nunique())
    return row


def _select(df: pd.DataFrame, **where: Any) -> pd.DataFrame:
    mask = np.ones(len(df), dtype=bool)
    for k, v in where.items():
        mask &= df[k].to_numpy() == v
    return df[mask]


def main_table(df: pd.DataFrame, study: Mapping[str, Any]) -> pd.DataFrame:
    targets, src, size = study["targets"], study["source"], study["source_size"]
    main = placement_label(study["layers"])
    rows = [_row(_select(df, method="target-only"), targets, {"source": "–", "method": NAMES["target-only"]})]  # fmt: skip
    settings = [(src, lambda t: src)] + ([("related", lambda t: study["related"].get(t))] if study["related"] else [])  # fmt: skip
    for name, lang_of in settings:
        joint = ("metaxl-joint",) if study.get("joint") and name == src else ()
        for m in ("jt", "metaxl", *joint):
            parts = []
            for t in targets:
                lang = lang_of(t)
                if lang is None:
                    continue
                sub = _select(df, method=m, target=t, source=lang, size=size)
                parts.append(sub if m == "jt" else sub[sub["layers"] == main])
            sub = pd.concat(parts) if parts else df.iloc[:0]
            rows.append(_row(sub, targets, {"source": name, "method": NAMES[m]}))
    return pd.DataFrame(rows)


def size_table(df: pd.DataFrame, study: Mapping[str, Any]) -> pd.DataFrame:
    targets, src, main = study["targets"], study["source"], placement_label(study["layers"])
    rows = []
    for size in study["source_sizes"]:
        for m in ("jt", "metaxl"):
            sub = _select(df, method=m, source=src, size=size)
            sub = sub if m == "jt" else sub[sub["layers"] == main]
            rows.append(_row(sub, targets, {"source examples": size, "method": NAMES[m]}))
    return pd.DataFrame(rows)


def layers_table(df: pd.DataFrame, study: Mapping[str, Any]) -> pd.DataFrame:
    targets, src, size = study["targets"], study["source"], study["source_size"]
    rows = [_row(_select(df, method="jt", source=src, size=size), targets, {"RTN after layer": "–", "method": "JT"})]  # fmt: skip
    for layers in study["placements"]:
        for m in ("jt-rtn", "metaxl"):
            sub = _select(df, method=m, source=src, size=size, layers=placement_label(layers))
            rows.append(_row(sub, targets, {"RTN after layer": placement_label(layers), "method": NAMES[m]}))  # fmt: skip
    return pd.DataFrame(rows)


def hausdorff_table(df: pd.DataFrame, study: Mapping[str, Any]) -> pd.DataFrame:
    src, size, main = study["source"], study["source_size"], placement_label(study["layers"])
    rows = []
    for t in study["targets"]:
        jt = _select(df, method="jt", target=t, source=src, size=size)
        mx = _select(df, method="metaxl", target=t, source=src, size=size, layers=main)
        row = {"target": t}
        for name, sub in (("jt", jt), ("metaxl", mx)):
            row[f"hausdorff_{name}"] = sub["hausdorff"].mean()
            row[f"hausdorff_{name}_sd"] = sub["hausdorff"].std(ddof=1) if len(sub) > 1 else np.nan
            row[f"score_{name}"] = sub["test"].mean()
        row["change_pct"] = 100 * (row["hausdorff_metaxl"] / row["hausdorff_jt"] - 1)
        row["seeds"] = int(min(jt["seed"].nunique(), mx["seed"].nunique()))
        rows.append(row)
    return pd.DataFrame(rows)


def _pm(mean: float, sd: float) -> str:
    return fmt(mean) if sd is None or np.isnan(sd) else f"{mean:.1f} ± {sd:.1f}"


def _markdown(df: pd.DataFrame, label_cols: Sequence[str], targets: Sequence[str], title: str, notes: str) -> str:  # fmt: skip
    view = df[list(label_cols)].astype(str).copy()
    for t in [*targets, "avg"]:
        view[t] = [_pm(m, s) for m, s in zip(df[t], df[f"{t}_sd"], strict=True)]
    return to_markdown(view, title, notes)


def _write(df: pd.DataFrame, csv: str, md: str, text: str) -> None:
    with atomic_open(csv) as fh:
        df.to_csv(fh, index=False, float_format="%.4f")
    write_markdown(md, text)


def pca_figure(df: pd.DataFrame, study: Mapping[str, Any], path: str | Path) -> None:
    """Rows = targets, columns = JT | MetaXL (first seed, main setting): source and target dev
    representations projected on the two leading components of that model's vectors; one
    legend outside the panels (source blue, the panel's target orange)."""
    plt = pyplot()
    targets, src = study["targets"], study["source"]
    size, main = study["source_size"], placement_label(study["layers"])
    fig, axes = plt.subplots(len(targets), 2, figsize=(7.2, 3.2 * len(targets)), dpi=110, squeeze=False)  # fmt: skip
    for r, t in enumerate(targets):
        for c, (m, sub) in enumerate(
            (("jt", _select(df, method="jt", target=t, source=src, size=size)),
             ("metaxl", _select(df, method="metaxl", target=t, source=src, size=size, layers=main)))
        ):  # fmt: skip
            ax = axes[r][c]
            if sub.empty:
                ax.set_axis_off()
                continue
            first = sub.sort_values("seed").iloc[0]
            with np.load(first["reps"]) as z:
                ps, pt = pca_2d([z["source"], z["target"]])
            ax.scatter(ps[:, 0], ps[:, 1], s=4, alpha=0.5, c="tab:blue", label=f"source ({src})")
            ax.scatter(
                pt[:, 0], pt[:, 1], s=4, alpha=0.5, c="tab:orange", label="target (in the title)"
            )
            ax.set_title(f"{NAMES[m]}: {src}–{t} (H = {first['hausdorff']:.3f}, seed {first['seed']})", fontsize=9)  # fmt: skip
            ax.set_xticks([])
            ax.set_yticks([])
    legend_outside(fig, axes.ravel(), fontsize=8, markerscale=3)
    save(fig, path)


def write_outputs(study: Mapping[str, Any], metrics: Sequence[str], reps: Sequence[str], out: Mapping[str, str]) -> None:  # fmt: skip
    """``out``: ``{name}_csv`` / ``{name}_md`` per table of ``study["tables"]``, and ``pca``."""
    df = records(metrics, reps)
    task, targets = study["task"], study["targets"]
    metric = METRIC_NAMES[study["kind"]]
    seeds = len(study["seeds"])
    common = (
        f"Target test {metric} of models trained on {study['n']} target examples (few-shot), "
        f"mean ± sd over {seeds} seeds; avg = mean over targets per seed. Each model is the epoch "
        "with the best target dev score."
    )
    related = ", ".join(f"{t}←{s}" for t, s in study["related"].items())
    main = main_table(df, study)
    notes = (
        f"{common} JT: source ∪ target; MetaXL: RTN after layer "
        f"{placement_label(study['layers'])}, {study['source_size']} source examples, the "
        "encoder trained on the transformed source only (the paper's Algorithm 1)"
        + (
            "; MetaXL (joint): the encoder also trains on target batches (the authors' code)"
            if study.get("joint")
            else ""
        )
        + f". Source {study['source']}"
        + (f"; related: {related}." if related else ".")
    )
    _write(main, out["metaxl_csv"], out["metaxl_md"], _markdown(main, ["source", "method"], targets, f"MetaXL: {task}", notes))  # fmt: skip
    if "metaxl_source_size" in study["tables"]:
        t4 = size_table(df, study)
        note = f"{common} Source {study['source']}; MetaXL's RTN after layer {placement_label(study['layers'])}."  # fmt: skip
        _write(t4, out["metaxl_source_size_csv"], out["metaxl_source_size_md"], _markdown(t4, ["source examples", "method"], targets, f"MetaXL, source size: {task}", note))  # fmt: skip
    if "metaxl_layers" in study["tables"]:
        t5 = layers_table(df, study)
        note = f"{common} {study['source_size']} {study['source']} source examples; layer 0 = embeddings output."  # fmt: skip
        _write(t5, out["metaxl_layers_csv"], out["metaxl_layers_md"], _markdown(t5, ["RTN after layer", "method"], targets, f"MetaXL, RTN placement: {task}", note))  # fmt: skip
    h = hausdorff_table(df, study)
    view = pd.DataFrame(
        {
            "target": h["target"],
            "Hausdorff JT": [
                f"{m:.3f} ± {s:.3f}" if not np.isnan(s) else f"{m:.3f}"
                for m, s in zip(h["hausdorff_jt"], h["hausdorff_jt_sd"], strict=True)
            ],  # fmt: skip
            "Hausdorff MetaXL": [
                f"{m:.3f} ± {s:.3f}" if not np.isnan(s) else f"{m:.3f}"
                for m, s in zip(h["hausdorff_metaxl"], h["hausdorff_metaxl_sd"], strict=True)
            ],  # fmt: skip
            "change %": [fmt(v) for v in h["change_pct"]],
            f"{metric} JT": [fmt(v) for v in h["score_jt"]],
            f"{metric} MetaXL": [fmt(v) for v in h["score_metaxl"]],
        }
    )
    note = (
        f"Hausdorff distance (d = 1 − cos) between {study['source']} and target dev representations "
        "(last layer; token vectors for token tasks, sentence vectors otherwise; at most "
        "metaxl.represent per language), mean ± sd over seeds. MetaXL's source vectors pass "
        "through its RTNs (the paper's §4.5 analysis). Main setting."
    )
    _write(h, out["metaxl_hausdorff_csv"], out["metaxl_hausdorff_md"], to_markdown(view, f"MetaXL representation shift: {task}", note))  # fmt: skip
    pca_figure(df, study, out["pca"])
