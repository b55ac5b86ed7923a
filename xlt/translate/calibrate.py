"""How honest is the synthetic translator? Its noise model measured against a real engine.

The synthetic engine (:class:`~xlt.translate.backends.SyntheticTranslator`) corrupts a perfect
re-realisation with dropped, substituted and swapped words. Whether that resembles real MT
errors is an empirical question: this module computes the same statistics for any engine's output
on the same English sentences, from the same fast_align alignment, so a synthetic noise level can
be calibrated against a real engine (Apertium, the one installable offline).

Statistics of a translated corpus (:func:`mt_statistics`; tokens made only of punctuation are
left out of every word count):

- ``src_aligned``: fraction of source words with at least one link -- the words whose
  translation survived in a form the aligner recognises;
- ``tgt_aligned``: fraction of target words with at least one link;
- ``kendall``: reordering, the Kendall tau distance between source order and aligned target
  order (per sentence: the fraction of pairs of aligned source words whose mean target positions
  are in the opposite order; mean over sentences with at least two aligned words);
- ``length_ratio``: target tokens / source tokens (corpus totals);
- ``copied``: fraction of source words that occur verbatim (case-insensitive) in the target;
- ``ent_verbatim``: fraction of source entity spans whose words occur as one contiguous run in
  the target (names passed through unchanged);
- ``ent_aligned``: fraction of source entity spans with at least one aligned word;
- ``s2s_projected``: fraction of source entity spans that span-to-span projection projects
  (not unaligned, too wide, or lost to an overlap; the policy's ``unaligned`` setting is
  ``drop-span`` here so that every sentence counts);
- ``s2s_exact``/``w2w_exact``: a gold-free check of projected spans. Among the source entity
  spans that occur verbatim exactly once in the target (names passed through, so their target
  span is known without gold labels), the fraction that the strategy projects onto exactly that
  run of words with the right type. It needs no target labels, so it is measured the same way
  for a real engine and for the synthetic one (where it can be set beside the gold F1).

On the synthetic world, where the engine also returns gold tags, ``s2s_F1``/``w2w_F1`` score the
projected labels (see :mod:`xlt.translate.quality`).

:func:`calibrate` searches a grid of noise levels for the one whose statistics are nearest to a
reference's (a real engine's on the same sentences); :func:`honesty_report` runs the whole
comparison: ``python -m xlt.translate.calibrate --help``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from ..io import atomic_open
from ..metrics import ner_scores
from .align import AlignConfig, Link, align
from .backends import NoiseLevel, SourceItem, SyntheticTranslator, Translation, Translator
from .project import ProjectionPolicy, convert, project_ner, spans_of

log = logging.getLogger(__name__)

#: statistics compared when calibrating on the same sentences (each in [0, 1])
CALIBRATION_STATS = ("copied", "ent_verbatim", "kendall", "s2s_exact", "w2w_exact")
#: statistics comparable across corpora (calibrating to a real engine on real sentences):
#: ``copied`` depends on how many names a corpus has, so it is left out
PORTABLE_STATS = ("ent_verbatim", "kendall", "s2s_exact", "w2w_exact", "s2s_projected")
#: the default search grid of the synthetic engine's noise probabilities
DEFAULT_GRID: dict[str, tuple[float, ...]] = {
    "drop": (0.0, 0.05, 0.10, 0.15, 0.20, 0.30),
    "substitute": (0.0, 0.10, 0.20, 0.30, 0.45),
    "reorder": (0.0, 0.05, 0.10, 0.20, 0.30),
}


def _word(token: str) -> bool:
    return not all(unicodedata.category(c)[0] in "PS" for c in token)


def kendall_distance(links: Sequence[Sequence[int]]) -> tuple[int, int]:
    """(discordant pairs, pairs) of the aligned source words of one sentence: each aligned
    source word is placed at the mean of its target positions; a pair is discordant when the
    later source word lands strictly earlier."""
    by_src: dict[int, list[int]] = {}
    for i, j in links:
        by_src.setdefault(int(i), []).append(int(j))
    pos = [sum(v) / len(v) for _, v in sorted(by_src.items())]
    pairs = len(pos) * (len(pos) - 1) // 2
    disc = sum(1 for a, b in itertools.combinations(range(len(pos)), 2) if pos[a] > pos[b])
    return disc, pairs


def _occurrences(span: Sequence[str], target: Sequence[str]) -> list[int]:
    """Start positions of ``span`` as a contiguous run of ``target``."""
    n = len(span)
    return [k for k in range(len(target) - n + 1) if list(target[k : k + n]) == list(span)]


def mt_statistics(
    sources: Sequence[Sequence[str]],
    tags: Sequence[Sequence[str]],
    targets: Sequence[Sequence[str]],
    links: Sequence[Sequence[Link]],
    policy: ProjectionPolicy | None = None,
) -> dict[str, float]:
    """The statistics of the module docstring for one translated corpus."""
    if not (len(sources) == len(tags) == len(targets) == len(links)):
        raise ValueError("sources, tags, targets and links must have one entry per sentence")
    policy = replace(policy or ProjectionPolicy(), unaligned="drop-span")
    c: Counter = Counter()
    tau: list[float] = []
    for src, tg, tgt, lk in zip(sources, tags, targets, links, strict=True):
        s_words = [i for i, t in enumerate(src) if _word(t)]
        t_words = [j for j, t in enumerate(tgt) if _word(t)]
        s_linked = {i for i, _ in lk}
        t_linked = {j for _, j in lk}
        lower_tgt = [t.lower() for t in tgt]
        c["src_words"] += len(s_words)
        c["tgt_words"] += len(t_words)
        c["src_tokens"] += len(src)
        c["tgt_tokens"] += len(tgt)
        c["src_aligned"] += sum(i in s_linked for i in s_words)
        c["tgt_aligned"] += sum(j in t_linked for j in t_words)
        c["copied"] += sum(src[i].lower() in lower_tgt for i in s_words)
        disc, pairs = kendall_distance(lk)
        if pairs:
            tau.append(disc / pairs)
        projected = {
            strategy: set(spans_of(project_ner(tg, len(tgt), lk, strategy, policy, counts) or []))
            for strategy, counts in (("span-to-span", c), ("word-to-word", Counter()))
        }
        for typ, a, b in spans_of(tg):
            c["spans"] += 1
            c["ent_aligned"] += any(i in s_linked for i in range(a, b + 1))
            found = _occurrences([t.lower() for t in src[a : b + 1]], lower_tgt)
            c["ent_verbatim"] += bool(found)
            if len(found) == 1:
                c["unique_verbatim"] += 1
                where = (typ, found[0], found[0] + b - a)
                c["s2s_exact"] += where in projected["span-to-span"]
                c["w2w_exact"] += where in projected["word-to-word"]

    def frac(num: str, den: str) -> float:
        return c[num] / c[den] if c[den] else math.nan

    return {
        "sentences": len(sources),
        "src_aligned": frac("src_aligned", "src_words"),
        "tgt_aligned": frac("tgt_aligned", "tgt_words"),
        "kendall": sum(tau) / len(tau) if tau else math.nan,
        "length_ratio": frac("tgt_tokens", "src_tokens"),
        "copied": frac("copied", "src_words"),
        "ent_verbatim": frac("ent_verbatim", "spans"),
        "ent_aligned": frac("ent_aligned", "spans"),
        "s2s_projected": frac("spans_projected", "spans_source"),
        "s2s_exact": frac("s2s_exact", "unique_verbatim"),
        "w2w_exact": frac("w2w_exact", "unique_verbatim"),
        "entity_spans": c["spans"],
        "verbatim_spans": c["unique_verbatim"],
    }


def measure(
    items: Sequence[SourceItem],
    translations: Sequence[Translation],
    align_cfg: AlignConfig | None = None,
    policy: ProjectionPolicy | None = None,
) -> dict[str, float]:
    """Align ``items`` with their ``translations`` (fast_align, trained on these pairs only) and
    compute :func:`mt_statistics`; with the synthetic engine's gold, also the gold-link survival
    and the span F1 of both projection strategies against the gold target tags."""
    policy = policy or ProjectionPolicy()
    links = align(
        [(it.tokens, tr.tokens) for it, tr in zip(items, translations, strict=True)], align_cfg
    )
    srcs = [it.tokens for it in items]
    tgts = [tr.tokens for tr in translations]
    row = mt_statistics(srcs, [it.tags for it in items], tgts, links, policy)
    if translations and all(
        tr.gold and tr.gold.get("alignment") is not None for tr in translations
    ):
        gold_links = [[tuple(x) for x in tr.gold["alignment"]] for tr in translations]
        gold_stats = mt_statistics(srcs, [it.tags for it in items], tgts, gold_links, policy)
        row["src_aligned_gold"] = gold_stats["src_aligned"]
        row["kendall_gold"] = gold_stats["kendall"]
        gold_tags = [list(tr.gold["tags"]) for tr in translations]
        for strategy, col in (("span-to-span", "s2s_F1"), ("word-to-word", "w2w_F1")):
            pred = []
            for it, tr, lk in zip(items, translations, links, strict=True):
                tags = project_ner(it.tags, len(tr.tokens), lk, strategy, policy)
                pred.append(["O"] * len(tr.tokens) if tags is None else convert(tags, "bio"))
            row[col] = ner_scores(gold_tags, pred)["f1"] / 100
    return row


def distance(a: Mapping[str, float], b: Mapping[str, float], keys: Sequence[str] = CALIBRATION_STATS) -> float:  # fmt: skip
    """Euclidean distance between two statistics rows over ``keys``."""
    return math.sqrt(sum((float(a[k]) - float(b[k])) ** 2 for k in keys))


def calibrate(
    reference: Mapping[str, float],
    items: Sequence[SourceItem],
    world,
    tgt: str,
    grid: Mapping[str, Sequence[float]] | None = None,
    *,
    align_cfg: AlignConfig | None = None,
    policy: ProjectionPolicy | None = None,
    seed: int = 1,
    keys: Sequence[str] = CALIBRATION_STATS,
    src: str = "en",
) -> pd.DataFrame:
    """Statistics of the synthetic engine at every noise level of ``grid`` (drop x substitute x
    reorder) on ``items`` (synthetic-world records with frames), each with its ``distance`` to
    ``reference``; sorted nearest first."""
    grid = dict(DEFAULT_GRID if grid is None else grid)
    rows = []
    combos = list(itertools.product(grid["drop"], grid["substitute"], grid["reorder"]))
    for drop, sub, reo in combos:
        noise = NoiseLevel(f"d{drop:g}-s{sub:g}-r{reo:g}", drop, sub, reo)
        trs = SyntheticTranslator(world, noise, seed).translate(items, src, tgt)
        row = {"drop": drop, "substitute": sub, "reorder": reo}
        row.update(measure(items, trs, align_cfg, policy))
        row["distance"] = distance(row, reference, keys)
        rows.append(row)
    return pd.DataFrame(rows).sort_values("distance", kind="stable").reset_index(drop=True)


# =============================================================================================
# the whole comparison (python -m xlt.translate.calibrate)


@dataclass(frozen=True)
class HonestyInputs:
    """What :func:`honesty_report` compares: English synthetic-world records (with frames) and
    optionally real English records (WikiANN), a real engine per target, the levels to show."""

    synthetic: Sequence[Mapping[str, Any]]
    real: Sequence[Mapping[str, Any]] = ()
    levels: Mapping[str, Mapping[str, float]] | None = None


def honesty_report(
    inputs: HonestyInputs,
    world,
    tgt: str,
    engine: Translator,
    *,
    grid: Mapping[str, Sequence[float]] | None = None,
    align_cfg: AlignConfig | None = None,
    policy: ProjectionPolicy | None = None,
    seed: int = 1,
    src: str = "en",
    progress: Callable[[str], None] = log.info,
) -> dict[str, Any]:
    """Measure ``engine`` on the synthetic English and on the real English, the synthetic engine
    at each named level, and the calibration grid; returns ``{"rows": [...], "grid": [...],
    "best": {...}}`` (rows: one per engine x corpus)."""
    from .backends import DEFAULT_NOISE_LEVELS, as_items

    syn = as_items(inputs.synthetic, src)
    rows = []
    t0 = time.perf_counter()
    trs = engine.translate(syn, src, tgt)
    rows.append(
        {"corpus": "synthetic-en", "engine": engine.name, **measure(syn, trs, align_cfg, policy)}
    )
    progress(f"{engine.name} on synthetic English: {rows[-1]} ({time.perf_counter() - t0:.0f} s)")
    if inputs.real:
        real = as_items(inputs.real, src)
        trs = engine.translate(real, src, tgt)
        rows.append(
            {"corpus": "real-en", "engine": engine.name, **measure(real, trs, align_cfg, policy)}
        )
        progress(f"{engine.name} on real English: {rows[-1]}")
    for name, spec in (inputs.levels or DEFAULT_NOISE_LEVELS).items():
        noise = NoiseLevel.named(name, inputs.levels or DEFAULT_NOISE_LEVELS)
        trs = SyntheticTranslator(world, noise, seed).translate(syn, src, tgt)
        row = {"corpus": "synthetic-en", "engine": f"synthetic-{name}", **spec}
        rows.append({**row, **measure(syn, trs, align_cfg, policy)})
        progress(f"synthetic {name}: {rows[-1]}")
    table = calibrate(
        rows[0], syn, world, tgt, grid, align_cfg=align_cfg, policy=policy, seed=seed, src=src
    )
    best = table.iloc[0].to_dict()
    progress(f"nearest synthetic level (same sentences): {best}")
    out = {"rows": rows, "grid": table.to_dict("records"), "best": best}
    if inputs.real:  # the same grid, distances to the real-English row on portable statistics
        table["distance_real"] = [distance(r, rows[1], PORTABLE_STATS) for _, r in table.iterrows()]
        out["best_real"] = table.sort_values("distance_real", kind="stable").iloc[0].to_dict()
        out["grid"] = table.to_dict("records")
        progress(f"nearest synthetic level (real English): {out['best_real']}")
    return out


def _main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m xlt.translate.calibrate",
        description="Measure the synthetic translator's noise against Apertium on the same English "
        "sentences and find the synthetic noise level nearest to it.",
    )
    p.add_argument(
        "--tgt", default="es", help="target language (an Apertium pair and a world language)"
    )
    p.add_argument("--sentences", type=int, default=2000, help="English sentences of each corpus")
    p.add_argument(
        "--wikiann", default="", help="WikiANN English train file (real English; optional)"
    )
    p.add_argument("--world-seed", type=int, default=1)
    p.add_argument("--seed", type=int, default=1, help="seed of the synthetic engine")
    p.add_argument(
        "--out", required=True, help="JSON file for the rows, the grid and the best level"
    )
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import random

    from ..world import World
    from ..world.grammar import tagging_frame
    from .backends import ApertiumConfig
    from .local import ApertiumTranslator

    world = World((args.tgt,), seed=args.world_seed)
    # the English NER training records exactly as the world generator makes them
    rng = random.Random(f"{args.world_seed}:tagging:en:train")
    synthetic = []
    for i in range(args.sentences):
        frame = tagging_frame(rng)
        s = world.realise(frame, "en", rng)
        synthetic.append(
            {"id": f"en-train-{i:06d}", "tokens": s.tokens, "tags": s.ner, "frame": frame}
        )
    real: list[Mapping[str, Any]] = []
    if args.wikiann:
        from ..data.readers import read_file

        real = read_file("wikiann", args.wikiann, lang="en", split="train")[: args.sentences]
    engine = ApertiumTranslator(ApertiumConfig(), pair=("en", args.tgt))
    report = honesty_report(HonestyInputs(synthetic, real), world, args.tgt, engine, seed=args.seed)
    report["engine_version"] = engine.version
    with atomic_open(args.out, "w") as fh:
        json.dump(report, fh, indent=1, default=float)
    print(json.dumps({"rows": report["rows"], "best": report["best"]}, indent=1, default=float))


if __name__ == "__main__":
    _main()
