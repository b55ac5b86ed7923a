"""Every line of work side by side on one task: one protocol, the same data, encoder and seeds.

Reads only what the run already wrote: the task's candidate pool (every candidate of every method,
one row per candidate × language: ``results/pools/{task}.parquet``) and, where LMS ran on the
task, the repeated runs' document of the LMS study (``results/selection/{task}/lms_runs.json``,
Table 7's input, with the pool's ``.npz`` for the selection baselines). No model is loaded and no
candidate is trained, so the table can be rebuilt alone at any time.

Per method, one test score per (target, seed):

- **source-only methods with several hyper-parameter settings** (zero-shot, translate-train): per
  seed, the setting with the best *source* dev score (En-Dev; no target label is read). A
  per-target translate-train method (TO, TO word-to-word, BILINGUAL) is scored on each target by
  the model trained for it; MTL and MTL-WS (one model) on the translate targets only;
- **MetaXL's grid** (target only, JT, JT w/ RTN, MetaXL, per source setting) and **IWDA's**
  (stage-1 zero-shot, the variants, the supervised upper bound): one setting each; per (target,
  seed) the candidate trained for that target (a source setting with the target's *related*
  language is one row, ``related``);
- **selection rules of the LMS study** (En-Dev, Pivot-Dev, LMS, k-Target): per scorer run r
  (candidate split seed + r, scorer seed + r) and target, the test score of the candidate the rule
  picks among that run's meta-test candidates (seeds and settings mixed); their "seeds" are the
  runs, and their reference is En-Dev among the same candidates in the same run.

A row gives mean ± sd over seeds per target, the average over the targets the method covers
(``targets`` counts them: methods cover different targets) and the target-language resources it
used (:data:`RESOURCES`). Its paired t-test (``scipy.stats.ttest_rel``, two-sided) compares it with
its reference row (zero-shot En-Dev; for the LMS-protocol rows, En-Dev of the same runs) over the
(target, seed) pairs both have (seeds matched by number): Δ = mean paired difference, n pairs, p
("n/a" when n < 2 or the differences have no spread to test).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from xlt.io import atomic_open, read_output_json
from xlt.metrics import METRIC_NAMES
from xlt.tables import fmt, to_markdown, write_markdown

if TYPE_CHECKING:
    from xlt.pool import Pool
    from xlt.studies.lms.lms import LMSConfig

# the target-language resources a method used (the column ``resources``)
NONE = "none"
MT = "machine translation"
UNLABELLED = "unlabelled target text"
FULL = "full target training set"
RESOURCES = (NONE, MT, "n labelled target examples", UNLABELLED, FULL)


def labelled(n: int | str) -> str:
    """``n labelled target examples`` with the number filled in."""
    return f"{n} labelled target examples"


def resource_rank(resource: str) -> tuple[float, float]:
    """Order of resources on the figure's axis: none, MT, unlabelled text, n labelled examples
    (by n), the full target training set; a combination after its largest part."""
    parts = resource.split(" + ")
    ranks = []
    for p in parts:
        m = re.match(r"(\d+) labelled target examples$", p)
        if m:
            ranks.append((3.0, float(m[1])))
        else:
            ranks.append({NONE: (0.0, 0.0), MT: (1.0, 0.0), UNLABELLED: (2.0, 0.0), FULL: (4.0, 0.0)}.get(p, (5.0, 0.0)))  # fmt: skip
    top = max(ranks)
    return (top[0] + 0.5 * (len(parts) - 1) / len(parts), top[1])


def combine(resources: Sequence[str]) -> str:
    """Resources of several methods together: their union (``none`` if none used any)."""
    parts = [p for r in resources for p in r.split(" + ") if p != NONE]
    parts = sorted(dict.fromkeys(parts), key=resource_rank)
    return " + ".join(parts) or NONE


REFERENCE = "Zero-shot (En-Dev)"
FAMILIES = ("zero-shot", "selection", "translate-train", "few-shot", "iwda", "supervised", "other")
TRANSLATE = {"to": "TO", "to-w2w": "TO, word-to-word", "bilingual": "BILINGUAL", "mtl": "MTL",
             "mtl-ws": "MTL-WS"}  # fmt: skip
PER_TARGET = ("to-w2w", "to", "bilingual")  # longest prefix first: to-w2w-de is not to-(w2w-de)
IWDA = {"zero-shot": ("Zero-shot (IWDA stage 1)", NONE), "st": ("Self-training (ST)", UNLABELLED),
        "align": ("Alignment (w ≡ 1)", UNLABELLED), "iwda": ("IWDA", UNLABELLED),
        "iwda-kd": ("IWDA + KD", UNLABELLED), "iwda-st": ("IWDA + ST", UNLABELLED),
        "oracle": ("IWDA (oracle prior)", UNLABELLED),
        "supervised": ("Supervised in-language (upper bound)", FULL)}  # fmt: skip
FEW_SHOT = {"target-only": "Few-shot: target only", "jt": "Few-shot: JT",
            "jt-concat": "Few-shot: JT (concatenated)", "jt-rtn": "Few-shot: JT w/ RTN",
            "metaxl": "MetaXL (Algorithm 1)", "metaxl-joint": "MetaXL (joint)",
            "metaxl-frozen": "MetaXL (joint), φ frozen"}  # fmt: skip
COLUMNS_END = ["avg", "avg_sd", "targets", "seeds", "paired_with", "delta", "n", "p"]


# --------------------------------------------------------------------------------------------
# scores per (method, target, seed)


def _placement(part: str) -> str:
    """``L1`` -> ``1``, ``L0_2`` -> ``0+2``, ``Llast`` -> ``last``."""
    return part[1:].replace("_", "+")


def _few_shot_row(method: str, study: Mapping[str, Any]) -> tuple[str, str]:
    """(row label, target) of a MetaXL-grid candidate, e.g. ``mx.af.metaxl.en60.L1`` ->
    ("MetaXL (en 60, RTN layer 1)", "af"); a related source language becomes ``related``."""
    from xlt.studies.metaxl.settings import RTN_METHODS

    parts = method.split(".")
    target, kind, rest = parts[1], parts[2], parts[3:]
    label = FEW_SHOT.get(kind, kind)
    detail = []
    if kind != "target-only" and rest:
        m = re.match(r"([a-z]+)(\d+)$", rest[0])
        if m:
            lang = m[1] if m[1] == study["source"] else "related"
            detail.append(f"{lang} {m[2]}")
    if kind in RTN_METHODS and len(rest) > 1:
        detail.append(f"RTN layer {_placement(rest[1])}")
    if len(rest) > 2 and rest[2].startswith("b"):  # a grid of meta learning rates: β
        detail.append(f"β {rest[2][1:]}")
    return (f"{label} ({', '.join(detail)})" if detail else label), target


def row_of(method: str, study: Mapping[str, Any]) -> dict[str, Any]:
    """The table row a pool method belongs to: its label (``method``), ``family``, ``rank`` within
    the family, ``resources``, and the ``targets`` it is scored on (the one it was trained for,
    the translate targets for MTL / MTL-WS, every target for the rest)."""
    from xlt.studies.iwda.settings import PREFIX as IW
    from xlt.studies.metaxl.settings import PREFIX as MX

    targets = list(study["targets"])
    tt = [t for t in study.get("translate_targets") or [] if t in targets]
    if method == "zero-shot":
        return {"method": REFERENCE, "family": "zero-shot", "rank": 0, "resources": NONE,
                "targets": targets}  # fmt: skip
    rank = list(TRANSLATE)
    for base in PER_TARGET:
        if method.startswith(base + "-") and method[len(base) + 1 :] in targets:
            return {"method": f"Translate-train: {TRANSLATE[base]}", "family": "translate-train",
                    "rank": rank.index(base), "resources": MT, "targets": [method[len(base) + 1 :]]}  # fmt: skip
    if method in ("mtl", "mtl-ws"):
        return {"method": f"Translate-train: {TRANSLATE[method]}", "family": "translate-train",
                "rank": rank.index(method), "resources": MT, "targets": tt or targets}  # fmt: skip
    if method.startswith(MX + ".") and method.count(".") >= 2:
        label, target = _few_shot_row(method, study)
        n = study.get("metaxl_n")
        return {"method": label, "family": "few-shot", "rank": 0,
                "resources": labelled(n if n is not None else "n"), "targets": [target]}  # fmt: skip
    if method.startswith(IW + ".") and method.count(".") == 2:
        _, target, variant = method.split(".")
        label, resources = IWDA.get(variant, (f"IWDA: {variant}", UNLABELLED))
        family = "supervised" if variant == "supervised" else "iwda"
        rank = list(IWDA).index(variant) if variant in IWDA else len(IWDA)
        return {"method": label, "family": family, "rank": rank, "resources": resources,
                "targets": [target]}  # fmt: skip
    return {"method": method, "family": "other", "rank": 0, "resources": "not recorded",
            "targets": targets}  # fmt: skip


def _en_dev_per_seed(sub: pd.DataFrame, source: str) -> pd.DataFrame:
    """Per seed, the candidate of ``sub`` (pool rows) with the best source dev score (ties: the
    first in pool order): columns seed, candidate."""
    src = sub[sub["lang"] == source]
    best = src.loc[src.groupby("seed", sort=True)["dev"].idxmax()]
    return best[["seed", "candidate"]]


def pool_scores(table: pd.DataFrame, study: Mapping[str, Any]) -> pd.DataFrame:
    """Long form from the pool: one row per (table row, target, seed) with the test score."""
    source = study["source"]
    rows: dict[str, dict[str, Any]] = {}
    members: dict[tuple[str, str], list[str]] = {}  # (row label, target) -> pool methods
    for method in dict.fromkeys(table["method"]):
        r = row_of(str(method), study)
        rows.setdefault(r["method"], {k: v for k, v in r.items() if k != "targets"})
        for t in r["targets"]:
            members.setdefault((r["method"], t), []).append(str(method))
    test = table.set_index(["candidate", "lang"])["test"]
    out = []
    for (label, target), methods in members.items():
        sub = table[table["method"].isin(methods)]
        for seed, cand in _en_dev_per_seed(sub, source).itertuples(index=False):
            out.append({**rows[label], "reference": REFERENCE, "target": target,
                        "seed": int(seed), "test": float(test[(cand, target)])})  # fmt: skip
    return _long(out)


def _group_label(group: str, study: Mapping[str, Any]) -> str:
    if group == "zero-shot":
        return "Zero-shot"
    if group == "all-methods":
        return "All methods"
    return row_of(group, study)["method"]


def lms_scores(pool: Pool, runs: Mapping[str, Any], cfg: LMSConfig, study: Mapping[str, Any]) -> pd.DataFrame:  # fmt: skip
    """Long form from the LMS study's repeated runs: per candidate group, the rows En-Dev (the
    reference of these rows), Pivot-Dev, LMS and k-Target, one score per (target, run). ``cfg``:
    the LMS settings Table 7 is built with (its document records only the scorer's)."""
    from xlt.studies.lms.experiments import runs_records
    from xlt.studies.lms.lms import ALL_METHODS

    df = runs_records(pool, runs, cfg)
    out = []
    pool_methods = list(dict.fromkeys(pool.table["method"]))
    for group, sub in df.groupby("method", sort=False):
        members = (list(cfg.methods) or pool_methods) if group == ALL_METHODS else [group]
        base = combine([row_of(m, study)["resources"] for m in members])
        name = _group_label(str(group), study)
        ref = f"{name} (En-Dev, LMS meta-test)"
        k = sorted({int(v) for v in sub["k_used"]})
        k_label = str(k[0]) if len(k) == 1 else f"{k[0]}-{k[-1]}"
        cols = {"En-Dev": (ref, base), "Pivot-Dev": (f"{name} (Pivot-Dev)", base),
                "LMS": (f"{name} (LMS)", base),
                "k-Target": (f"{name} ({cfg.n_target}-Target)", combine([base, labelled(k_label)]))}  # fmt: skip
        for rank, (col, (label, resources)) in enumerate(cols.items()):
            for r in sub.to_dict("records"):
                out.append({"method": label, "family": "selection", "rank": rank,
                            "resources": resources, "reference": "" if col == "En-Dev" else ref,
                            "target": r["target"], "seed": int(r["run"]), "test": float(r[col])})  # fmt: skip
    return _long(out)


def _long(rows: list[dict[str, Any]]) -> pd.DataFrame:
    cols = ["method", "family", "rank", "resources", "reference", "target", "seed", "test"]
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------------------------
# the table


def paired_test(x: Sequence[float], ref: Sequence[float]) -> tuple[int, float, float]:
    """(n, Δ, p): pairs, mean of x − ref, and the two-sided paired t-test's p-value
    (``scipy.stats.ttest_rel``); p is NaN when n < 2 or the differences have no spread."""
    from scipy import stats

    x, ref = np.asarray(x, dtype=float), np.asarray(ref, dtype=float)
    n = len(x)
    if n == 0:
        return 0, math.nan, math.nan
    d = x - ref
    delta = float(d.mean())
    if n < 2 or float(np.ptp(d)) == 0.0:
        return n, delta, math.nan
    return n, delta, float(stats.ttest_rel(x, ref).pvalue)


def _sd(v: pd.Series) -> float:
    return float(v.std(ddof=1)) if len(v) > 1 else math.nan


def comparison_table(scores: pd.DataFrame, targets: Sequence[str]) -> pd.DataFrame:
    """One row per method (in family order): per target mean and sd over seeds, the average over
    the method's targets (its sd: over seeds that cover all of them, of the per-seed average),
    targets covered, seeds, and the paired test against its reference row."""
    rows = []
    order = {f: i for i, f in enumerate(FAMILIES)}
    labels = list(dict.fromkeys(scores["method"]))
    first = {m: i for i, m in enumerate(labels)}
    fam = scores.drop_duplicates("method").set_index("method")
    labels.sort(key=lambda m: (order.get(fam.loc[m, "family"], len(order)), fam.loc[m, "rank"], first[m]))  # fmt: skip
    for label in labels:
        g = scores[scores["method"] == label]
        info = fam.loc[label]
        row: dict[str, Any] = {"method": label, "family": info["family"], "resources": info["resources"]}  # fmt: skip
        covered = [t for t in targets if t in set(g["target"])]
        means = []
        for t in targets:
            v = g[g["target"] == t]["test"]
            row[t], row[f"{t}_sd"] = (float(v.mean()) if len(v) else math.nan), _sd(v)
            if len(v):
                means.append(row[t])
        wide = g.pivot_table(index="seed", columns="target", values="test").reindex(columns=covered)
        per_seed = wide.dropna().mean(axis=1)
        row["avg"] = float(np.mean(means)) if means else math.nan
        row["avg_sd"] = _sd(per_seed)
        row["targets"] = len(covered)
        row["seeds"] = int(g["seed"].nunique())
        ref = info["reference"]
        if ref and ref != label:
            r = scores[scores["method"] == ref].set_index(["target", "seed"])["test"]
            x = g.set_index(["target", "seed"])["test"]
            shared = x.index.intersection(r.index)
            n, delta, p = paired_test(x.loc[shared].to_numpy(), r.loc[shared].to_numpy())
            row |= {"paired_with": ref, "delta": delta, "n": n, "p": p}
        else:
            row |= {"paired_with": "", "delta": math.nan, "n": pd.NA, "p": math.nan}
        rows.append(row)
    cols = ["method", "family", "resources", *[c for t in targets for c in (t, f"{t}_sd")], *COLUMNS_END]  # fmt: skip
    df = pd.DataFrame(rows, columns=cols)
    df["n"] = df["n"].astype("Int64")
    return df


def build(table: pd.DataFrame, study: Mapping[str, Any], pool: Pool | None = None,
          runs: Mapping[str, Any] | None = None, lms: Mapping[str, Any] | None = None,
          ) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """(long-form scores, the table) of a task: the pool's methods and, given the LMS study's
    repeated runs (with the loaded pool and the ``lms:`` settings they need), its selection
    rules."""
    from xlt.studies.lms.lms import LMSConfig

    scores = pool_scores(table, study)
    if runs is not None:
        if pool is None or lms is None:
            raise ValueError("the LMS rows need the loaded pool (Pool.load) and the lms settings besides the runs")  # fmt: skip
        lms_rows = lms_scores(pool, runs, LMSConfig.from_dict(lms), study)
        scores = pd.concat([scores, lms_rows], ignore_index=True)
    return scores, comparison_table(scores, study["targets"])


def pm(mean: float, sd: float) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    return fmt(mean) if sd is None or math.isnan(sd) else f"{mean:.1f} ± {sd:.1f}"


def p_text(p: float, n: Any) -> str:
    if n is pd.NA:
        return "–"
    return "n/a" if p is None or math.isnan(p) else ("< 0.001" if p < 0.001 else f"{p:.3f}")


def notes(study: Mapping[str, Any], table: pd.DataFrame, lms: Mapping[str, int] | None) -> str:
    """The table's caption; ``lms``: {n_target, runs} where the table has the LMS rows."""
    metric = METRIC_NAMES[study["kind"]]
    text = (
        f"Target test {metric} (%), mean ± sd over seeds; avg: mean over the targets the method "
        "covers (targets: how many; – = not covered), its sd over the seeds that cover all of "
        "them. Score per (target, seed): zero-shot and translate-train take, per seed, the "
        f"hyper-parameter setting with the best {study['source']} dev score (no target label); "
        "TO / BILINGUAL use the model trained for each target, MTL / MTL-WS one model, on the "
        "translate targets; MetaXL's grid (few-shot) and IWDA's models have one setting, one model "
        "per target (related: the target's related source language). resources: the "
        "target-language data the method used. Δ, n, p: paired t-test (two-sided, scipy "
        "ttest_rel) against the row numbered in vs (ref.: a reference row), over the (target, seed) pairs both have (seeds matched "
        "by number); n/a: fewer than 2 pairs or no spread."
    )
    if lms is not None:
        text += (
            f" LMS-protocol rows (En-Dev, Pivot-Dev, LMS, {lms['n_target']}-Target among the LMS "
            f"meta-test candidates): seeds are the {lms['runs']} scorer runs (candidate split "
            "and scorer seed + r), their reference is En-Dev among the same candidates in the "
            "same run; k-Target reads k labelled target dev examples (the oracle All-Target: the "
            "LMS tables)."
        )
    if (table["family"] == "iwda").any():
        text += " IWDA (oracle prior) also uses the true target class prior."
    return text


def markdown(table: pd.DataFrame, study: Mapping[str, Any], lms: Mapping[str, int] | None = None) -> str:  # fmt: skip
    targets = study["targets"]
    number = {m: f"#{i + 1}" for i, m in enumerate(table["method"])}
    view = pd.DataFrame({
        "#": [str(i + 1) for i in range(len(table))],
        "method": table["method"],
        "resources": table["resources"],
        **{t: [pm(m, s) for m, s in zip(table[t], table[f"{t}_sd"], strict=True)] for t in [*targets, "avg"]},
        "targets": table["targets"].astype(str),
        "seeds": table["seeds"].astype(str),
        "vs": [number.get(r, r) if r else "ref." for r in table["paired_with"]],
        "Δ": ["–" if math.isnan(d) else f"{d:+.1f}" for d in table["delta"]],
        "n": ["–" if n is pd.NA else str(int(n)) for n in table["n"]],
        "p": [p_text(p, n) for p, n in zip(table["p"], table["n"], strict=True)],
    })  # fmt: skip
    title = f"All methods compared: {study['task']}"
    return to_markdown(view, title, notes(study, table, lms))


def headline(table: pd.DataFrame, study: Mapping[str, Any]) -> pd.DataFrame:
    """The few numbers the report's front page shows per task: per method (named with the targets
    it covers where not all), the target data it used, its average target score ± sd over seeds
    and its paired difference to its reference (with p), or "reference"."""
    n_targets = len(study["targets"])
    delta = []
    for d, p, n, ref in zip(table["delta"], table["p"], table["n"], _reference_labels(table), strict=True):  # fmt: skip
        if not math.isnan(d):
            delta.append(f"{d:+.1f} (p {p_text(p, n)})")
        else:
            delta.append("reference" if ref == "reference" else "–")
    return pd.DataFrame({
        "method": [m if t == n_targets else f"{m} [{t} of {n_targets} targets]"
                   for m, t in zip(table["method"], table["targets"], strict=True)],
        "target data": table["resources"],
        f"avg {METRIC_NAMES[study['kind']]} (%)": [pm(m, s) for m, s in zip(table["avg"], table["avg_sd"], strict=True)],
        "Δ to reference": delta,
    })  # fmt: skip


def write_csv(table: pd.DataFrame, path: str | Path) -> None:
    """The table as CSV; p is "n/a" where the test is undefined (pandas reads it back as NaN)."""
    out = table.copy()
    out["p"] = [
        "" if n is pd.NA else ("n/a" if math.isnan(p) else p)
        for p, n in zip(out["p"], out["n"], strict=True)
    ]
    with atomic_open(path) as fh:
        out.to_csv(fh, index=False)


# --------------------------------------------------------------------------------------------
# the figure


def _reference_labels(table: pd.DataFrame) -> list[str]:
    """Per row, what its paired difference is taken against: ``reference`` for a row others are
    compared with, ``vs <row>`` for the rest, "" for a row with neither."""
    refs = set(table["paired_with"]) - {""}
    return [
        f"vs {ref}" if ref else ("reference" if label in refs else "")
        for label, ref in zip(table["method"], table["paired_with"], strict=True)
    ]


MIN_SEEDS = 3  # below this, an sd and a paired t-test over seeds say little


def figure(scores: pd.DataFrame, table: pd.DataFrame, study: Mapping[str, Any], path: str | Path) -> None:  # fmt: skip
    """One row per method of the table, named (with the targets it covers where it covers not
    all), in the table's order. Left: its average target score ± sd over seeds; right: its
    paired difference to its reference row ± sd of the differences (the reference named at the
    right of each row: methods covering different targets are compared on the same (target,
    seed) pairs). The colour is the one thing the figure is about: the target-language
    resources the method used (legend outside the panels). A caution says when a row has fewer
    than :data:`MIN_SEEDS` seeds."""
    from xlt.figures import caution, legend_outside, pyplot, save, too_few

    plt = pyplot()
    n_targets = len(study["targets"])
    resources = sorted(dict.fromkeys(table["resources"]), key=resource_rank)
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colour = {r: palette[i % len(palette)] for i, r in enumerate(resources)}
    diffs_sd = []
    for label, ref in zip(table["method"], table["paired_with"], strict=True):
        if not ref:
            diffs_sd.append(math.nan)
            continue
        a = scores[scores["method"] == label].set_index(["target", "seed"])["test"]
        b = scores[scores["method"] == ref].set_index(["target", "seed"])["test"]
        shared = a.index.intersection(b.index)
        diffs_sd.append(_sd(a.loc[shared] - b.loc[shared]))
    names = [
        m if t == n_targets else f"{m} [{t} of {n_targets} targets]"
        for m, t in zip(table["method"], table["targets"], strict=True)
    ]
    refs = _reference_labels(table)
    n = len(table)
    ys = np.arange(n)
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 1.2 + 0.24 * n), dpi=120, sharey=True,
                             gridspec_kw={"width_ratios": [1.0, 1.0]})  # fmt: skip
    metric = METRIC_NAMES[study["kind"]]
    for ax, xs, es, xlabel in (
        (
            axes[0],
            table["avg"],
            table["avg_sd"],
            f"average target test {metric} (%), mean ± sd over seeds",
        ),  # fmt: skip
        (axes[1], table["delta"], diffs_sd, "paired difference to the row's reference (points)"),
    ):
        for y, x, e, r in zip(ys, xs, es, table["resources"], strict=True):
            if x is None or math.isnan(x):
                continue
            ax.errorbar([x], [y], xerr=None if math.isnan(e) else [e], fmt="o", ms=5, capsize=3,
                        color=colour[r], label=r)  # fmt: skip
        ax.set_xlabel(xlabel, fontsize=8)
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(labelsize=7)
    for y, ref in zip(ys, refs, strict=True):
        if ref == "reference":  # the rows the others are compared with sit at 0 by definition
            axes[1].plot([0], [y], marker="D", ms=5, mfc="white", mec="0.2", ls="none")
    axes[1].axvline(0, color="0.4", lw=0.8, ls="--")
    axes[0].set_yticks(ys, names, fontsize=7)
    axes[0].set_ylim(n - 0.5, -0.5)  # the table's first row on top
    right = axes[1].secondary_yaxis("right")
    right.set_yticks(ys, refs, fontsize=6.5)
    right.tick_params(length=0)
    legend_outside(fig, axes[:1], resources, title="target-language resources", title_fontsize=7,
                   bbox_to_anchor=(1.0, 0.5), loc="center left")  # fmt: skip
    fig.suptitle(f"{study['task']}: what each kind of target-language data buys", fontsize=9)
    note = too_few(int(table["seeds"].min()), MIN_SEEDS, "seed(s) on some row",
                   "an sd or a paired p-value over so few seeds says little")  # fmt: skip
    if note:
        caution(fig, note)
    save(fig, path)


