"""Meaning frames and their realisation in a language.

A *frame* is a language-independent, JSON-serialisable description of one sentence (who did what to
whom, where, when; what was said about what). Sampling a frame is the same for every language;
realising it follows the language's profile (word order, articles, adpositions, morphology, script).
Every realised token carries *slots* naming the frame node it expresses, so two realisations of the
same frame are word-aligned for free, its gold UPOS and named-entity type, and its dependency arc
(UD relations): each phrase builder attaches its dependents to its head as it builds, so the
tree's arcs are the same in every language and only their linear order differs.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field, replace
from typing import Any

from . import concepts as C
from .concepts import PUNCT, QMARK
from .lexicon import Lexicon
from .scripts import capitalise, write

ASCII_PUNCT = {native: ascii_ for marks in PUNCT.values() for native, ascii_ in zip(marks, PUNCT["latin"], strict=True)}  # fmt: skip
PUNCT_MARKS = frozenset(p for marks in PUNCT.values() for p in marks) | frozenset(QMARK.values())

Frame = dict[str, Any]
POLARITY = {**{a: 1 for a in C.POSITIVE_ADJS}, **{a: -1 for a in C.NEGATIVE_ADJS}}
POLARITY.update({v: 1 for v in C.POSITIVE_VERBS})
POLARITY.update({v: -1 for v in C.NEGATIVE_VERBS})
POLARITY.update({a: 1 for a in C.POSITIVE_ADVS})
POLARITY.update({a: -1 for a in C.NEGATIVE_ADVS})
SENTIMENT_LABELS = ("negative", "neutral", "positive")
NER_TYPES = ("PER", "LOC", "ORG", "MISC")
NER_LABELS = ("O",) + tuple(f"{p}-{t}" for t in NER_TYPES for p in "BI")
UPOS_LABELS = [
    "ADJ",
    "ADP",
    "ADV",
    "AUX",
    "CCONJ",
    "DET",
    "INTJ",
    "NOUN",
    "NUM",
    "PART",
    "PRON",
    "PROPN",
    "PUNCT",
    "SCONJ",
    "SYM",
    "VERB",
    "X",
]
# the UD relations the grammar produces (see Realiser: every phrase builder attaches its own)
DEPRELS = (
    "root", "nsubj", "obj", "obl", "ccomp", "advmod", "amod", "nummod", "det", "case", "aux",
    "cop", "mark", "cc", "conj", "flat", "compound", "nmod", "punct", "discourse",
)  # fmt: skip


# =============================================================================================
# sampling frames


def _c(rng: random.Random, entries) -> str:
    return C.split_form(rng.choice(entries))[0]


def _prefer(rng: random.Random, preferred, entries) -> str:
    """A preferred item with probability PREFERENCE (when there are any), else any entry."""
    if preferred and rng.random() < C.PREFERENCE:
        return rng.choice(preferred)
    return _c(rng, entries)


def person(rng: random.Random) -> dict:
    r = rng.random()
    if r < 0.45:
        parts = [rng.choice(C.GIVEN_NAMES), rng.choice(C.FAMILY_NAMES)]
    elif r < 0.8:
        parts = [rng.choice(C.GIVEN_NAMES)]
    else:
        parts = [rng.choice(C.FAMILY_NAMES)]
    return {"kind": "name", "etype": "PER", "parts": parts}


def location(rng: random.Random) -> dict:
    name = rng.choice(C.CITIES) if rng.random() < 0.65 else _c(rng, C.COUNTRIES)
    return {"kind": "name", "etype": "LOC", "parts": [name]}


def organisation(rng: random.Random) -> dict:
    pool = C.ORG_NAMES if rng.random() < 0.6 else (C.CITIES + C.FAMILY_NAMES)
    return {
        "kind": "org",
        "etype": "ORG",
        "name": rng.choice(pool),
        "head": rng.choice(C.ORG_HEADS),
    }


def event(rng: random.Random) -> dict:
    return {"kind": "org", "etype": "MISC", "name": rng.choice(C.CITIES), "head": rng.choice(C.EVENT_HEADS)}  # fmt: skip


def common(
    rng: random.Random,
    nouns,
    *,
    adj_p: float = 0.3,
    misc_p: float = 0.1,
    plural_p: float = 0.2,
    det: str | None = None,
    adjs: list | None = None,
    preferred=None,
) -> dict:
    noun = _prefer(rng, preferred, nouns)
    plural = rng.random() < plural_p
    num = None
    if plural and rng.random() < 0.5:
        num = rng.choice(C.NUMBER_WORDS) if rng.random() < 0.5 else str(rng.randint(2, 40))
    if det is None:
        choices = ["the", "the", None] if plural else ["the", "the", "a", "this"]
        det = rng.choice(choices) if num is None else None
    if adjs is None:
        adjs = []
        if rng.random() < misc_p:
            adjs.append({"demonym": _c(rng, C.COUNTRIES)})
        if rng.random() < adj_p:
            adjs.append({"adj": rng.choice(C.NEUTRAL_ADJS)})
    return {"kind": "noun", "noun": noun, "det": det, "num": num, "plural": plural, "adjs": adjs}


def agent(rng: random.Random) -> dict:
    r = rng.random()
    if r < 0.4:
        return person(rng)
    if r < 0.68:
        return common(rng, C.PERSON_NOUNS, misc_p=0.15)
    if r < 0.83:
        return {"kind": "pron", "pron": rng.choice(C.FUNCTION["PRON"])}
    return organisation(rng)


def place(rng: random.Random, preferred=None) -> dict:
    r = rng.random()
    if r < 0.5 and not preferred:
        return location(rng)
    if r < 0.9:
        return common(rng, C.PLACE_NOUNS, plural_p=0.0, preferred=preferred)
    return organisation(rng)


def obliques(rng: random.Random, goal: bool = False, places=None) -> list[dict]:
    out = []
    if goal:
        out.append({"adp": "to", "np": location(rng) if rng.random() < 0.6 else place(rng)})
    elif places or rng.random() < 0.45:
        out.append({"adp": rng.choice(["in", "at", "near"]), "np": place(rng, places)})
    if rng.random() < 0.15:
        out.append({"adp": "with", "np": person(rng)})
    if rng.random() < 0.1:
        out.append({"adp": "from", "np": location(rng)})
    if rng.random() < 0.08:
        out.append({"adp": "for", "np": organisation(rng) if rng.random() < 0.5 else event(rng)})
    return out


def time_expr(rng: random.Random) -> dict | None:
    r = rng.random()
    if r < 0.3:
        return {"adv": rng.choice(C.TIME_ADVS)}
    if r < 0.5:
        return {"year": str(rng.randint(1950, 2024))}
    return None


def event_frame(rng: random.Random, neg_p: float = 0.1) -> Frame:
    """A neutral clause: someone does something (to someone/something) somewhere, sometime."""
    r = rng.random()
    f: Frame = {"type": "clause", "subj": agent(rng), "neg": rng.random() < neg_p}
    if r < 0.45:
        f["verb"] = _c(rng, C.TRANSITIVE_VERBS)
        f["obj"] = common(rng, C.OBJECT_NOUNS, preferred=C.VERB_OBJECTS.get(f["verb"]))
        f["obl"] = obliques(rng)
    elif r < 0.65:
        f["verb"] = _c(rng, C.PERSON_VERBS)
        x = rng.random()
        f["obj"] = person(rng) if x < 0.6 else (common(rng, C.PERSON_NOUNS) if x < 0.9 else organisation(rng))  # fmt: skip
        f["obl"] = obliques(rng)
    elif r < 0.85:
        f["verb"] = _c(rng, C.MOTION_VERBS)
        f["obl"] = obliques(rng, goal=True)
    else:
        f["verb"] = _c(rng, C.INTRANSITIVE_VERBS)
        places = C.VERB_PLACES.get(f["verb"])
        f["obl"] = obliques(rng, places=places if places and rng.random() < C.PREFERENCE else None)
    # who is found where: a doctor at the hospital, a pilot at the airport
    site = next((pp["np"].get("noun") for pp in f["obl"] if pp["np"].get("kind") == "noun"), None)
    if site in C.PLACE_AGENTS and f["subj"]["kind"] == "noun" and rng.random() < C.PREFERENCE:
        f["subj"]["noun"] = rng.choice(C.PLACE_AGENTS[site])
    f["time"] = time_expr(rng)
    f["front"] = f["time"] is not None and rng.random() < 0.3
    if rng.random() < 0.1:
        f["manner"] = rng.choice(C.MANNER_ADVS)
    return f


def evaluated(rng: random.Random, polarity: int = 0) -> dict:
    """The thing evaluated; with ``polarity`` it may carry an agreeing adjective (the rude staff),
    so that words of one polarity co-occur, as they do in real text."""
    r = rng.random()
    if r < 0.7:
        np = common(rng, C.EVAL_NOUNS, det="the", plural_p=0.1, adj_p=0.15, misc_p=0.1)
        if polarity and rng.random() < 0.3:
            np["adjs"].append(
                {"adj": rng.choice(C.POSITIVE_ADJS if polarity > 0 else C.NEGATIVE_ADJS)}
            )
        if rng.random() < 0.3:
            np["pp"] = {"adp": rng.choice(["in", "at"]), "np": place(rng)}
        return np
    return organisation(rng) if r < 0.85 else event(rng)


def opinion_frame(rng: random.Random, polarity: int) -> Frame:
    """``X was (not) (very) ADJ`` with the given overall polarity (0 = a neutral adjective)."""
    neg = polarity != 0 and rng.random() < 0.2
    if polarity == 0:
        adj = rng.choice(C.NEUTRAL_ADJS)
        neg = rng.random() < 0.1
    subj = evaluated(rng, polarity)
    if polarity != 0:
        lexical = -polarity if neg else polarity
        fitting = C.preferred_adjs(subj.get("noun", ""), lexical)
        adj = _prefer(rng, fitting, C.POSITIVE_ADJS if lexical > 0 else C.NEGATIVE_ADJS)
    intens = rng.choice(C.INTENSIFIERS) if rng.random() < 0.35 else None
    return {"type": "copula", "subj": subj, "adj": adj, "intens": intens, "neg": neg}


def attitude_frame(rng: random.Random, polarity: int) -> Frame:
    neg = rng.random() < 0.15
    lexical = -polarity if neg else polarity
    verb = rng.choice(C.POSITIVE_VERBS if lexical > 0 else C.NEGATIVE_VERBS)
    obj = evaluated(rng, polarity if not neg else 0)
    f = {"type": "clause", "subj": agent(rng), "verb": verb, "obj": obj, "neg": neg}
    f.update({"obl": [], "time": time_expr(rng), "front": False})
    return f


def report_frame(rng: random.Random, comp: Frame) -> Frame:
    subj = person(rng) if rng.random() < 0.6 else common(rng, C.PERSON_NOUNS)
    return {"type": "report", "subj": subj, "verb": _c(rng, C.SPEECH_VERBS), "comp": comp}


def polar_frame(rng: random.Random, polarity: int) -> Frame:
    return opinion_frame(rng, polarity) if rng.random() < 0.65 else attitude_frame(rng, polarity)


def with_mood(rng: random.Random, frame: Frame, polarity: int, p: float = 0.3) -> Frame:
    """Sometimes open the sentence with an adverb of the sentence's polarity (sadly, luckily)."""
    if rng.random() < p:
        frame = {**frame, "mood": rng.choice(C.POSITIVE_ADVS if polarity > 0 else C.NEGATIVE_ADVS)}
    return frame


