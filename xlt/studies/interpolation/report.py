"""Tables and figures of the interpolation study (seed 002, Figs. 2–5) from the per-(pair, seed)
documents that :func:`xlt.studies.interpolation.interpolation.run_interpolation` writes.

Normalisation follows the paper: every score is divided by the bilingual model's (θ_bi's) score
of the same seed on the same set, so 1.0 means "as good as θ_bi". Means come with 95% confidence
intervals over seeds (Student t); the *normalised variance* (Fig. 5) is the variance over seeds
of these normalised scores.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xlt.figures import caution, legend_outside, pyplot, save, too_few
from xlt.io import atomic_open, read_output_json
from xlt.metrics import METRIC_NAMES
from xlt.tables import fmt, to_markdown, write_markdown

COLUMNS_1D = ["pair", "seed", "direction", "alpha", "split", "lang", "role", "score", "normalised"]
COLUMNS_GEOMETRY = ["pair", "seed", "norm_src", "norm_tgt", "ratio", "angle"]
SUMMARY_ALPHAS = (0.0, 0.5, 1.0)


def load_docs(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """The per-(pair, seed) documents; a truncated or corrupt one names itself and the fix."""
    return [read_output_json(p) for p in paths]


def frame(docs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Every scored point of every document, with pair, role and the normalised score."""
    parts = []
    for doc in docs:
        df = pd.DataFrame(doc["rows"])
        df["pair"] = f"{doc['source']}-{doc['target']}"
        df["seed"] = int(doc["seed"])
        df["role"] = np.where(df["lang"] == doc["source"], "source", "target")
        bi = df.apply(lambda r, b=doc["bilingual"]: b[f"{r['lang']}/{r['split']}"], axis=1)
        df["normalised"] = df["score"] / bi.replace(0, np.nan)
        parts.append(df)
    return pd.concat(parts, ignore_index=True)


def table_1d(df: pd.DataFrame) -> pd.DataFrame:
    """The 1-D paths: direction ``src`` is α θ_bi + (1−α) θ_src, ``tgt`` the same with θ_tgt."""
    out = df[df["path"].isin(["src", "tgt"])].rename(columns={"path": "direction"})
    out = out.sort_values(["pair", "seed", "direction", "split", "role", "alpha"], kind="stable")
    return out[COLUMNS_1D].reset_index(drop=True)


