"""Per-language vocabularies: one romanised word per concept, plus inflection.

English uses its real words. Every other language generates words from its syllable inventory,
except that a language with a parent inherits a share of the parent's words through regular sound
changes, so related languages share recognisable cognates (Spanish/Portuguese, German/Dutch).
"""

from __future__ import annotations

import random
import re

from . import concepts as C
from .profiles import Profile

VOWEL_RE = re.compile(r"[aeiouyäöüıéáíóúãõ]")


class Lexicon:
    """Words and inflection of one language (romanised; scripts are applied at realisation)."""

    def __init__(self, profile: Profile, words: dict[str, str]):
        self.profile = profile
        self.words = words
        self._english_irregular = C.english_irregular() if profile.lexicon == "english" else {}
        self._english_demonyms = {
            base: form for base, form in map(C.split_form, C.COUNTRIES) if form
        }

    def __getitem__(self, concept: str) -> str:
        return self.words[concept]

    # --- inflection ---------------------------------------------------------------------
    def plural(self, concept: str) -> str:
        w = self.words[concept]
        if self.profile.lexicon == "english":
            if concept in self._english_irregular:
                return self._english_irregular[concept]
            if w.endswith(("s", "sh", "ch", "x")):
                return w + "es"
            if w.endswith("y") and w[-2:-1] not in "aeiou":
                return w[:-1] + "ies"
            return w + "s"
        return w + self.profile.suffix("plural")

    def past(self, concept: str, negated: bool = False) -> str:
        w = self.words[concept]
        if self.profile.lexicon == "english":
            if concept in self._english_irregular:
                return self._english_irregular[concept]
            if w.endswith("e"):
                return w + "d"
            if w.endswith("y") and w[-2:-1] not in "aeiou":
                return w[:-1] + "ied"
            return w + "ed"
        neg = self.profile.suffix("negation") if negated else ""
        return w + neg + self.profile.suffix("past")

    def demonym(self, country: str) -> str:
        if self.profile.lexicon == "english":
            return self._english_demonyms[country]
        stem = country[:-1] if country[-1] in "aeiouy" else country
        return stem + (self.profile.suffix("demonym") or "an")


def _syllable(p: Profile, rng: random.Random) -> str:
    return rng.choice(p.onsets) + rng.choice(p.nuclei) + rng.choice(p.codas)


def _new_word(p: Profile, rng: random.Random, n_syll: int) -> str:
    return "".join(_syllable(p, rng) for _ in range(n_syll))


def sound_change(word: str, changes) -> str:
    for pat, rep in changes:
        word = re.sub(pat, rep, word)
    return word


def make_lexicon(
    profile: Profile, seed: int, parent: Lexicon | None = None, max_tries: int = 200
) -> Lexicon:
    """Generate the vocabulary of ``profile`` deterministically for ``seed``."""
    content = C.content_concepts()
    function = C.function_concepts()
    if profile.lexicon == "english":
        words = {c: c for c in content}
        words.update({c: c.split(":", 1)[1] for c in function | C.extra_function_concepts()})
        return Lexicon(profile, words)

    rng = random.Random(f"{seed}:lexicon:{profile.code}")
    used: set[str] = set()
    words: dict[str, str] = {}

    def fresh(n_syll: int, stream: random.Random = rng) -> str:
        for _ in range(max_tries):
            w = _new_word(profile, stream, n_syll)
            if w and w not in used and VOWEL_RE.search(w):
                return w
            n_syll += 1 if stream.random() < 0.1 else 0
        raise ValueError(
            f"world profile {profile.code!r}: the syllable inventory is too small to give "
            f"{len(content) + len(function)} distinct words; add onsets, nuclei or codas"
        )

    # function words: short, never inherited (they are the least cognate part of a vocabulary)
    for concept in function:
        w = fresh(1)
        words[concept] = w
        used.add(w)
    lo, hi = profile.syllables
    for concept in content:
        w = None
        if parent is not None and rng.random() < profile.cognates:
            cand = sound_change(parent.words[concept], profile.sound_changes)
            if cand and cand not in used:
                w = cand
        if w is None:
            w = fresh(rng.randint(lo, hi))
        words[concept] = w
        used.add(w)
    if profile.object_particle:
        words["adp:acc"] = fresh(1)
    # later function words: a stream of their own, so the words above never change
    extra = random.Random(f"{seed}:lexicon-extra:{profile.code}")
    used.update(words.values())
    for concept in C.extra_function_concepts():
        words[concept] = fresh(1, extra)
        used.add(words[concept])
    return Lexicon(profile, words)
