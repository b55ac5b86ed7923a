"""MetaXL tables and figures (seed 001, methods.md §2) from the candidate records of the grid.

Reads only what the candidate jobs wrote (``metrics.json`` with its ``metaxl`` settings,
``representations.npz``); no model is loaded. Scores are the few-shot target's *test* score
(F1 for NER, accuracy otherwise; in %) of the epoch with the best target dev score, mean ± sd
over seeds; "avg" averages the targets per seed first. With a grid of meta learning rates the
meta methods' rows use, per task and method, the β with the best mean target *dev* score over
targets and seeds (one choice per task, so a meta method gets no best-of-three bonus per run);
every β has its own row too. Tables:

- ``metaxl_{task}`` (Tables 2/3): every method of the grid per source setting (the task's source
  language; ``related``: each target's related language);
- ``metaxl_delta_{task}``: each method minus JT (the paper's: one source and one target batch per
  step), paired by (target, seed): mean Δ per target, n pairs, the paired t-test's p
  (``scipy.stats.ttest_rel``), wins / losses, and ‖φ − φ₀‖_F of the RTN methods;
- ``metaxl_source_size_{task}`` (Table 4): JT and the meta methods per number of source examples;
- ``metaxl_layers_{task}`` (Table 5): JT, then JT w/ RTN and the meta methods per RTN placement;
- ``metaxl_hausdorff_{task}``: Hausdorff distance (cosine) between source and target dev
  representations of JT and the meta methods (their source side through the RTNs), with scores;
- ``metaxl_pca_{task}.png``: 2-D PCA of both languages' representations, JT vs MetaXL.
"""

from __future__ import annotations

import math
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

from .settings import META_METHODS, METHODS, RTN_METHODS

NAMES = {"target-only": "target only", "jt": "JT", "jt-concat": "JT (concatenated)",
         "jt-rtn": "JT w/ RTN", "metaxl": "MetaXL (Algorithm 1)", "metaxl-joint": "MetaXL (joint)",
         "metaxl-frozen": "MetaXL (joint), φ frozen"}  # fmt: skip


def placement_label(layers: Sequence[int]) -> str:
    return "+".join(str(i) for i in layers)


def records(metrics: Sequence[str | Path], reps: Sequence[str | Path]) -> pd.DataFrame:
    """One row per candidate: its setting, seed, target test/dev score, selected epoch, φ's
    change and Hausdorff distance."""
    rows = []
    for mpath, rpath in zip(metrics, reps, strict=True):
        m = read_json(mpath)
        mx, metric = m["metaxl"], m["main_metric"]
        tgt = mx["target"]
        with np.load(rpath) as z:
            dist = hausdorff(z["source"], z["target"])
        info = m.get("info", {})
        rtn = info.get("metaxl") or {}
        sel = info.get("select_by_dev") or {}
        rows.append(
            {
                "method": mx["method"],
                "target": tgt,
                "source": mx["source_lang"] if mx["method"] != "target-only" else "",
                "size": int(mx["source_size"]) if mx["method"] != "target-only" else 0,
                "layers": placement_label(mx["layers"]),
                "meta_lr": float(mx["meta_lr"]) if mx["method"] in META_METHODS else math.nan,
                "seed": int(m["seed"]),
                "test": m["scores"][tgt]["test"][metric],
                "dev": m["scores"][tgt]["dev"][metric],
                "best_epoch": sel.get("best_epoch"),
                "epochs_run": sel.get("epochs_run"),
                "phi_change": rtn.get("phi_change", math.nan),
                "phi0_norm": math.sqrt(
                    sum(v * v for v in (rtn.get("phi0_norm_per_layer") or {}).values())
                )
                if rtn
                else math.nan,  # fmt: skip
                "hausdorff": dist,
                "reps": str(rpath),
            }
        )
    return pd.DataFrame(rows)


def chosen_meta_lrs(df: pd.DataFrame, study: Mapping[str, Any]) -> dict[str, float]:
    """Per meta method: the meta learning rate with the best mean target dev score over the
    main setting's targets and seeds (the only one when the grid has one value)."""
    out = {}
    main = _main(df, study)
    for m in META_METHODS:
        sub = main[main["method"] == m]
        if sub.empty:
            continue
        out[m] = float(sub.groupby("meta_lr")["dev"].mean().idxmax())
    return out


