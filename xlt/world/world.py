"""The synthetic multilingual world: languages, and the datasets generated from shared frames."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..io import write_json, write_jsonl
from .grammar import (
    DEPRELS,
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
from .kinds import (
    NLI_LABELS,
    RELATION_LABELS,
    nli_pair,
    parsing_record,
    qa_example,
    realise_record,
    relation_example,
)
from .lexicon import Lexicon, make_lexicon
from .profiles import Profile, load_profiles

# what ``world.datasets`` selects from; the default is the first five (the world before QA, NLI,
# relations and parsing existed), so a config that does not ask for more costs no more
DEFAULT_DATASETS = ("synth-ner", "synth-pos", "synth-sentiment", "synth-parallel", "synth-text")
DATASETS = DEFAULT_DATASETS + ("synth-parsing", "synth-nli", "synth-qa", "synth-relation")
TAGGING_DATASETS = ("synth-ner", "synth-pos", "synth-parsing")  # one stream of tagging sentences
LABELS = {
    "synth-ner": NER_LABELS,
    "synth-pos": UPOS_LABELS,
    "synth-sentiment": SENTIMENT_LABELS,
    "synth-parsing": DEPRELS,
    "synth-nli": NLI_LABELS,
    "synth-relation": RELATION_LABELS,
}
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
    datasets: tuple[str, ...] = DEFAULT_DATASETS

    def __post_init__(self) -> None:
        choices = f"choose from {list(DATASETS)} (default: {list(DEFAULT_DATASETS)})"
        if isinstance(self.datasets, str) or not self.datasets:
            raise ValueError(f"world.datasets: expected a non-empty list, got {self.datasets!r}; {choices}")  # fmt: skip
        unknown = [d for d in self.datasets if d not in DATASETS]
        if unknown:
            raise ValueError(f"world.datasets: unknown dataset(s) {unknown}; {choices}")

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> WorldConfig:
        kw = dict(cfg)
        kw["languages"] = tuple(kw["languages"])
        if isinstance(kw.get("datasets"), list):
            kw["datasets"] = tuple(kw["datasets"])
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
    else the world's default, else every label at 1 (validated: known labels, finite numbers >= 0)."""
    pri = dict(priors)
    spec = pri.get("default", {label: 1.0 for label in labels})
    per_lang = pri.get(lang, {})
    spec = per_lang.get(split, per_lang.get("default", spec)) if per_lang else spec
    unknown = sorted(set(spec) - set(labels))
    if unknown:
        raise ValueError(
            f"world.{key} ({lang}/{split}): unknown label(s) {unknown}; labels are {list(labels)}"
        )
    if any(not isinstance(v, int | float) or not math.isfinite(v) or v < 0 for v in spec.values()):
        raise ValueError(f"world.{key} ({lang}/{split}): weights must be finite numbers >= 0")
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


def _quota_labels(rng: random.Random, priors: dict[str, float], n: int) -> list[str]:
    """Exactly ``round(n * prior)`` examples per class (largest remainders), shuffled (sentiment
    priors; the balanced classes of synth-nli and synth-relation)."""
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
    """Write the synthetic datasets of ``cfg.datasets`` under
    ``out_dir/<dataset>/<lang>/<split>.jsonl`` (synth-text: ``train`` only; synth-parallel: every
    language but the source).

    Every dataset draws from random streams of its own (seeded by world seed, dataset, language
    and split), so asking for one more dataset never changes the bytes of another. Returns a
    summary (counts, label distributions) that the caller records as provenance.
    """
    out = Path(out_dir)
    world = World(cfg.languages, cfg.seed, cfg.profiles)
    if cfg.source not in cfg.languages:
        raise ValueError(f"world.source {cfg.source!r} must be one of world.languages")
    wanted = set(cfg.datasets)
    parts = ["tagging"] if wanted & set(TAGGING_DATASETS) else []
    parts += [d for d in _WRITERS if d in wanted]
    summary: dict[str, Any] = {"seed": cfg.seed, "languages": list(cfg.languages), "datasets": {}}
    progress = tqdm(total=len(cfg.languages) * len(parts), desc="world", unit="lang-part", mininterval=5)  # fmt: skip
    for lang in cfg.languages:
        for part in parts:
            _WRITERS[part](world, cfg, lang, out, summary)
            progress.update()
    progress.close()
    if "synth-parallel" in wanted:
        _write_parallel(world, cfg, out, summary)
    write_json(out / "world.json", summary)
    return summary


def _tagging_view(dataset: str, rid: str, s: Sentence, frame: Frame) -> dict:
    if dataset == "synth-ner":
        return {"id": rid, "tokens": s.tokens, "tags": s.ner, "frame": frame}
    if dataset == "synth-pos":
        return {"id": rid, "tokens": s.tokens, "tags": s.upos}
    return parsing_record(rid, s)


