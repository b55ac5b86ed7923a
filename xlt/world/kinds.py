"""Task kinds beyond tagging and sentence labels: parsing, NLI, extractive QA and relations.

Each kind is derived from meaning frames, as the older datasets are, so its labels are exact and
the same in every language:

- **parsing**: the dependency tree the realiser builds with every sentence (``Sentence.heads``).
- **NLI**: a premise frame and a hypothesis frame made from one base frame by leaving out
  modifiers, generalising a participant (someone, something), changing a filler, swapping agent
  and patient, flipping polarity, embedding under ``X said that`` or coordinating; the label
  follows from the operation (with the monotonicity of negation: under ``not``, leaving a modifier
  out *weakens* the premise, so entailment runs the other way).
- **QA**: a passage of event frames and a wh-question about one role of one of them; the answer is
  the character span of that role's realisation.
- **relations**: two named participants of one clause and the role the non-agent plays for the
  agent (location, destination, ...), directed SemEval-style: ``location(e1,e2)`` when the head
  mention is the agent, ``location(e2,e1)`` when the tail is; ``no_relation`` otherwise.

Every record keeps its frames (``frame``, ``frame_pair``, ``frames``, ...), so
:func:`realise_record` can re-realise it in another language with the same labels (the synthetic
translator of translate-train).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from . import concepts as C
from .grammar import (
    POLARITY,
    Frame,
    Noise,
    Sentence,
    event_frame,
    opinion_frame,
    person,
    report_frame,
    tagging_frame,
)

if TYPE_CHECKING:
    from .world import World

NLI_LABELS = ("entailment", "neutral", "contradiction")
# what a named participant is for the clause's agent, by the adposition that introduces it
ADP_ROLES = {"in": "location", "at": "location", "near": "location", "to": "destination",
             "from": "origin", "with": "companion", "for": "beneficiary"}  # fmt: skip
RELATION_TYPES = ("patient", "location", "destination", "origin", "companion", "beneficiary")
DIRECTIONS = ("e1,e2", "e2,e1")
RELATION_LABELS = ("no_relation",) + tuple(f"{r}({d})" for r in RELATION_TYPES for d in DIRECTIONS)
QA_TYPES = ("who", "what", "where", "when")

# ordered (not a set): rng.choice over it must not depend on the string-hash seed
_PERSON_NOUNS = tuple(dict.fromkeys(C.lemmas(C.PERSON_NOUNS)))
_OBJECT_NOUNS = C.lemmas(C.OBJECT_NOUNS)
_PLACE_NOUNS = C.lemmas(C.PLACE_NOUNS)
_DEICTIC_TIMES = ("yesterday", "today", "tomorrow")


# =============================================================================================
# spans of frame nodes


def node_span(s: Sentence, node: str) -> tuple[int, int]:
    """Token span ``[start, end)`` of frame node ``node`` (``"r.s"``, ``"r.x0.np"``, ...) in ``s``:
    the tokens whose own slot is the node or below it, without object-case particles. A node a
    noise model scattered spans from its first to its last surviving token."""
    below = node + "."
    idx = [
        i
        for i, slots in enumerate(s.slots)
        if (slots[0] == node or slots[0].startswith(below)) and not slots[0].endswith(".acc")
    ]
    if not idx:
        raise KeyError(f"frame node {node!r} is not realised in {s.tokens}")
    return idx[0], idx[-1] + 1


# =============================================================================================
# parsing


def parsing_record(rid: str, s: Sentence) -> dict:
    return {"id": rid, "tokens": s.tokens, "heads": s.heads, "deprels": s.deprels, "tags": s.upos}


# =============================================================================================
# NLI: frames and the operations that relate them

_EVENT_KEYS = ("obl", "time", "manner", "intens")  # modifiers of the event (flip under negation)


def _role(key: str) -> str:
    """The part of the frame a key touches: ``s`` for ``s.adj0``, ``obl1`` for ``obl1``."""
    return key.split(".", 1)[0]


def _is_event_key(key: str) -> bool:
    return key.startswith(_EVENT_KEYS)


def _general(f: Frame, role: str) -> str | None:
    """The indefinite (someone/something) a clause's subject or object can be generalised to."""
    np = f.get({"s": "subj", "o": "obj"}[role])
    if f["type"] != "clause" or not np:
        return None
    if np["kind"] == "name" or (np["kind"] == "noun" and np["noun"] in _PERSON_NOUNS):
        return "someone"
    if role == "s" and np["kind"] == "pron":
        return "someone"
    if role == "o" and np["kind"] == "noun":
        return "something"
    return None


