"""The zero-shot study's table and figure: every language's test scores over the candidates, with
the En-Dev and oracle picks (``results/tables/zero_shot_{task}``, ``results/figures/scores_{task}``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from xlt.figures import legend_outside, pyplot, save
from xlt.metrics import METRIC_NAMES
from xlt.tables import pick
from xlt.tasks import get_kind


def zero_shot_table(table: pd.DataFrame, task: Mapping) -> pd.DataFrame:
    """Per language: test score mean ± sd over candidates, seed sd, En-Dev and All-Target picks."""
    source = task["source"]
    table = table[table["method"] == "zero-shot"]
    chosen_src = pick(table, source)
    also = get_kind(task["kind"]).also_reported
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
                **{f"mean_{m}": sub[f"test_{m}"].mean() for m in also if f"test_{m}" in sub},
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
        f"majority: {get_kind(task['kind']).baseline_name}."
    ) + "".join(f" mean_{m}: the mean of {m} over all candidates." for m in get_kind(task["kind"]).also_reported)  # fmt: skip


def scores_figure(table: pd.DataFrame, task: Mapping, path: str | Path) -> None:
    plt = pyplot()
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
    legend_outside(fig, [ax])
    ax.grid(axis="y", alpha=0.3)
    save(fig, path)