# --------------------------------------------------------------------------------------------
# the rule's entry point


def write_outputs(table_path: str | Path, arrays_path: str | Path, runs_path: str | Path | None,
                  study: Mapping[str, Any], out: Mapping[str, str],
                  lms: Mapping[str, Any] | None = None) -> pd.DataFrame:  # fmt: skip
    """``out``: csv, md (and its HTML twin), figure and, optionally, headline (the front page's
    CSV, :func:`headline`). ``runs_path``: the LMS study's repeated runs and ``lms`` its
    settings (scorer, baselines, runs: those Table 7 is built with); None without LMS on the
    task."""
    from xlt.pool import Pool, read_table

    table = read_table(table_path)
    pool, runs, info = None, None, None
    if runs_path is not None:
        from xlt.studies.lms.lms import LMSConfig

        pool = Pool.load(table_path, arrays_path)
        runs = read_output_json(runs_path)
        info = {"n_target": LMSConfig.from_dict(lms).n_target, "runs": len(runs["runs"])}
    scores, df = build(table, study, pool, runs, lms)
    write_csv(df, out["csv"])
    write_markdown(out["md"], markdown(df, study, info))
    figure(scores, df, study, out["figure"])
    if "headline" in out:
        with atomic_open(out["headline"]) as fh:
            headline(df, study).to_csv(fh, index=False)
    return df