def optional_parts(f: Frame) -> list[str]:
    """Keys of what :func:`reduce` can leave out of a clause or copula frame: event modifiers
    (``obl<i>``, ``time``, ``manner``, ``intens``) and participant details (``s.adj<j>``,
    ``s.name`` (a family name), ``s.pp``, ``s.gen`` (someone/something instead), ``o.…``)."""
    keys: list[str] = []
    if f["type"] == "clause":
        keys += [f"obl{i}" for i in range(len(f.get("obl", [])))]
        keys += [k for k in ("time", "manner") if f.get(k)]
    else:
        keys += ["intens"] if f.get("intens") else []
    for role, key in (("s", "subj"), ("o", "obj")):
        np = f.get(key)
        if not np:
            continue
        if np["kind"] == "noun":
            keys += [f"{role}.adj{j}" for j in range(len(np["adjs"]))]
            keys += [f"{role}.pp"] if "pp" in np else []
        if np["kind"] == "name" and len(np["parts"]) > 1:
            keys.append(f"{role}.name")
        if _general(f, role):
            keys.append(f"{role}.gen")
    return keys


def reduce(f: Frame, keys) -> Frame:
    """``f`` without the parts named by ``keys`` (see :func:`optional_parts`)."""
    keys = set(keys)
    g = copy.deepcopy(f)
    if "time" in keys:
        g["time"], g["front"] = None, False
    if "manner" in keys:
        g.pop("manner", None)
    if "intens" in keys:
        g["intens"] = None
    if "obl" in g:
        g["obl"] = [pp for i, pp in enumerate(g["obl"]) if f"obl{i}" not in keys]
    for role, key in (("s", "subj"), ("o", "obj")):
        np = g.get(key)
        if not np:
            continue
        if f"{role}.gen" in keys:
            g[key] = {"kind": "pron", "pron": _general(f, role)}
            continue
        if np["kind"] == "noun":
            np["adjs"] = [a for j, a in enumerate(np["adjs"]) if f"{role}.adj{j}" not in keys]
            if f"{role}.pp" in keys:
                np.pop("pp", None)
        if f"{role}.name" in keys:
            np["parts"] = np["parts"][:1]
    return g


def _negate(f: Frame, neg: bool) -> Frame:
    return {**copy.deepcopy(f), "neg": neg}


def _other(rng: random.Random, pool, current):
    return rng.choice([x for x in pool if x != current])


def _new_person(rng: random.Random, old: dict) -> dict:
    while True:
        p = person(rng)
        if not set(p["parts"]) & set(old.get("parts", [])):
            return p


def _changed_np(rng: random.Random, np: dict, nouns) -> dict | None:
    """The same kind of participant, but a different one (None: no clear alternative)."""
    if np["kind"] == "name" and np["etype"] == "PER":
        return _new_person(rng, np)
    if np["kind"] == "name":  # a place
        return {**np, "parts": [_other(rng, C.CITIES, np["parts"][0])]}
    if np["kind"] == "org":
        return {**np, "name": _other(rng, C.ORG_NAMES + C.CITIES, np["name"])}
    if np["kind"] == "noun" and np["noun"] in nouns:
        return {**copy.deepcopy(np), "noun": _other(rng, nouns, np["noun"])}
    return None


def _opposite_adj(rng: random.Random, adj: str) -> str | None:
    if adj in POLARITY:
        return rng.choice(C.NEGATIVE_ADJS if POLARITY[adj] > 0 else C.POSITIVE_ADJS)
    return rng.choice(C.CONFLICTING_ADJS[adj]) if adj in C.CONFLICTING_ADJS else None


