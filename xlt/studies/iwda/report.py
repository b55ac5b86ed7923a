"""IWDA tables and figure (seed 004, methods.md §5) from the analysis documents of the IWDA jobs.

Reads only what the jobs wrote (``results/iwda/{task}/{target}/seed{seed}.json``); no model is
loaded. Scores are the target's *test* score (F1 for NER, accuracy otherwise; in %), mean ± sd over
seeds; "avg" averages the targets per seed first.

- ``iwda_{task}`` (the paper's Tables 1–3): one row per method (zero-shot, self-training,
  alignment without importance weights, IWDA, IWDA + KD, IWDA + ST, IWDA with the true prior,
  the supervised upper bound), one column per target and the average, plus the relative decrease
  of the conditional feature shift against the zero-shot model (mean over targets and seeds);
- ``iwda_shift_{task}``: per target, the true class-prior shift (total variation), the error of
  the estimated importance weights before and after stage 2 against the true ratio (and of w ≡ 1),
  and the fitted lines of the zero-shot model's macro-F1 (and accuracy) over units against prior
  shift and conditional feature shift over target subsets re-sampled to random class priors (the
  paper's §2 and Figs. 1–2);
- ``iwda_shift_{task}.png``: those subsets, macro-F1 against either shift, with the fitted lines;
- with ``iwda.levels`` (the prior-shift protocol of §4.2): ``iwda_levels_{task}`` (per target and
  level of controlled prior shift, every method's test macro-F1 and accuracy under the level's
  prior, mean ± sd over seeds, the gap IWDA − alignment, and the ℓ1 error of IWDA's weights at
  the start and end of stage 2 against w ≡ 1's) and ``iwda_levels_{task}.png`` (the gap against
  the prior shift, per target, with its seed spread; every adapted method against zero-shot).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xlt.figures import caution, legend_outside, pyplot, save, too_few
from xlt.io import atomic_open, read_output_json
from xlt.metrics import MAIN_METRIC, METRIC_NAMES
from xlt.tables import fmt, to_markdown, write_markdown

ORDER = ("zero-shot", "st", "align", "iwda", "iwda-kd", "iwda-st", "oracle", "supervised")
NAMES = {"zero-shot": "Zero-shot", "st": "ST", "align": "Alignment (w ≡ 1)", "iwda": "IWDA",
         "iwda-kd": "IWDA + KD", "iwda-st": "IWDA + ST", "oracle": "IWDA (oracle prior)",
         "supervised": "Supervised (upper bound)"}  # fmt: skip
RESOURCES = {"supervised": "labelled target train", "zero-shot": "none"}


def load_docs(paths: Sequence[str | Path]) -> list[dict[str, Any]]:
    """The per-(target, seed) analysis documents; a truncated or corrupt one names itself and
    the fix."""
    return [read_output_json(p) for p in paths]


def _metric(doc: Mapping[str, Any]) -> str:
    return MAIN_METRIC[doc["kind"]]


def pm(mean: float, sd: float) -> str:
    return fmt(mean) if sd is None or np.isnan(sd) else f"{mean:.1f} ± {sd:.1f}"


def scores(docs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per (variant, target, seed): target test and dev score, and feature shift."""
    rows = []
    for d in docs:
        metric, tgt = _metric(d), d["target"]
        for variant, sc in d["scores"].items():
            rows.append({
                "method": variant, "target": tgt, "seed": int(d["seed"]),
                "test": sc[tgt]["test"][metric], "dev": sc[tgt]["dev"][metric],
                "feature_shift": d["feature_shift"].get(variant, np.nan),
                "feature_shift_zero_shot": d["feature_shift"]["zero-shot"],
            })  # fmt: skip
    return pd.DataFrame(rows)


def main_table(df: pd.DataFrame, targets: Sequence[str]) -> pd.DataFrame:
    rows = []
    for method in [m for m in ORDER if m in set(df["method"])]:
        g = df[df["method"] == method]
        row: dict[str, Any] = {"method": NAMES[method]}
        for t in targets:
            v = g[g["target"] == t]["test"]
            row[t], row[f"{t}_sd"] = v.mean(), (v.std(ddof=1) if len(v) > 1 else np.nan)
        per_seed = g.groupby("seed")["test"].mean()
        row["avg"], row["avg_sd"] = per_seed.mean(), (per_seed.std(ddof=1) if len(per_seed) > 1 else np.nan)  # fmt: skip
        rel = 100 * (1 - g["feature_shift"] / g["feature_shift_zero_shot"])
        row["feature_shift_decrease_pct"] = rel.mean() if method != "zero-shot" else 0.0
        row["seeds"] = int(g["seed"].nunique())
        rows.append(row)
    return pd.DataFrame(rows)


