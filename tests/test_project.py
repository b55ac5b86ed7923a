"""Label projection (word-to-word, span-to-span, POS), scheme converters, and projection quality."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from xlt.io import validate_record
from xlt.translate import (
    AlignConfig,
    ProjectionPolicy,
    QualityConfig,
    bio_to_bioes,
    bioes_to_bio,
    convert,
    project_ner,
    project_pos,
    project_records,
    projection_quality,
    quality_figure,
    span_to_span,
    spans_of,
    tags_from_spans,
    word_to_word,
)
from xlt.world import World
from xlt.world.grammar import tagging_frame

POLICY = ProjectionPolicy()
DIAG = [(0, 0), (1, 1), (2, 2), (3, 3)]


# =============================================================================================
# schemes


def test_bio_bioes_converters():
    bio = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "I-LOC", "O", "B-ORG"]
    bioes = ["B-PER", "E-PER", "O", "S-LOC", "B-LOC", "I-LOC", "E-LOC", "O", "S-ORG"]
    assert bio_to_bioes(bio) == bioes
    assert bioes_to_bio(bioes) == bio
    assert bioes_to_bio(bio_to_bioes(bio)) == bio
    # invalid BIO is repaired the way conlleval reads it: I- after O starts an entity
    assert convert(["O", "I-PER", "I-PER", "I-LOC"], "bio") == ["O", "B-PER", "I-PER", "B-LOC"]
    assert spans_of(["S-MISC", "B-ORG", "E-ORG"]) == [("MISC", 0, 0), ("ORG", 1, 2)]


def test_tags_from_spans_checks_overlaps_and_scheme():
    assert tags_from_spans([("PER", 1, 2)], 4, "bioes") == ["O", "B-PER", "E-PER", "O"]
    with pytest.raises(ValueError, match="overlaps"):
        tags_from_spans([("PER", 0, 1), ("LOC", 1, 2)], 3)
    with pytest.raises(ValueError, match="unknown tagging scheme"):
        tags_from_spans([], 3, "iob1")


# =============================================================================================
# word-to-word


def test_word_to_word_copies_along_links():
    src = ["B-PER", "I-PER", "O", "B-LOC"]
    assert word_to_word(src, 4, DIAG) == src
    # a reversed two-word entity (Spanish/Arabic NP order) breaks into two
    assert word_to_word(["B-ORG", "I-ORG"], 2, [(0, 1), (1, 0)]) == ["B-ORG", "B-ORG"]
    # one-to-many: consecutive target words aligned to one source word form one entity
    assert word_to_word(["O", "B-LOC"], 3, [(0, 0), (1, 1), (1, 2)]) == ["O", "B-LOC", "I-LOC"]
    # many-to-one: the leftmost aligned source word with an entity tag wins
    assert word_to_word(["O", "B-PER", "B-LOC"], 1, [(0, 0), (1, 0), (2, 0)]) == ["B-PER"]
    assert word_to_word(["B-PER"], 2, [(0, 1)], "bioes") == ["O", "S-PER"]


def test_word_to_word_counts_and_drops_unaligned_spans():
    stats = Counter()
    assert project_ner(["B-PER", "O"], 2, [(1, 1)], "word-to-word", POLICY, stats) == ["O", "O"]
    assert stats["spans_dropped_unaligned"] == 1 and stats["spans_source"] == 1
    strict = ProjectionPolicy(unaligned="drop-sentence")
    assert project_ner(["B-PER", "O"], 2, [(1, 1)], "word-to-word", strict) is None


# =============================================================================================
# span-to-span


def test_span_to_span_spans_min_to_max():
    # a reordered entity stays one entity
    assert span_to_span(["B-ORG", "I-ORG"], 2, [(0, 1), (1, 0)], POLICY) == ["B-ORG", "I-ORG"]
    # a gap inside the target span is filled: [min, max]
    assert span_to_span(["B-PER", "I-PER", "O"], 4, [(0, 0), (1, 2), (2, 3)], POLICY) == [
        "B-PER",
        "I-PER",
        "I-PER",
        "O",
    ]
    bioes = ProjectionPolicy(scheme="bioes")
    assert span_to_span(["B-PER", "I-PER", "O", "B-LOC"], 4, DIAG, bioes) == [
        "B-PER",
        "E-PER",
        "O",
        "S-LOC",
    ]
    # equivalent to word-to-word for monotone, same-length spans
    src = ["O", "B-PER", "I-PER", "B-LOC"]
    assert span_to_span(src, 4, DIAG, POLICY) == word_to_word(src, 4, DIAG)


def test_span_to_span_unaligned_policy():
    stats = Counter()
    assert span_to_span(["B-PER", "O", "B-LOC"], 3, [(1, 1), (2, 2)], POLICY, stats) == [
        "O",
        "O",
        "B-LOC",
    ]
    assert stats["spans_dropped_unaligned"] == 1 and stats["spans_projected"] == 1
    assert (
        span_to_span(["B-PER", "O"], 2, [(1, 1)], ProjectionPolicy(unaligned="drop-sentence"))
        is None
    )


def test_span_to_span_overlap_policies():
    src = ["B-LOC", "O", "B-PER", "I-PER"]  # LOC -> target 1; PER -> target 0..2 (contains it)
    links = [(0, 1), (2, 0), (3, 2)]
    expect = {
        "keep-longer": ["B-PER", "I-PER", "I-PER", "O"],
        "keep-first": ["O", "B-LOC", "O", "O"],
        "drop-both": ["O", "O", "O", "O"],
        "drop-sentence": None,
    }
    for policy, tags in expect.items():
        stats = Counter()
        assert span_to_span(src, 4, links, ProjectionPolicy(overlap=policy), stats) == tags, policy
        assert stats["spans_dropped_overlap"] == (1 if policy.startswith("keep") else 2)


def test_span_to_span_drops_implausibly_wide_spans():
    stats = Counter()
    links = [(0, 0), (0, 9)]  # one source word linked to both ends of a 10-word sentence
    assert span_to_span(["B-PER"], 10, links, POLICY, stats) == ["O"] * 10
    assert stats["spans_dropped_too_wide"] == 1
    loose = ProjectionPolicy(max_ratio=10, slack=0)
    assert span_to_span(["B-PER"], 10, links, loose) == ["B-PER"] + ["I-PER"] * 9


def test_policy_validation_and_bad_links():
    with pytest.raises(ValueError, match="translate.project.overlap"):
        ProjectionPolicy(overlap="merge")
    with pytest.raises(ValueError, match="unknown keys"):
        ProjectionPolicy.from_config({"overlaps": "keep-first"})
    with pytest.raises(ValueError, match="outside a 1 x 1"):
        project_ner(["O"], 1, [(0, 3)], "span-to-span", POLICY)
    with pytest.raises(ValueError, match="unknown projection strategy"):
        project_ner(["O"], 1, [], "phrase", POLICY)


# =============================================================================================
# POS


def test_pos_projection_fallbacks():
    src = ["PROPN", "VERB", "PUNCT"]
    tgt = ["Maria", "dort", "schlief", "."]
    links = [(0, 0), (1, 2)]
    assert project_pos(src, tgt, links, POLICY) == ["PROPN", "X", "VERB", "PUNCT"]
    assert project_pos(src, tgt, links, ProjectionPolicy(pos_unaligned="drop-sentence")) is None
    assert project_pos(src, tgt, links, ProjectionPolicy(pos_punct=False)) == [
        "PROPN",
        "X",
        "VERB",
        "X",
    ]
    majority = ProjectionPolicy(pos_unaligned="majority")
    recs = [
        {
            "id": "a.de",
            "src_id": "a",
            "src_tokens": ["M", "s", "."],
            "src_tags": src,
            "tokens": tgt,
        },
        {
            "id": "b.de",
            "src_id": "b",
            "src_tokens": ["x", "y"],
            "src_tags": ["NOUN", "NOUN"],
            "tokens": ["u", "v"],
        },
    ]
    res = project_records(
        recs, {"a.de": links, "b.de": [(0, 0), (1, 1)]}, "pos", "word-to-word", majority
    )
    assert res.records[0]["tags"] == ["PROPN", "NOUN", "VERB", "PUNCT"]
    assert res.stats["majority_tag"] == "NOUN" and res.stats["tokens_unaligned"] == 1
    with pytest.raises(ValueError, match="POS projection is word-to-word"):
        project_records(recs, {}, "pos", "span-to-span", POLICY)


# =============================================================================================
# corpora


def test_project_records_schema_and_stats():
    recs = [
        {
            "id": "a.de",
            "src_id": "a",
            "src_tokens": ["Ann", "ran", "."],
            "src_tags": ["B-PER", "O", "O"],
            "tokens": ["Ann", "lief", "."],
        },
        {
            "id": "b.de",
            "src_id": "b",
            "src_tokens": ["Bo", "sat"],
            "src_tags": ["B-PER", "O"],
            "tokens": ["saß", "er"],
        },
        {"id": "c.de", "src_id": "c", "src_tokens": ["x"], "src_tags": ["O"], "tokens": []},
    ]
    links = {"a.de": [(0, 0), (1, 1), (2, 2)], "b.de": [(1, 0)], "c.de": []}
    res = project_records(
        recs, links, "ner", "span-to-span", ProjectionPolicy(unaligned="drop-sentence")
    )
    assert [r["id"] for r in res.records] == ["a.de"]
    for r in res.records:
        validate_record(r, "tagging", "train.jsonl", None)
        assert set(r) == {"id", "src_id", "tokens", "tags"}
    assert res.stats["sentences"] == {
        "in": 3,
        "out": 1,
        "dropped": {"unaligned": 1, "overlap": 0, "empty": 1},
    }
    assert res.stats["spans"]["source"] == 2 and res.stats["spans"]["dropped"]["unaligned"] == 1
    with pytest.raises(ValueError, match="no alignment for translated sentence 'a.de'"):
        project_records(recs, {}, "ner", "span-to-span", POLICY)


# =============================================================================================
# projection quality


def test_projection_quality_on_a_small_world(tmp_path):
    w = World(("es", "de"), seed=1)
    rng = random.Random("quality")
    recs = []
    for i in range(80):
        frame = tagging_frame(rng)
        s = w.realise(frame, "en", rng)
        recs.append({"id": f"en-{i}", "tokens": s.tokens, "tags": s.ner, "frame": frame})
    df = projection_quality(
        recs, w, QualityConfig(targets=("es", "de"), noise=("none",)), AlignConfig(), POLICY
    )
    assert list(df["lang"]) == ["es", "de"] and (df["noise"] == "none").all()
    es, de = df.iloc[0], df.iloc[1]
    # gold alignment, no noise: span-to-span is exact; word-to-word breaks reordered ORG names
    assert es["s2s_gold_F1"] == 100.0 and es["w2w_gold_F1"] < 100.0
    assert de["s2s_gold_F1"] == de["w2w_gold_F1"] == 100.0
    assert es["s2s_F1"] > es["w2w_F1"]
    assert 0 <= es["align_P"] <= 100 and es["s2s-w2w"] == es["s2s_F1"] - es["w2w_F1"]
    quality_figure(df, tmp_path / "q.png")
    assert (tmp_path / "q.png").read_bytes()[:4] == b"\x89PNG"
