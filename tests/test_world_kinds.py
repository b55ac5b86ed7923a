"""The synthetic world's task kinds beyond tagging: parsing, NLI, QA and relations.

Structural validity on thousands of examples per kind and language, balance, cues a model could
cheat with, determinism, and that asking for these datasets leaves the older ones untouched.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from test_world_pins import ALL_LANGS, pinned_config  # tests/ is on sys.path (rootdir)

from xlt.io import read_jsonl
from xlt.world import Noise, World, WorldConfig, generate, load_profiles
from xlt.world.grammar import DEPRELS, tagging_frame
from xlt.world.kinds import NLI_LABELS, QA_TYPES, RELATION_LABELS, realise_record, relation_example
from xlt.world.world import DATASETS, DEFAULT_DATASETS, LABELS

NEW = ("synth-parsing", "synth-nli", "synth-qa", "synth-relation")
SIZES = {"train": 1600, "dev": 200, "test": 200}  # 2,000 examples per kind and language


@pytest.fixture(scope="module")
def kinds_world(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("kinds")
    cfg = WorldConfig(
        languages=ALL_LANGS, seed=5, sizes=SIZES, datasets=("synth-pos", *NEW), parallel=10
    )
    return out, generate(cfg, out)


def _records(out: Path, dataset: str, lang: str) -> list[dict]:
    return [r for split in SIZES for r in read_jsonl(out / dataset / lang / f"{split}.jsonl")]


# --- parsing ---------------------------------------------------------------------------------


def _check_tree(heads: list[int], deprels: list[str]) -> None:
    n = len(heads)
    assert [i for i, h in enumerate(heads) if h == 0] == [deprels.index("root")]
    assert deprels.count("root") == 1 and all(0 <= h <= n for h in heads)
    for i in range(n):  # no cycles: every token reaches the root within n steps
        j, steps = i, 0
        while heads[j] != 0:
            j, steps = heads[j] - 1, steps + 1
            assert steps <= n, f"cycle through token {i}"


def _projective(heads: list[int]) -> bool:
    arcs = [(min(i + 1, h), max(i + 1, h)) for i, h in enumerate(heads) if h]
    return not any(a < c < b < d for a, b in arcs for c, d in arcs)


@pytest.mark.parametrize("lang", ALL_LANGS)
def test_parsing_records_are_projective_trees_over_the_pos_sentences(kinds_world, lang):
    out, summary = kinds_world
    parses, pos = _records(out, "synth-parsing", lang), _records(out, "synth-pos", lang)
    assert len(parses) == 2000
    for p, q in zip(parses, pos, strict=True):
        assert p["id"] == q["id"] and p["tokens"] == q["tokens"] and p["tags"] == q["tags"]
        assert len(p["heads"]) == len(p["deprels"]) == len(p["tokens"])
        assert set(p["deprels"]) <= set(DEPRELS)
        _check_tree(p["heads"], p["deprels"])
        assert _projective(p["heads"]), p  # the grammar makes no crossing arcs
        for tag, rel in zip(p["tags"], p["deprels"], strict=True):
            assert (tag == "PUNCT") == (rel == "punct")
            assert rel != "det" or tag == "DET"
            assert rel != "case" or tag == "ADP"
    rels = Counter(r for p in parses for r in p["deprels"])
    assert {"nsubj", "obj", "obl", "amod", "ccomp", "conj", "cc", "flat"} <= set(rels)
    prof = load_profiles([lang])[lang]
    assert ("mark" in rels) == prof.complementizer  # that (zh, hi, tr: none)
    assert ("case" in rels) == (prof.adp != "suffix")  # case suffixes are part of their word
    assert summary["datasets"]["synth-parsing"][lang]["train"]["labels"]["root"] == 1600


def _arcs(s) -> dict[str, tuple[str, str]]:
    """Content word (by frame slot) -> (its head's slot, relation)."""
    content = {"NOUN", "PROPN", "VERB", "ADJ", "ADV", "NUM", "PRON"}
    slot = [sl[0] for sl in s.slots]
    return {
        slot[i]: (slot[h - 1] if h else "ROOT", rel)
        for i, (h, rel, u) in enumerate(zip(s.heads, s.deprels, s.upos, strict=True))
        if u in content
    }


def test_trees_have_the_same_arcs_in_every_word_order():
    """SVO, SOV, VSO and V2 realisations of a frame: the same arcs between the same words."""
    world = World(ALL_LANGS, seed=1)
    rng = random.Random(4)
    for i in range(300):
        frame = tagging_frame(rng)
        arcs = {lang: _arcs(world.realise(frame, lang, random.Random(i))) for lang in ALL_LANGS}
        for lang in ALL_LANGS:
            shared = arcs["en"].keys() & arcs[lang].keys()
            assert len(shared) >= 0.8 * len(arcs["en"])
            assert {k: arcs["en"][k] for k in shared} == {k: arcs[lang][k] for k in shared}, lang


def test_noisy_realisations_keep_valid_trees():
    world = World(("en", "hi", "zh"), seed=1)
    rng = random.Random(6)
    for i in range(1500):
        s = world.realise(tagging_frame(rng), ("en", "hi", "zh")[i % 3], rng, noise=Noise(0.2, 0.1, 0.2))  # fmt: skip
        _check_tree(s.heads, s.deprels)


# --- NLI -------------------------------------------------------------------------------------


def _words(text: str, lang: str) -> list[str]:
    return text.lower().split() if lang != "zh" else list(text.replace(" ", ""))


def _cue_accuracy(data: list[tuple[object, str]]) -> float:
    """Accuracy on held-out pairs of the best rule that sees only the cue (the majority label
    of each cue value on the first 60%)."""
    cut = int(len(data) * 0.6)
    by: dict[object, Counter] = defaultdict(Counter)
    for cue, label in data[:cut]:
        by[cue][label] += 1
    held = data[cut:]
    return sum(bool(by[c]) and by[c].most_common(1)[0][0] == y for c, y in held) / len(held)


@pytest.mark.parametrize("lang", ALL_LANGS)
def test_nli_is_balanced_and_not_solved_by_length_or_overlap(kinds_world, lang):
    out, summary = kinds_world
    recs = _records(out, "synth-nli", lang)
    for split in SIZES:
        counts = summary["datasets"]["synth-nli"][lang][split]["labels"]
        assert set(counts) == set(NLI_LABELS) and max(counts.values()) - min(counts.values()) <= 1
    assert all(r["text"] and r["text_pair"] and r["text"] != r["text_pair"] for r in recs)
    length, overlap = [], []
    for r in recs:
        p, h = _words(r["text"], lang), _words(r["text_pair"], lang)
        length.append((len(h) - len(p), r["label"]))
        overlap.append((round(len(set(h) & set(p)) / len(set(h)), 1), r["label"]))
    # chance is 1/3, a perfect rule 1.0
    assert _cue_accuracy(length) < 0.65, lang
    assert _cue_accuracy(overlap) < 0.65, lang


def test_nli_pairs_re_realise_in_another_language_with_their_label(kinds_world):
    out, _ = kinds_world
    world = World(ALL_LANGS, seed=5)
    en = _records(out, "synth-nli", "en")[:200]
    de = [realise_record(world, "synth-nli", r, "de", random.Random(0)) for r in en]
    en_again = [realise_record(world, "synth-nli", r, "en", random.Random(0)) for r in en]
    assert [r["label"] for r in de] == [r["label"] for r in en]
    assert [r["frame_pair"] for r in de] == [r["frame_pair"] for r in en]
    vocab_de = set(world.lexicons["de"].words.values())
    assert sum(w.lower() in vocab_de for r in de for w in r["text"].rstrip(".!").split()) > 500
    # the English realisation of the stored frames says what the record says (modulo the
    # random English switches, names in Latin script are always the same)
    same = sum(a["text"] == r["text"] for a, r in zip(en_again, en, strict=True))
    assert same > 150


# --- QA --------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ALL_LANGS)
def test_qa_answers_are_exact_spans_and_not_given_by_position(kinds_world, lang):
    out, summary = kinds_world
    recs = _records(out, "synth-qa", lang)
    qmark = {"zh": "？", "ar": "؟"}.get(lang, "?")
    sentence_of_answer, starts_at_0 = Counter(), 0
    for r in recs:
        (text,), (start,) = r["answers"]["text"], r["answers"]["answer_start"]
        assert text.strip() == text and text
        assert r["context"][start : start + len(text)] == text
        assert r["question"].endswith(qmark) or r["question"].endswith("?")
        k, _ = r["answer_node"]
        sentence_of_answer[k] += 1
        starts_at_0 += start == 0
        assert 2 <= len(r["frames"]) <= 4
    types = Counter(r["qtype"] for r in recs)
    assert set(types) == set(QA_TYPES) and min(types.values()) > 0.1 * len(recs), types
    assert max(sentence_of_answer.values()) < 0.5 * len(recs), sentence_of_answer
    assert starts_at_0 < 0.3 * len(recs)
    assert summary["datasets"]["synth-qa"][lang]["train"]["n"] == 1600
    if lang == "zh":  # no spaces but between Latin-script words
        for r in recs:
            c = r["context"]
            assert all(c[i - 1].isascii() and c[i + 1].isascii() for i, ch in enumerate(c) if ch == " ")  # fmt: skip
        han = sum(unicodedata.name(c, "").startswith("CJK") for r in recs[:50] for c in r["question"])  # fmt: skip
        assert han > 200


def test_qa_questions_follow_the_language_word_order():
    world = World(("en", "de", "es", "zh", "hi"), seed=1)
    maria = {"kind": "name", "etype": "PER", "parts": ["maria"]}
    book = {"kind": "noun", "noun": "book", "det": "the", "num": None, "plural": False, "adjs": []}
    clause = {"type": "clause", "subj": maria, "verb": "buy", "obj": book, "neg": False,
              "obl": [], "time": None, "front": False}  # fmt: skip
    what = {"type": "question", "clause": {**clause, "obj": {"kind": "wh", "wh": "what"}}}
    who = {"type": "question", "clause": {**clause, "subj": {"kind": "wh", "wh": "who"}}}
    assert world.realise(what, "en", random.Random(0)).text == "What did Maria buy?"
    assert world.realise(who, "en", random.Random(0)).text == "Who bought the book?"

    def order(lang: str, q: dict) -> str:
        s = world.realise(q, lang, random.Random(0))
        return "".join({"PRON": "W", "PROPN": "S", "VERB": "V", "NOUN": "O"}.get(u, "") for u in s.upos)  # fmt: skip

    assert order("de", what) == "WVS" and order("es", what) == "WVS"  # fronted, inverted
    assert order("zh", what) == "SVW" and order("hi", what) == "SWV"  # in situ


@pytest.mark.parametrize("dataset", ["synth-qa", "synth-relation"])
def test_passages_and_relations_re_realise_in_other_languages(kinds_world, dataset):
    """The synthetic translator's view: an English record's frames realised in zh, hi and ar,
    answers and arguments recomputed there (exact spans, the same labels)."""
    out, _ = kinds_world
    world = World(ALL_LANGS, seed=5)
    for i, r in enumerate(_records(out, dataset, "en")[:300]):
        for lang in ("zh", "hi", "ar"):
            t = realise_record(world, dataset, r, lang, random.Random(i))
            if dataset == "synth-qa":
                (text,), (start,) = t["answers"]["text"], t["answers"]["answer_start"]
                assert t["context"][start : start + len(text)] == text and text
                assert t["qtype"] == r["qtype"] and t["context"] != r["context"]
            else:
                assert t["label"] == r["label"] and t["tokens"] != r["tokens"]
                assert 0 <= t["head"][0] < t["head"][1] <= len(t["tokens"])


# --- relations -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ALL_LANGS)
def test_relation_spans_and_directed_labels(kinds_world, lang):
    out, summary = kinds_world
    recs = _records(out, "synth-relation", lang)
    for r in recs:
        (hs, he), (ts, te) = r["head"], r["tail"]
        assert 0 <= hs < he <= len(r["tokens"]) and 0 <= ts < te <= len(r["tokens"])
        assert he <= ts or te <= hs  # two different mentions
        assert r["label"] in RELATION_LABELS
    labels = Counter(r["label"] for r in recs)
    assert set(labels) == set(RELATION_LABELS)
    assert abs(labels["no_relation"] / len(recs) - 0.2) < 0.01
    for rel in RELATION_LABELS[1:]:  # every directed label about equally often (1/15 each)
        assert abs(labels[rel] / len(recs) - 0.8 / 12) < 0.01, rel
    assert summary["datasets"]["synth-relation"][lang]["test"]["labels"] == dict(
        sorted(
            Counter(
                r["label"] for r in read_jsonl(out / "synth-relation" / lang / "test.jsonl")
            ).items()
        )  # fmt: skip
    )


def test_relation_head_of_an_e1_e2_label_is_the_agent():
    """The mention a directed label calls e1 is the clause's subject (checked via the tree)."""
    world = World(("en", "ar", "hi"), seed=2)
    rng = random.Random(3)
    for i in range(300):
        label = RELATION_LABELS[1 + i % 12]
        ex = relation_example(rng, label)
        for lang in ("en", "ar", "hi"):
            s = world.realise(ex["frame"], lang, random.Random(i))
            r = realise_record(world, "synth-relation", {"id": str(i), "label": label, **ex}, lang, random.Random(i))  # fmt: skip
            agent = r["head"] if label.endswith("(e1,e2)") else r["tail"]
            assert "nsubj" in {s.deprels[j] for j in range(*agent)}, (lang, r)


# --- configuration, determinism, and the older datasets -----------------------------------------


def test_new_datasets_are_generated_only_when_configured(tmp_path):
    generate(pinned_config(), tmp_path)
    assert {p.name for p in tmp_path.iterdir() if p.is_dir()} == set(DEFAULT_DATASETS)
    assert set(LABELS) >= {"synth-parsing", "synth-nli", "synth-relation"}
    assert set(DATASETS) == set(DEFAULT_DATASETS) | set(NEW)


def test_unknown_dataset_is_a_clear_error():
    with pytest.raises(ValueError, match=r"world.datasets: unknown dataset\(s\) \['synth-squad'\]; choose from \[.*'synth-qa'"):  # fmt: skip
        WorldConfig(languages=("en", "de"), datasets=("synth-ner", "synth-squad"))
    with pytest.raises(ValueError, match="world.datasets: expected a non-empty list"):
        WorldConfig.from_config({"languages": ["en", "de"], "datasets": "synth-qa"})
    cfg = WorldConfig.from_config({"languages": ["en", "de"], "datasets": ["synth-qa"]})
    assert cfg.datasets == ("synth-qa",)


def _digests(root: Path, datasets) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for d in datasets
        for p in sorted((root / d).rglob("*.jsonl"))
    }


