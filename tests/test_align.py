"""fast_align (systran-align) on synthetic bitext, scored against the world's gold alignment."""

from __future__ import annotations

import functools
import json
import random

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from xlt.io import DataError
from xlt.translate import (
    AlignConfig,
    align,
    align_translated,
    alignment_scores,
    read_parallel,
    scores_by_source_class,
)
from xlt.world import Noise, World, gold_alignment
from xlt.world.grammar import tagging_frame

# measured with 400 sentences, default AlignConfig (10 iterations, 2026-12): de P 99.4 R 99.8
# AER 0.4, ar P 95.6 R 93.1 AER 5.7, zh P 86.6 R 88.5 AER 12.5 -- room left for other seeds
THRESHOLDS = {"de": (90.0, 90.0), "ar": (80.0, 80.0), "zh": (70.0, 70.0)}


@functools.cache
def bitext(lang: str, n: int = 400, noise: float = 0.0):
    w = World((lang,), seed=1)
    rng = random.Random(f"bitext:{lang}")
    src, tgt, gold = [], [], []
    for _ in range(n):
        frame = tagging_frame(rng)
        s = w.realise(frame, "en", rng)
        t = w.realise(frame, lang, rng, noise=Noise(noise, noise, noise))
        src.append(s)
        tgt.append(t)
        gold.append(gold_alignment(s, t))
    return src, tgt, gold


@pytest.mark.parametrize("lang", sorted(THRESHOLDS))
def test_fast_align_recovers_the_gold_alignment(lang):
    src, tgt, gold = bitext(lang)
    links = align([(s.tokens, t.tokens) for s, t in zip(src, tgt, strict=True)])
    scores = alignment_scores(links, gold)
    print(f"{lang}: P {scores['precision']:.1f} R {scores['recall']:.1f} AER {scores['aer']:.1f}")
    p_min, r_min = THRESHOLDS[lang]
    assert scores["precision"] > p_min and scores["recall"] > r_min
    assert all(
        0 <= i < len(s.tokens) and 0 <= j < len(t.tokens)
        for lk, s, t in zip(links, src, tgt, strict=True)
        for i, j in lk
    )


def test_extra_parallel_text_helps_a_small_bitext():
    src, tgt, gold = bitext("ar")
    pairs = [(s.tokens, t.tokens) for s, t in zip(src, tgt, strict=True)]
    alone = alignment_scores(align(pairs[:40]), gold[:40])
    helped = alignment_scores(align(pairs[:40], extra=pairs[40:]), gold[:40])
    assert helped["f1"] > alone["f1"]


def test_empty_sides_and_unsafe_tokens():
    pairs = [(["a", "b"], ["x", "y"]), ([], ["x"]), (["a|||b", "c d"], ["x", "z"])] * 5
    links = align(pairs, AlignConfig(iterations=2))
    assert links[1] == [] and len(links) == 15
    assert all(0 <= i < 2 and 0 <= j < 2 for i, j in links[2])
    assert align([([], [])]) == [[]]


def test_alignment_scores_by_hand():
    s = alignment_scores([[(0, 0), (1, 1), (2, 0)]], [[(0, 0), (1, 1), (2, 2), (3, 3)]])
    assert s["precision"] == pytest.approx(200 / 3)
    assert s["recall"] == pytest.approx(50.0)
    assert s["aer"] == pytest.approx(100 - 100 * 4 / 7)
    with pytest.raises(ValueError, match="2 predicted"):
        alignment_scores([[], []], [[]])
    by = scores_by_source_class([[(0, 0), (1, 0)]], [[(0, 0), (1, 1)]], [["B-PER", "O"]])
    assert by["B-PER"]["precision"] == 100.0 and by["O"]["precision"] == 0.0


def test_read_parallel_formats(tmp_path):
    jl = tmp_path / "p.jsonl"
    jl.write_text(json.dumps({"src_tokens": ["a", "b"], "tgt_tokens": ["x"]}) + "\n")
    assert read_parallel(jl) == [(["a", "b"], ["x"])]
    txt = tmp_path / "p.txt"
    txt.write_text("a b ||| x y\n\nc ||| z\n")
    assert read_parallel(txt) == [(["a", "b"], ["x", "y"]), (["c"], ["z"])]
    bad = tmp_path / "bad.txt"
    bad.write_text("a b ||| x\nno separator\n")
    with pytest.raises(DataError, match="line 2"):
        read_parallel(bad)
    badj = tmp_path / "bad.jsonl"
    badj.write_text(json.dumps({"src_tokens": ["a"]}) + "\n")
    with pytest.raises(DataError, match="line 1"):
        read_parallel(badj)


def test_align_translated_reports_gold_scores():
    src, tgt, gold = bitext("de")
    recs = [
        {
            "id": f"s{i}.de",
            "src_id": f"s{i}",
            "src_tokens": s.tokens,
            "tokens": t.tokens,
            "gold": {"alignment": [list(x) for x in g]},
        }
        for i, (s, t, g) in enumerate(zip(src[:150], tgt[:150], gold[:150], strict=True))
    ]
    out, stats = align_translated(recs, AlignConfig())
    assert [r["id"] for r in out] == [r["id"] for r in recs]
    assert stats["sentences"] == 150 and stats["vs_gold"]["precision"] > 80
    assert stats["config"]["iterations"] == 10
    with pytest.raises(ValueError, match="unknown keys"):
        AlignConfig.from_config({"iteration": 3})
    assert AlignConfig.from_config({"extra_parallel": ["synth-parallel"]}) == AlignConfig()


def _aligner_threads() -> list[int]:
    """Thread limits of the OpenMP runtime(s) systran-align brought (its own bundled libgomp)."""
    return [i["num_threads"] for i in threadpool_info() if "systran_align" in i["filepath"]]


def test_aligner_trains_and_aligns_with_one_openmp_thread(monkeypatch):
    import systran_align

    seen = []

    def spy(fn):
        def wrapped(*args, **kwargs):
            seen.append(_aligner_threads())
            return fn(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(
        systran_align,
        "generate_alignment_probabilities",
        spy(systran_align.generate_alignment_probabilities),
    )
    with threadpool_limits(limits=3, user_api="openmp"):
        assert _aligner_threads() == [3]  # threadpoolctl really reaches the aligner's runtime
        align([(["a", "b"], ["x", "y"])] * 3, AlignConfig(iterations=1))
        assert _aligner_threads() == [3]  # the caller's setting is restored afterwards
    assert seen == [[1]]


def test_alignment_is_identical_across_runs_with_several_openmp_threads():
    """With 4 OpenMP threads and no limit in align(), 0-9 of these 2000 noisy zh sentences got
    other links from run to run (about every other run of this test then failed; the test above
    checks the mechanism deterministically); align() must give the same links every time."""
    import systran_align  # noqa: F401 -- load its OpenMP runtime so that the limit reaches it

    src, tgt, _ = bitext("zh", 2000, 0.1)
    pairs = [(s.tokens, t.tokens) for s, t in zip(src, tgt, strict=True)]
    with threadpool_limits(limits=4, user_api="openmp"):
        runs = [align(pairs) for _ in range(3)]
    assert all(run == runs[0] for run in runs[1:])