def shift_table(docs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    rows = []
    for tgt in sorted({d["target"] for d in docs}):
        ds = [d for d in docs if d["target"] == tgt]
        true = [np.asarray(d["true_weights"]) for d in ds]

        def err(key: str, variant: str = "iwda", ds=ds, true=true) -> float:
            vals = [np.abs(np.asarray(d["label_shift"][variant][key]) - w).sum() for d, w in zip(ds, true, strict=True) if variant in d["label_shift"]]  # fmt: skip
            return float(np.mean(vals)) if vals else np.nan

        def fits(metric: str, shift: str, ds=ds) -> list[dict]:
            return [d["shift_study"]["fit"][metric][shift] for d in ds]

        rows.append({
            "target": tgt,
            "prior_shift": float(np.mean([d["prior_shift"] for d in ds])),
            "w_error_uniform": float(np.mean([np.abs(w - 1).sum() for w in true])),
            "w_error_init": err("w_init"),
            "w_error_final": err("w_final"),
            **{
                f"{stat}_{shift}{suffix}": float(agg([f[key] for f in fits(metric, shift)]))
                for metric, suffix in (("macro_f1", ""), ("accuracy", "_acc"))
                for shift in ("prior_shift", "feature_shift")
                for stat, key, agg in (("slope", "slope", np.mean), ("r", "pearson_r", np.nanmean))
            },
            "subsets": int(sum(f["n"] for f in fits("macro_f1", "prior_shift"))),
            "seeds": len(ds),
        })  # fmt: skip
    return pd.DataFrame(rows)


def _write_csv(df: pd.DataFrame, path: str | Path) -> None:
    with atomic_open(path) as fh:
        df.to_csv(fh, index=False)


def write_outputs(paths: Sequence[str | Path], task: str, out: Mapping[str, str]) -> None:
    """``out``: iwda_csv, iwda_md, iwda_shift_csv, iwda_shift_md, figure."""
    docs = load_docs(paths)
    targets = list(dict.fromkeys(d["target"] for d in docs))
    metric = METRIC_NAMES[docs[0]["kind"]]
    df = scores(docs)
    main = main_table(df, targets)
    _write_csv(main, out["iwda_csv"])
    view = pd.DataFrame({
        "method": main["method"],
        **{t: [pm(m, s) for m, s in zip(main[t], main[f"{t}_sd"], strict=True)] for t in [*targets, "avg"]},
        "feature shift ↓ %": [fmt(v, 1) for v in main["feature_shift_decrease_pct"]],
    })  # fmt: skip
    n_seeds = int(df["seed"].nunique())
    notes = (
        f"Target test {metric}, mean ± sd over {n_seeds} seeds; avg = mean over targets per seed. "
        "Every model but the supervised one saw only labelled source data and the text of the "
        f"target's unlabelled split ({docs[0].get('units')} as units). Feature shift ↓ %: relative "
        "decrease of the conditional feature shift (mean ℓ1 distance of per-class feature means, "
        "source dev vs target dev + test) against the zero-shot model of the same seed."
    )
    write_markdown(out["iwda_md"], to_markdown(view, f"IWDA: {task}", notes))
    sh = shift_table(docs)
    _write_csv(sh, out["iwda_shift_csv"])
    view = sh.copy()
    for col in view.columns:
        if view[col].dtype.kind == "f":
            view[col] = [fmt(v, 3) for v in view[col]]
    notes = (
        "prior_shift: total variation between the source and the true target class prior. "
        "w_error_*: ℓ1 distance of importance weights to the true ratio p_T/p_S (uniform: w ≡ 1, "
        "the alignment baseline; init: the QP estimate after shrinkage; final: after stage 2). "
        "slope / r: fitted line and Pearson r of the zero-shot model's macro-F1 over units (_acc: "
        f"accuracy) against prior shift and conditional feature shift over {int(sh['subsets'].sum())} "
        "target subsets re-sampled to random class priors (all seeds)."
    )
    write_markdown(out["iwda_shift_md"], to_markdown(view, f"IWDA shift analysis: {task}", notes))
    figure(docs, task, out["figure"])
    if any("levels" in d for d in docs):
        levels = level_scores(docs)
        table = levels_table(levels, docs)
        _write_csv(table, out["iwda_levels_csv"])
        write_markdown(out["iwda_levels_md"], levels_markdown(table, docs, task))
        levels_figure(levels, task, out["levels_figure"])


MIN_SUBSETS = 10  # below this, a fitted line over one target's re-sampled subsets says little


def figure(docs: Sequence[Mapping[str, Any]], task: str, path: str | Path) -> None:
    """Zero-shot score of the re-sampled target subsets against their prior shift (left) and
    conditional feature shift (right), one colour per target with its fitted line; the legend
    outside the panels, and a caution when a target has fewer than :data:`MIN_SUBSETS` subsets."""
    plt = pyplot()
    fewest = len(docs) and min(
        sum(len(d["shift_study"]["subsets"]) for d in docs if d["target"] == t)
        for t in {d["target"] for d in docs}
    )
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    targets = list(dict.fromkeys(d["target"] for d in docs))
    metric = "macro_f1"
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, key, label in ((axes[0], "prior_shift", "class-prior shift (TV)"),
                           (axes[1], "feature_shift", "conditional feature shift (ℓ1)")):  # fmt: skip
        for i, tgt in enumerate(targets):
            xs, ys = [], []
            for d in docs:
                if d["target"] == tgt:
                    xs += [s[key] for s in d["shift_study"]["subsets"]]
                    ys += [s[metric] for s in d["shift_study"]["subsets"]]
            c = colours[i % len(colours)]
            ax.scatter(xs, ys, s=8, alpha=0.5, color=c, label=tgt)
            if len(set(xs)) > 1:
                slope, icpt = np.polyfit(xs, ys, 1)
                grid = np.linspace(min(xs), max(xs), 20)
                ax.plot(grid, slope * grid + icpt, color=c, lw=1.2)
        ax.set_xlabel(label)
        ax.set_ylabel("zero-shot unit macro-F1 (%)")
    legend_outside(fig, axes, title="target", title_fontsize=7)
    fig.suptitle(f"{task}: zero-shot performance against label and feature shift", fontsize=9)
    note = too_few(fewest, MIN_SUBSETS, "re-sampled subsets for a target",
                   "a line fitted to so few points says little")  # fmt: skip
    if note:
        caution(fig, note)
    save(fig, path, dpi=120)


# --------------------------------------------------------------------- the prior-shift levels

LEVEL_METHODS = ("zero-shot", "st", "align", "iwda", "iwda-kd", "iwda-st", "oracle", "supervised")


def level_scores(docs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per (target, level, seed, method): macro-F1 and accuracy under the level's prior,
    the level's measured prior shift, and (IWDA) the ℓ1 errors of its weights."""
    rows = []
    for d in docs:
        for lv in d.get("levels", []):
            for method, sc in lv["scores"].items():
                ls = lv["label_shift"].get(method, {})
                rows.append({
                    "target": d["target"], "tv": float(lv["tv"]), "tv_measured": lv["tv_measured"],
                    "seed": int(d["seed"]), "method": method, **sc,
                    "w_l1_uniform": ls.get("w_l1_uniform", np.nan),
                    "w_l1_init": ls.get("w_l1_init", np.nan), "w_l1_final": ls.get("w_l1_final", np.nan),
                })  # fmt: skip
    return pd.DataFrame(rows)


def _ms(values: pd.Series) -> tuple[float, float]:
    v = values.dropna()
    return float(v.mean()), (float(v.std(ddof=1)) if len(v) > 1 else np.nan)


def levels_table(df: pd.DataFrame, docs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Per target and level: every method's macro-F1 and accuracy (mean, sd over seeds), the
    gap IWDA − alignment per seed (mean, sd), and IWDA's weight errors (mean over seeds)."""
    methods = [m for m in LEVEL_METHODS if m in set(df["method"])]
    rows = []
    for (tgt, tv), g in df.groupby(["target", "tv"], sort=True):
        row: dict[str, Any] = {"target": tgt, "tv": tv, "tv_measured": float(g["tv_measured"].mean()), "seeds": int(g["seed"].nunique())}  # fmt: skip
        for m in methods:
            for metric in ("macro_f1", "accuracy"):
                row[f"{m}_{metric}"], row[f"{m}_{metric}_sd"] = _ms(g[g["method"] == m][metric])
        for a, b in (("iwda", "align"), ("iwda", "zero-shot"), ("align", "zero-shot"), ("oracle", "align")):  # fmt: skip
            if a in methods and b in methods:
                pa = g[g["method"] == a].set_index("seed")["macro_f1"]
                pb = g[g["method"] == b].set_index("seed")["macro_f1"]
                row[f"gap_{a}_minus_{b}"], row[f"gap_{a}_minus_{b}_sd"] = _ms(pa - pb)
        iw = g[g["method"] == "iwda"]
        for key in ("w_l1_uniform", "w_l1_init", "w_l1_final"):
            row[key] = float(iw[key].mean()) if len(iw) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def levels_markdown(table: pd.DataFrame, docs: Sequence[Mapping[str, Any]], task: str) -> str:
    methods = [m for m in LEVEL_METHODS if f"{m}_macro_f1" in table.columns]
    view = pd.DataFrame({
        "target": table["target"],
        "TV": [fmt(v, 2) for v in table["tv_measured"]],
        **{NAMES[m]: [pm(a, b) for a, b in zip(table[f"{m}_macro_f1"], table[f"{m}_macro_f1_sd"], strict=True)] for m in methods},
        **({"IWDA − align": [pm(a, b) for a, b in zip(table["gap_iwda_minus_align"], table["gap_iwda_minus_align_sd"], strict=True)]}
           if "gap_iwda_minus_align" in table else {}),
        "ℓ1(w): 1 / w(0) / final": [f"{fmt(a, 2)} / {fmt(b, 2)} / {fmt(c, 2)}" for a, b, c in
                                    zip(table["w_l1_uniform"], table["w_l1_init"], table["w_l1_final"], strict=True)],
    })  # fmt: skip
    lv = next(d["levels"] for d in docs if "levels" in d)
    notes = (
        f"Target test macro-F1 (%) under each level's class prior (the test split reweighted per "
        f"unit to the prior of the level's unlabelled subsample), mean ± sd over "
        f"{int(table['seeds'].max())} seeds; the CSV has accuracy too. TV: total variation of the "
        f"subsample's prior from the source prior (measured). Each level's {lv[0]['size']} "
        "unlabelled examples are a seeded subsample of the target's unlabelled split without "
        "replacement, its labels used for the draw only; every adapted model saw only their text. "
        "IWDA − align: per-seed difference. ℓ1(w): distance of w ≡ 1, of IWDA's w(0) and of its "
        "final w to the level's true weights."
    )
    return to_markdown(view, f"IWDA under controlled prior shift: {task}", notes)


def levels_figure(df: pd.DataFrame, task: str, path: str | Path) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.3))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ax = axes[0]
    for i, tgt in enumerate(sorted(set(df["target"]))):
        g = df[df["target"] == tgt]
        per_seed = g.pivot_table(index=["tv", "seed"], columns="method", values="macro_f1")
        if not {"iwda", "align"} <= set(per_seed.columns):
            continue
        gap = (per_seed["iwda"] - per_seed["align"]).reset_index(name="gap")
        c = colours[i % len(colours)]
        ax.scatter(gap["tv"], gap["gap"], s=10, alpha=0.4, color=c)
        stats = gap.groupby("tv")["gap"].agg(["mean", "std"]).reset_index()
        ax.errorbar(stats["tv"], stats["mean"], yerr=stats["std"].fillna(0), color=c, marker="o", capsize=3, label=tgt)  # fmt: skip
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("class prior shift (TV from the source prior)")
    ax.set_ylabel("IWDA − alignment, test macro-F1 (points)")
    ax.legend(fontsize=7, title="target", title_fontsize=7)
    ax = axes[1]
    base = df[df["method"] == "zero-shot"].set_index(["target", "tv", "seed"])["macro_f1"]
    for j, m in enumerate([m for m in LEVEL_METHODS if m in set(df["method"]) and m not in ("zero-shot", "supervised")]):  # fmt: skip
        d = df[df["method"] == m].set_index(["target", "tv", "seed"])["macro_f1"] - base
        stats = d.groupby("tv").agg(["mean", "std"]).reset_index()
        ax.errorbar(stats["tv"], stats["mean"], yerr=stats["std"].fillna(0), marker="o", capsize=3, color=colours[j % len(colours)], label=NAMES[m])  # fmt: skip
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("class prior shift (TV from the source prior)")
    ax.set_ylabel("method − zero-shot, macro-F1 (points)")
    fig.suptitle(f"{task}: IWDA under controlled prior shift (mean ± sd over seeds and targets)", fontsize=9)  # fmt: skip
    legend_outside(fig, axes[1:])
    save(fig, path, dpi=120)
