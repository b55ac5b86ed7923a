"""The synthetic multilingual world: languages, and the datasets generated from shared frames."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..io import write_json, write_jsonl
from .grammar import (
    NER_LABELS,
    NER_TYPES,
    SENTIMENT_LABELS,
    UPOS_LABELS,
    Frame,
    Noise,
    Realiser,
    Sentence,
    sentiment_frame,
    sentiment_of,
    tagging_frame,
)
from .lexicon import Lexicon, make_lexicon
from .profiles import Profile, load_profiles

DATASETS = ("synth-ner", "synth-pos", "synth-sentiment", "synth-parallel", "synth-text")
LABELS = {"synth-ner": NER_LABELS, "synth-pos": UPOS_LABELS, "synth-sentiment": SENTIMENT_LABELS}
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class WorldConfig:
    """What to generate (all sizes are sentences per language)."""

    languages: tuple[str, ...]
    seed: int = 1
    source: str = "en"
    sizes: Mapping[str, int] = field(default_factory=lambda: {"train": 2000, "dev": 300, "test": 500})  # fmt: skip
    unlabelled: int = 20000
    parallel: int = 2000
    sentiment_priors: Mapping[str, Any] = field(default_factory=dict)
    entity_priors: Mapping[str, Any] = field(default_factory=dict)
    profiles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> WorldConfig:
        kw = dict(cfg)
        kw["languages"] = tuple(kw["languages"])
        return cls(**kw)


class World:
    """Lexicons and realisers of a set of languages, deterministic for a seed."""

    def __init__(self, languages: Iterable[str], seed: int = 1, profiles=None):
        self.seed = seed
        wanted = list(dict.fromkeys(["en", *languages]))
        self.profiles: dict[str, Profile] = load_profiles(wanted, profiles)
        self.lexicons: dict[str, Lexicon] = {}
        for code in self.profiles:
            self._lexicon(code, ())
        self.realisers = {c: Realiser(self.lexicons[c], self.lexicons["en"]) for c in self.profiles}

    def _lexicon(self, code: str, chain: tuple[str, ...]) -> Lexicon:
        if code in self.lexicons:
            return self.lexicons[code]
        if code in chain:
            raise ValueError(f"world profiles: parent cycle {' -> '.join(chain + (code,))}")
        prof = self.profiles[code]
        parent = self._lexicon(prof.parent, chain + (code,)) if prof.parent else None
        self.lexicons[code] = make_lexicon(prof, self.seed, parent)
        return self.lexicons[code]

    def realise(
        self,
        frame: Frame,
        lang: str,
        rng: random.Random,
        *,
        code_switch: float = 0.0,
        noise: Noise | None = None,
    ) -> Sentence:
        if lang not in self.realisers:
            raise ValueError(f"language {lang!r} is not in this world ({sorted(self.realisers)})")
        return self.realisers[lang].realise(frame, rng, code_switch=code_switch, noise=noise)


def gold_alignment(src: Sentence, tgt: Sentence) -> list[tuple[int, int]]:
    """Token pairs whose realisations express a common frame node."""
    return [
        (i, j) for i, a in enumerate(src.slots) for j, b in enumerate(tgt.slots) if set(a) & set(b)
    ]


def _spec(priors: Mapping[str, Any], lang: str, split: str, labels: tuple[str, ...], key: str):
    """The ``{label: weight}`` of one language and split: its own split's, else its own default,
    else the world's default, else every label at 1 (validated: known labels, numbers >= 0)."""
    pri = dict(priors)
    spec = pri.get("default", {label: 1.0 for label in labels})
    per_lang = pri.get(lang, {})
    spec = per_lang.get(split, per_lang.get("default", spec)) if per_lang else spec
    unknown = sorted(set(spec) - set(labels))
    if unknown:
        raise ValueError(
            f"world.{key} ({lang}/{split}): unknown label(s) {unknown}; labels are {list(labels)}"
        )
    if any(not isinstance(v, int | float) or v < 0 for v in spec.values()):
        raise ValueError(f"world.{key} ({lang}/{split}): weights must be numbers >= 0")
    if sum(spec.values()) <= 0:
        raise ValueError(f"world.{key} ({lang}/{split}): all weights are 0")
    return spec


def _priors(cfg: WorldConfig, lang: str, split: str) -> dict[str, float]:
    """Sentiment class priors of one language and split (normalised)."""
    spec = _spec(cfg.sentiment_priors, lang, split, SENTIMENT_LABELS, "sentiment_priors")
    total = sum(spec.values())
    return {k: spec.get(k, 0.0) / total for k in SENTIMENT_LABELS}


def _entity_weights(cfg: WorldConfig, lang: str, split: str) -> dict[str, float] | None:
    """Entity-type weights of one language and split relative to the world's own frequencies
    (a type not named keeps 1); None when every weight is 1, so generation is untouched."""
    spec = _spec(cfg.entity_priors, lang, split, NER_TYPES, "entity_priors")
    weights = {t: float(spec.get(t, 1.0)) for t in NER_TYPES}
    return None if all(w == 1.0 for w in weights.values()) else weights


def _keep(tags: list[str], weights: dict[str, float], rng: random.Random) -> bool:
    """Rejection step of entity-type shift: keep a tagging sentence with probability w(s) / max w,
    w(s) the mean weight of its entity mentions (1 for a sentence without one), so each type's
    share of the mentions moves in proportion to its weight."""
    mentions = [weights[t[2:]] for t in tags if t.startswith("B-")]
    w = sum(mentions) / len(mentions) if mentions else 1.0
    return rng.random() * max(1.0, *weights.values()) < w


