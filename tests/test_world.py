"""The synthetic world: profiles, determinism, the schema of its datasets, and its properties."""

from __future__ import annotations

import hashlib
import random
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from xlt.io import read_jsonl
from xlt.world import (
    NER_LABELS,
    SENTIMENT_LABELS,
    UPOS_LABELS,
    Noise,
    World,
    WorldConfig,
    generate,
    gold_alignment,
    load_profiles,
)
from xlt.world.grammar import sentiment_frame, sentiment_of, tagging_frame
from xlt.world.profiles import default_specs

LANGS = ("en", "de", "nl", "es", "pt", "ru", "ar", "hi", "zh", "tr")


@pytest.fixture(scope="module")
def world() -> World:
    return World(LANGS, seed=1)


@pytest.fixture(scope="module")
def small_world(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("world")
    cfg = WorldConfig(
        languages=("en", "de", "zh", "ar"),
        sizes={"train": 60, "dev": 20, "test": 30},
        unlabelled=100,
        parallel=40,
        sentiment_priors={
            "default": {"positive": 2, "negative": 1, "neutral": 1},
            "de": {"test": {"positive": 1, "negative": 0, "neutral": 1}},
        },  # fmt: skip
    )
    return out, generate(cfg, out)


def test_profiles_cover_the_required_typology():
    profiles = load_profiles(list(LANGS))
    assert len(profiles) >= 8
    assert {"en", "de", "es", "nl", "zh", "ar"} <= set(profiles)
    scripts = {p.script for p in profiles.values()}
    assert "latin" in scripts and len(scripts - {"latin"}) >= 2
    assert any(not p.spaces for p in profiles.values())
    assert any(p.parent and p.cognates > 0 for p in profiles.values())
    orders = {p.order for p in profiles.values()}
    assert {"SVO", "SOV", "VSO"} <= orders
    # profiles are distinct: no two languages share every typological setting
    keys = ["script", "spaces", "order", "adj", "adp", "articles", "negation", "onsets", "nuclei"]
    signatures = {tuple(str(getattr(p, k)) for k in keys) for p in profiles.values()}
    assert len(signatures) == len(profiles)


def test_unknown_language_and_bad_profile_are_clear_errors():
    with pytest.raises(
        ValueError, match=r"unknown synthetic language\(s\) \['xx'\].*world.profiles"
    ):
        load_profiles(["en", "xx"])
    with pytest.raises(ValueError, match="order must be one of"):
        load_profiles(["en"], {"en": {"order": "OVS?"}})
    with pytest.raises(ValueError, match="unknown keys"):
        load_profiles(["en"], {"en": {"wordorder": "SVO"}})


def test_a_new_language_can_be_added_by_config():
    spec = {"name": "Swahili-like", "script": "latin", "order": "SVO", "adj": "post",
            "articles": False, "onsets": ["k", "m", "n", "t", "w"], "nuclei": ["a", "i", "u"],
            "codas": [""], "resource": 0.3}  # fmt: skip
    w = World(["en", "sw"], seed=3, profiles={"sw": spec})
    s = w.realise(tagging_frame(random.Random(0)), "sw", random.Random(0))
    assert s.lang == "sw" and len(s.tokens) == len(s.upos) == len(s.ner)


def test_lexicons_are_deterministic_and_related_languages_share_cognates(world):
    again = World(LANGS, seed=1)
    assert again.lexicons["de"].words == world.lexicons["de"].words
    other = World(LANGS, seed=2)
    assert other.lexicons["de"].words != world.lexicons["de"].words
    es, pt, ru = (world.lexicons[c].words for c in ("es", "pt", "ru"))
    shared_es_pt = sum(_similar(es[c], pt[c]) for c in es if ":" not in c) / len(es)
    shared_es_ru = sum(_similar(es[c], ru[c]) for c in es if ":" not in c) / len(es)
    assert shared_es_pt > 0.4 > shared_es_ru


def _similar(a: str, b: str) -> bool:
    return a[:3] == b[:3]


def test_realisation_follows_word_order(world):
    frame = {"type": "clause", "subj": {"kind": "name", "etype": "PER", "parts": ["maria"]},
             "verb": "buy", "obj": {"kind": "noun", "noun": "book", "det": "the", "num": None,
                                    "plural": False, "adjs": []},
             "neg": False, "obl": [], "time": None, "front": False}  # fmt: skip
    rng = random.Random(0)
    order = {}
    for lang in ("en", "hi", "ar", "tr"):
        s = world.realise(frame, lang, rng)
        pos = [u for u in s.upos if u in ("PROPN", "VERB", "NOUN")]
        order[lang] = "".join({"PROPN": "S", "VERB": "V", "NOUN": "O"}[u] for u in pos)
    assert order == {"en": "SVO", "hi": "SOV", "ar": "VSO", "tr": "SOV"}
    en = world.realise(frame, "en", rng)
    assert en.text == "Maria bought the book."


def test_scripts_spacing_and_anchors(world):
    rng = random.Random(5)
    frames = [tagging_frame(rng) for _ in range(200)]
    zh = [world.realise(f, "zh", random.Random(i)) for i, f in enumerate(frames)]
    assert all(" " not in s.text or any(t.isascii() for t in s.tokens) for s in zh)
    han = sum(unicodedata.name(ch, "").startswith("CJK") for s in zh for ch in s.text)
    assert han > 1000
    ar = [world.realise(f, "ar", random.Random(i)) for i, f in enumerate(frames)]
    assert any("ARABIC" in unicodedata.name(ch, "") for ch in ar[0].text)
    # anchors: digits are shared, some names stay in Latin script inside non-Latin text
    assert any(any(t.isdigit() for t in s.tokens) for s in ar)
    latin_names = [t for s in ar for t, tag in zip(s.tokens, s.ner, strict=True) if tag != "O" and t.isascii()]  # fmt: skip
    assert latin_names


def test_gold_alignment_links_names_and_content_words(world):
    frame = tagging_frame(random.Random(11))
    en = world.realise(frame, "en", random.Random(0))
    de = world.realise(frame, "de", random.Random(0))
    links = gold_alignment(en, de)
    assert links
    for i, j in links:
        if en.ner[i] != "O":
            assert de.ner[j][2:] == en.ner[i][2:]  # an aligned entity word has the same type


def test_sentiment_frames_have_the_requested_label():
    rng = random.Random(3)
    for label in SENTIMENT_LABELS:
        for _ in range(200):
            assert sentiment_of(sentiment_frame(rng, label)) == label


def test_noise_changes_the_sentence_but_keeps_labels_consistent(world):
    rng = random.Random(2)
    changed = 0
    for i in range(100):
        f = tagging_frame(rng)
        clean = world.realise(f, "es", random.Random(i))
        noisy = world.realise(f, "es", random.Random(i), noise=Noise(0.1, 0.15, 0.2))
        changed += clean.tokens != noisy.tokens
        assert len(noisy.tokens) == len(noisy.ner) == len(noisy.upos)
        assert all(t in NER_LABELS for t in noisy.ner)
    assert changed > 50


def test_generate_writes_the_common_schema(small_world):
    out, summary = small_world
    for lang in ("en", "de", "zh", "ar"):
        for split, n in (("train", 60), ("dev", 20), ("test", 30)):
            ner = read_jsonl(out / "synth-ner" / lang / f"{split}.jsonl", "tagging", NER_LABELS)
            pos = read_jsonl(out / "synth-pos" / lang / f"{split}.jsonl", "tagging", UPOS_LABELS)
            sent = read_jsonl(out / "synth-sentiment" / lang / f"{split}.jsonl", "classification", SENTIMENT_LABELS)  # fmt: skip
            assert len(ner) == len(pos) == len(sent) == n
            assert [r["tokens"] for r in ner] == [r["tokens"] for r in pos]
            assert any(t != "O" for r in ner for t in r["tags"])
        text = read_jsonl(out / "synth-text" / lang / "train.jsonl", "text")
        assert len(text) == round(100 * load_profiles([lang])[lang].resource)
    par = read_jsonl(out / "synth-parallel" / "de" / "train.jsonl", "parallel")
    assert len(par) == 40 and all(r["alignment"] for r in par)
    assert summary["datasets"]["synth-ner"]["en"]["train"]["labels"]["B-PER"] > 0


def test_sentiment_priors_are_configurable_per_language_and_split(small_world):
    out, _ = small_world
    en = Counter(r["label"] for r in read_jsonl(out / "synth-sentiment" / "en" / "train.jsonl"))
    assert en == {"positive": 30, "negative": 15, "neutral": 15}
    de_test = Counter(r["label"] for r in read_jsonl(out / "synth-sentiment" / "de" / "test.jsonl"))
    assert de_test == {"positive": 15, "neutral": 15}


def _mention_shares(path: Path) -> dict[str, float]:
    counts = Counter(t[2:] for r in read_jsonl(path) for t in r["tags"] if t.startswith("B-"))
    return {t: counts[t] / sum(counts.values()) for t in ("PER", "LOC", "ORG", "MISC")}


def test_entity_priors_shift_one_language_and_leave_the_others_untouched(tmp_path, small_world):
    """world.entity_priors: zh NER mentions move towards PER and away from LOC (label shift for
    IWDA's NER study); every other file is byte-identical to the world without the knob."""
    out, _ = small_world
    cfg = WorldConfig(
        languages=("en", "de", "zh", "ar"),
        sizes={"train": 200, "dev": 20, "test": 30},
        unlabelled=100,
        parallel=40,
        entity_priors={"zh": {"train": {"PER": 4.0, "LOC": 0.25}}},
    )
    generate(cfg, tmp_path)
    base = tmp_path / "base"
    generate(WorldConfig(**{**vars(cfg), "entity_priors": {}}), base)
    shifted = _mention_shares(tmp_path / "synth-ner" / "zh" / "train.jsonl")
    natural = _mention_shares(base / "synth-ner" / "zh" / "train.jsonl")
    assert shifted["PER"] > natural["PER"] + 0.1, (shifted, natural)
    assert shifted["LOC"] < 0.8 * natural["LOC"], (shifted, natural)
    assert len(read_jsonl(tmp_path / "synth-ner" / "zh" / "train.jsonl")) == 200
    for rel in ("synth-ner/zh/dev.jsonl", "synth-ner/de/train.jsonl", "synth-pos/en/train.jsonl", "synth-sentiment/zh/train.jsonl", "synth-parallel/zh/train.jsonl"):  # fmt: skip
        assert _digest(tmp_path / rel) == _digest(base / rel), rel


def test_generation_is_deterministic(tmp_path, small_world):
    out, _ = small_world
    cfg = WorldConfig(
        languages=("en", "de", "zh", "ar"),
        sizes={"train": 60, "dev": 20, "test": 30},
        unlabelled=100,
        parallel=40,
        sentiment_priors={
            "default": {"positive": 2, "negative": 1, "neutral": 1},
            "de": {"test": {"positive": 1, "negative": 0, "neutral": 1}},
        },  # fmt: skip
    )
    generate(cfg, tmp_path)
    for rel in ("synth-ner/zh/train.jsonl", "synth-sentiment/ar/dev.jsonl", "synth-text/de/train.jsonl", "synth-parallel/zh/train.jsonl"):  # fmt: skip
        assert _digest(tmp_path / rel) == _digest(out / rel)


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_every_default_profile_is_valid():
    specs = default_specs()
    profiles = load_profiles(list(specs))
    assert set(profiles) == set(specs)
