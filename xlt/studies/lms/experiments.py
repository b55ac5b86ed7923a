"""The LMS study of Chen & Ritter on a candidate pool: the heavy runs and the paper's tables/figures.

Runs (each returns a JSON-able dict that records config, seeds and versions):

- :func:`run_main`: LMS for every target (one scorer per leave-one-language-out fold, with the
  hyper-parameter search) — Table 2, Figures 2-3;
- :func:`run_repeats`: ``runs`` repetitions with split seed and scorer seed ``+ r`` (run 0 is the
  main run, reused) — Table 7; later runs reuse the main run's hyper-parameters per fold;
- :func:`run_ablations`: the other model features ([Eng]/[Pivot]/[Target]/Fusion) and language
  features (learned/syntax/none) — Tables 3-4; the main configuration's variant is the main run
  (reused) and every variant reuses its hyper-parameters, so only the feature choice differs;
- :func:`run_nmodels`: LMS trained on the first n of a seeded shuffle of the meta-train
  candidates — Table 10, Figure 4 (the full meta-train size is the main run, reused).

Tables (DataFrames in the paper's layouts; one row per candidate group and target plus a mean row):
:func:`selection_table` (Table 2), :func:`ablation_table` (Tables 3-4), :func:`runs_table`
(Table 7), :func:`nmodels_table` (Table 10). Figures: :func:`kde_figure` (Figures 2-3),
:func:`kendall_figure` (Figure 4).

Every reported score is the selected candidate's target *test* score, and every method selects
among the same meta-test candidates, except the ablation tables' second protocol (the paper's
section 7: meta-dev candidates, scored on the target's dev set).
"""

from __future__ import annotations

import math
import platform
import time
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xlt.figures import caution, legend_outside, pyplot, save, too_few
from xlt.metrics import METRIC_NAMES
from xlt.pool import Pool
from xlt.studies.lms import baselines as bl
from xlt.studies.lms.lms import GroupResult, LMSConfig, run_groups, task_pivots

FEATURE_VARIANTS = {"eng": "[Eng]", "pivot": "[Pivot]", "target": "[Target]", "fusion": "Fusion"}
LANGVEC_VARIANTS = {"learned": "lang2vec", "syntax": "syntax", "none": "none"}


