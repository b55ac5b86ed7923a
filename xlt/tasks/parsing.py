"""Dependency parsing (``kind: parsing``): the task kind, UAS/LAS as the CoNLL 2018 shared task's
``conll18_ud_eval.py`` scores them, per-sentence statistics for re-scoring subsets, and head
decoding (greedy and maximum spanning tree) from arc scores.

The model (:mod:`xlt.tasks.biaffine`, Dozat & Manning's biaffine parser) scores every word's
first sub-word (as tagging labels it: :func:`xlt.tasks.tagging.encode_words`) against the root
(the first token) and the other words; decoding takes the maximum spanning tree with one root
word (:func:`decode_heads`, ``mst``), so **every prediction is a tree**, then each word's best
relation at its chosen head. Words cut off by ``max_length`` (and words without a sub-word)
are predicted as attached to the root with the default relation (``dep`` where the label set has
it); the metric still counts them.

Relations: a label set the dataset declares is used as given (a relation with a subtype, e.g.
``nsubj:pass``, trains as itself when declared, else as its universal part); an inferred label
set is the **37 universal relations of UD v2** (:data:`UD_RELATIONS`, plus any other universal
part seen), whatever subset a file happens to hold, so every model of a task (and the three
endpoints of an interpolation) has the same head; subtypes are not predicted, since LAS
compares only the universal part. The parser never sees UPOS (the records' ``tags``).

A sentence is a list of ``(head, deprel)`` per word; heads are 1-based word indices, 0 = root.
Gold and predicted sentences share the tokenisation (the parser scores the gold words), so the
official script's word alignment is the identity and its precision, recall, F1 and aligned accuracy
of UAS/LAS coincide with the plain per-word accuracy computed here:

- UAS: the head is correct;
- LAS: the head is correct and the *universal* part of the relation is (``deprel.split(":")[0]``
  on both sides: ``nsubj:pass`` and ``nsubj`` match; the script compares case-sensitively);
- every word counts, punctuation included (the script filters words only for CLAS/MLAS/BLEX,
  never for UAS/LAS).

The official script refuses a system file whose sentence is not a tree with exactly one word
attached to the root (cycles, several or no roots); these functions score any head sequence, so
the output of greedy decoding can be scored too. On trees they equal the script.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from .base import IGNORE, Features, TaskKind, pad_inputs
from .tagging import encode_words

Sentence = Sequence[tuple[int, str]]
#: the universal dependency relations of UD v2 (universaldependencies.org/u/dep)
UD_RELATIONS = (
    "acl", "advcl", "advmod", "amod", "appos", "aux", "case", "cc", "ccomp", "clf", "compound",
    "conj", "cop", "csubj", "dep", "det", "discourse", "dislocated", "expl", "fixed", "flat",
    "goeswith", "iobj", "list", "mark", "nmod", "nsubj", "nummod", "obj", "obl", "orphan",
    "parataxis", "punct", "reparandum", "root", "vocative", "xcomp",
)  # fmt: skip


def universal_deprel(deprel: str) -> str:
    """The universal part of a UD relation: ``nsubj:pass`` → ``nsubj`` (as conll18_ud_eval.py)."""
    return deprel.split(":")[0]


def parsing_example_stats(gold: Sequence[Sentence], predicted: Sequence[Sentence]) -> np.ndarray:
    """Per sentence: (correct heads, correct heads with correct universal relation, words).

    Any subset's UAS/LAS is its column sums' ratio (``parsing_score_from_stats``).
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted")
    rows = np.zeros((len(gold), 3), dtype=np.int64)
    for i, (g, p) in enumerate(zip(gold, predicted, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold words but {len(p)} predicted")
        for side, sent in (("gold", g), ("predicted", p)):
            for j, (head, _) in enumerate(sent):
                if not 0 <= head <= len(sent):
                    raise ValueError(
                        f"sentence {i}, word {j + 1}: {side} head {head} is outside 0..{len(sent)} "
                        "(heads are 1-based word indices, 0 = root)"
                    )
        heads = sum(gh == ph for (gh, _), (ph, _) in zip(g, p, strict=True))
        labelled = sum(
            gh == ph and universal_deprel(gr) == universal_deprel(pr)
            for (gh, gr), (ph, pr) in zip(g, p, strict=True)
        )
        rows[i] = (heads, labelled, len(g))
    return rows


def parsing_scores(gold: Sequence[Sentence], predicted: Sequence[Sentence]) -> dict[str, float]:
    """UAS and LAS in percent over all words (punctuation included), as conll18_ud_eval.py."""
    heads, labelled, words = parsing_example_stats(gold, predicted).sum(axis=0).tolist()
    words = max(1, words)  # ratio first, as the script's 100 * f1: equal to the last bit
    return {"uas": 100 * (heads / words), "las": 100 * (labelled / words)}


def parsing_score_from_stats(stats: np.ndarray) -> float | np.ndarray:
    """The main parsing score, LAS in percent, of the sentences whose statistics are the rows.

    Works on the last two axes, so ``stats`` may carry leading batch axes (…, n, 3).
    """
    tot = stats.sum(axis=-2).astype(np.float64)
    return 100 * (tot[..., 1] / np.maximum(tot[..., 2], 1))


# --------------------------------------------------------------------------------------------
# decoding


def decode_heads(arc_scores: np.ndarray, method: Literal["greedy", "mst"] = "mst") -> np.ndarray:
    """Heads (length n, values 0..n, 0 = root) of words 1..n from ``arc_scores[d, h]``, the score
    of word ``h`` (0 = root) as head of word ``d``: an (n+1) × (n+1) matrix as a biaffine parser
    produces it; row 0 (the root's head) and the diagonal (self-loops) are ignored.

    - ``greedy``: each word's best head on its own. Fast, but **not always a tree**: cycles and
      several (or no) root attachments happen; conll18_ud_eval.py would refuse such output.
    - ``mst``: the maximum spanning tree (Chu-Liu/Edmonds) with **exactly one word attached to the
      root**. **Always a tree**, and the best-scoring one: the single-root constraint is imposed by
      lowering every root arc by more than the score range of n arcs, so that any tree with k > 1
      root arcs loses to every single-root tree, and among single-root trees the order is
      unchanged (Gabow & Tarjan's reduction; ties may break differently under float rounding).
    """
    scores = np.array(arc_scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] != scores.shape[1] or scores.shape[0] < 1:
        raise ValueError(f"arc scores must be an (n+1) × (n+1) matrix; got shape {scores.shape}")
    n = scores.shape[0] - 1
    scores[0, :] = 0.0  # row 0 and the diagonal are ignored: they may hold anything
    np.fill_diagonal(scores, 0.0)
    if not np.isfinite(scores).all():
        raise ValueError("arc scores must be finite (mask arcs with a large negative number)")
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    np.fill_diagonal(scores, -np.inf)
    scores[0, :] = -np.inf
    if method == "greedy":
        return scores[1:].argmax(axis=1)
    if method != "mst":
        raise ValueError(f"unknown decoding method {method!r}; expected greedy or mst")
    finite = scores[1:][np.isfinite(scores[1:])]
    penalty = 1.0 + n * float(finite.max() - finite.min())
    scores[1:, 0] -= penalty
    return _chu_liu_edmonds(scores)[1:]


def _chu_liu_edmonds(scores: np.ndarray) -> np.ndarray:
    """Maximum spanning arborescence rooted at node 0 of ``scores[d, h]`` (row 0 and the diagonal
    are −inf; every other row has a finite entry). Returns heads, ``heads[0] = -1``.

    Take every node's best head; if that has a cycle C, contract C into one node whose arcs are
    the best arc out of C to each other node and, for arcs into C, the gain of replacing the
    cycle arc of the entered node; solve the smaller problem and expand.
    """
    heads = scores.argmax(axis=1)
    heads[0] = -1
    cycle = _find_cycle(heads)
    if cycle is None:
        return heads
    cyc = np.asarray(cycle)
    in_cycle = np.zeros(len(heads), dtype=bool)
    in_cycle[cyc] = True
    outside = np.flatnonzero(~in_cycle)  # starts with the root, node 0
    k = len(outside)
    sub = np.full((k + 1, k + 1), -np.inf)
    sub[:k, :k] = scores[np.ix_(outside, outside)]
    out_of_cycle = scores[np.ix_(outside, cyc)]  # (k, |C|): a cycle node heads an outside node
    best_head = out_of_cycle.argmax(axis=1)
    sub[:k, k] = out_of_cycle[np.arange(k), best_head]
    into_cycle = scores[np.ix_(cyc, outside)] - scores[cyc, heads[cyc]][:, None]  # (|C|, k)
    best_dep = into_cycle.argmax(axis=0)
    sub[k, :k] = into_cycle[best_dep, np.arange(k)]
    sub_heads = _chu_liu_edmonds(sub)
    result = heads.copy()
    for i in range(1, k):
        h = sub_heads[i]
        result[outside[i]] = cyc[best_head[i]] if h == k else outside[h]
    entry = sub_heads[k]
    result[cyc[best_dep[entry]]] = outside[entry]
    return result


def _find_cycle(heads: np.ndarray) -> list[int] | None:
    """The nodes of one cycle in the head graph (nodes 1.., node 0 the root), or None."""
    state = np.zeros(len(heads), dtype=np.int8)  # 0 new, 1 on the current path, 2 done
    for start in range(1, len(heads)):
        path: list[int] = []
        v = start
        while v > 0 and state[v] == 0:
            state[v] = 1
            path.append(v)
            v = int(heads[v])
        if v > 0 and state[v] == 1:
            return path[path.index(v) :]
        state[path] = 2
    return None


# --------------------------------------------------------------------------------------------
# the task kind


def relation_id(label_id: Mapping[str, int], deprel: str) -> int:
    """The id of ``deprel`` in a label set: itself, else its universal part, else IGNORE."""
    if deprel in label_id:
        return label_id[deprel]
    return label_id.get(universal_deprel(deprel), IGNORE)


class Parsing(TaskKind):
    name = "parsing"
    schema = "parsing"
    token_level = True
    main_metric = "las"
    metric_name = "LAS (universal relations, punctuation included)"
    baseline_name = "every word attached to the word before it (the first to the root) with the source-train majority relation"  # fmt: skip

    def gold(self, record: Mapping[str, Any]) -> list[tuple[int, str]]:
        return list(zip(record["heads"], record["deprels"], strict=True))

    def record_labels(self, record: Mapping[str, Any]) -> Iterable[str]:
        return (universal_deprel(r) for r in record["deprels"])

    def sort_labels(self, labels: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(set(labels) | set(UD_RELATIONS)))

    def encode(self, spec, tokenizer, records: Sequence[Mapping], max_length: int) -> Features:
        """First sub-words as the tagger's; targets per kept word: (head candidate, relation id),
        the head candidate 0 for the root and ``k`` for the k-th kept word (IGNORE when the gold
        head was cut off)."""
        feats = encode_words(tokenizer, records, max_length, None)
        label_id = {lab: i for i, lab in enumerate(spec.labels)}
        targets = []
        for r, kept in zip(records, feats.word_index, strict=True):
            slot = {w + 1: k + 1 for k, w in enumerate(kept)}  # word number -> candidate
            slot[0] = 0
            rows = []
            for w in kept:
                if "heads" in r:
                    head = slot.get(int(r["heads"][w]), IGNORE)
                    rel = relation_id(label_id, r["deprels"][w]) if head != IGNORE else IGNORE
                else:
                    head = rel = IGNORE
                rows.append((head, rel))
            targets.append(rows)
        feats.targets = targets
        feats.kind = self.name
        return feats

    def collate(self, feats: Features, idx: np.ndarray, pad_id: int) -> dict:
        import torch

        batch = pad_inputs(feats, idx, pad_id)
        width = max(1, max(len(feats.first_pos[i]) for i in idx))
        pos = torch.zeros((len(idx), width), dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        labels = torch.full((len(idx), width, 2), IGNORE, dtype=torch.long)
        for row, i in enumerate(idx):
            n = len(feats.first_pos[i])
            if n:
                pos[row, :n] = torch.tensor(feats.first_pos[i])
                mask[row, :n] = 1
                labels[row, :n] = torch.tensor(feats.targets[i], dtype=torch.long)
        return {**batch, "word_pos": pos, "word_mask": mask, "labels": labels}

    def build_model(self, spec, encoder_dir: str, seed: int):
        from .biaffine import build_parser

        return build_parser(encoder_dir, spec.labels, seed)

    def decode(self, spec, logits: np.ndarray, feats: Features, i: int) -> list[tuple[int, str]]:
        """The MST over the kept words (one root word), then each word's best relation at its
        head; ``logits`` is the sentence's (words, 1 + words, 1 + relations) block (padded)."""
        kept = feats.word_index[i]
        k = len(kept)
        default = "dep" if "dep" in spec.labels else spec.labels[0]
        out = [(0, default)] * feats.n_words[i]
        if not k:
            return out
        block = logits[:k, : k + 1]
        scores = np.zeros((k + 1, k + 1))
        scores[1:] = block[..., 0]
        heads = decode_heads(scores, "mst")
        for d, h in enumerate(heads):
            rel = spec.labels[int(block[d, h, 1:].argmax())]
            out[kept[d]] = (0 if h == 0 else kept[h - 1] + 1, rel)
        return out

    def scores(self, gold, pred, lang: str = "") -> dict[str, float]:
        return parsing_scores(gold, pred)

    def example_stats(self, gold, pred, labels: Sequence[str] = (), lang: str = "") -> np.ndarray:
        """Per sentence: (correct heads, correct heads and universal relations, words)."""
        return parsing_example_stats(gold, pred).astype(np.int32)

    def score_from_stats(self, stats: np.ndarray):
        return parsing_score_from_stats(stats)

    def majority_baseline(self, train: Sequence[Mapping]):
        """Every word attached to the word before it (the first to the root), with the most
        frequent training relation: the trivial baseline a parser must beat."""
        label = Counter(lab for r in train for lab in self.record_labels(r)).most_common(1)[0][0]
        return label, lambda gold: [(i, label) for i in range(len(gold))]


KIND = Parsing()
