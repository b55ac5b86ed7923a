"""Projection quality on the synthetic world, where gold target labels are known.

For every target language and MT-noise level, the English NER training sentences are translated
by the synthetic engine (which also returns the gold target tags and the gold word alignment),
aligned with fast_align, and projected with both strategies. The table reports the alignment's
link precision/recall/AER against the gold alignment and the span F1 (seqeval default mode) of
the projected tags against the gold target tags -- with fast_align links and, as an upper bound,
with the gold links. Sentences a policy drops count as all-``O`` predictions, so every cell is
scored on the same sentences.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..io import atomic_open
from ..metrics import ner_scores
from .align import AlignConfig, Pair, align, alignment_scores
from .backends import NoiseLevel, SourceItem, SyntheticTranslator, as_items
from .project import STRATEGIES, ProjectionPolicy, convert, project_ner

log = logging.getLogger(__name__)

ABBREV = {"word-to-word": "w2w", "span-to-span": "s2s"}


@dataclass(frozen=True)
class QualityConfig:
    """Which languages and noise levels to measure (``translate.quality``)."""

    targets: tuple[str, ...] = ()
    noise: tuple[str, ...] = ("none", "low", "high")
    max_sentences: int = 0  # 0: all English training sentences

    @classmethod
    def from_config(
        cls, cfg: Mapping[str, Any] | None, default_targets: Sequence[str] = ()
    ) -> QualityConfig:
        cfg = dict(cfg or {})
        unknown = set(cfg) - {"targets", "noise", "max_sentences"}
        if unknown:
            raise ValueError(f"translate.quality: unknown keys {sorted(unknown)}")
        return cls(
            targets=tuple(cfg.get("targets") or default_targets),
            noise=tuple(cfg.get("noise", cls.noise)),
            max_sentences=int(cfg.get("max_sentences", 0)),
        )


def measure_one(
    items: Sequence[SourceItem],
    translator: SyntheticTranslator,
    lang: str,
    align_cfg: AlignConfig,
    policy: ProjectionPolicy,
    extra: Sequence[Pair] = (),
    src: str = "en",
) -> dict[str, Any]:
    """One table row: alignment scores and projected-label F1 for one language and noise level."""
    trs = translator.translate(items, src, lang)
    if any(tr.gold is None or tr.gold.get("alignment") is None for tr in trs):
        raise ValueError(f"{lang}: the synthetic engine returned no gold alignment")
    links = align(
        [(it.tokens, tr.tokens) for it, tr in zip(items, trs, strict=True)], align_cfg, extra
    )
    gold_links = [tr.gold["alignment"] for tr in trs]
    gold_tags = [list(tr.gold["tags"]) for tr in trs]
    a = alignment_scores(links, gold_links)
    ent_links = [_entity_links(it, p, g) for it, p, g in zip(items, links, gold_links, strict=True)]
    ent = alignment_scores([p for p, _ in ent_links], [g for _, g in ent_links])
    row: dict[str, Any] = {
        "lang": lang,
        "order": translator.world.profiles[lang].order,
        "noise": translator.noise.name,
        "sentences": len(items),
        "align_P": a["precision"],
        "align_R": a["recall"],
        "AER": a["aer"],
        "align_R_ent": ent["recall"],
    }
    for alignment, L in (("fast_align", links), ("gold", gold_links)):
        for strategy in STRATEGIES:
            stats: Counter = Counter()
            pred = []
            for it, tr, lk in zip(items, trs, L, strict=True):
                tags = project_ner(it.tags, len(tr.tokens), lk, strategy, policy, stats)
                pred.append(["O"] * len(tr.tokens) if tags is None else convert(tags, "bio"))
            col = ABBREV[strategy] + ("" if alignment == "fast_align" else "_gold")
            row[f"{col}_F1"] = ner_scores(gold_tags, pred)["f1"]
            if alignment == "fast_align":
                lost = sum(v for k, v in stats.items() if k.startswith("spans_dropped"))
                row[f"{col}_lost"] = 100 * lost / max(1, stats["spans_source"])
    row["s2s-w2w"] = row["s2s_F1"] - row["w2w_F1"]
    return row


def _entity_links(item: SourceItem, pred, gold) -> tuple[list, list]:
    """The links of source words inside an entity (alignment recall where projection needs it)."""
    ent = {i for i, t in enumerate(item.tags) if t != "O"}
    return [x for x in pred if x[0] in ent], [x for x in gold if x[0] in ent]


def projection_quality(
    records: Sequence[Mapping[str, Any]],
    world,
    cfg: QualityConfig,
    align_cfg: AlignConfig,
    policy: ProjectionPolicy,
    noise_levels: Mapping[str, Mapping[str, float]] | None = None,
    extra: Mapping[str, Sequence[Pair]] | None = None,
    seed: int = 1,
    src: str = "en",
) -> pd.DataFrame:
    """The projection-quality table: one row per target language x noise level.

    ``records`` are English synthetic NER records with frames; ``extra`` maps a language to
    additional bitext for the aligner (e.g. the world's synth-parallel pairs).
    """
    items = as_items(records, src)
    if cfg.max_sentences:
        items = items[: cfg.max_sentences]
    if not items:
        raise ValueError("projection quality: no source sentences")
    rows = []
    for lang in cfg.targets:
        for noise in cfg.noise:
            translator = SyntheticTranslator(world, NoiseLevel.named(noise, noise_levels), seed)
            row = measure_one(
                items, translator, lang, align_cfg, policy, (extra or {}).get(lang, ()), src
            )
            log.info("projection quality %s/%s: %s", lang, noise, row)
            rows.append(row)
    return pd.DataFrame(rows)


def quality_notes(policy: ProjectionPolicy) -> str:
    return (
        "Synthetic engine: English NER training sentences re-realised in each target language "
        "with MT noise none/low/high (dropped/substituted/swapped words). align_P/align_R/AER: "
        "fast_align (symmetrised) links vs the gold alignment, %; align_R_ent: recall of the gold "
        "links of entity words. w2w/s2s_F1: span F1 (seqeval default mode) of word-to-word / "
        "span-to-span projected tags vs the gold target tags, with fast_align links; *_gold_F1: "
        "with the gold links (upper bound). *_lost: % of source entity spans not projected "
        f"(unaligned, too wide, overlapping). Policy: unaligned={policy.unaligned}, "
        f"overlap={policy.overlap}, max_ratio={policy.max_ratio:g}, slack={policy.slack}; "
        "dropped sentences count as all-O."
    )


def quality_figure(df: pd.DataFrame, path: str | Path) -> None:
    """Grouped bars per language: strategy x noise (fast_align), gold-alignment F1 as ticks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    langs = list(dict.fromkeys(df["lang"]))
    noises = list(dict.fromkeys(df["noise"]))
    groups = [(s, n) for s in STRATEGIES for n in noises]
    width = 0.8 / len(groups)
    colours = {"word-to-word": plt.cm.Oranges, "span-to-span": plt.cm.Blues}
    fig, ax = plt.subplots(figsize=(3.6 + 1.0 * len(langs), 3.8), dpi=120)
    x = np.arange(len(langs))
    for k, (strategy, noise) in enumerate(groups):
        shade = 0.45 + 0.45 * (noises.index(noise) / max(1, len(noises) - 1))
        sub = df[df["noise"] == noise].set_index("lang").reindex(langs)
        pos = x - 0.4 + width * (k + 0.5)
        col = ABBREV[strategy]
        ax.bar(
            pos,
            sub[f"{col}_F1"],
            width,
            color=colours[strategy](shade),
            label=f"{strategy}, noise {noise}",
        )
        ax.scatter(
            pos,
            sub[f"{col}_gold_F1"],
            marker="_",
            s=60,
            color="black",
            zorder=3,
            label="gold alignment" if k == 0 else None,
        )
    orders = df.drop_duplicates("lang").set_index("lang")["order"].reindex(langs)
    ax.set_xticks(x, [f"{lang}\n{o}" for lang, o in zip(langs, orders, strict=True)])
    ax.set_ylabel("span F1 of projected labels (%)")
    ax.set_ylim(0, 105)
    ax.set_title("Projected-label quality (fast_align links)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png")
    plt.close(fig)