def with_emoji(rng: random.Random, frame: Frame, polarity: int, p: float = 0.6) -> Frame:
    """Sometimes close a sentence with an emoticon of its polarity (the same in every script)."""
    if polarity and rng.random() < p:
        emoji = rng.choice(C.POSITIVE_EMOJI if polarity > 0 else C.NEGATIVE_EMOJI)
        frame = {**frame, "emoji": emoji}
    return frame


def sentiment_frame(rng: random.Random, label: str) -> Frame:
    """A frame whose sentiment is ``label`` (negation, contrast and reported speech included)."""
    pol = {"positive": 1, "negative": -1, "neutral": 0}[label]
    return with_emoji(rng, _sentiment_frame(rng, pol), pol)


def _sentiment_frame(rng: random.Random, pol: int) -> Frame:
    r = rng.random()
    if pol == 0:
        if r < 0.5:
            return event_frame(rng)
        inner = opinion_frame(rng, 0)
        return inner if r < 0.85 else report_frame(rng, inner)
    if r < 0.55:
        return with_mood(rng, polar_frame(rng, pol), pol)
    if r < 0.7:  # two clauses of the same polarity
        both = {"type": "coord", "conj": "and", "left": polar_frame(rng, pol), "right": polar_frame(rng, pol)}  # fmt: skip
        return with_mood(rng, both, pol)
    if r < 0.85:
        return report_frame(rng, polar_frame(rng, pol))
    # contrast: the clause after "but" carries the sentence's sentiment
    return {"type": "coord", "conj": "but", "left": polar_frame(rng, -pol), "right": polar_frame(rng, pol)}  # fmt: skip


