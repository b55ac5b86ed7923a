"""Metrics: seqeval's default mode behaves like conlleval on the edge cases that matter."""

from __future__ import annotations

import numpy as np
import pytest
from seqeval.metrics import f1_score, precision_score, recall_score
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import IOB2

from xlt.metrics import (
    classification_scores,
    conlleval_chunks,
    example_stats,
    ner_scores,
    score_from_stats,
    scores,
    token_accuracy,
)

EDGE_CASES = {
    "I- after O starts a chunk": (["O", "I-PER", "I-PER", "O"], [("PER", 1, 2)]),
    "type change inside a chunk": (["B-PER", "I-LOC", "O"], [("PER", 0, 0), ("LOC", 1, 1)]),
    "B- after B- of the same type": (["B-ORG", "B-ORG"], [("ORG", 0, 0), ("ORG", 1, 1)]),
    "I- at sentence start": (["I-MISC"], [("MISC", 0, 0)]),
    "BIOES single and multi": (
        ["S-PER", "O", "B-LOC", "I-LOC", "E-LOC", "S-ORG"],
        [("PER", 0, 0), ("LOC", 2, 4), ("ORG", 5, 5)],
    ),
    "E- closes, I- after E- starts": (["B-PER", "E-PER", "I-PER"], [("PER", 0, 1), ("PER", 2, 2)]),
}


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_seqeval_default_mode_matches_conlleval_chunking(name):
    tags, expected = EDGE_CASES[name]
    assert conlleval_chunks(tags) == expected
    assert sorted(get_entities(tags)) == sorted(expected)


@pytest.mark.parametrize("seed", range(3))
def test_conlleval_chunks_equal_seqeval_entities_on_random_sequences(seed):
    """xlt scores NER with conlleval_chunks (no seqeval import at run time): it must find exactly
    the chunks seqeval finds, on every mix of IOB1/IOB2/IOBES tags and types."""
    tags = ["O"] + [f"{p}-{t}" for p in "BIES" for t in ("PER", "LOC", "ORG", "MISC")]
    rng = np.random.default_rng(seed)
    for _ in range(2000):
        seq = [tags[i] for i in rng.integers(0, len(tags), int(rng.integers(1, 10)))]
        assert conlleval_chunks(seq) == get_entities(seq), seq


def test_strict_mode_differs_and_needs_a_scheme():
    gold = [["B-PER", "I-PER", "O"]]
    pred = [["I-PER", "I-PER", "O"]]  # IOB1-style start: conlleval counts it as correct
    assert f1_score(gold, pred) == 1.0
    assert f1_score(gold, pred, mode="strict", scheme=IOB2) == 0.0
    assert ner_scores(gold, pred)["f1"] == 100.0  # xlt uses the default (conlleval) mode


def test_ner_scores_precision_recall():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "O"], ["B-ORG", "B-MISC"]]
    s = ner_scores(gold, pred)
    assert s["precision"] == pytest.approx(200 / 3)
    assert s["recall"] == pytest.approx(200 / 3)
    assert s["f1"] == pytest.approx(200 / 3)
    assert s["accuracy"] == pytest.approx(100 * 4 / 6)


@pytest.mark.parametrize("seed", range(5))
def test_ner_scores_equal_seqeval_on_random_corpora(seed):
    # ner_scores counts chunks per sentence; seqeval counts them on the concatenated corpus
    tags = ["O", "O", "B-PER", "I-PER", "I-LOC", "B-LOC", "E-LOC", "S-ORG", "I-MISC"]
    rng = np.random.default_rng(seed)
    gold, pred = [], []
    for _ in range(200):
        n = int(rng.integers(1, 12))
        gold.append([tags[i] for i in rng.integers(0, len(tags), n)])
        pred.append(
            [
                tags[i] if rng.random() < 0.4 else g
                for g, i in zip(gold[-1], rng.integers(0, len(tags), n), strict=True)
            ]
        )
    ours = ner_scores(gold, pred)
    assert ours["f1"] == pytest.approx(100 * f1_score(gold, pred, zero_division=0))
    assert ours["precision"] == pytest.approx(100 * precision_score(gold, pred, zero_division=0))
    assert ours["recall"] == pytest.approx(100 * recall_score(gold, pred, zero_division=0))
    assert ner_scores([["O"]], [["O"]])["f1"] == 0.0  # no entities anywhere: 0, as seqeval


def test_token_accuracy_and_length_mismatch_errors():
    assert token_accuracy([["A", "B"], ["C"]], [["A", "X"], ["C"]]) == pytest.approx(200 / 3)
    with pytest.raises(ValueError, match="sequence 0: 2 gold tags but 1 predicted"):
        token_accuracy([["A", "B"]], [["A"]])


def test_classification_accuracy_and_macro_f1():
    s = classification_scores(["a", "a", "b", "c"], ["a", "b", "b", "b"])
    assert s["accuracy"] == 50.0
    # per class F1: a=2/3, b=2/3 (tp1 fp2 fn0 -> 2/4), c=0
    assert s["macro_f1"] == pytest.approx(100 * (2 / 3 + 0.5 + 0) / 3)


@pytest.mark.parametrize("kind", ["ner", "tagging", "classification"])
def test_any_subset_can_be_rescored_from_example_stats(kind):
    rng = np.random.default_rng(0)
    if kind == "classification":
        labels = ["neg", "neu", "pos"]
        gold = list(rng.choice(labels, 50))
        pred = list(rng.choice(labels, 50))
    else:
        labels = ["O", "B-PER", "I-PER", "B-LOC"] if kind == "ner" else ["NOUN", "VERB", "DET"]
        gold = [list(rng.choice(labels, rng.integers(1, 8))) for _ in range(50)]
        pred = [[t if rng.random() < 0.7 else rng.choice(labels) for t in g] for g in gold]
    stats = example_stats(kind, gold, pred, labels)
    main = {"ner": "f1", "tagging": "accuracy", "classification": "accuracy"}[kind]
    for subset in (np.arange(50), np.arange(0, 50, 3), np.array([4, 9, 17])):
        expected = scores(kind, [gold[i] for i in subset], [pred[i] for i in subset])[main]
        assert score_from_stats(kind, stats[subset]) == pytest.approx(expected)
    # leading axes: (draws, n, k)
    batched = score_from_stats(kind, np.stack([stats[:10], stats[10:20]]))
    assert batched.shape == (2,)