def _main(df: pd.DataFrame, study: Mapping[str, Any]) -> pd.DataFrame:
    """The main setting's rows: the task's source at the main size, RTN methods at the main
    placement."""
    size, main = study["source_size"], placement_label(study["layers"])
    keep = (df["method"] == "target-only") | (
        (df["source"] == study["source"])
        & (df["size"] == size)
        & (~df["method"].isin(RTN_METHODS) | (df["layers"] == main))
    )
    return df[keep]


def selected(df: pd.DataFrame, study: Mapping[str, Any]) -> pd.DataFrame:
    """``df`` with the meta methods' rows at their chosen meta learning rate only."""
    lrs = chosen_meta_lrs(df, study)
    keep = ~df["method"].isin(list(lrs)) | np.isclose(df["meta_lr"], df["method"].map(lrs).astype(float))  # fmt: skip
    return df[keep]


def _row(df: pd.DataFrame, targets: Sequence[str], label: Mapping[str, Any], column: str = "test") -> dict:  # fmt: skip
    """Mean and sd over seeds per target, and of the per-seed average over targets."""
    row = dict(label)
    for t in targets:
        v = df[df["target"] == t][column]
        row[t], row[f"{t}_sd"] = (v.mean() if len(v) else np.nan), (v.std(ddof=1) if len(v) > 1 else np.nan)  # fmt: skip
    per_seed = df.groupby("seed").apply(lambda g: g.groupby("target")[column].mean().reindex(targets).mean(), include_groups=False) if len(df) else pd.Series(dtype=float)  # fmt: skip
    row["avg"], row["avg_sd"] = (per_seed.mean() if len(per_seed) else np.nan), (per_seed.std(ddof=1) if len(per_seed) > 1 else np.nan)  # fmt: skip
    row["seeds"] = int(df["seed"].nunique())
    return row


def _select(df: pd.DataFrame, **where: Any) -> pd.DataFrame:
    mask = np.ones(len(df), dtype=bool)
    for k, v in where.items():
        mask &= df[k].to_numpy() == v
    return df[mask]


def _methods(study: Mapping[str, Any]) -> list[str]:
    return [m for m in METHODS if m in study["methods"]]


def _lr_label(method: str, lr: float, chosen: Mapping[str, float], grid: bool) -> str:
    if not grid:
        return "–"
    return f"{lr:g}" + (" (chosen)" if math.isclose(lr, chosen.get(method, math.nan)) else "")


def main_table(df: pd.DataFrame, study: Mapping[str, Any]) -> pd.DataFrame:
    """Every method per source setting; a meta method once per meta learning rate of a grid."""
    targets, src, size = study["targets"], study["source"], study["source_size"]
    main = placement_label(study["layers"])
    grid = len(study.get("meta_lrs") or ()) > 1
    chosen = chosen_meta_lrs(df, study)
    rows = []
    if "target-only" in study["methods"]:
        rows.append(_row(_select(df, method="target-only"), targets, {"source": "–", "method": NAMES["target-only"], "β": "–"}))  # fmt: skip
    settings = [(src, lambda t: src)] + ([("related", lambda t: study["related"].get(t))] if study["related"] else [])  # fmt: skip
    for name, lang_of in settings:
        for m in [m for m in _methods(study) if m != "target-only"]:
            lrs = sorted(df[df["method"] == m]["meta_lr"].dropna().unique(), reverse=True) if m in META_METHODS else [math.nan]  # fmt: skip
            for lr in lrs:
                parts = []
                for t in targets:
                    lang = lang_of(t)
                    if lang is None:
                        continue
                    sub = _select(df, method=m, target=t, source=lang, size=size)
                    sub = sub[sub["layers"] == main] if m in RTN_METHODS else sub
                    parts.append(sub if math.isnan(lr) else sub[np.isclose(sub["meta_lr"], lr)])
                sub = pd.concat(parts) if parts else df.iloc[:0]
                label = "–" if math.isnan(lr) else _lr_label(m, lr, chosen, grid)
                rows.append(_row(sub, targets, {"source": name, "method": NAMES[m], "β": label}))
    return pd.DataFrame(rows)