def tagging_frame(rng: random.Random) -> Frame:
    """A frame for the NER/POS corpora: mostly events, some opinions and reports."""
    r = rng.random()
    if r < 0.6:
        return event_frame(rng)
    if r < 0.75:
        return opinion_frame(rng, rng.choice([-1, 0, 1]))
    if r < 0.9:
        return report_frame(rng, event_frame(rng))
    return {"type": "coord", "conj": "and", "left": event_frame(rng), "right": event_frame(rng)}


def sentiment_of(frame: Frame) -> str:
    def pol(f: Frame) -> int:
        t = f["type"]
        if t == "copula":
            return POLARITY.get(f["adj"], 0) * (-1 if f["neg"] else 1)
        if t == "clause":
            return POLARITY.get(f["verb"], 0) * (-1 if f["neg"] else 1)
        if t == "report":
            return pol(f["comp"])
        if t == "coord":
            right = pol(f["right"])
            return right if (f["conj"] == "but" or right) else pol(f["left"])
        raise ValueError(f"unknown frame type {t!r}")

    return {1: "positive", -1: "negative", 0: "neutral"}[pol(frame)]


# =============================================================================================
# realisation


@dataclass
class Tok:
    form: str  # romanised (native/name), English (switched) or literal (digits, punctuation)
    upos: str
    slots: tuple[str, ...]
    kind: str = "native"  # native | name | literal | english
    concept: str | None = None
    infl: str | None = None  # plural | past | None
    ent: int = -1
    etype: str = ""
    uid: int = field(default_factory=lambda: next(_UIDS))  # identity that survives replace()
    head: int | None = None  # uid of the head token; None while it heads its phrase
    deprel: str = ""