def provenance(cfg: LMSConfig, **extra: Any) -> dict[str, Any]:
    """Config, seeds and package versions, recorded in every output of the study."""
    versions = {"python": platform.python_version()}
    for pkg in ("xlt", "torch", "numpy", "scipy", "pandas", "lang2vec"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {
        "config": cfg.to_dict(),
        "versions": versions,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        **extra,
    }


def _groups_dict(res: Mapping[str, GroupResult]) -> dict[str, dict]:
    return {name: g.to_dict() for name, g in res.items()}


def _load_groups(d: Mapping[str, Any]) -> dict[str, GroupResult]:
    return {name: GroupResult.from_dict(g) for name, g in d["groups"].items()}


def _hps(main: Mapping[str, Any]) -> dict[str, dict[str, tuple[int, float]]]:
    return {name: g.hps() for name, g in _load_groups(main).items()}


def run_main(pool: Pool, cfg: LMSConfig, source: str, targets: Sequence[str], workers: int = 1) -> dict[str, Any]:  # fmt: skip
    """LMS with the hyper-parameter search, for every target and candidate group."""
    res = run_groups(pool, cfg, source, targets, workers=workers)
    return {
        **provenance(cfg, source=source, targets=list(targets)),
        "pivots": list(task_pivots(cfg.pivots, pool.langs, source)),
        "groups": _groups_dict(res),
    }


def run_repeats(pool: Pool, cfg: LMSConfig, source: str, targets: Sequence[str], main: Mapping, workers: int = 1) -> dict:  # fmt: skip
    """``cfg.runs`` runs: run r uses split_seed + r and seed + r; run 0 is ``main``."""
    hps = _hps(main)
    runs = [{"run": 0, "split_seed": cfg.split_seed, "seed": cfg.seed, "groups": main["groups"]}]
    for r in range(1, cfg.runs):
        res = run_groups(pool, cfg, source, targets, split_seed=cfg.split_seed + r,
                         seed=cfg.seed + r, hps=hps, workers=workers)  # fmt: skip
        runs.append({"run": r, "split_seed": cfg.split_seed + r, "seed": cfg.seed + r,
                     "groups": _groups_dict(res)})  # fmt: skip
    return {**provenance(cfg, source=source, targets=list(targets)), "runs": runs}


def ablation_variants(cfg: LMSConfig) -> dict[str, LMSConfig]:
    """``features:<name>`` and ``langvec:<name>`` -> the configuration of that variant."""
    out = {f"features:{m}": cfg.replace(model_features=m) for m in FEATURE_VARIANTS}
    out.update({f"langvec:{v}": cfg.replace(lang_features=v) for v in LANGVEC_VARIANTS})
    return out


def run_ablations(pool: Pool, cfg: LMSConfig, source: str, targets: Sequence[str], main: Mapping, workers: int = 1) -> dict:  # fmt: skip
    """Every feature variant; the main configuration is reused, the others reuse its hps."""
    hps = _hps(main)
    variants = {}
    for name, vcfg in ablation_variants(cfg).items():
        if vcfg == cfg:
            variants[name] = {"reused": "main", "groups": main["groups"]}
            continue
        res = run_groups(pool, vcfg, source, targets, hps=hps, workers=workers)
        variants[name] = {"config": vcfg.to_dict(), "groups": _groups_dict(res)}
    return {**provenance(cfg, source=source, targets=list(targets)), "variants": variants}


def nmodels_sizes(cfg: LMSConfig, n_train: int) -> list[int]:
    """The meta-train sizes studied: the configured ones below the full size, then the full size."""
    return sorted({n for n in cfg.nmodels if 2 <= n < n_train} | {n_train})


def run_nmodels(pool: Pool, cfg: LMSConfig, source: str, targets: Sequence[str], main: Mapping, workers: int = 1) -> dict:  # fmt: skip
    """LMS trained on the first n of a seeded shuffle of meta-train, for each size n."""
    hps = _hps(main)
    groups = _load_groups(main)
    sizes: dict[str, dict[str, Any]] = {}
    n_full = {name: len(g.split["meta-train"]) for name, g in groups.items()}
    for n in sorted({s for full in n_full.values() for s in nmodels_sizes(cfg, full)}):
        out = {name: g.to_dict() for name, g in groups.items() if n == n_full[name]}
        smaller = [name for name in groups if n < n_full[name]]
        if smaller:
            res = run_groups(pool, cfg, source, targets, hps=hps, n_train=n, only=smaller, workers=workers)  # fmt: skip
            out.update(_groups_dict(res))
        sizes[str(n)] = {"groups": out}
    return {**provenance(cfg, source=source, targets=list(targets)), "sizes": sizes}


# --------------------------------------------------------------------------------------------
# evaluation helpers


class _Eval:
    """Dev/test matrices of a pool and candidate-id lookups, computed once."""

    def __init__(self, pool: Pool, source: str):
        self.pool, self.source = pool, source
        self.dev, self.test = pool.matrix("dev"), pool.matrix("test")
        self.index = {c: i for i, c in enumerate(pool.candidates)}

    def idx(self, ids: Sequence[str]) -> np.ndarray:
        return np.array([self.index[c] for c in ids], dtype=int)

    def score(self, pick: int | Sequence[int], lang: str, split: str = "test") -> float:
        m = self.test if split == "test" else self.dev
        idx = [pick] if isinstance(pick, int | np.integer) else list(pick)
        return float(np.mean(m[idx, self.pool.lang_index(lang)]))

    def lms_pick(self, g: GroupResult, target: str, split: str = "meta-test") -> int:
        cands = self.idx(g.split[split])
        return int(cands[int(np.argmax(g.scores[target][split]))])


def evaluate_group(ev: _Eval, g: GroupResult, cfg: LMSConfig, targets: Sequence[str], pivots: Sequence[str]) -> list[dict]:  # fmt: skip
    """Per target: the test score of En-Dev, Pivot-Dev, LMS, k-Target and All-Target picks."""
    pool, cands = ev.pool, ev.idx(g.split["meta-test"])
    rows = []
    for t in targets:
        if t not in g.scores or len(cands) == 0:
            continue
        piv_pick, pivot = bl.pivot_dev(pool, cands, t, pivots, cfg.similarity, ev.dev)
        kt = bl.k_target(pool, cands, t, cfg.n_target, cfg.n_draws, cfg.seed)
        rows.append({
            "method": g.group, "target": t,
            "En-Dev": ev.score(bl.en_dev(pool, cands, ev.source, ev.dev), t),
            "Pivot-Dev": ev.score(piv_pick, t), "pivot": pivot,
            "LMS": ev.score(ev.lms_pick(g, t), t),
            "k-Target": ev.score(kt.picks, t),
            "All-Target": ev.score(bl.all_target(pool, cands, t, ev.dev), t),
            "k_used": kt.n_used, "n_dev": kt.n_dev, "candidates": len(cands),
        })  # fmt: skip
    return rows


def _with_mean(df: pd.DataFrame, by: Sequence[str], label_col: str = "target") -> pd.DataFrame:
    """Append one mean row per ``by`` group (numeric columns averaged; others "mean"/blank)."""
    out = []
    keys = list(by)
    for key, sub in df.groupby(keys, sort=False) if keys else [((), df)]:
        key = key if isinstance(key, tuple) else (key,)
        mean = {
            c: (sub[c].mean() if pd.api.types.is_float_dtype(sub[c]) else "") for c in df.columns
        }
        mean.update(dict(zip(keys, key, strict=True)))
        mean[label_col] = "mean"
        out += [sub, pd.DataFrame([mean])]
    return pd.concat(out, ignore_index=True)


def _metric(pool: Pool) -> str:
    return METRIC_NAMES.get(pool.kind, pool.kind)


# --------------------------------------------------------------------------------------------
# Table 2


def selection_table(pool: Pool, main: Mapping, cfg: LMSConfig) -> pd.DataFrame:
    """Table 2: per target, En-Dev / Pivot-Dev (pivot) / LMS / k-Target / All-Target test scores
    and the number of target dev examples, among the meta-test candidates; a mean row per group."""
    ev = _Eval(pool, main["source"])
    rows = [r for g in _load_groups(main).values()
            for r in evaluate_group(ev, g, cfg, main["targets"], main["pivots"])]  # fmt: skip
    df = pd.DataFrame(rows)
    k = f"{cfg.n_target}-Target"
    df = df.rename(columns={"k-Target": k, "n_dev": "# target dev", "k_used": f"{k} examples"})
    cols = ["method", "target", "En-Dev", "Pivot-Dev", "pivot", "LMS", k, "All-Target",
            "# target dev", f"{k} examples", "candidates"]  # fmt: skip
    df = df[cols]
    return _with_mean(df, ["method"])


def training_summary(main: Mapping) -> str:
    """How the main run's scorers were trained: Adam steps (search included) and, per fold, the
    chosen batch size, learning rate, kept epoch, the steps of that training and its meta-dev
    criterion (one sentence per candidate group)."""
    parts = []
    for name, g in _load_groups(main).items():
        folds = "; ".join(
            f"{f['key']}: batch {f['batch_size']}, lr {f['lr']:g}, epoch {f['epoch']} of "
            f"{len(f.get('criteria') or []) or '?'}, {f.get('steps', '?')} steps, meta-dev τ "
            + ("n/a" if f["criterion"] is None else f"{f['criterion']:.3f}")
            for f in g.folds
        )
        parts.append(
            f"{name}: {g.trainings} scorer trainings, {g.steps} Adam steps in all ({folds})."
        )
    return " ".join(parts)


def selection_notes(pool: Pool, main: Mapping, cfg: LMSConfig) -> str:
    k = cfg.n_target
    return (
        f"Target test {_metric(pool)} (%) of the candidate each method selects among the meta-test "
        f"candidates (split {cfg.split}, seed {cfg.split_seed}). En-Dev: best {main['source']} dev "
        f"score; Pivot-Dev: best dev score in the pivot (column pivot) most similar to the target "
        f"by cosine of lang2vec '{cfg.similarity}' vectors; LMS: argmax of the learned score, "
        f"leave-one-language-out over the pivots {main['pivots']} ({cfg.model_features} model "
        f"features, {cfg.lang_features} language features, hyper-parameter search "
        f"{cfg.hp_search}); {k}-Target: best score on {k} random target dev examples, mean over "
        f"{cfg.n_draws} draws (where '{k}-Target examples' equals '# target dev' the whole dev "
        "set was used); All-Target: best target dev score (oracle). Mean rows average the targets. "
        "Scorer training (one example per ordered candidate pair with different dev scores and "
        f"training language, {cfg.epochs} epochs): " + training_summary(main)
    )


# --------------------------------------------------------------------------------------------
# Tables 3 and 4


def ablation_table(pool: Pool, main: Mapping, ablations: Mapping, cfg: LMSConfig, axis: str) -> pd.DataFrame:  # fmt: skip
    """Table 3 (``axis="features"``) or 4 (``"langvec"``): En-Dev and LMS with each variant.

    Two protocols, one block each: ``meta-test/test`` (selection among meta-test candidates,
    target test score — as Table 2) and ``meta-dev/dev`` (the paper's section 7: selection among
    meta-dev candidates, scored on the target dev set).
    """
    names = FEATURE_VARIANTS if axis == "features" else LANGVEC_VARIANTS
    ev = _Eval(pool, main["source"])
    variants = {label: _load_groups(ablations["variants"][f"{axis}:{key}"])
                for key, label in names.items()}  # fmt: skip
    rows = []
    for protocol, split, metric_split in (("meta-test/test", "meta-test", "test"),
                                          ("meta-dev/dev", "meta-dev", "dev")):  # fmt: skip
        for gname, g in _load_groups(main).items():
            cands = ev.idx(g.split[split])
            if len(cands) == 0:
                continue
            for t in main["targets"]:
                row = {"method": gname, "protocol": protocol, "target": t,
                       "En-Dev": ev.score(bl.en_dev(pool, cands, ev.source, ev.dev), t, metric_split)}  # fmt: skip
                for label, groups in variants.items():
                    pick = ev.lms_pick(groups[gname], t, split)
                    row[label] = ev.score(pick, t, metric_split)
                rows.append(row)
    return _with_mean(pd.DataFrame(rows), ["method", "protocol"])


def ablation_notes(pool: Pool, cfg: LMSConfig, axis: str) -> str:
    what = (
        "model features ([Eng]: English dev text at train and test time; [Pivot]: pivot text at "
        "training, target text at test time; [Target]: target text at both; Fusion: learned "
        f"weighted sum of the three), language features fixed to {cfg.lang_features}"
        if axis == "features"
        else "language features (lang2vec learned 512-d; syntax = lang2vec syntax_knn 103-d; "
        f"none = no language input), model features fixed to {cfg.model_features}"
    )
    return (
        f"Target {_metric(pool)} (%) of the candidate selected by LMS with different {what}. Every variant "
        "reuses the hyper-parameters chosen for the main configuration. Protocol meta-test/test: "
        "selection among meta-test candidates, target test score; meta-dev/dev: the paper's "
        "section 7 protocol, selection among meta-dev candidates, target dev score."
    )


# --------------------------------------------------------------------------------------------
# Table 7


SELECTORS = ("En-Dev", "Pivot-Dev", "LMS", "k-Target", "All-Target")


def z_test(diffs: Sequence[float]) -> tuple[float, float, float]:
    """One-sided tests that paired differences d_r (e.g. LMS_r − En-Dev_r over runs) are > 0.

    Returns (z, p_z, p_t): z = mean(d) / (sd(d) / √R) with the sample sd (ddof 1) and
    p_z = 1 − Φ(z) (the paper's z-test), and p_t the one-sided one-sample t-test p-value on the
    same differences (the appropriate small-sample test, R − 1 degrees of freedom). All differences
    equal: z = ±inf (p 0 or 1), or NaN when they are all 0. Fewer than 2 runs: NaN.
    """
    from scipy import stats

    d = np.asarray(diffs, dtype=float)
    if len(d) < 2:
        return math.nan, math.nan, math.nan
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if sd == 0:
        if mean == 0:
            return math.nan, math.nan, math.nan
        z = math.copysign(math.inf, mean)
        return z, float(stats.norm.sf(z)), float(stats.norm.sf(z))
    z = mean / (sd / math.sqrt(len(d)))
    p_t = float(stats.ttest_1samp(d, 0.0, alternative="greater").pvalue)
    return z, float(stats.norm.sf(z)), p_t


def runs_records(pool: Pool, runs: Mapping, cfg: LMSConfig) -> pd.DataFrame:
    """Per run, group and target: the test score of each selector's pick (columns of
    :func:`evaluate_group`, plus ``run``), from the repeated runs' document (Table 7's input;
    the cross-method comparison reads it too)."""
    ev = _Eval(pool, runs["source"])
    pivots = task_pivots(cfg.pivots, pool.langs, runs["source"])
    per_run = []
    for run in runs["runs"]:
        for g in _load_groups(run).values():
            for row in evaluate_group(ev, g, cfg, runs["targets"], pivots):
                per_run.append({**row, "run": run["run"]})
    return pd.DataFrame(per_run)


def runs_table(pool: Pool, runs: Mapping, cfg: LMSConfig) -> pd.DataFrame:
    """Table 7 (long form): per group, target and selector: mean, sd over runs; for LMS and
    Pivot-Dev the z-test (and t-test) of the per-run difference to En-Dev."""
    df = runs_records(pool, runs, cfg)
    out = []
    for (method, target), sub in df.groupby(["method", "target"], sort=False):
        for sel in SELECTORS:
            row = {"method": method, "target": target,
                   "selector": f"{cfg.n_target}-Target" if sel == "k-Target" else sel,
                   "mean": sub[sel].mean(), "sd": sub[sel].std(ddof=1), "runs": len(sub),
                   "z": math.nan, "p_z": math.nan, "p_t": math.nan,
                   "pivot": "/".join(dict.fromkeys(sub["pivot"])) if sel == "Pivot-Dev" else "",
                   "n_dev": int(sub["n_dev"].iloc[0])}  # fmt: skip
            if sel in ("LMS", "Pivot-Dev"):
                row["z"], row["p_z"], row["p_t"] = z_test(sub[sel] - sub["En-Dev"])
            out.append(row)
    return pd.DataFrame(out)


def runs_markdown(table: pd.DataFrame, cfg: LMSConfig, title: str, alpha: float = 0.05) -> str:
    """Table 7 in the paper's layout: selectors as rows, targets as columns, "mean ± sd" cells,
    "*" where the one-sided z-test against En-Dev gives p ≤ ``alpha``."""
    from xlt.tables import to_markdown

    blocks = [f"### {title}", ""]
    for method, sub in table.groupby("method", sort=False):
        targets = list(dict.fromkeys(sub["target"]))
        rows = []
        for sel in dict.fromkeys(sub["selector"]):
            cells = {"selector": sel}
            for t in targets:
                r = sub[(sub["target"] == t) & (sub["selector"] == sel)].iloc[0]
                star = "*" if r["p_z"] <= alpha else ""
                piv = f" ({r['pivot']})" if r["pivot"] else ""
                cells[t] = f"{r['mean']:.2f} ± {r['sd']:.2f}{piv}{star}"
            rows.append(cells)
        n_dev = {"selector": "# target dev", **{t: str(int(sub[sub["target"] == t]["n_dev"].iloc[0])) for t in targets}}  # fmt: skip
        rows.append(n_dev)
        blocks.append(to_markdown(pd.DataFrame(rows), title=f"method: {method}"))
    blocks.append(
        f"Mean ± sd over {cfg.runs} runs (run r: candidate split seed {cfg.split_seed}+r, scorer "
        f"seed {cfg.seed}+r; runs after the first reuse the first run's hyper-parameters). * : "
        f"LMS/Pivot-Dev higher than En-Dev, one-sided z-test on the per-run paired differences "
        f"(z = mean/(sd/√runs)), p ≤ {alpha}; the CSV also gives the one-sided t-test p-value "
        "(p_t), the better test for so few runs."
    )
    return "\n".join(blocks) + "\n"


# --------------------------------------------------------------------------------------------
# Table 10 and Figure 4


def _kendall(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import kendalltau

    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(kendalltau(a, b).statistic)


def nmodels_records(pool: Pool, nmodels: Mapping) -> pd.DataFrame:
    """Per group, size and target: LMS test score and Kendall τ(predicted, gold test ranking) of
    the meta-test candidates (``n_ranked`` of them), with En-Dev (size "En-Dev") as the
    reference."""
    ev = _Eval(pool, nmodels["source"])
    rows = []
    first = True
    for size, entry in nmodels["sizes"].items():
        for gname, gd in entry["groups"].items():
            g = GroupResult.from_dict(gd)
            cands = ev.idx(g.split["meta-test"])
            for t in nmodels["targets"]:
                if t not in g.scores or not len(cands):
                    continue
                gold = ev.test[cands, pool.lang_index(t)]
                if first:
                    en = ev.dev[cands, pool.lang_index(ev.source)]
                    rows.append({"method": gname, "n_models": "En-Dev", "target": t,
                                 "score": ev.score(bl.en_dev(pool, cands, ev.source, ev.dev), t),
                                 "kendall": _kendall(en, gold), "n_ranked": len(cands)})  # fmt: skip
                rows.append({"method": gname, "n_models": str(size), "target": t,
                             "score": ev.score(ev.lms_pick(g, t), t),
                             "kendall": _kendall(np.asarray(g.scores[t]["meta-test"]), gold),
                             "n_ranked": len(cands)})  # fmt: skip
        first = False
    return pd.DataFrame(rows)


def nmodels_steps(nmodels: Mapping) -> str:
    """ "n: steps" per meta-train size (summed over candidate groups): the scorer's training grows
    with the number of pairs, about n²."""
    return ", ".join(
        f"{size}: {sum(int(g.get('steps', 0)) for g in entry['groups'].values())}"
        for size, entry in nmodels["sizes"].items()
    )


def nmodels_table(pool: Pool, nmodels: Mapping) -> pd.DataFrame:
    """Table 10: rows En-Dev and each meta-train size, columns targets (test score) and mean."""
    rec = nmodels_records(pool, nmodels)
    wide = rec.pivot_table(
        index=["method", "n_models"], columns="target", values="score", sort=False
    )
    wide = wide[[t for t in nmodels["targets"] if t in wide.columns]]
    wide["mean"] = wide.mean(axis=1)
    return wide.reset_index().rename_axis(columns=None)


# below these, the figures say on themselves that they mean little: Kendall τ of a scorer trained
# on a handful of models, over a handful of candidates, and a density of a handful of scores
MIN_META_TRAIN = 10
MIN_RANKED = 10


def kendall_figure(pool: Pool, nmodels: Mapping, path: str | Path) -> None:
    """Figure 4: Kendall τ between LMS's and the gold (target test) ranking of the meta-test
    candidates vs the number of meta-train models; En-Dev's τ dashed. One panel per target. A
    caution on the figure when LMS had fewer than :data:`MIN_META_TRAIN` meta-train models or τ
    ranks fewer than :data:`MIN_RANKED` candidates."""
    rec = nmodels_records(pool, nmodels)
    cells = rec[["method", "target"]].drop_duplicates().values.tolist()
    plt, fig, axes, cells = _panels(cells, sharey=True)
    for (method, target), ax in zip(cells, axes, strict=False):
        sub = rec[(rec["method"] == method) & (rec["target"] == target)]
        lms = sub[sub["n_models"] != "En-Dev"]
        sizes = lms["n_models"].astype(int).to_numpy()
        ax.plot(sizes, lms["kendall"], "o-", color="tab:red", label="LMS")
        en = sub[sub["n_models"] == "En-Dev"]["kendall"]
        if len(en):
            ax.axhline(float(en.iloc[0]), color="tab:blue", ls="--", label="En-Dev")
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(n) for n in sizes])
        ax.minorticks_off()
        if len(sizes):
            ax.set_xlim(sizes.min() / 1.5, sizes.max() * 1.5)
        ax.set_ylim(-1.08, 1.08)
        if lms["kendall"].isna().all():
            ax.text(0.5, 0.5, "τ undefined:\nunder 2 candidates\nor tied scores", ha="center",
                    va="center", fontsize=7, color="0.4", transform=ax.transAxes)  # fmt: skip
        ax.set_title(_panel_title(method, target), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    legend_outside(fig, axes)
    fig.supxlabel("meta-train models", fontsize=8)
    fig.supylabel("Kendall τ vs gold test ranking (meta-test)", fontsize=8)
    sizes = rec.loc[rec["n_models"] != "En-Dev", "n_models"].astype(int)
    notes = [
        too_few(int(sizes.max()) if len(sizes) else 0, MIN_META_TRAIN, "meta-train models at most",
                "LMS's scorer learns little from so few models, so its τ means little"),
        too_few(int(rec["n_ranked"].min()) if len(rec) else 0, MIN_RANKED, "meta-test candidates ranked",
                "τ over so few candidates takes a few coarse values (over two: ±1 only)"),
    ]  # fmt: skip
    if any(notes):
        caution(fig, " ".join(n for n in notes if n))
    save(fig, path)


# --------------------------------------------------------------------------------------------
# Figures 2-3


def kde_figure(pool: Pool, main: Mapping, path: str | Path) -> None:
    """Figures 2-3: kernel density of the meta-test candidates' target test scores, with the
    En-Dev (blue, dashed) and LMS (red) selections marked. One panel per group and target; a
    caution on the figure when a panel has fewer than :data:`MIN_RANKED` candidates."""
    from scipy.stats import gaussian_kde

    ev = _Eval(pool, main["source"])
    groups = _load_groups(main)
    cells = [[name, t] for name, g in groups.items() for t in main["targets"] if t in g.scores]
    plt, fig, axes, cells = _panels(cells)
    smallest = len(pool.table)
    for (name, t), ax in zip(cells, axes, strict=False):
        g = groups[name]
        cands = ev.idx(g.split["meta-test"])
        y = ev.test[cands, pool.lang_index(t)]
        if len(np.unique(y)) > 1:
            try:
                xs = np.linspace(y.min() - 1, y.max() + 1, 200)
                ax.plot(xs, gaussian_kde(y)(xs), color="0.3")
            except np.linalg.LinAlgError:
                pass
        ax.plot(y, np.zeros_like(y), "|", color="0.5", ms=6)
        en = ev.score(bl.en_dev(pool, cands, ev.source, ev.dev), t)
        ax.axvline(en, color="tab:blue", ls="--", label="En-Dev")
        ax.axvline(ev.score(ev.lms_pick(g, t), t), color="tab:red", label="LMS")
        ax.set_title(_panel_title(name, t), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
        smallest = min(smallest, len(cands))
    legend_outside(fig, axes)
    fig.supxlabel(f"target test {_metric(pool)} (%)", fontsize=8)
    note = too_few(smallest if cells else 0, MIN_RANKED, "meta-test candidates in a panel",
                   "a density over so few scores is a rough sketch")  # fmt: skip
    if note:
        caution(fig, note)
    save(fig, path)


def _panel_title(method: str, target: str) -> str:
    return f"{target} ({method})"


def _panels(cells: list, sharey: bool = False):
    plt = pyplot()

    n = max(1, len(cells))
    ncol = min(5, n)
    nrow = math.ceil(n / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.4 * ncol, 2.0 * nrow + 0.4), dpi=120,
                             squeeze=False, sharey=sharey)  # fmt: skip
    flat = list(axes.ravel())
    for ax in flat[len(cells) :]:
        ax.axis("off")
    return plt, fig, flat[: len(cells)] or flat[:1], cells


# --------------------------------------------------------------------------------------------
# one entry point per output, for the workflow scripts

TABLE_TITLES = {
    "selection": "Model selection for zero-shot transfer (LMS, Chen & Ritter Table 2)",
    "features": "LMS model-feature ablation (Chen & Ritter Table 3)",
    "langvec": "LMS language-feature ablation (Chen & Ritter Table 4)",
    "runs": "LMS over repeated runs, z-test against En-Dev (Chen & Ritter Table 7)",
    "nmodels": "LMS with fewer meta-train models (Chen & Ritter Table 10)",
}


def write_study_table(
    name: str,
    pool: Pool,
    docs: Mapping[str, Mapping],
    cfg: LMSConfig,
    csv_path: str | Path,
    md_path: str | Path,
    task: str,
) -> pd.DataFrame:
    """Compute table ``name`` (a key of :data:`TABLE_TITLES`) from the study's JSON documents
    ``docs`` (``main``, ``ablation``, ``runs``, ``nmodels`` as needed) and write CSV + Markdown."""
    from xlt.tables import write_markdown, write_table

    title = f"{TABLE_TITLES[name]}: {task}"
    main = docs.get("main")
    if name == "selection":
        df, notes = selection_table(pool, main, cfg), selection_notes(pool, main, cfg)
    elif name in ("features", "langvec"):
        df = ablation_table(pool, main, docs["ablation"], cfg, name)
        notes = ablation_notes(pool, cfg, name)
    elif name == "runs":
        df = runs_table(pool, docs["runs"], cfg)
        write_table(df, csv_path, None)
        write_markdown(md_path, runs_markdown(df, cfg, title))
        return df
    elif name == "nmodels":
        df = nmodels_table(pool, docs["nmodels"])
        notes = (
            f"Target test {_metric(pool)} (%) of the candidate LMS selects among the meta-test "
            "candidates when trained on the first n of a seeded shuffle of the meta-train "
            "candidates (hyper-parameters of the full run reused); En-Dev for reference. Adam "
            "steps of the scorers (all folds; the full size includes its search) per size: "
            + nmodels_steps(docs["nmodels"])
        )
    else:
        raise ValueError(f"unknown LMS table {name!r}; use one of {sorted(TABLE_TITLES)}")
    write_table(df, csv_path, md_path, title, notes)
    return df


def write_study_figure(name: str, pool: Pool, docs: Mapping[str, Mapping], path: str | Path) -> None:  # fmt: skip
    """Figure ``kde`` (from ``docs["main"]``) or ``kendall`` (from ``docs["nmodels"]``)."""
    if name == "kde":
        kde_figure(pool, docs["main"], path)
    elif name == "kendall":
        kendall_figure(pool, docs["nmodels"], path)
    else:
        raise ValueError(f"unknown LMS figure {name!r}; use kde or kendall")


STUDY_STEPS = {"main": run_main, "runs": run_repeats, "ablation": run_ablations,
               "nmodels": run_nmodels}  # fmt: skip


def run_study_step(step: str, pool: Pool, cfg: LMSConfig, source: str, targets: Sequence[str],
                   main: Mapping | None = None, workers: int = 1) -> dict[str, Any]:  # fmt: skip
    """One step of the study (``main``, ``runs``, ``ablation``, ``nmodels``); all but ``main``
    reuse the main run's document ``main``. ``workers``: scorer-training processes (results do
    not depend on it)."""
    if step == "main":
        return {**run_main(pool, cfg, source, targets, workers), "step": step}
    if step not in STUDY_STEPS:
        raise ValueError(f"unknown LMS step {step!r}; use one of {sorted(STUDY_STEPS)}")
    if main is None:
        raise ValueError(f"LMS step {step!r} needs the main run's results")
    return {**STUDY_STEPS[step](pool, cfg, source, targets, main, workers), "step": step}