def conflicts(rng: random.Random, f: Frame) -> list[tuple[str, set[str], Frame]]:
    """Ways to make a frame that contradicts the positive frame ``f`` (under the usual NLI
    assumption that both sentences describe one event): ``(name, parts touched, new frame)``."""
    out: list[tuple[str, set[str], Frame]] = []
    g = copy.deepcopy(f)
    out.append(("negation", set(), _negate(g, True)))
    if f["type"] == "copula":
        adj = _opposite_adj(rng, f["adj"])
        if adj:
            out.append(("attribute", set(), {**g, "adj": adj}))
    else:
        subj = _changed_np(rng, f["subj"], _PERSON_NOUNS)
        if subj:
            out.append(("agent", {"s"}, {**g, "subj": subj}))
        obj = f.get("obj")
        if obj:
            new = _changed_np(rng, obj, _OBJECT_NOUNS if obj.get("noun") in _OBJECT_NOUNS else _PERSON_NOUNS)  # fmt: skip
            if new:
                out.append(("patient", {"o"}, {**g, "obj": new}))
            if _general(f, "o") == "someone" and _general(f, "s") == "someone" and f["subj"]["kind"] != "pron":  # fmt: skip
                out.append(("swap", {"s", "o"}, {**g, "subj": obj, "obj": f["subj"]}))
        places = [i for i, pp in enumerate(f.get("obl", [])) if pp["adp"] in ("in", "at", "to")]
        if places:
            i = rng.choice(places)
            np = _changed_np(rng, f["obl"][i]["np"], _PLACE_NOUNS)
            if np:
                obl = copy.deepcopy(f["obl"])
                obl[i]["np"] = np
                out.append(("place", {f"obl{i}"}, {**g, "obl": obl}))
        t = f.get("time")
        if t and ("year" in t or t.get("adv") in _DEICTIC_TIMES):
            new_t = (
                {"year": str(_other(rng, range(1950, 2025), int(t["year"])))}
                if "year" in t
                else {"adv": _other(rng, _DEICTIC_TIMES, t["adv"])}
            )
            out.append(("time", {"time"}, {**g, "time": new_t}))
    for role, key in (("s", "subj"), ("o", "obj")):
        np = f.get(key)
        for j, a in enumerate(np.get("adjs", []) if np else []):
            if "demonym" in a:
                new_a = {"demonym": _other(rng, C.lemmas(C.COUNTRIES), a["demonym"])}
            else:
                opposite = _opposite_adj(rng, a["adj"])
                new_a = {"adj": opposite} if opposite else None
            if new_a:
                h = copy.deepcopy(g)
                h[key]["adjs"][j] = new_a
                out.append(("attribute", {f"{role}.adj{j}"}, h))
    return out


def _some(rng: random.Random, keys, k_max: int, k_min: int = 0) -> list[str]:
    keys = list(keys)
    k = rng.randint(min(k_min, len(keys)), min(k_max, len(keys)))
    return rng.sample(keys, k)


def _base(rng: random.Random) -> Frame:
    """A premise clause (most) or an evaluation (X was ADJ), negated a quarter of the time."""
    if rng.random() < 0.75:
        return event_frame(rng, neg_p=0.25)
    f = opinion_frame(rng, rng.choice([-1, 0, 1]))
    return {**f, "neg": rng.random() < 0.25}


def _coord(a: Frame, b: Frame) -> Frame:
    return {"type": "coord", "conj": "and", "left": a, "right": b}


# recipes: label -> [(weight, name)]; each returns (premise, hypothesis) or None (not applicable)
NLI_RECIPES = {
    "entailment": [(6, "drop"), (1.5, "front"), (1.5, "conjunct"), (1, "reported")],
    "neutral": [(7, "drop"), (2, "unreported"), (0.7, "reporter"), (0.7, "conjunct")],
    "contradiction": [(7, "conflict"), (2, "conjunct"), (1, "reported")],
}


def nli_pair(rng: random.Random, label: str) -> tuple[Frame, Frame, str]:
    """A premise and a hypothesis frame related by ``label``, and the recipe that made them."""
    weights, names = zip(*[(w, n) for w, n in NLI_RECIPES[label]], strict=True)
    while True:
        recipe = rng.choices(names, weights)[0]
        pair = _RECIPES[label][recipe](rng, _base(rng))
        if pair is not None:
            return pair[0], pair[1], recipe