def _write_tagging(world: World, cfg: WorldConfig, lang: str, out: Path, summary: dict) -> None:
    """synth-ner, synth-pos and synth-parsing: one stream of tagging sentences, three views."""
    prof = world.profiles[lang]
    views = [d for d in TAGGING_DATASETS if d in cfg.datasets]
    for split, n in cfg.sizes.items():
        rng = random.Random(f"{cfg.seed}:tagging:{lang}:{split}")
        recs: dict[str, list[dict]] = {d: [] for d in views}
        weights = _entity_weights(cfg, lang, split)
        for i in range(n):
            while True:  # one pass unless world.entity_priors shifts this language's types
                frame = tagging_frame(rng)
                s = world.realise(frame, lang, rng, code_switch=prof.code_switch)
                if weights is None or _keep(s.ner, weights, rng):
                    break
            for d in views:
                recs[d].append(_tagging_view(d, f"{lang}-{split}-{i:06d}", s, frame))
        for d, rs in recs.items():
            write_jsonl(out / d / lang / f"{split}.jsonl", rs)
            key = "deprels" if d == "synth-parsing" else "tags"
            _count(summary, d, lang, split, (t for r in rs for t in r[key]))


def _write_sentiment(world: World, cfg: WorldConfig, lang: str, out: Path, summary: dict) -> None:
    prof = world.profiles[lang]
    for split, n in cfg.sizes.items():
        rng = random.Random(f"{cfg.seed}:sentiment:{lang}:{split}")
        recs = []
        for i, label in enumerate(_quota_labels(rng, _priors(cfg, lang, split), n)):
            frame = sentiment_frame(rng, label)
            assert sentiment_of(frame) == label
            s = world.realise(frame, lang, rng, code_switch=prof.code_switch)
            recs.append({"id": f"{lang}-{split}-{i:06d}", "text": s.text, "label": label, "frame": frame})  # fmt: skip
        write_jsonl(out / "synth-sentiment" / lang / f"{split}.jsonl", recs)
        _count(summary, "synth-sentiment", lang, split, (r["label"] for r in recs))


def _write_text(world: World, cfg: WorldConfig, lang: str, out: Path, summary: dict) -> None:
    """Unlabelled, non-parallel text (with a little code-switching into English)."""
    prof = world.profiles[lang]
    rng = random.Random(f"{cfg.seed}:text:{lang}")
    n_text = max(1, round(cfg.unlabelled * prof.resource))
    texts = []
    for i in range(n_text):
        frame = tagging_frame(rng) if rng.random() < 0.6 else sentiment_frame(rng, rng.choice(SENTIMENT_LABELS))  # fmt: skip
        s = world.realise(frame, lang, rng, code_switch=prof.code_switch)
        texts.append({"id": f"{lang}-text-{i:06d}", "text": s.text})
    write_jsonl(out / "synth-text" / lang / "train.jsonl", texts)
    summary["datasets"].setdefault("synth-text", {})[lang] = {"train": {"n": n_text}}


# the share of no_relation among relation examples; the directed relations share the rest evenly
NO_RELATION_SHARE = 0.2


def _sample_frames(dataset: str, rng: random.Random, n: int) -> list[dict]:
    """The frames of ``n`` examples of synth-nli, synth-relation (labels balanced exactly) or
    synth-qa (question types and positions drawn per passage)."""
    if dataset == "synth-nli":
        out = []
        for label in _quota_labels(rng, dict.fromkeys(NLI_LABELS, 1 / len(NLI_LABELS)), n):
            premise, hypothesis, _ = nli_pair(rng, label)
            out.append({"label": label, "frame": premise, "frame_pair": hypothesis})
        return out
    if dataset == "synth-relation":
        share = (1 - NO_RELATION_SHARE) / (len(RELATION_LABELS) - 1)
        priors = {r: NO_RELATION_SHARE if r == "no_relation" else share for r in RELATION_LABELS}
        return [{"label": y, **relation_example(rng, y)} for y in _quota_labels(rng, priors, n)]
    return [qa_example(rng) for _ in range(n)]


def _write_frames(
    dataset: str, world: World, cfg: WorldConfig, lang: str, out: Path, summary: dict
) -> None:
    """synth-nli, synth-qa or synth-relation of one language: frames sampled, then realised
    with :func:`realise_record` (as the synthetic translator re-realises them)."""
    prof = world.profiles[lang]
    for split, n in cfg.sizes.items():
        rng = random.Random(f"{cfg.seed}:{dataset.removeprefix('synth-')}:{lang}:{split}")
        recs = []
        for i, ex in enumerate(_sample_frames(dataset, rng, n)):
            ex = {"id": f"{lang}-{split}-{i:06d}", **ex}
            recs.append(realise_record(world, dataset, ex, lang, rng, code_switch=prof.code_switch))  # fmt: skip
        write_jsonl(out / dataset / lang / f"{split}.jsonl", recs)
        if dataset == "synth-qa":
            qtypes = dict(sorted(Counter(r["qtype"] for r in recs).items()))
            summary["datasets"].setdefault(dataset, {}).setdefault(lang, {})[split] = {"n": n, "qtypes": qtypes}  # fmt: skip
        else:
            _count(summary, dataset, lang, split, (r["label"] for r in recs))


_WRITERS = {
    "tagging": _write_tagging,
    "synth-sentiment": _write_sentiment,
    "synth-text": _write_text,
    "synth-nli": partial(_write_frames, "synth-nli"),
    "synth-qa": partial(_write_frames, "synth-qa"),
    "synth-relation": partial(_write_frames, "synth-relation"),
}


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