_UIDS = itertools.count()


def _free(toks: list[Tok]) -> Tok:
    """The head of a phrase: its one token not yet attached inside it."""
    free = [t for t in toks if t.head is None]
    if len(free) != 1:
        raise AssertionError(
            f"a phrase has {len(free)} unattached tokens: {[t.form for t in free]}"
        )
    return free[0]


def _attach(dependent: list[Tok], head: Tok, deprel: str) -> None:
    """Attach the head of the phrase ``dependent`` to ``head`` with ``deprel`` (empty: no-op)."""
    if dependent:
        d = _free(dependent)
        d.head, d.deprel = head.uid, deprel


@dataclass
class Sentence:
    """A realised sentence: tokens with gold UPOS, NER, frame slots and a dependency tree
    (``heads`` 1-based, 0 = root), and each token's character span in ``text``."""

    tokens: list[str]
    upos: list[str]
    ner: list[str]
    slots: list[tuple[str, ...]]
    text: str
    lang: str
    meta: dict = field(default_factory=dict)
    heads: list[int] = field(default_factory=list)
    deprels: list[str] = field(default_factory=list)
    offsets: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Noise:
    """An MT-error model applied to a realisation: dropped, substituted and swapped words."""

    drop: float = 0.0
    substitute: float = 0.0
    reorder: float = 0.0

    @property
    def active(self) -> bool:
        return self.drop > 0 or self.substitute > 0 or self.reorder > 0


_SUBSTITUTES = {
    "NOUN": C.lemmas(C.OBJECT_NOUNS + C.PLACE_NOUNS + C.PERSON_NOUNS),
    "VERB": C.lemmas(C.TRANSITIVE_VERBS + C.INTRANSITIVE_VERBS + C.MOTION_VERBS),
    "ADJ": C.NEUTRAL_ADJS + C.POSITIVE_ADJS + C.NEGATIVE_ADJS,
    "ADV": C.TIME_ADVS + C.MANNER_ADVS,
}


