"""Label projection from source sentences to their translations through word alignments.

Strategies (``translate.project``; Li et al.'s span-to-span mapping and the word-to-word baseline):

- **word-to-word**: every target word copies the tag of an aligned source word. Many-to-one (a
  target word aligned to several source words): the leftmost aligned source word *with an entity
  tag* wins, else the word is ``O``. One-to-many (a source word aligned to several target words):
  every such target word gets its type, and consecutive target words aligned to the same source
  word form one entity (the second and later continue it). Unaligned target words are ``O``. The
  result is then *repaired* into valid BIO/BIOES with conlleval's chunking (an ``I-X`` after ``O``
  or after another type starts a new entity), so reordered multi-word entities may break up --
  the weakness span-to-span mapping addresses.
- **span-to-span**: for each gold source span x_{i:n}, the target span is [min a_{i:n}, max a_{i:n}]
  over the target positions linked to any of its words; the type is copied and the boundary tags
  are written afresh in the output scheme (BIO or BIOES).

Policies (:class:`ProjectionPolicy`):

- ``unaligned`` -- a source span none of whose words is aligned: ``drop-span`` (its target words
  stay ``O``) or ``drop-sentence``. Applies to both strategies.
- ``overlap`` -- projected spans that share target words (span-to-span only): ``keep-longer``
  (longest first, ties by source order), ``keep-first`` (source order), ``drop-both`` (every span
  involved) or ``drop-sentence``.
- ``max_ratio``/``slack`` -- a projected span longer than ``max_ratio`` x source length + ``slack``
  target words is implausibly wide (a stray link far away) and is dropped (span-to-span only).
- POS (always word-to-word, UPOS copied; leftmost aligned source word wins): a target token made
  only of punctuation is ``PUNCT`` when ``pos_punct`` is on; other unaligned target words get
  ``pos_unaligned``: ``X``, ``majority`` (the most frequent projected tag of the corpus), or
  ``drop-sentence``.

Counts of dropped spans and sentences are returned as ``stats`` (written next to the data).
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from tqdm import tqdm

from ..metrics import conlleval_chunks

Span = tuple[str, int, int]  # (type, first, last) -- last inclusive
Link = tuple[int, int]

SCHEMES = ("bio", "bioes")
STRATEGIES = ("word-to-word", "span-to-span")
KINDS = ("ner", "pos")
UNALIGNED_POLICIES = ("drop-span", "drop-sentence")
OVERLAP_POLICIES = ("keep-longer", "keep-first", "drop-both", "drop-sentence")
POS_UNALIGNED_POLICIES = ("X", "majority", "drop-sentence")


@dataclass(frozen=True)
class ProjectionPolicy:
    """How projection handles failures (see the module docstring)."""

    scheme: str = "bio"
    unaligned: str = "drop-span"
    overlap: str = "keep-longer"
    max_ratio: float = 2.0
    slack: int = 2
    pos_unaligned: str = "X"
    pos_punct: bool = True

    def __post_init__(self) -> None:
        for name, allowed in (
            ("scheme", SCHEMES),
            ("unaligned", UNALIGNED_POLICIES),
            ("overlap", OVERLAP_POLICIES),
            ("pos_unaligned", POS_UNALIGNED_POLICIES),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"translate.project.{name} must be one of {list(allowed)}, "
                    f"got {getattr(self, name)!r}"
                )
        if self.max_ratio <= 0 or self.slack < 0:
            raise ValueError("translate.project.max_ratio must be > 0 and slack >= 0")

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> ProjectionPolicy:
        cfg = dict(cfg or {})
        names = {f.name for f in fields(cls)}
        unknown = set(cfg) - names
        if unknown:
            raise ValueError(
                f"translate.project: unknown keys {sorted(unknown)}; known: {sorted(names)}"
            )
        return cls(**cfg)


# =============================================================================================
# tagging schemes


def spans_of(tags: Sequence[str]) -> list[Span]:
    """Entity spans of BIO, IOB1 or BIOES tags (conlleval's chunking, as the NER metric)."""
    return conlleval_chunks(tags)


def tags_from_spans(spans: Iterable[Span], n: int, scheme: str = "bio") -> list[str]:
    """Tags of length ``n`` for non-overlapping ``spans`` in ``scheme`` (bio | bioes)."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown tagging scheme {scheme!r}; expected one of {SCHEMES}")
    tags = ["O"] * n
    for typ, a, b in spans:
        if any(t != "O" for t in tags[a : b + 1]):
            raise ValueError(f"span {typ} [{a}, {b}] overlaps another span")
        if scheme == "bioes" and a == b:
            tags[a] = f"S-{typ}"
            continue
        tags[a] = f"B-{typ}"
        for k in range(a + 1, b + 1):
            tags[k] = f"I-{typ}"
        if scheme == "bioes":
            tags[b] = f"E-{typ}"
    return tags


def convert(tags: Sequence[str], scheme: str) -> list[str]:
    """Rewrite ``tags`` (any of BIO/IOB1/BIOES, possibly invalid) as valid ``scheme`` tags."""
    return tags_from_spans(spans_of(tags), len(tags), scheme)


def bio_to_bioes(tags: Sequence[str]) -> list[str]:
    return convert(tags, "bioes")


def bioes_to_bio(tags: Sequence[str]) -> list[str]:
    return convert(tags, "bio")


# =============================================================================================
# one sentence


def _by_target(links: Iterable[Sequence[int]]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    for i, j in links:
        out[int(j)].append(int(i))
    return {j: sorted(v) for j, v in out.items()}


def _by_source(links: Iterable[Sequence[int]]) -> dict[int, list[int]]:
    return _by_target((j, i) for i, j in links)


def _check_links(links: Iterable[Sequence[int]], n_src: int, n_tgt: int) -> list[Link]:
    out = []
    for i, j in links:
        if not (0 <= i < n_src and 0 <= j < n_tgt):
            raise ValueError(f"link ({i}, {j}) is outside a {n_src} x {n_tgt} sentence pair")
        out.append((int(i), int(j)))
    return out


def word_to_word(
    src_tags: Sequence[str], n_tgt: int, links: Iterable[Sequence[int]], scheme: str = "bio"
) -> list[str]:
    """Copy tags word by word (rules in the module docstring), repaired into ``scheme``."""
    src_bio = convert(src_tags, "bio")
    by_tgt = _by_target(links)
    out: list[str] = []
    prev_src = -1
    for j in range(n_tgt):
        srcs = [i for i in by_tgt.get(j, []) if src_bio[i] != "O"]
        if not srcs:
            out.append("O")
            prev_src = -1
            continue
        i = srcs[0]
        typ = src_bio[i][2:]
        if i == prev_src:  # one-to-many: the same source word continues its entity
            out.append(f"I-{typ}")
        else:
            out.append(src_bio[i])
        prev_src = i
    return convert(out, scheme)


def span_to_span(
    src_tags: Sequence[str],
    n_tgt: int,
    links: Iterable[Sequence[int]],
    policy: ProjectionPolicy,
    stats: Counter | None = None,
) -> list[str] | None:
    """Li et al.'s span-to-span mapping; None when the policy drops the sentence.

    ``stats`` (a Counter) receives ``spans_source``, ``spans_projected`` and
    ``spans_dropped_{unaligned,too_wide,overlap}``.
    """
    stats = Counter() if stats is None else stats
    by_src = _by_source(links)
    cands: list[tuple[str, int, int, int]] = []  # (type, first, last, source order)
    for order, (typ, s, e) in enumerate(spans_of(src_tags)):
        stats["spans_source"] += 1
        tj = [j for i in range(s, e + 1) for j in by_src.get(i, [])]
        if not tj:
            stats["spans_dropped_unaligned"] += 1
            if policy.unaligned == "drop-sentence":
                return None
            continue
        a, b = min(tj), max(tj)
        if b - a + 1 > policy.max_ratio * (e - s + 1) + policy.slack:
            stats["spans_dropped_too_wide"] += 1
            continue
        cands.append((typ, a, b, order))
    kept = _resolve_overlaps(cands, policy.overlap, stats)
    if kept is None:
        return None
    stats["spans_projected"] += len(kept)
    return tags_from_spans([(t, a, b) for t, a, b, _ in kept], n_tgt, policy.scheme)


def _resolve_overlaps(cands, policy: str, stats: Counter):
    def overlaps(x, y) -> bool:
        return x[1] <= y[2] and y[1] <= x[2]

    clashing = {
        k for k, x in enumerate(cands) for m, y in enumerate(cands) if k != m and overlaps(x, y)
    }
    if not clashing:
        return sorted(cands, key=lambda c: c[1])
    if policy == "drop-sentence":
        stats["spans_dropped_overlap"] += len(clashing)
        return None
    if policy == "drop-both":
        stats["spans_dropped_overlap"] += len(clashing)
        return sorted((c for k, c in enumerate(cands) if k not in clashing), key=lambda c: c[1])
    key = (lambda c: (-(c[2] - c[1]), c[3])) if policy == "keep-longer" else (lambda c: c[3])
    kept: list = []
    for c in sorted(cands, key=key):
        if any(overlaps(c, k) for k in kept):
            stats["spans_dropped_overlap"] += 1
        else:
            kept.append(c)
    return sorted(kept, key=lambda c: c[1])


def project_ner(
    src_tags: Sequence[str],
    n_tgt: int,
    links: Iterable[Sequence[int]],
    strategy: str,
    policy: ProjectionPolicy,
    stats: Counter | None = None,
) -> list[str] | None:
    """Project one sentence's entity tags; None when the policy drops the sentence."""
    stats = Counter() if stats is None else stats
    links = _check_links(links, len(src_tags), n_tgt)
    if strategy == "span-to-span":
        return span_to_span(src_tags, n_tgt, links, policy, stats)
    if strategy != "word-to-word":
        raise ValueError(f"unknown projection strategy {strategy!r}; expected one of {STRATEGIES}")
    aligned = {i for i, _ in links}
    spans = spans_of(src_tags)
    lost = sum(1 for _, s, e in spans if not aligned & set(range(s, e + 1)))
    stats["spans_source"] += len(spans)
    stats["spans_dropped_unaligned"] += lost
    if lost and policy.unaligned == "drop-sentence":
        return None
    tags = word_to_word(src_tags, n_tgt, links, policy.scheme)
    stats["spans_projected"] += len(spans_of(tags))
    return tags


def _is_punct(token: str) -> bool:
    return all(unicodedata.category(c)[0] == "P" for c in token)


def project_pos(
    src_tags: Sequence[str],
    tgt_tokens: Sequence[str],
    links: Iterable[Sequence[int]],
    policy: ProjectionPolicy,
    stats: Counter | None = None,
) -> list[str | None] | None:
    """UPOS word to word (leftmost aligned source word). Unaligned non-punctuation words are
    None (filled in later by ``majority``), ``X``, or drop the sentence (returns None)."""
    stats = Counter() if stats is None else stats
    by_tgt = _by_target(_check_links(links, len(src_tags), len(tgt_tokens)))
    out: list[str | None] = []
    for j, tok in enumerate(tgt_tokens):
        if policy.pos_punct and _is_punct(tok):
            out.append("PUNCT")
        elif j in by_tgt:
            out.append(src_tags[by_tgt[j][0]])
        else:
            stats["tokens_unaligned"] += 1
            if policy.pos_unaligned == "drop-sentence":
                return None
            out.append("X" if policy.pos_unaligned == "X" else None)
    return out


# =============================================================================================
# whole corpora


@dataclass(frozen=True)
class ProjectionResult:
    records: list[dict[str, Any]]
    stats: dict[str, Any]


def project_records(
    translated: Sequence[Mapping[str, Any]],
    alignments: Mapping[str, Sequence[Sequence[int]]],
    kind: str,
    strategy: str,
    policy: ProjectionPolicy,
) -> ProjectionResult:
    """Project a translated corpus (``translated.jsonl`` records, with ``src_tags``) into common
    tagging records ``{"id", "src_id", "tokens", "tags"}``; ``alignments`` maps record id to links.

    The synthetic engine's ``gold`` fields are never read here.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown projection kind {kind!r}; expected one of {KINDS}")
    if kind == "pos" and strategy != "word-to-word":
        raise ValueError(
            "POS projection is word-to-word (UPOS has no spans); use strategy word-to-word"
        )
    stats: Counter = Counter()
    dropped: Counter = Counter()
    out: list[dict[str, Any]] = []
    for rec in tqdm(translated, desc=f"project {strategy}", unit="sent", mininterval=10):
        rid = str(rec["id"])
        if rid not in alignments:
            raise ValueError(
                f"no alignment for translated sentence {rid!r} (re-run the align rule)"
            )
        tokens = list(rec["tokens"])
        if not tokens or not rec["src_tokens"]:
            dropped["empty"] += 1
            continue
        before = stats["spans_dropped_overlap"]
        if kind == "ner":
            tags = project_ner(
                rec["src_tags"], len(tokens), alignments[rid], strategy, policy, stats
            )
        else:
            tags = project_pos(rec["src_tags"], tokens, alignments[rid], policy, stats)
        if tags is None:
            reason = "overlap" if stats["spans_dropped_overlap"] > before else "unaligned"
            dropped[reason] += 1
            continue
        out.append({"id": rid, "src_id": rec["src_id"], "tokens": tokens, "tags": tags})
    majority = None
    if kind == "pos" and policy.pos_unaligned == "majority":
        counts = Counter(t for r in out for t in r["tags"] if t is not None)
        majority = counts.most_common(1)[0][0] if counts else "X"
        for r in out:
            r["tags"] = [majority if t is None else t for t in r["tags"]]
    summary = {
        "kind": kind,
        "strategy": strategy,
        "policy": asdict(policy),
        "sentences": {
            "in": len(translated),
            "out": len(out),
            "dropped": {k: dropped.get(k, 0) for k in ("unaligned", "overlap", "empty")},
        },
    }
    if kind == "ner":
        summary["spans"] = {
            "source": stats["spans_source"],
            "projected": stats["spans_projected"],
            "dropped": {
                k: stats[f"spans_dropped_{k}"] for k in ("unaligned", "too_wide", "overlap")
            },
        }
    else:
        summary["tokens_unaligned"] = stats["tokens_unaligned"]
        if majority is not None:
            summary["majority_tag"] = majority
    return ProjectionResult(out, summary)