def _drop_entail(rng: random.Random, f: Frame) -> tuple[Frame, Frame] | None:
    """Leaving parts out of a positive frame is entailed; under negation, adding them is."""
    if f["neg"]:
        keys = [k for k in optional_parts(f) if _is_event_key(k)]
        return (reduce(f, _some(rng, keys, 2, 1)), f) if keys else None
    keys = optional_parts(f)
    return (f, reduce(f, _some(rng, keys, 2, 1))) if keys else None


def _drop_neutral(rng: random.Random, f: Frame) -> tuple[Frame, Frame] | None:
    """The hypothesis states a part the premise lacks (positive), or lacks a part the negated
    premise has; either side may leave out other parts too."""
    keys = optional_parts(f) if not f["neg"] else [k for k in optional_parts(f) if _is_event_key(k)]
    if not keys:
        return None
    missing = _some(rng, keys, 2, 1)
    roles = {_role(k) for k in missing}
    other = _some(rng, [k for k in keys if _role(k) not in roles], 2)
    less, more = reduce(f, missing), reduce(f, other)
    return (less, more) if not f["neg"] else (more, less)


def _front(rng: random.Random, f: Frame) -> tuple[Frame, Frame] | None:
    """A paraphrase: the time expression moved to the front (or back); only next to another
    modifier, so that the order changes in every language (verb-final ones do not front)."""
    if f["type"] != "clause" or not f.get("time") or not (f["obl"] or f.get("manner")):
        return None
    h = {**copy.deepcopy(f), "front": not f["front"]}
    if not f["neg"] and rng.random() < 0.5:
        h = reduce(h, _some(rng, [k for k in optional_parts(h) if k != "time"], 1))
    return f, h


def _conflict(rng: random.Random, f: Frame) -> tuple[Frame, Frame] | None:
    """A contradicting hypothesis; other parts may be left out on either side, as long as the
    negated side keeps no modifier the positive side lacks."""
    event = [k for k in optional_parts(f) if _is_event_key(k)]
    if f["neg"]:  # only the opposite polarity contradicts a negated premise
        p_keys = _some(rng, event, 1)
        h_keys = _some(rng, p_keys, 1)
        return reduce(f, p_keys), _negate(reduce(f, h_keys), False)
    name, touched, g = rng.choice(conflicts(rng, f))
    if name == "negation":
        p_keys = _some(rng, event, 1)
        h_keys = p_keys + _some(rng, [k for k in event if k not in p_keys], 1)
        return reduce(f, p_keys), reduce(g, h_keys)
    free = [k for k in optional_parts(f) if not {k, _role(k)} & touched and not k.endswith(".gen")]
    p_keys, h_keys = _some(rng, free, 1), _some(rng, free, 1)
    return reduce(f, p_keys), reduce(g, h_keys)


def _conjunct(label: str):
    """Premise or hypothesis coordinates two events: ``A, and B`` entails A (or B, or
    ``B, and A``); A does not entail ``A, and B``; a conflict with A contradicts ``A, and B``."""

    def make(rng: random.Random, f: Frame) -> tuple[Frame, Frame] | None:
        b = event_frame(rng)
        if label == "entailment":
            h = rng.choice([f, b, _coord(b, f)])
            return _coord(f, b), h
        if label == "neutral":
            return (f, _coord(f, b)) if rng.random() < 0.5 else (f, _coord(b, f))
        if f["neg"]:
            return None
        return _coord(f, b) if rng.random() < 0.5 else _coord(b, f), rng.choice(conflicts(rng, f))[2]  # fmt: skip

    return make


def _reported(label: str):
    """``X said that P``: entails ``X said that`` a part of P, contradicts ``X said that`` not-P,
    does not entail P itself."""

    def make(rng: random.Random, f: Frame) -> tuple[Frame, Frame] | None:
        outer = report_frame(rng, f)
        if label == "entailment":
            pair = _drop_entail(rng, f)
            return (
                None if pair is None else ({**outer, "comp": pair[0]}, {**outer, "comp": pair[1]})
            )
        if label == "contradiction":
            return outer, {**outer, "comp": _negate(f, not f["neg"])}
        if label == "neutral":  # unreported: the premise only says that someone said it
            h = f if f["neg"] else reduce(f, _some(rng, optional_parts(f), 1))
            return outer, h
        return None

    return make


def _reporter(rng: random.Random, f: Frame) -> tuple[Frame, Frame]:
    """The hypothesis adds who said it (not in the premise): neutral."""
    return f, report_frame(rng, f)