class Realiser:
    """Realises frames in one language."""

    def __init__(self, lex: Lexicon, english: Lexicon):
        self.lex, self.en, self.p = lex, english, lex.profile
        self.is_english = self.p.lexicon == "english"

    # --- words --------------------------------------------------------------------------
    def fw(self, concept: str, upos: str, slot: str) -> Tok:
        return Tok(self.lex[concept], upos, (slot,), concept=concept)

    def content(self, concept: str, upos: str, slot: str, infl: str | None = None) -> Tok:
        return Tok(self.inflect(self.lex, concept, infl), upos, (slot,), concept=concept, infl=infl)

    @staticmethod
    def inflect(lex: Lexicon, concept: str, infl: str | None) -> str:
        if infl == "plural":
            return lex.plural(concept)
        if infl == "past":
            return lex.past(concept)
        if infl == "past-neg":
            return lex.past(concept, negated=True)
        return lex[concept]

    # --- noun phrases -------------------------------------------------------------------
    def np(self, np: dict, path: str, ents: list[str], role: str = "") -> list[Tok]:
        kind = np["kind"]
        if kind == "pron":
            toks = [self.fw(f"pron:{np['pron']}", "PRON", path)]
        elif kind == "wh":
            toks = [self.fw(f"wh:{np['wh']}", "PRON", path)]
        elif kind == "year":
            toks = [Tok(np["value"], "NUM", (path,), kind="literal")]
        elif kind == "name":
            eid = len(ents)
            ents.append(np["etype"])
            toks = [
                Tok(part, "PROPN", (f"{path}.{i}",), kind="name", ent=eid, etype=np["etype"])
                for i, part in enumerate(np["parts"])
            ]
            for t in toks[1:]:
                _attach([t], toks[0], "flat")
        elif kind == "org":
            eid = len(ents)
            ents.append(np["etype"])
            name = Tok(np["name"], "PROPN", (f"{path}.name",), kind="name", ent=eid, etype=np["etype"])  # fmt: skip
            head = self.content(np["head"], "PROPN", f"{path}.head")
            head.ent, head.etype = eid, np["etype"]
            _attach([name], head, "compound")
            toks = [head, name] if self.p.adj == "post" else [name, head]
        else:
            toks = self.common_np(np, path, ents)
        if role == "obj" and kind not in ("pron", "wh"):
            acc = self.p.suffix("accusative")
            if acc:
                toks[-1] = replace(toks[-1], form=toks[-1].form + acc)
            if self.p.object_particle:
                particle = self.fw("adp:acc", "ADP", f"{path}.acc")
                _attach([particle], _free(toks), "case")
                toks = toks + [particle]
        return toks

    def common_np(self, np: dict, path: str, ents: list[str]) -> list[Tok]:
        p = self.p
        definite_prefix = p.definite_prefix if np["det"] == "the" else ""
        det: list[Tok] = []
        if np["det"] == "this" or (np["det"] and p.articles):
            det = [self.fw(f"det:{np['det']}", "DET", f"{path}.det")]
        num: list[Tok] = []
        if np["num"]:
            if np["num"].isdigit():
                num = [Tok(np["num"], "NUM", (f"{path}.num",), kind="literal")]
            else:
                num = [self.content(np["num"], "NUM", f"{path}.num")]
        adjs: list[Tok] = []
        for i, a in enumerate(np["adjs"]):
            if "demonym" in a:
                eid = len(ents)
                ents.append("MISC")
                t = Tok(self.lex.demonym(a["demonym"]), "ADJ", (f"{path}.a{i}",), kind="name")
                t.ent, t.etype = eid, "MISC"
            else:
                t = self.content(a["adj"], "ADJ", f"{path}.a{i}")
            adjs.append(t)
        noun = self.content(np["noun"], "NOUN", f"{path}.n", "plural" if np["plural"] else None)
        if definite_prefix:
            noun.form = definite_prefix + noun.form
            for a in adjs:
                if a.kind == "native":
                    a.form = definite_prefix + a.form
                    a.slots = a.slots + (f"{path}.det",)
            noun.slots = noun.slots + (f"{path}.det",)
        core = num + adjs + [noun] if p.adj == "pre" else num + [noun] + adjs
        toks = det + core
        if self.is_english and det and det[0].concept == "det:a" and toks[1].form[0] in "aeiou":
            det[0].form = "an"
        for deps, rel in ((det, "det"), (num, "nummod"), *(([a], "amod") for a in adjs)):
            _attach(deps, noun, rel)
        if "pp" in np:
            pp = self.pp(np["pp"], f"{path}.pp", ents)
            _attach(pp, noun, "nmod")
            toks = toks + pp if p.adp == "pre" else pp + toks
        return toks

    def pp(self, pp: dict, path: str, ents: list[str]) -> list[Tok]:
        if "wh" in pp:  # a questioned place: where
            return [self.fw(f"wh:{pp['wh']}", "ADV", f"{path}.np")]
        np = self.np(pp["np"], f"{path}.np", ents, role="obl")
        adp_concept = f"adp:{pp['adp']}"
        if self.p.adp == "suffix":
            last = np[-1]
            np[-1] = replace(last, form=last.form + self.lex[adp_concept], slots=last.slots + (f"{path}.adp",))  # fmt: skip
            return np
        adp = self.fw(adp_concept, "ADP", f"{path}.adp")
        _attach([adp], _free(np), "case")
        return [adp] + np if self.p.adp == "pre" else np + [adp]

    def time(self, t: dict | None, path: str, ents: list[str]) -> list[Tok]:
        if not t:
            return []
        if "adv" in t:
            return [self.content(t["adv"], "ADV", path)]
        if "wh" in t:  # a questioned time: when
            return [self.fw(f"wh:{t['wh']}", "ADV", path)]
        year = {"kind": "year", "value": t["year"]}
        return self.pp({"adp": "in", "np": year}, path, ents)

    # --- clauses ------------------------------------------------------------------------
    def verb_group(
        self, verb: str, neg: bool, path: str, question: bool = False
    ) -> tuple[list[Tok], list[Tok]]:
        """The verb with tense and negation, and a negation that goes to the clause's end (the
        verb heads both: auxiliaries, particles and negation attach to it). ``question``: a
        non-subject question (English do-support: what did Maria buy)."""
        p = self.p
        negs = [self.fw("part:not", "PART", f"{path}.neg")] if neg else []
        if p.negation == "do-support":
            if neg or question:
                did = self.fw("aux:did", "AUX", f"{path}.neg" if neg else f"{path}.aux")
                v = self.content(verb, "VERB", f"{path}.v")
                _attach([did], v, "aux")
                _attach(negs, v, "advmod")
                return [did, *negs, v], []
            return [self.content(verb, "VERB", f"{path}.v", "past")], []
        if p.negation == "suffix":
            v = self.content(verb, "VERB", f"{path}.v", "past-neg" if neg else "past")
            if neg:
                v.slots = v.slots + (f"{path}.neg",)
            return [v], []
        v = self.content(verb, "VERB", f"{path}.v", "past")
        group = [v]
        if p.past_particle and not neg:
            group.append(self.fw("part:past", "PART", f"{path}.v"))
            _attach(group[1:], v, "aux")
        _attach(negs, v, "advmod")
        if p.negation == "final":
            return group, negs
        return negs + group, []

    def arrange(self, S, V, O, X, neg_final, sub: bool, front: bool) -> list[Tok]:
        p = self.p
        flat = [t for x in X for t in x]
        if p.order == "SOV":
            return S + flat + O + neg_final + V
        if p.order == "VSO":
            return V + S + O + flat + neg_final
        if p.order == "V2":
            if sub:
                return S + O + flat + neg_final + V
            if front and X:
                rest = [t for x in X[1:] for t in x]
                return X[0] + V + S + O + rest + neg_final
            return S + V + O + flat + neg_final
        if front and X:  # SVO with a fronted time expression
            rest = [t for x in X[1:] for t in x]
            return X[0] + S + V + O + rest
        if p.obliques == "pre-verb":
            return S + flat + V + O
        return S + V + O + flat

    def ask(self, S, V, O, X, neg_final) -> list[Tok]:
        """A wh-question: the wh-phrase first, the verb before the subject (Was kaufte Maria?
        Qué compró María? What did Maria buy?), or left in place (wh in situ: zh, hi, tr)."""
        p = self.p
        parts = [S, O, *X]
        wh = next(x for x in parts if any(t.concept and t.concept.startswith("wh:") for t in x))
        if p.wh == "in-situ":
            return self.arrange(S, V, O, X, neg_final, sub=False, front=False)
        S, O = ([] if S is wh else S), ([] if O is wh else O)
        flat = [t for x in X if x is not wh for t in x]
        if p.order == "SOV":
            return wh + S + flat + O + neg_final + V
        if len(V) > 1 and p.negation == "do-support":  # what did Maria buy
            return wh + V[:-1] + S + V[-1:] + O + flat
        return wh + V + S + O + flat + neg_final

    def clause(
        self, f: Frame, path: str, ents: list[str], sub: bool = False, question: bool = False
    ) -> list[Tok]:
        S = self.np(f["subj"], f"{path}.s", ents, role="subj")
        do_support = question and f["subj"].get("kind") != "wh"
        V, neg_final = self.verb_group(f["verb"], f["neg"], path, question=do_support)
        O = self.np(f["obj"], f"{path}.o", ents, role="obj") if f.get("obj") else []
        X = []
        tm = self.time(f.get("time"), f"{path}.t", ents)
        if tm and f.get("front"):
            X.append(tm)
        X += [self.pp(pp, f"{path}.x{i}", ents) for i, pp in enumerate(f.get("obl", []))]
        if f.get("manner"):
            X.append([self.content(f["manner"], "ADV", f"{path}.m")])
        if tm and not f.get("front"):
            X.append(tm)
        verb = _free(V + neg_final)
        _attach(S, verb, "nsubj")
        _attach(O, verb, "obj")
        for x in X:
            _attach(x, verb, "advmod" if _free(x).upos == "ADV" else "obl")
        if question:
            return self.ask(S, V, O, X, neg_final)
        return self.arrange(S, V, O, X, neg_final, sub, bool(f.get("front")))

    def copula(self, f: Frame, path: str, ents: list[str], sub: bool = False) -> list[Tok]:
        p = self.p
        S = self.np(f["subj"], f"{path}.s", ents, role="subj")
        pred = [self.content(f["intens"], "ADV", f"{path}.i")] if f["intens"] else []
        adj = self.content(f["adj"], "ADJ", f"{path}.adj")
        _attach(pred, adj, "advmod")
        pred.append(adj)
        neg = [self.fw("part:not", "PART", f"{path}.neg")] if f["neg"] else []
        _attach(S, adj, "nsubj")
        _attach(neg, adj, "advmod")
        if not p.copula:
            return S + neg + pred
        plural = f["subj"].get("plural", False)
        cop = [
            self.fw("aux:were" if plural and self.is_english else "aux:was", "AUX", f"{path}.cop")
        ]
        _attach(cop, adj, "cop")
        if p.order == "SOV" or (p.order == "V2" and sub):
            return S + pred + neg + cop
        if p.order == "VSO":
            return neg + cop + S + pred
        if p.negation in ("do-support", "final"):
            return S + cop + neg + pred
        return S + neg + cop + pred

    def node(self, f: Frame, path: str, ents: list[str], sub: bool = False) -> list[Tok]:
        t = f["type"]
        if t == "clause":
            return self.clause(f, path, ents, sub)
        if t == "question":
            return self.clause(f["clause"], path, ents, question=True)
        if t == "copula":
            return self.copula(f, path, ents, sub)
        if t == "report":
            S = self.np(f["subj"], f"{path}.s", ents, role="subj")
            V, neg_final = self.verb_group(f["verb"], False, path)
            comp = self.node(f["comp"], f"{path}.c", ents, sub=True)
            verb = _free(V)
            _attach(S, verb, "nsubj")
            if self.p.complementizer:
                that = self.fw("sconj:that", "SCONJ", f"{path}.that")
                _attach([that], _free(comp), "mark")
                comp = [that] + comp
            _attach(comp, verb, "ccomp")
            if self.p.order == "SOV" and not self.p.complementizer:
                return S + comp + V
            if self.p.order == "VSO":
                return V + S + comp
            return S + V + comp
        if t == "coord":
            left = self.node(f["left"], f"{path}.l", ents, sub)
            right = self.node(f["right"], f"{path}.r", ents, sub)
            comma = Tok(PUNCT[self.p.script][1], "PUNCT", (f"{path}.comma",), kind="literal")
            conj = self.fw(f"cconj:{f['conj']}", "CCONJ", f"{path}.conj")
            head = _free(right)
            _attach([comma], head, "punct")
            _attach([conj], head, "cc")
            _attach(right, _free(left), "conj")
            return left + [comma, conj] + right
        raise ValueError(f"unknown frame type {t!r}")

    # --- whole sentences ----------------------------------------------------------------
    def realise(
        self,
        frame: Frame,
        rng: random.Random,
        *,
        code_switch: float = 0.0,
        noise: Noise | None = None,
    ) -> Sentence:
        ents: list[str] = []
        toks = self.node(frame, "r", ents)
        root = _free(toks)
        root.deprel = "root"
        if frame.get("mood"):
            mood = self.content(frame["mood"], "ADV", "r.mood")
            comma = Tok(PUNCT[self.p.script][1], "PUNCT", ("r.mood.comma",), kind="literal")
            _attach([mood], root, "advmod")
            _attach([comma], root, "punct")
            toks = [mood, comma, *toks]
        if frame.get("type") == "question":
            end = QMARK[self.p.script]
        else:
            end = PUNCT[self.p.script][
                2 if frame.get("type") == "copula" and frame.get("intens") else 0
            ]
        toks.append(Tok(end, "PUNCT", ("r.end",), kind="literal", head=root.uid, deprel="punct"))
        if frame.get("emoji"):
            toks.append(Tok(frame["emoji"], "SYM", ("r.emoji",), kind="literal", head=root.uid, deprel="discourse"))  # fmt: skip
        arcs = {t.uid: t for t in toks}
        if noise is not None and noise.active:
            toks = self.add_noise(toks, rng, noise)
        latin_ents = {e for e in range(len(ents)) if rng.random() < self.p.latin_names}
        forms = [self.surface(t, i, rng, code_switch, latin_ents) for i, t in enumerate(toks)]
        sep = " " if self.p.spaces else ""
        text, offsets = join_spans(forms, sep)
        heads, deprels = tree(toks, arcs)
        return Sentence(
            tokens=forms,
            upos=[t.upos for t in toks],
            ner=bio([(t.ent, t.etype) for t in toks]),
            slots=[t.slots for t in toks],
            text=text,
            lang=self.p.code,
            heads=heads,
            deprels=deprels,
            offsets=offsets,
        )

    def surface(self, t: Tok, i: int, rng, code_switch: float, latin_ents: set[int]) -> str:
        p = self.p
        if t.kind == "literal":
            if t.upos == "PUNCT" and p.ascii_punct and rng.random() < p.ascii_punct:
                return ASCII_PUNCT.get(t.form, t.form)
            return t.form
        if t.kind == "name":
            if p.script == "latin" or t.ent in latin_ents:
                return capitalise(t.form)
            form = write(t.form, p.script, foreign=True)
            return capitalise(form) if p.cased else form
        if code_switch and t.concept in self.en.words and rng.random() < code_switch:
            return self.inflect(self.en, t.concept, "past" if t.infl == "past-neg" else t.infl)
        form = write(t.form, p.script)
        if p.cased and (i == 0 or t.upos == "PROPN" or (p.noun_caps and t.upos == "NOUN")):
            form = capitalise(form)
        return form

    def add_noise(self, toks: list[Tok], rng: random.Random, noise: Noise) -> list[Tok]:
        out = []
        for t in toks:
            if t.upos != "PUNCT" and rng.random() < noise.drop:
                continue
            if t.kind == "native" and t.upos in _SUBSTITUTES and rng.random() < noise.substitute:
                concept = rng.choice(_SUBSTITUTES[t.upos])
                t = replace(t, concept=concept, form=self.inflect(self.lex, concept, t.infl))
            out.append(t)
        i = 0
        while i < len(out) - 2:  # never move the final punctuation
            if rng.random() < noise.reorder:
                out[i], out[i + 1] = out[i + 1], out[i]
                i += 2
            else:
                i += 1
        return out or toks