def test_asking_for_new_kinds_leaves_the_older_datasets_byte_identical(tmp_path):
    generate(pinned_config(), tmp_path / "default")  # pinned by test_world_pins
    generate(pinned_config(datasets=DATASETS), tmp_path / "all")
    old = _digests(tmp_path / "default", DEFAULT_DATASETS)
    assert len(old) == 13 * 3 * 3 + 13 + 12
    assert _digests(tmp_path / "all", DEFAULT_DATASETS) == old


def test_new_kinds_are_deterministic_per_seed(tmp_path):
    def run(name: str, seed: int) -> dict[str, str]:
        cfg = WorldConfig(languages=("en", "zh", "tr"), seed=seed, sizes={"train": 50, "dev": 10, "test": 10}, datasets=NEW)  # fmt: skip
        generate(cfg, tmp_path / name)
        return _digests(tmp_path / name, NEW)

    a, b, c = run("a", 1), run("b", 1), run("c", 2)
    assert a == b and len(a) == 4 * 3 * 3
    assert all(a[k] != c[k] for k in a)


def test_every_world_dataset_is_the_same_under_any_string_hash_seed(tmp_path):
    """Snakemake starts each job in a fresh interpreter with its own string-hash seed: a world
    built from the iteration order of a set (synth-nli chose contradicting nouns from a frozenset)
    differs from run to run. Two processes with different PYTHONHASHSEED must write identical files."""
    import hashlib
    import os
    import subprocess
    import sys

    script = (
        "import sys, pathlib\n"
        "from xlt.world import WorldConfig, generate\n"
        "cfg = WorldConfig(languages=('en', 'de', 'zh'), sizes={'train': 60, 'dev': 20, 'test': 20},\n"
        "                  unlabelled=10, parallel=10, datasets=('synth-nli', 'synth-parsing', 'synth-qa',\n"
        "                  'synth-relation', 'synth-ner', 'synth-sentiment', 'synth-text'))\n"
        "generate(cfg, pathlib.Path(sys.argv[1]))\n"
    )
    digests = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", script, str(out)], env=env, check=True, capture_output=True)  # fmt: skip
        files = sorted(p for p in out.rglob("*") if p.is_file())
        digests.append({str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files})  # fmt: skip
    assert digests[0] and digests[0] == digests[1]