_RECIPES = {
    "entailment": {"drop": _drop_entail, "front": _front, "conjunct": _conjunct("entailment"),
                   "reported": _reported("entailment")},
    "neutral": {"drop": _drop_neutral, "unreported": _reported("neutral"), "reporter": _reporter,
                "conjunct": _conjunct("neutral")},
    "contradiction": {"conflict": _conflict, "conjunct": _conjunct("contradiction"),
                      "reported": _reported("contradiction")},
}  # fmt: skip


# =============================================================================================
# QA


def _qa_roles(f: Frame) -> dict[str, list[tuple[str, str]]]:
    """Question type -> [(wh word, answer node)] of one passage clause."""
    roles: dict[str, list[tuple[str, str]]] = {}
    if f["subj"]["kind"] != "pron":
        roles["who"] = [("who", "r.s")]
    obj = f.get("obj")
    if obj and obj["kind"] != "pron":
        wh = "what" if obj["kind"] == "noun" and obj["noun"] not in _PERSON_NOUNS else "who"
        roles.setdefault(wh, []).append((wh, "r.o"))
    places = [
        ("where", f"r.x{i}.np")
        for i, pp in enumerate(f.get("obl", []))
        if pp["adp"] in ("in", "at", "near", "to")
    ]
    if len(places) == 1:  # with two places, "where" would have two answers
        roles["where"] = places
    if f.get("time"):
        roles["when"] = [("when", "r.t" if "adv" in f["time"] else "r.t.np")]
    return roles


def question_frame(rng: random.Random, f: Frame, wh: str, node: str) -> Frame:
    """The wh-question about ``node`` of clause ``f``; every other modifier is kept or left out
    at random, so questions do not copy their sentence."""
    q = copy.deepcopy(f)
    q.update(neg=False, front=False)
    q.pop("manner", None)
    if node == "r.s":
        q["subj"] = {"kind": "wh", "wh": wh}
    elif node == "r.o":
        q["obj"] = {"kind": "wh", "wh": wh}
    if node.startswith("r.t"):
        q["time"] = {"wh": "when"}
    elif q.get("time") and rng.random() < 0.5:
        q["time"] = None
    obl = []
    for i, pp in enumerate(q.get("obl", [])):
        if node == f"r.x{i}.np":
            obl.append({"wh": "where"})
        elif rng.random() < 0.5:
            obl.append(pp)
    q["obl"] = obl
    return {"type": "question", "clause": q}


def qa_example(rng: random.Random) -> dict:
    """Passage frames (2-4 events with different verbs, a third of them about one person), a
    question and its answer node ``[sentence, node]``, chosen so that every question type and
    every sentence position occurs."""
    n = rng.choice((2, 3, 3, 4))
    topic = person(rng) if rng.random() < 0.35 else None
    frames: list[Frame] = []
    while len(frames) < n:
        f = event_frame(rng, neg_p=0.0)
        if any(f["verb"] == g["verb"] for g in frames):
            continue
        if topic is not None and rng.random() < 0.7:
            f["subj"] = copy.deepcopy(topic)
        frames.append(f)
    while True:
        k = rng.randrange(n)
        roles = _qa_roles(frames[k])
        if roles:
            break
    qtype = rng.choice(sorted(roles))
    wh, node = rng.choice(roles[qtype])
    return {
        "frames": frames,
        "question_frame": question_frame(rng, frames[k], wh, node),
        "answer_node": [k, node],
        "qtype": qtype,
    }


# =============================================================================================
# relations


def mentions(f: Frame, path: str = "r") -> Iterator[tuple[str, str, str]]:
    """``(node, role, clause)`` of every named participant (a name or organisation) of a frame:
    the agent (subject) of a clause, its patient (object) and its oblique participants."""
    t = f["type"]
    named = lambda np: bool(np) and np.get("kind") in ("name", "org")  # noqa: E731
    if t in ("clause", "report"):
        if named(f["subj"]):
            yield f"{path}.s", "agent", path
        if named(f.get("obj")):
            yield f"{path}.o", "patient", path
        for i, pp in enumerate(f.get("obl", [])):
            if named(pp.get("np")):
                yield f"{path}.x{i}.np", ADP_ROLES[pp["adp"]], path
        if t == "report":
            yield from mentions(f["comp"], f"{path}.c")
    elif t == "coord":
        yield from mentions(f["left"], f"{path}.l")
        yield from mentions(f["right"], f"{path}.r")
    elif t == "copula":
        if named(f["subj"]):
            yield f"{path}.s", "theme", path
        if "pp" in f["subj"] and named(f["subj"]["pp"]["np"]):
            yield f"{path}.s.pp.np", "place", path