def _paired(x: pd.DataFrame, ref: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``x`` and ``ref`` matched on (target, seed): columns target, seed, x, ref, d."""
    a = x.set_index(["target", "seed"])["test"]
    b = ref.set_index(["target", "seed"])["test"]
    both = a.index.intersection(b.index)
    out = pd.DataFrame({"x": a[both], "ref": b[both]}).reset_index()
    out["d"] = out["x"] - out["ref"]
    return out


def paired_test(d: Sequence[float]) -> float:
    """Two-sided paired t-test p-value of differences ``d`` (``scipy.stats.ttest_1samp`` on
    the differences, i.e. ``ttest_rel``); NaN for fewer than 2 pairs or no spread."""
    from scipy import stats

    d = np.asarray(d, dtype=float)
    if len(d) < 2 or float(np.ptp(d)) == 0.0:
        return math.nan
    return float(stats.ttest_1samp(d, 0.0).pvalue)


def delta_table(df: pd.DataFrame, study: Mapping[str, Any]) -> pd.DataFrame:
    """Each method of the main setting minus JT, paired by (target, seed). A meta method at its
    chosen β first, then (with a grid) at every β."""
    targets = study["targets"]
    main = _main(df, study)
    jt = _select(main, method="jt")
    grid = len(study.get("meta_lrs") or ()) > 1
    chosen = chosen_meta_lrs(df, study)
    rows = []
    for m in [m for m in _methods(study) if m != "jt"]:
        sub = _select(main, method=m)
        lrs = [chosen[m]] + (sorted(set(sub["meta_lr"]) - {chosen[m]}, reverse=True) if grid else []) if m in chosen else [math.nan]  # fmt: skip
        for lr in lrs:
            x = sub if math.isnan(lr) else sub[np.isclose(sub["meta_lr"], lr)]
            p = _paired(x, jt)
            row: dict[str, Any] = {"method": NAMES[m], "β": "–" if math.isnan(lr) else _lr_label(m, lr, chosen, grid)}  # fmt: skip
            for t in targets:
                d = p[p["target"] == t]["d"]
                row[t], row[f"{t}_sd"] = (d.mean() if len(d) else np.nan), (d.std(ddof=1) if len(d) > 1 else np.nan)  # fmt: skip
            per_seed = p.groupby("seed")["d"].mean()
            row["avg"], row["avg_sd"] = (per_seed.mean() if len(per_seed) else np.nan), (per_seed.std(ddof=1) if len(per_seed) > 1 else np.nan)  # fmt: skip
            row["pairs"] = len(p)
            row["p"] = paired_test(p["d"])
            row["wins"], row["losses"] = int((p["d"] > 0).sum()), int((p["d"] < 0).sum())
            row["phi_change"] = float(x["phi_change"].mean()) if m in RTN_METHODS and len(x) else np.nan  # fmt: skip
            row["phi0_norm"] = float(x["phi0_norm"].mean()) if m in RTN_METHODS and len(x) else np.nan  # fmt: skip
            rows.append(row)
    return pd.DataFrame(rows)


def size_table(df: pd.DataFrame, study: Mapping[str, Any]) -> pd.DataFrame:
    targets, src, main = study["targets"], study["source"], placement_label(study["layers"])
    df = selected(df, study)
    rows = []
    for size in study["source_sizes"]:
        for m in [m for m in ("jt", *META_METHODS) if m in study["methods"]]:
            sub = _select(df, method=m, source=src, size=size)
            sub = sub if m == "jt" else sub[sub["layers"] == main]
            rows.append(_row(sub, targets, {"source examples": size, "method": NAMES[m]}))
    return pd.DataFrame(rows)


def layers_table(df: pd.DataFrame, study: Mapping[str, Any]) -> pd.DataFrame:
    targets, src, size = study["targets"], study["source"], study["source_size"]
    df = selected(df, study)
    rows = [_row(_select(df, method="jt", source=src, size=size), targets, {"RTN after layer": "–", "method": "JT"})]  # fmt: skip
    for layers in study["placements"]:
        for m in ["jt-rtn", *[m for m in META_METHODS if m in study["methods"]]]:
            sub = _select(df, method=m, source=src, size=size, layers=placement_label(layers))
            rows.append(_row(sub, targets, {"RTN after layer": placement_label(layers), "method": NAMES[m]}))  # fmt: skip
    return pd.DataFrame(rows)


def _compared(study: Mapping[str, Any]) -> list[str]:
    """JT and the meta methods of the study: the Hausdorff table's and the PCA figure's arms."""
    return [m for m in ("jt", *META_METHODS) if m in study["methods"]]


def hausdorff_table(df: pd.DataFrame, study: Mapping[str, Any]) -> pd.DataFrame:
    main = selected(_main(df, study), study)
    rows = []
    for t in study["targets"]:
        row: dict[str, Any] = {"target": t}
        for m in _compared(study):
            sub = _select(main, method=m, target=t)
            row[f"hausdorff_{m}"] = sub["hausdorff"].mean()
            row[f"hausdorff_{m}_sd"] = sub["hausdorff"].std(ddof=1) if len(sub) > 1 else np.nan
            row[f"score_{m}"] = sub["test"].mean()
            row[f"seeds_{m}"] = int(sub["seed"].nunique())
        rows.append(row)
    return pd.DataFrame(rows)


def _pm(mean: float, sd: float, digits: int = 1) -> str:
    return fmt(mean, digits) if sd is None or np.isnan(sd) else f"{mean:.{digits}f} ± {sd:.{digits}f}"  # fmt: skip


def _markdown(df: pd.DataFrame, label_cols: Sequence[str], targets: Sequence[str], title: str, notes: str, extra: Mapping[str, Any] | None = None) -> str:  # fmt: skip
    view = df[list(label_cols)].astype(str).copy()
    for t in [*targets, "avg"]:
        view[t] = [_pm(m, s) for m, s in zip(df[t], df[f"{t}_sd"], strict=True)]
    for name, values in (extra or {}).items():
        view[name] = values
    return to_markdown(view, title, notes)


def _write(df: pd.DataFrame, csv: str, md: str, text: str) -> None:
    with atomic_open(csv) as fh:
        df.to_csv(fh, index=False, float_format="%.4f")
    write_markdown(md, text)


def pca_figure(df: pd.DataFrame, study: Mapping[str, Any], path: str | Path) -> None:
    """Rows = targets, columns = JT and the meta methods (first seed, main setting): source and
    target dev representations projected on the two leading components of that model's
    vectors."""
    plt = pyplot()
    targets, src = study["targets"], study["source"]
    arms = _compared(study)
    main = selected(_main(df, study), study)
    fig, axes = plt.subplots(len(targets), len(arms), figsize=(3.6 * len(arms), 3.2 * len(targets)), dpi=110, squeeze=False)  # fmt: skip
    for r, t in enumerate(targets):
        for c, m in enumerate(arms):
            sub = _select(main, method=m, target=t)
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
            ax.set_title(f"{NAMES[m]}: {src}–{t} (H = {first['hausdorff']:.3f}, seed {first['seed']})", fontsize=8)  # fmt: skip
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
    patience = study.get("patience")
    stop = f", stopping once dev has not risen for {patience} epochs" if patience else ""
    common = (
        f"Target test {metric} of models trained on {study['n']} target examples (few-shot), "
        f"mean ± sd over {seeds} seeds; avg = mean over targets per seed. Each model is the epoch "
        f"with the best target dev score (dev scored after every epoch, at most "
        f"{study.get('epochs', '?')}{stop})."
    )
    chosen = chosen_meta_lrs(df, study)
    grid = len(study.get("meta_lrs") or ()) > 1
    beta = (
        "; β: the meta learning rate, the one with the best mean target dev score marked "
        f"(grid {study['meta_lrs']})"
        if grid
        else f"; meta learning rate {study['meta_lrs'][0]:g}"
    )
    related = ", ".join(f"{t}←{s}" for t, s in study["related"].items())
    main = main_table(df, study)
    notes = (
        f"{common} JT: one source and one target batch per step, loss (L_s + L_t)/2 (the paper's "
        "baseline); JT (concatenated): source ∪ target as one training set; RTN "
        f"({study.get('rtn', 'residual')}) after layer {placement_label(study['layers'])}; "
        "MetaXL (Algorithm 1): the encoder trains on the transformed source only; MetaXL (joint): "
        "JT's schedule plus the RTN and the meta step (the authors' code); φ frozen: the same "
        f"with the meta step off{beta}. {study['source_size']} source examples of "
        f"{study['source']}" + (f"; related: {related}." if related else ".")
    )
    _write(main, out["metaxl_csv"], out["metaxl_md"], _markdown(main, ["source", "method", "β"], targets, f"MetaXL: {task}", notes))  # fmt: skip
    delta = delta_table(df, study)
    note = (
        f"Target test {metric} of each method minus JT's, paired by (target, seed), main "
        "setting: mean ± sd over seeds per target; avg = mean over seeds of the per-seed mean "
        "over targets; p: two-sided paired t-test over all pairs; wins/losses: pairs above / "
        "below JT; ‖φ−φ₀‖: Frobenius norm of the RTN's change, mean over runs (‖φ₀‖ beside it)."
    )
    extra = {
        "pairs": [str(v) for v in delta.get("pairs", [])],
        "p": [fmt(v, 3) for v in delta.get("p", [])],
        "wins/losses": [
            f"{w}/{lo}"
            for w, lo in zip(delta.get("wins", []), delta.get("losses", []), strict=True)
        ],  # fmt: skip
        "‖φ−φ₀‖ (‖φ₀‖)": [
            f"{fmt(c, 4)} ({fmt(z, 2)})"
            for c, z in zip(delta.get("phi_change", []), delta.get("phi0_norm", []), strict=True)
        ],  # fmt: skip
    }
    text = _markdown(delta, ["method", "β"], targets, f"MetaXL, paired differences from JT: {task}", note, extra) if len(delta) else to_markdown(delta, f"MetaXL, paired differences from JT: {task}", note)  # fmt: skip
    _write(delta, out["metaxl_delta_csv"], out["metaxl_delta_md"], text)
    sel = f" Meta methods at their chosen β ({', '.join(f'{NAMES[m]} {v:g}' for m, v in chosen.items())})." if grid else ""  # fmt: skip
    if "metaxl_source_size" in study["tables"]:
        t4 = size_table(df, study)
        note = f"{common} Source {study['source']}; RTN after layer {placement_label(study['layers'])}.{sel}"  # fmt: skip
        _write(t4, out["metaxl_source_size_csv"], out["metaxl_source_size_md"], _markdown(t4, ["source examples", "method"], targets, f"MetaXL, source size: {task}", note))  # fmt: skip
    if "metaxl_layers" in study["tables"]:
        t5 = layers_table(df, study)
        note = f"{common} {study['source_size']} {study['source']} source examples; layer 0 = embeddings output.{sel}"  # fmt: skip
        _write(t5, out["metaxl_layers_csv"], out["metaxl_layers_md"], _markdown(t5, ["RTN after layer", "method"], targets, f"MetaXL, RTN placement: {task}", note))  # fmt: skip
    h = hausdorff_table(df, study)
    view = pd.DataFrame({"target": h["target"]})
    for m in _compared(study):
        view[f"Hausdorff {NAMES[m]}"] = [_pm(a, b, 3) for a, b in zip(h[f"hausdorff_{m}"], h[f"hausdorff_{m}_sd"], strict=True)]  # fmt: skip
    for m in _compared(study):
        view[f"{metric} {NAMES[m]}"] = [fmt(v) for v in h[f"score_{m}"]]
    note = (
        f"Hausdorff distance (d = 1 − cos) between {study['source']} and target dev representations "
        "(last layer; token vectors for token tasks, sentence vectors otherwise; at most "
        "metaxl.represent per language), mean ± sd over seeds. The meta methods' source vectors "
        f"pass through their RTNs (the paper's §4.5 analysis). Main setting.{sel}"
    )
    _write(h, out["metaxl_hausdorff_csv"], out["metaxl_hausdorff_md"], to_markdown(view, f"MetaXL representation shift: {task}", note))  # fmt: skip
    pca_figure(df, study, out["pca"])