def bio(ents: list[tuple[int, str]]) -> list[str]:
    """BIO tags from per-token entity ids (a new B- wherever an entity run starts)."""
    tags, prev = [], -1
    for eid, etype in ents:
        if eid < 0:
            tags.append("O")
        else:
            tags.append(("I-" if eid == prev else "B-") + etype)
        prev = eid
    return tags


def tree(toks: list[Tok], arcs: dict[int, Tok]) -> tuple[list[int], list[str]]:
    """1-based heads (0 = root) and relations of ``toks``; ``arcs`` holds every token the
    sentence had before noise, so a dropped word's dependents climb to its nearest kept ancestor,
    and if the root itself was dropped, the first orphan becomes the root and adopts the others."""
    index = {t.uid: i + 1 for i, t in enumerate(toks)}
    heads, deprels = [], []
    for t in toks:
        h, rel = t.head, t.deprel
        while h is not None and h not in index:
            h = arcs[h].head
        heads.append(0 if h is None else index[h])
        deprels.append(rel)
    roots = [i for i, h in enumerate(heads) if h == 0]
    if len(roots) > 1 or deprels[roots[0]] != "root":
        for i in roots[1:]:
            heads[i] = roots[0] + 1
        deprels[roots[0]] = "root"
    return heads, deprels


def join_spans(forms: list[str], sep: str) -> tuple[str, list[tuple[int, int]]]:
    """Join tokens and give each token's character span in the text: punctuation attaches to the
    previous word; Latin words inside an unspaced script keep spaces between each other."""
    out, spans = "", []
    for f in forms:
        if out and f not in PUNCT_MARKS:
            ascii_run = sep == "" and out[-1].isascii() and out[-1].isalnum() and f[0].isascii()
            out += " " if ascii_run else sep
        spans.append((len(out), len(out) + len(f)))
        out += f
    return out, spans


def join(forms: list[str], sep: str) -> str:
    """The text of ``forms`` (see :func:`join_spans`)."""
    return join_spans(forms, sep)[0]
