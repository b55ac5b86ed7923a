"""Typological profiles of the synthetic languages.

A profile is everything the generator knows about a language: how it orders words, which script
it writes, how it inflects, where its vocabulary comes from and how much unlabelled text it has.
The defaults live in ``languages.yaml`` next to this file; a config can add languages or override
keys under ``world.profiles``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from importlib import resources
from typing import Any

import yaml

from .scripts import SCRIPTS

ORDERS = ("SVO", "SOV", "VSO", "V2")
NEGATIONS = ("do-support", "pre-verb", "final", "suffix")


@dataclass(frozen=True)
class Profile:
    """One language of the synthetic world.

    Attributes:
        code: ISO 639-1 code (used for lang2vec features and file names).
        name: English name, for tables.
        script: latin, cyrillic, arabic, devanagari or han.
        spaces: False for languages written without spaces between words (Chinese).
        order: basic clause order: SVO, SOV, VSO or V2 (verb-second main clauses, verb-final
            subordinate clauses, as in German and Dutch).
        obliques: "post" (place and time after the verb phrase) or "pre-verb" (before the verb).
        adj: adjective before ("pre") or after ("post") the noun; "post" languages also put the
            head word of an organisation name first (Banco Acme).
        adp: prepositions ("pre"), postpositions ("post") or case suffixes ("suffix").
        articles: separate article words (the, a).
        definite_prefix: a definite article written as a prefix of nouns and adjectives (Arabic).
        object_particle: a separate object-marking particle after the object (Hindi).
        copula: a copula in "X was good" clauses.
        past_particle: a separate past-tense particle after the verb (Chinese).
        complementizer: a word for "that" introducing reported clauses.
        negation: do-support (English), pre-verb particle, clause-final particle (V2 languages) or
            a verb suffix.
        noun_caps: common nouns are capitalised (German).
        lexicon: "generated" (from the syllable inventory) or "english" (real English words).
        parent: a language whose words this one inherits at rate ``cognates``, transformed by
            ``sound_changes`` (regular-expression rewrites applied in order).
        onsets, nuclei, codas: the syllable inventory (romanised).
        syllables: min and max syllables of a content word.
        suffixes: inflection suffixes: plural, past, accusative, negation, demonym.
        resource: relative amount of unlabelled text (1.0 = the configured maximum).
        latin_names: probability that a named entity keeps its Latin spelling in a non-Latin
            script (a cross-script anchor real text has).
        code_switch: probability that a word appears in English (code-switching).
        ascii_punct: probability that a punctuation mark is written in ASCII rather than in the
            script's own form (informal Chinese and Hindi text mixes both).
        wh: where a question word goes (synth-qa questions): "front" (moved first, the verb
            before the subject: Was kaufte Maria?) or "in-situ" (left in place: Chinese, Hindi).
    """

    code: str
    name: str
    script: str = "latin"
    spaces: bool = True
    order: str = "SVO"
    obliques: str = "post"
    adj: str = "pre"
    adp: str = "pre"
    articles: bool = True
    definite_prefix: str = ""
    object_particle: bool = False
    copula: bool = True
    past_particle: bool = False
    complementizer: bool = True
    negation: str = "pre-verb"
    noun_caps: bool = False
    lexicon: str = "generated"
    parent: str | None = None
    cognates: float = 0.0
    sound_changes: tuple[tuple[str, str], ...] = ()
    onsets: tuple[str, ...] = ("b", "d", "k", "l", "m", "n", "p", "r", "s", "t")
    nuclei: tuple[str, ...] = ("a", "e", "i", "o", "u")
    codas: tuple[str, ...] = ("", "n")
    syllables: tuple[int, int] = (2, 3)
    suffixes: Mapping[str, str] = field(default_factory=dict)
    resource: float = 1.0
    latin_names: float = 0.0
    code_switch: float = 0.0
    ascii_punct: float = 0.0
    wh: str = "front"

    def __post_init__(self) -> None:
        where = f"world profile {self.code!r}"
        checks = [
            (self.script in SCRIPTS, f"script must be one of {SCRIPTS}, got {self.script!r}"),
            (self.order in ORDERS, f"order must be one of {ORDERS}, got {self.order!r}"),
            (self.adj in ("pre", "post"), f"adj must be pre or post, got {self.adj!r}"),
            (self.adp in ("pre", "post", "suffix"), f"adp must be pre/post/suffix: {self.adp!r}"),
            (self.obliques in ("post", "pre-verb"), "obliques must be post or pre-verb"),
            (self.negation in NEGATIONS, f"negation must be one of {NEGATIONS}"),
            (self.wh in ("front", "in-situ"), f"wh must be front or in-situ, got {self.wh!r}"),
            (self.lexicon in ("generated", "english"), "lexicon must be generated or english"),
            (0 <= self.cognates <= 1, "cognates must be within [0, 1]"),
            (0 < self.resource <= 1, "resource must be within (0, 1]"),
            (0 <= self.latin_names <= 1 and 0 <= self.code_switch <= 1, "rates within [0, 1]"),
            (len(self.syllables) == 2 and 1 <= self.syllables[0] <= self.syllables[1], "syllables: [min, max]"),
            (bool(self.nuclei), "nuclei must not be empty"),
            (self.parent is None or self.cognates > 0, "a parent needs cognates > 0"),
        ]  # fmt: skip
        for ok, msg in checks:
            if not ok:
                raise ValueError(f"{where}: {msg}")
        unknown = set(self.suffixes) - {"plural", "past", "accusative", "negation", "demonym"}
        if unknown:
            raise ValueError(f"{where}: unknown suffixes {sorted(unknown)}")
        for pat, _ in self.sound_changes:
            try:
                re.compile(pat)
            except re.error as e:
                raise ValueError(f"{where}: bad sound change pattern {pat!r}: {e}") from None

    @property
    def cased(self) -> bool:
        return self.script in ("latin", "cyrillic")

    def suffix(self, name: str) -> str:
        return self.suffixes.get(name, "")


_FIELDS = {f.name for f in fields(Profile)}


def make_profile(code: str, spec: Mapping[str, Any]) -> Profile:
    unknown = set(spec) - _FIELDS
    if unknown:
        raise ValueError(
            f"world profile {code!r}: unknown keys {sorted(unknown)}; known keys: {sorted(_FIELDS)}"
        )
    kw = dict(spec)
    for key in ("onsets", "nuclei", "codas", "syllables"):
        if key in kw:
            kw[key] = tuple("" if v is None else str(v) for v in kw[key])
    if "syllables" in kw:
        kw["syllables"] = tuple(int(v) for v in kw["syllables"])
    if "sound_changes" in kw:
        kw["sound_changes"] = tuple((str(a), str(b)) for a, b in kw["sound_changes"])
    kw.setdefault("name", code)
    return Profile(code=code, **kw)


def default_specs() -> dict[str, dict]:
    text = resources.files("xlt.world").joinpath("languages.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def load_profiles(
    languages: list[str], overrides: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Profile]:
    """Profiles for ``languages`` (defaults merged with config overrides), parents included."""
    specs = default_specs()
    for code, spec in (overrides or {}).items():
        specs[code] = {**specs.get(code, {}), **spec}
    missing = [c for c in languages if c not in specs]
    if missing:
        raise ValueError(
            f"unknown synthetic language(s) {missing}: the world knows {sorted(specs)}; "
            "add a profile under world.profiles in the config (see docs/world.md, 'Adding a language')"
        )
    out: dict[str, Profile] = {}
    todo = list(languages)
    while todo:
        code = todo.pop(0)
        if code in out:
            continue
        out[code] = make_profile(code, specs[code])
        parent = out[code].parent
        if parent is not None:
            if parent not in specs:
                raise ValueError(f"world profile {code!r}: parent {parent!r} has no profile")
            todo.append(parent)
    return out
