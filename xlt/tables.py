"""Tables (CSV + Markdown) and figures (PNG) computed from candidate pools."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .io import atomic_open, write_text
from .metrics import METRIC_NAMES


def fmt(x: float, digits: int = 1) -> str:
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{digits}f}"


def to_markdown(df: pd.DataFrame, title: str = "", notes: str = "") -> str:
    cols = [str(c) for c in df.columns]
    lines = [f"### {title}", ""] if title else []
    lines.append("| " + " | ".join(cols) + " |")
    lines.append("|" + "|".join("---" for _ in cols) + "|")
    for _, row in df.iterrows():
        cells = [fmt(v) if isinstance(v, float) else str(v) for v in row.tolist()]
        lines.append("| " + " | ".join(cells) + " |")
    if notes:
        lines += ["", notes]
    return "\n".join(lines) + "\n"


def write_table(df: pd.DataFrame, csv_path: str | Path, md_path: str | Path | None, title: str = "", notes: str = "") -> None:  # fmt: skip
    with atomic_open(csv_path) as fh:
        df.to_csv(fh, index=False, float_format="%.2f")
    if md_path is not None:
        write_text(md_path, to_markdown(df, title, notes))


def pick(table: pd.DataFrame, by_lang: str, column: str = "dev") -> str:
    """The candidate with the best ``column`` score in ``by_lang`` (ties: first in pool order)."""
    sub = table[table["lang"] == by_lang]
    return str(sub.loc[sub[column].idxmax(), "candidate"])


def zero_shot_table(table: pd.DataFrame, task: Mapping) -> pd.DataFrame:
    """Per language: test score mean ± sd over candidates, seed sd, En-Dev and All-Target picks."""
    source = task["source"]
    table = table[table["method"] == "zero-shot"]
    chosen_src = pick(table, source)
    rows = []
    for lang in [source, *task["targets"]]:
        sub = table[table["lang"] == lang].set_index("candidate")
        seed_sd = sub.groupby(["method", "hp"])["test"].std(ddof=1).mean()
        rows.append(
            {
                "lang": lang,
                "role": "source" if lang == source else "target",
                "candidates": len(sub),
                "mean": sub["test"].mean(),
                "sd": sub["test"].std(ddof=1),
                "seed_sd": seed_sd,
                "min": sub["test"].min(),
                "max": sub["test"].max(),
                "en_dev": sub.loc[chosen_src, "test"],
                "all_target": sub.loc[pick(table, lang), "test"],
                "majority": sub["majority_test"].iloc[0] if "majority_test" in sub else np.nan,
            }
        )
    df = pd.DataFrame(rows)
    df = df.rename(columns={"en_dev": f"{source}_dev"}) if source != "en" else df
    return df


def zero_shot_notes(task: Mapping) -> str:
    metric = METRIC_NAMES[task["kind"]]
    return (
        f"Test {metric} (%) of zero-shot candidates trained on {task['source']} "
        f"({task['dataset']}). mean/sd/min/max: over all candidates; seed_sd: sd over seeds within "
        "one hyper-parameter setting, averaged over settings; en_dev: the candidate with the best "
        "source dev score; all_target: the candidate with the best target dev score (oracle); "
        "majority: the source-train majority label predicted everywhere."
    )


def scores_figure(table: pd.DataFrame, task: Mapping, path: str | Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    langs = [task["source"], *task["targets"]]
    table = table[table["method"] == "zero-shot"]
    chosen_src = pick(table, task["source"])
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * len(langs), 3.6), dpi=120)
    rng = np.random.default_rng(0)
    for i, lang in enumerate(langs):
        sub = table[table["lang"] == lang].set_index("candidate")
        y = sub["test"].to_numpy()
        ax.boxplot([y], positions=[i], widths=0.5, showfliers=False, medianprops={"color": "0.3"})
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(y)), y, s=8, alpha=0.5, color="tab:blue")
        ax.scatter([i], [sub.loc[chosen_src, "test"]], marker="*", s=120, color="tab:red", zorder=5,
                   label="En-Dev" if i == 0 else None)  # fmt: skip
        ax.scatter([i], [sub.loc[pick(table, lang), "test"]], marker="^", s=60, color="tab:green",
                   zorder=5, label="All-Target (oracle)" if i == 0 else None)  # fmt: skip
        if "majority_test" in sub:
            ax.hlines(sub["majority_test"].iloc[0], i - 0.3, i + 0.3, colors="0.5", linestyles=":",
                      label="majority baseline" if i == 0 else None)  # fmt: skip
    ax.set_xticks(range(len(langs)), langs)
    ax.set_ylabel(f"test {METRIC_NAMES[task['kind']]} (%)")
    ax.set_title(f"{task['name']}: zero-shot scores of {table['candidate'].nunique()} candidates")
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png")
    plt.close(fig)


# --- translate-train (Li et al. Table 1 and Table 5 layouts) ---------------------------------

METHOD_NAMES = {
    "zero-shot": "ZERO-SHOT",
    "to": "TO",
    "bilingual": "BILINGUAL",
    "mtl": "MTL",
    "mtl-ws": "MTL-WS",
    "to-w2w": "TO (word-to-word)",
}


def _cell(table: pd.DataFrame, method: str, lang: str) -> tuple[float, float, int]:
    sub = table[(table["method"] == method) & (table["lang"] == lang)]["test"]
    return (sub.mean(), sub.std(ddof=1) if len(sub) > 1 else np.nan, len(sub))


def method_rows(table: pd.DataFrame, methods, langs, names=METHOD_NAMES) -> pd.DataFrame:
    """One row per method, mean and sd of the target test score per language (+ average).

    A per-target method (to, bilingual, to-w2w) is scored on each language by that language's
    own model (``to-de`` on de); the others by the one model.
    """
    rows = []
    for m in methods:
        row = {"method": names.get(m, m)}
        means = []
        for lang in langs:
            key = f"{m}-{lang}" if m in ("to", "to-w2w", "bilingual") else m
            mean, sd, n = _cell(table, key, lang)
            row[lang], row[f"{lang}_sd"] = mean, sd
            means.append(mean)
            row.setdefault("candidates", n)
        row["avg"] = float(np.mean(means))
        rows.append(row)
    return pd.DataFrame(rows)


def method_markdown(df: pd.DataFrame, langs, title: str, notes: str) -> str:
    view = pd.DataFrame(
        {
            "method": df["method"],
            **{
                lang: [
                    f"{m:.1f} ± {s:.1f}" if not np.isnan(s) else fmt(m)
                    for m, s in zip(df[lang], df[f"{lang}_sd"], strict=True)
                ]
                for lang in langs
            },  # fmt: skip
            "avg": df["avg"],
        }
    )
    return to_markdown(view, title, notes)


def adaptation_tables(table: pd.DataFrame, task: Mapping) -> dict[str, tuple[pd.DataFrame, str]]:
    """Translate-train tables: all methods (Table 1 layout) and, when the task has the
    word-to-word ablation, TO with word-to-word vs span-to-span projection (Table 5 layout)."""
    langs = list(task["translate_targets"])
    methods = [m for m in ("zero-shot", "to", "bilingual", "mtl", "mtl-ws") if m in task["methods"]]
    metric = METRIC_NAMES[task["kind"]]
    out = {}
    main = method_rows(table, methods, langs)
    notes = (
        f"Test {metric} (%), mean ± sd over the candidates (seeds x hyper-parameters) of each "
        f"method; TO and BILINGUAL use the model trained for each target language. Translations: "
        "the translate section of the config (engine, noise); projection: span-to-span for NER, "
        "word-to-word for POS."
    )
    out["main"] = (main, method_markdown(main, langs, f"Translate-train: {task['name']}", notes))
    if "to-w2w" in task["methods"]:
        names = {"to-w2w": "TO, word-to-word", "to": "TO, span-to-span"}
        abl = method_rows(table, ["to-w2w", "to"], langs, names)
        note = (
            f"Test {metric} (%) of target-only training on projected data, by projection strategy."
        )
        out["ablation"] = (abl, method_markdown(abl, langs, f"Projection ablation: {task['name']}", note))  # fmt: skip
    return out