def ci95(values: Sequence[float]) -> tuple[float, float]:
    """Mean and half-width of the 95% Student-t confidence interval (nan width for one value)."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return float("nan"), float("nan")
    if len(x) < 2:
        return float(x.mean()), float("nan")
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return float(x.mean()), float(half)


def aggregate(t1: pd.DataFrame) -> pd.DataFrame:
    """Mean, 95% CI half-width and variance over seeds of the normalised score per point."""
    rows = []
    keys = ["pair", "direction", "split", "role", "lang", "alpha"]
    for key, sub in t1.groupby(keys, sort=True):
        mean, half = ci95(sub["normalised"].to_numpy())
        var = sub["normalised"].var(ddof=1) if len(sub) > 1 else np.nan
        rows.append({**dict(zip(keys, key, strict=True)), "mean": mean, "ci95": half,
                     "variance": var, "seeds": len(sub)})  # fmt: skip
    return pd.DataFrame(rows)


def summary_1d(t1: pd.DataFrame, alphas: Sequence[float] = SUMMARY_ALPHAS) -> pd.DataFrame:
    """Normalised dev score (mean ± 95% CI over seeds) at a few α, per pair, direction, role."""
    agg = aggregate(t1[t1["split"] == "dev"])
    agg = agg[np.isclose(agg["alpha"].to_numpy()[:, None], np.array(alphas)[None]).any(1)]
    rows = []
    for (pair, direction, role), sub in agg.groupby(["pair", "direction", "role"], sort=True):
        row = {"pair": pair, "direction": direction, "dev set": role}
        for a in alphas:
            hit = sub[np.isclose(sub["alpha"], a)]
            m, h = (hit["mean"].iloc[0], hit["ci95"].iloc[0]) if len(hit) else (np.nan, np.nan)
            row[f"α={a:g}"] = f"{m:.3f} ± {h:.3f}" if not np.isnan(h) else fmt(m, 3)
        rows.append(row)
    return pd.DataFrame(rows)


def table_geometry(docs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    rows = [
        {
            "pair": f"{d['source']}-{d['target']}",
            "seed": int(d["seed"]),
            **{k: d["geometry"][k] for k in ("norm_src", "norm_tgt", "ratio", "angle")},
        }  # fmt: skip
        for d in docs
    ]
    return pd.DataFrame(rows, columns=COLUMNS_GEOMETRY).sort_values(["pair", "seed"], ignore_index=True)  # fmt: skip


def _write_csv(df: pd.DataFrame, path: str | Path) -> None:
    with atomic_open(path) as fh:
        df.to_csv(fh, index=False, float_format="%.4f")


def write_tables(docs: Sequence[Mapping[str, Any]], task: str, out: Mapping[str, str]) -> None:
    """``out``: csv_1d, md_1d, csv_geometry, md_geometry."""
    t1 = table_1d(frame(docs))
    _write_csv(t1, out["csv_1d"])
    metric = METRIC_NAMES[docs[0]["kind"]]
    notes = (
        f"Dev {metric} of α θ_bi + (1−α) θ_src (direction src) and α θ_bi + (1−α) θ_tgt (direction "
        "tgt), divided by θ_bi's score of the same seed on the same set; mean ± 95% CI over "
        f"{t1['seed'].nunique()} seeds. α = 0 is the monolingual endpoint, α = 1 the bilingual "
        "model. Every α of the grid is in the CSV (with test scores where configured)."
    )
    write_markdown(out["md_1d"], to_markdown(summary_1d(t1), f"Interpolation (1-D): {task}", notes))
    geo = table_geometry(docs)
    _write_csv(geo, out["csv_geometry"])
    mean = geo.groupby("pair")[["norm_src", "norm_tgt", "ratio", "angle"]].mean().reset_index()
    view = pd.concat([geo.assign(seed=geo["seed"].astype(str)), mean.assign(seed="mean")])
    for col, digits in (("norm_src", 3), ("norm_tgt", 3), ("ratio", 3), ("angle", 1)):
        view[col] = [fmt(v, digits) for v in view[col]]
    notes = (
        "‖δ_src‖ and ‖δ_tgt‖ (δ = endpoint − θ_bi over all trainable parameters), their ratio and "
        "the angle between them in degrees (paper: similar norms, about 55°)."
    )
    write_markdown(out["md_geometry"], to_markdown(view[COLUMNS_GEOMETRY].reset_index(drop=True),
                                               f"Interpolation geometry: {task}", notes))  # fmt: skip


# --- figures ---------------------------------------------------------------------------------

LINES = {  # (direction, role) -> colour, label (Fig. 2's colours)
    ("src", "source"): ("tab:red", "src↔bi, source dev"),
    ("src", "target"): ("tab:gray", "src↔bi, target dev"),
    ("tgt", "source"): ("tab:purple", "tgt↔bi, source dev"),
    ("tgt", "target"): ("tab:blue", "tgt↔bi, target dev"),
}


MIN_SEEDS = 3  # below this, a confidence band or a variance over seeds says little


def _few_seeds(fig, agg: pd.DataFrame, what: str) -> None:
    """The caution on a figure whose bands or variances rest on fewer than MIN_SEEDS seeds."""
    note = too_few(int(agg["seeds"].min()) if len(agg) else 0, MIN_SEEDS, "seed(s) per point", what)
    if note:
        caution(fig, note)


def _panels(n: int, width: float = 3.6, height: float = 3.0):
    plt = pyplot()
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), dpi=110, squeeze=False)
    return fig, axes[0]


def figure_1d(docs: Sequence[Mapping[str, Any]], task: str, path: str | Path) -> None:
    """Fig. 2 style: normalised dev score vs α with 95% CI bands, both directions, per pair."""
    agg = aggregate(table_1d(frame(docs)).query("split == 'dev'"))
    pairs = sorted(agg["pair"].unique())
    fig, axes = _panels(len(pairs))
    for ax, pair in zip(axes, pairs, strict=True):
        for (direction, role), (colour, label) in LINES.items():
            sub = agg[(agg["pair"] == pair) & (agg["direction"] == direction) & (agg["role"] == role)]  # fmt: skip
            x, y, h = sub["alpha"], sub["mean"], sub["ci95"].fillna(0)
            ax.plot(x, y, color=colour, label=label, lw=1.3)
            ax.fill_between(x, y - h, y + h, color=colour, alpha=0.2, lw=0)
        ax.axvline(0, color="0.7", lw=0.6, ls=":")
        ax.axvline(1, color="0.7", lw=0.6, ls=":")
        ax.set_title(f"{task}: {pair}")
        ax.set_xlabel("α  (0 = monolingual, 1 = bilingual)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("score / θ_bi score (dev)")
    legend_outside(fig, axes)
    _few_seeds(fig, agg, "a 95% confidence band over so few seeds says little")
    save(fig, path)


def figure_variance(docs: Sequence[Mapping[str, Any]], task: str, path: str | Path) -> None:
    """Fig. 5 style: variance over seeds of the normalised dev score along α."""
    agg = aggregate(table_1d(frame(docs)).query("split == 'dev'"))
    pairs = sorted(agg["pair"].unique())
    fig, axes = _panels(len(pairs))
    for ax, pair in zip(axes, pairs, strict=True):
        for (direction, role), (colour, label) in LINES.items():
            sub = agg[(agg["pair"] == pair) & (agg["direction"] == direction) & (agg["role"] == role)]  # fmt: skip
            ax.plot(sub["alpha"], sub["variance"], color=colour, label=label, lw=1.3)
        ax.set_title(f"{task}: {pair}")
        ax.set_xlabel("α  (0 = monolingual, 1 = bilingual)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("variance of normalised dev score")
    legend_outside(fig, axes)
    _few_seeds(fig, agg, "a variance over so few seeds says little")
    save(fig, path)


def figure_2d(docs: Sequence[Mapping[str, Any]], task: str, path: str | Path) -> None:
    """Fig. 3 style: mean normalised dev score on the plane θ_bi + α₁ δ_src + α₂ δ_tgt, per pair
    (rows) on the source and the target dev set (columns)."""
    plt = pyplot()
    df = frame(docs)
    df = df[(df["path"] == "2d") & (df["split"] == "dev")]
    pairs = sorted(df["pair"].unique())
    fig, axes = plt.subplots(len(pairs), 2, figsize=(8, 3.4 * len(pairs)), dpi=110, squeeze=False)
    for row, pair in zip(axes, pairs, strict=True):
        for ax, role in zip(row, ("source", "target"), strict=True):
            sub = df[(df["pair"] == pair) & (df["role"] == role)]
            grid = sub.groupby(["a2", "a1"])["normalised"].mean().unstack()
            mesh = ax.pcolormesh(grid.columns, grid.index, grid.to_numpy(), shading="nearest",
                                 cmap="viridis", vmin=0, vmax=max(1.0, np.nanmax(grid.to_numpy())))  # fmt: skip
            fig.colorbar(mesh, ax=ax, fraction=0.046)
            for (x, y), name in (((0, 0), "θ_bi"), ((1, 0), "θ_src"), ((0, 1), "θ_tgt")):
                ax.plot(x, y, "o", color="white", mec="black", ms=5)
                ax.annotate(name, (x, y), xytext=(4, 4), textcoords="offset points", color="white", fontsize=8)  # fmt: skip
            ax.set_title(f"{pair}: {role} dev")
            ax.set_xlabel("α₁ (δ_src)")
            ax.set_ylabel("α₂ (δ_tgt)")
    save(fig, path)


def figure_geometry(docs: Sequence[Mapping[str, Any]], task: str, path: str | Path) -> None:
    """Fig. 4 style: ‖δ_src‖/‖δ_tgt‖ against the angle between δ_src and δ_tgt, one dot per
    pair and seed."""
    geo = table_geometry(docs)
    fig, axes = _panels(1, 4.6, 3.4)
    ax = axes[0]
    for pair, sub in geo.groupby("pair"):
        ax.scatter(sub["ratio"], sub["angle"], label=pair, s=25)
    ax.axhline(55, color="0.6", ls=":", lw=0.8, label="paper: ~55°")
    ax.axvline(1, color="0.6", ls="--", lw=0.8)
    ax.set_xlabel("‖δ_src‖ / ‖δ_tgt‖")
    ax.set_ylabel("angle between δ_src and δ_tgt (°)")
    ax.set_title(f"{task}: geometry of the endpoints")
    legend_outside(fig, [ax])
    ax.grid(alpha=0.3)
    save(fig, path)


FIGURES = {
    "fig_1d": figure_1d,
    "fig_2d": figure_2d,
    "fig_geometry": figure_geometry,
    "fig_variance": figure_variance,
}


def write_figures(docs: Sequence[Mapping[str, Any]], task: str, out: Mapping[str, str]) -> None:
    """``out`` maps figure names of :data:`FIGURES` to PNG paths (fig_2d only with a plane)."""
    for name, path in out.items():
        FIGURES[name](docs, task, path)