def relation_pairs(f: Frame) -> dict[str, list[tuple[str, str]]]:
    """Relation type (or ``no_relation``) -> [(agent node, other node)] of every pair of named
    participants; a pair relates only when one is the agent of the clause the other is in."""
    ms = list(mentions(f))
    out: dict[str, list[tuple[str, str]]] = {}
    for i, (a, ra, ca) in enumerate(ms):
        for b, rb, cb in ms[i + 1 :]:
            if ca == cb and "agent" in (ra, rb):
                (agent, _), (other, role) = sorted([(a, ra), (b, rb)], key=lambda x: x[1] != "agent")  # fmt: skip
                if role in RELATION_TYPES:
                    out.setdefault(role, []).append((agent, other))
                    continue
            out.setdefault("no_relation", []).append((a, b))
    return out


def relation_example(rng: random.Random, label: str) -> dict:
    """A frame with a pair of mentions in relation ``label`` (drawn from the tagging world's
    frames until one has such a pair) and the pair's ``arg_nodes`` ``[head, tail]``."""
    rel, _, args = label.partition("(")
    while True:
        f = tagging_frame(rng)
        pairs = relation_pairs(f).get(rel)
        if pairs:
            a, b = rng.choice(pairs)
            if rel == "no_relation":
                a, b = (a, b) if rng.random() < 0.5 else (b, a)
            elif args.rstrip(")") == "e2,e1":
                a, b = b, a
            return {"frame": f, "arg_nodes": [a, b]}


# =============================================================================================
# realising records (generation and the synthetic translator)


def realise_record(
    world: World,
    dataset: str,
    record: Mapping[str, Any],
    lang: str,
    rng: random.Random,
    *,
    code_switch: float = 0.0,
    noise: Noise | None = None,
) -> dict:
    """A record of ``dataset`` (synth-nli, synth-qa, synth-relation) realised from its frames in
    ``lang``: the same labels, spans recomputed; frames and id carried over. This is how the
    generator writes them and how a synthetic translator translates them (pass ``noise`` for MT
    errors; a KeyError then says that noise dropped every word of an answer or argument)."""

    def say(f: Frame) -> Sentence:
        return world.realise(f, lang, rng, code_switch=code_switch, noise=noise)

    rid = record["id"]
    if dataset == "synth-nli":
        p, h = say(record["frame"]), say(record["frame_pair"])
        return {"id": rid, "text": p.text, "text_pair": h.text, "label": record["label"],
                "frame": record["frame"], "frame_pair": record["frame_pair"]}  # fmt: skip
    if dataset == "synth-relation":
        s = say(record["frame"])
        head, tail = (list(node_span(s, n)) for n in record["arg_nodes"])
        return {"id": rid, "tokens": s.tokens, "head": head, "tail": tail, "label": record["label"],
                "frame": record["frame"], "arg_nodes": record["arg_nodes"]}  # fmt: skip
    if dataset == "synth-qa":
        sents = [say(f) for f in record["frames"]]
        sep = " " if world.profiles[lang].spaces else ""
        k, node = record["answer_node"]
        start_tok, end_tok = node_span(sents[k], node)
        base = sum(len(s.text) + len(sep) for s in sents[:k])
        start = base + sents[k].offsets[start_tok][0]
        end = base + sents[k].offsets[end_tok - 1][1]
        context = sep.join(s.text for s in sents)
        question = say(record["question_frame"]).text
        return {"id": rid, "context": context, "question": question,
                "answers": {"text": [context[start:end]], "answer_start": [start]},
                "qtype": record["qtype"], "frames": record["frames"],
                "question_frame": record["question_frame"], "answer_node": record["answer_node"]}  # fmt: skip
    raise ValueError(f"realise_record: {dataset!r} is not a frame-pair/passage dataset")
