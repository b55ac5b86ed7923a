"""The translate-train study's tables (Li et al. Table 1 and Table 5 layouts), from the pool."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from xlt.metrics import METRIC_NAMES
from xlt.tables import fmt, to_markdown

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