def _sentiment_labels(rng: random.Random, priors: dict[str, float], n: int) -> list[str]:
    """Exactly ``round(n * prior)`` examples per class (largest remainders), shuffled."""
    raw = {k: n * v for k, v in priors.items()}
    counts = {k: int(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: raw[k] - counts[k], reverse=True)[
        : n - sum(counts.values())
    ]:
        counts[k] += 1
    labels = [k for k, c in counts.items() for _ in range(c)]
    rng.shuffle(labels)
    return labels


def generate(cfg: WorldConfig, out_dir: str | Path) -> dict:
    """Write every synthetic dataset under ``out_dir/<dataset>/<lang>/<split>.jsonl``.

    Returns a summary (counts, label distributions) that the caller records as provenance.
    """
    out = Path(out_dir)
    world = World(cfg.languages, cfg.seed, cfg.profiles)
    if cfg.source not in cfg.languages:
        raise ValueError(f"world.source {cfg.source!r} must be one of world.languages")
    summary: dict[str, Any] = {"seed": cfg.seed, "languages": list(cfg.languages), "datasets": {}}
    progress = tqdm(total=len(cfg.languages) * 3, desc="world", unit="lang-part", mininterval=5)
    for lang in cfg.languages:
        prof = world.profiles[lang]
        for split, n in cfg.sizes.items():
            rng = random.Random(f"{cfg.seed}:tagging:{lang}:{split}")
            ner, pos = [], []
            weights = _entity_weights(cfg, lang, split)
            for i in range(n):
                while True:  # one pass unless world.entity_priors shifts this language's types
                    frame = tagging_frame(rng)
                    s = world.realise(frame, lang, rng, code_switch=prof.code_switch)
                    if weights is None or _keep(s.ner, weights, rng):
                        break
                rid = f"{lang}-{split}-{i:06d}"
                ner.append({"id": rid, "tokens": s.tokens, "tags": s.ner, "frame": frame})
                pos.append({"id": rid, "tokens": s.tokens, "tags": s.upos})
            write_jsonl(out / "synth-ner" / lang / f"{split}.jsonl", ner)
            write_jsonl(out / "synth-pos" / lang / f"{split}.jsonl", pos)
            _count(summary, "synth-ner", lang, split, (t for r in ner for t in r["tags"]))
            _count(summary, "synth-pos", lang, split, (t for r in pos for t in r["tags"]))
        progress.update()
        for split, n in cfg.sizes.items():
            rng = random.Random(f"{cfg.seed}:sentiment:{lang}:{split}")
            recs = []
            for i, label in enumerate(_sentiment_labels(rng, _priors(cfg, lang, split), n)):
                frame = sentiment_frame(rng, label)
                assert sentiment_of(frame) == label
                s = world.realise(frame, lang, rng, code_switch=prof.code_switch)
                recs.append({"id": f"{lang}-{split}-{i:06d}", "text": s.text, "label": label, "frame": frame})  # fmt: skip
            write_jsonl(out / "synth-sentiment" / lang / f"{split}.jsonl", recs)
            _count(summary, "synth-sentiment", lang, split, (r["label"] for r in recs))
        progress.update()
        # unlabelled, non-parallel text (with a little code-switching into English)
        rng = random.Random(f"{cfg.seed}:text:{lang}")
        n_text = max(1, round(cfg.unlabelled * prof.resource))
        texts = []
        for i in range(n_text):
            frame = tagging_frame(rng) if rng.random() < 0.6 else sentiment_frame(rng, rng.choice(SENTIMENT_LABELS))  # fmt: skip
            s = world.realise(frame, lang, rng, code_switch=prof.code_switch)
            texts.append({"id": f"{lang}-text-{i:06d}", "text": s.text})
        write_jsonl(out / "synth-text" / lang / "train.jsonl", texts)
        summary["datasets"].setdefault("synth-text", {})[lang] = {"train": {"n": n_text}}
        progress.update()
    progress.close()
    _write_parallel(world, cfg, out, summary)
    write_json(out / "world.json", summary)
    return summary


def _write_parallel(world: World, cfg: WorldConfig, out: Path, summary: dict) -> None:
    """The same frames realised in the source and every other language, with gold alignment."""
    rng = random.Random(f"{cfg.seed}:parallel")
    frames = [
        tagging_frame(rng) if i % 2 == 0 else sentiment_frame(rng, rng.choice(SENTIMENT_LABELS))
        for i in range(cfg.parallel)
    ]
    src = [world.realise(f, cfg.source, random.Random(f"{cfg.seed}:p:{i}")) for i, f in enumerate(frames)]  # fmt: skip
    for lang in cfg.languages:
        if lang == cfg.source:
            continue
        recs = []
        for i, (f, s) in enumerate(zip(frames, src, strict=True)):
            t = world.realise(f, lang, random.Random(f"{cfg.seed}:p:{lang}:{i}"))
            recs.append(
                {
                    "id": f"{lang}-parallel-{i:06d}",
                    "src_id": f"{cfg.source}-parallel-{i:06d}",
                    "src_lang": cfg.source,
                    "tgt_lang": lang,
                    "src_tokens": s.tokens,
                    "tgt_tokens": t.tokens,
                    "alignment": gold_alignment(s, t),
                    "src_ner": s.ner,
                    "tgt_ner": t.ner,
                    "src_upos": s.upos,
                    "tgt_upos": t.upos,
                }
            )
        write_jsonl(out / "synth-parallel" / lang / "train.jsonl", recs)
        summary["datasets"].setdefault("synth-parallel", {})[lang] = {"train": {"n": len(recs)}}


def _count(summary: dict, dataset: str, lang: str, split: str, labels: Iterable[str]) -> None:
    counts = Counter(labels)
    entry = summary["datasets"].setdefault(dataset, {}).setdefault(lang, {})
    entry[split] = {"labels": dict(sorted(counts.items()))}
