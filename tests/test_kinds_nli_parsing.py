"""Sentence pairs (NLI) and dependency parsing as task kinds: pair encoding with BERT's and
XLM-R's templates, the biaffine parser's shapes, loss, trees, saving and loading, and tiny models
that learn both kinds on the synthetic world (fixed seeds)."""

from __future__ import annotations

import importlib.util
import random
from collections import Counter

import numpy as np
import pytest
import torch

from xlt import bundled
from xlt.encoder import TinyBertConfig, new_tiny_bert, train_tokenizer
from xlt.finetune import FinetuneConfig, finetune
from xlt.io import read_jsonl, validate_record
from xlt.metrics import parsing_scores
from xlt.tasks import TaskSpec, build_model, collate, encode, get_kind, infer_labels, predict
from xlt.tasks.biaffine import BiaffineParser, build_parser
from xlt.world import NLI_LABELS, WorldConfig, generate

PAIR = {
    "id": "1",
    "text": "Anna sleeps well",
    "text_pair": "Nobody sleeps",
    "label": "contradiction",
}
TREE = {
    "id": "t",
    "tokens": ["Anna", "saw", "Berg", "."],
    "heads": [2, 0, 2, 2],
    "deprels": ["nsubj", "root", "obj", "punct"],
}
RELS = ("nsubj", "obj", "punct", "root")


@pytest.fixture(scope="module", autouse=True)
def threads():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: the same sums in the same order on every run
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """English and German synth-nli and synth-parsing (no encoder corpus needed here)."""
    root = tmp_path_factory.mktemp("world")
    sizes = {"train": 1000, "dev": 150, "test": 10}
    cfg = WorldConfig(languages=("en", "de"), sizes=sizes, unlabelled=10, parallel=10,
                      datasets=("synth-nli", "synth-parsing", "synth-text"))  # fmt: skip
    generate(cfg, root)
    return root


@pytest.fixture(scope="module")
def enc(tmp_path_factory, world):
    """A randomly initialised tiny BERT with a WordPiece vocabulary of the world's two datasets."""
    root = tmp_path_factory.mktemp("enc") / "enc"
    texts = []
    for lang in ("en", "de"):
        texts += [r["text"] + " " + r["text_pair"] for r in read_jsonl(world / "synth-nli" / lang / "train.jsonl")]  # fmt: skip
        texts += [" ".join(r["tokens"]) for r in read_jsonl(world / "synth-parsing" / lang / "train.jsonl")]  # fmt: skip
    tok = train_tokenizer(texts, 800, root)
    size = TinyBertConfig(vocab_size=800, hidden_size=48, layers=1, heads=2, intermediate_size=96, max_length=64)  # fmt: skip
    new_tiny_bert(size, tok, seed=0).save_pretrained(root)
    return root


def tokenizer(path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(path))


# --------------------------------------------------------------------------------------------
# sentence pairs


def test_bert_pair_template_and_segment_ids(enc):
    tok = tokenizer(enc)
    spec = TaskSpec("classification", NLI_LABELS)
    feats = encode(spec, tok, [PAIR, {**PAIR, "text_pair": "Anna sleeps well"}], 64)
    pieces = tok.convert_ids_to_tokens(feats.input_ids[0])
    sep = [i for i, p in enumerate(pieces) if p == "[SEP]"]
    assert pieces[0] == "[CLS]" and len(sep) == 2 and sep[1] == len(pieces) - 1
    assert tok.convert_tokens_to_string(pieces[1 : sep[0]]) == "Anna sleeps well"
    assert tok.convert_tokens_to_string(pieces[sep[0] + 1 : sep[1]]) == "Nobody sleeps"
    types = feats.extra["token_type_ids"][0]
    assert types == [0] * (sep[0] + 1) + [1] * (sep[1] - sep[0])  # segment B from the hypothesis
    batch = collate(feats, np.array([0, 1]), tok.pad_token_id)
    assert batch["token_type_ids"].shape == batch["input_ids"].shape
    assert batch["token_type_ids"][0].tolist() == types + [0] * (batch["input_ids"].shape[1] - len(types))  # fmt: skip
    assert batch["labels"].tolist() == [2, 2]
    # single texts keep no segment ids (the model's default, all 0): nothing changes for them
    single = encode(spec, tok, [{"id": "s", "text": "Anna sleeps .", "label": "neutral"}], 64)
    assert "token_type_ids" not in single.extra
    assert "token_type_ids" not in collate(single, np.array([0]), tok.pad_token_id)
    # a pair longer than max_length: the longer text is cut first, both keep their separators
    long = {**PAIR, "text": " ".join(["Anna"] * 40)}
    ids = encode(spec, tok, [long], 16).input_ids[0]
    cut = tok.convert_ids_to_tokens(ids)
    assert len(ids) == 16 and cut.count("[SEP]") == 2
    premise, hypothesis = cut[1 : cut.index("[SEP]")], cut[cut.index("[SEP]") + 1 : -1]
    full = tok.tokenize("Nobody sleeps")
    assert hypothesis == full[: len(hypothesis)] and len(premise) - len(hypothesis) in (0, 1)


@pytest.mark.skipif(importlib.util.find_spec(bundled.PACKAGE) is None, reason=f"needs {bundled.PACKAGE}")  # fmt: skip
def test_xlmr_pair_template_of_the_bundled_e5_tokenizer():
    tok = bundled.build_tokenizer(bundled.read_e5s1(bundled.bundled_file()))
    spec = TaskSpec("classification", NLI_LABELS)
    feats = encode(spec, tok, [PAIR], 64)
    pieces = tok.convert_ids_to_tokens(feats.input_ids[0])
    # <s> premise </s></s> hypothesis </s>, no segment ids
    assert pieces[0] == "<s>" and pieces[-1] == "</s>"
    first = pieces.index("</s>")
    assert pieces[first + 1] == "</s>" and pieces.count("</s>") == 3
    assert tok.convert_tokens_to_string(pieces[1:first]).strip() == "Anna sleeps well"
    assert tok.convert_tokens_to_string(pieces[first + 2 : -1]).strip() == "Nobody sleeps"
    assert feats.extra == {}
    assert set(collate(feats, np.array([0]), tok.pad_token_id)) == {"input_ids", "attention_mask", "labels"}  # fmt: skip


# --------------------------------------------------------------------------------------------
# the parser


def test_parsing_encode_maps_heads_to_kept_words(enc):
    tok = tokenizer(enc)
    spec = TaskSpec("parsing", RELS)
    sub = {**TREE, "deprels": ["nsubj:pass", "root", "obj", "punct"]}  # trained as nsubj
    feats = encode(spec, tok, [TREE, sub], 64)
    assert feats.kind == "parsing" and feats.word_index[0] == [0, 1, 2, 3]
    assert feats.targets[0] == [(2, 0), (0, 3), (2, 1), (2, 2)]
    assert feats.targets[1][0] == (2, 0)
    # cut after two words: the third word's head (2) is kept, the fourth word is gone
    short = encode(spec, tok, [TREE], len(tok(["Anna", "saw"], is_split_into_words=True)["input_ids"]))  # fmt: skip
    assert short.word_index[0] == [0, 1] and short.targets[0] == [(2, 0), (0, 3)]
    assert short.truncated == 2
    # a head beyond the cut is not trained on
    late = {**TREE, "heads": [4, 0, 2, 2]}
    assert encode(spec, tok, [late], len(short.input_ids[0])).targets[0][0] == (-100, -100)


def test_parser_shapes_loss_and_trees(enc, tmp_path):
    tok = tokenizer(enc)
    spec = TaskSpec("parsing", RELS)
    model = build_model(spec, str(enc), seed=3)
    assert isinstance(model, BiaffineParser) and model.config.hidden_size == 48
    two = {**TREE, "id": "u", "tokens": ["Berg", "slept"], "heads": [2, 0], "deprels": ["nsubj", "root"]}  # fmt: skip
    feats = encode(spec, tok, [TREE, two], 64)
    batch = collate(feats, np.array([0, 1]), tok.pad_token_id)
    assert batch["word_pos"].shape == (2, 4) and batch["word_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 0, 0]]  # fmt: skip
    model.eval()
    out = model(**batch, output_hidden_states=True)
    assert out.logits.shape == (2, 4, 5, 1 + len(RELS))
    assert out.hidden_states[-1].shape[:2] == batch["input_ids"].shape
    # the loss is the arc cross-entropy plus the relation cross-entropy at the gold head
    arc, rel = out.logits[..., 0], out.logits[..., 1:]
    labels = batch["labels"]
    keep = labels[..., 0] != -100
    arc_ce = torch.nn.functional.cross_entropy(arc[keep], labels[..., 0][keep])
    gold_rel = rel[keep][torch.arange(int(keep.sum())), labels[..., 0][keep]]
    rel_ce = torch.nn.functional.cross_entropy(gold_rel, labels[..., 1][keep])
    assert torch.allclose(out.loss, arc_ce + rel_ce)
    # padded heads can never be chosen: the second sentence's words 3 and 4 score -inf-like
    assert (arc[1, :, 3:] < -1e30).all()
    loss = model(**batch).loss
    loss.backward()
    assert model.arc_u.grad.abs().sum() > 0 and model.encoder.embeddings.word_embeddings.weight.grad is not None  # fmt: skip
    # decoding: one head per word, always a tree with one root word (MST), on random scores
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(1, 9))
        logits = rng.normal(size=(n + 2, n + 3, 1 + len(RELS))) * 5  # padded beyond n
        f = encode(spec, tok, [{**TREE, "tokens": ["w"] * n, "heads": [0] + [1] * (n - 1), "deprels": ["root"] + ["obj"] * (n - 1)}], 64)  # fmt: skip
        pred = get_kind("parsing").decode(spec, logits, f, 0)
        heads = [h for h, _ in pred]
        assert len(heads) == n and heads.count(0) == 1 and all(r in RELS for _, r in pred)
        for start in range(1, n + 1):  # every word reaches the root
            seen, v = set(), start
            while v != 0:
                assert v not in seen
                seen.add(v)
                v = heads[v - 1]
    # saved and loaded (keep_weights; the interpolation study reads model.safetensors)
    model.save_pretrained(tmp_path / "m")
    again = BiaffineParser.from_pretrained(tmp_path / "m").eval()
    assert torch.equal(again(**batch).logits, model.eval()(**batch).logits)
    from xlt.studies.interpolation.interpolation import Interpolator, load_weights

    states = {e: load_weights(tmp_path / "m") for e in ("src", "tgt", "bi")}
    fresh = build_model(spec, str(enc), seed=4).eval()
    Interpolator(fresh, states).apply(0.0, 0.0)
    assert torch.equal(fresh(**batch).logits, again(**batch).logits)


def test_predict_scores_gold_trees_as_100_and_keeps_truncated_words(enc):
    tok = tokenizer(enc)
    spec = TaskSpec("parsing", RELS)
    kind = get_kind("parsing")
    feats = encode(spec, tok, [TREE], 4)  # [CLS] + 2 words + [SEP]: words 3, 4 are cut off
    model = build_model(spec, str(enc), seed=1)
    pred, first = predict(model, spec, feats, tok.pad_token_id, 8, "cpu")
    # the cut words: attached to the root with the default relation ("dep" if any, else the first)
    assert len(pred[0]) == 4 and pred[0][2:] == [(0, "nsubj"), (0, "nsubj")]
    assert first.shape == (48,)
    assert parsing_scores([kind.gold(TREE)], [kind.gold(TREE)]) == {"uas": 100.0, "las": 100.0}


def test_inferred_relations_are_universal_and_the_baseline_attaches_to_the_previous_word():
    sub = {**TREE, "deprels": ["nsubj:pass", "root", "obj", "punct"]}
    # inferred: the 37 universal relations of UD v2, whatever subset the data holds
    labels = infer_labels("parsing", [[TREE, sub]])
    assert len(labels) == 37 and {"nsubj", "obj", "punct", "root", "dep"} <= set(labels)
    assert "nsubj:pass" not in labels
    other = infer_labels("parsing", [[{**TREE, "deprels": ["nsubj", "root", "obj", "new:x"]}]])
    assert len(other) == 38 and "new" in other
    label, baseline = get_kind("parsing").majority_baseline([TREE, sub])
    assert label == "nsubj"  # a tie of four relations: the first seen
    assert baseline(get_kind("parsing").gold(TREE)) == [(0, label), (1, label), (2, label), (3, label)]  # fmt: skip
    # TREE: word 3 (obj) is attached to word 2: the one arc the baseline gets right
    assert (
        parsing_scores(
            [get_kind("parsing").gold(TREE)], [baseline(get_kind("parsing").gold(TREE))]
        )["uas"]
        == 25.0
    )


# --------------------------------------------------------------------------------------------
# tiny models learn both kinds


def cfg(kind: str, labels, lr: float, epochs: int, **kw) -> FinetuneConfig:
    return FinetuneConfig(kind=kind, labels=tuple(labels), lr=lr, epochs=epochs, batch_size=16,
                          seed=1, max_length=64, device="cpu", **kw)  # fmt: skip


def load(world, dataset: str, kind: str):
    schema = get_kind(kind).schema
    train = read_jsonl(world / dataset / "en" / "train.jsonl", schema)
    evals = {lang: {"dev": read_jsonl(world / dataset / lang / "dev.jsonl", schema)} for lang in ("en", "de")}  # fmt: skip
    return train, evals


def test_a_tiny_parser_learns_synth_parsing(world, enc):
    train, evals = load(world, "synth-parsing", "parsing")
    labels = infer_labels("parsing", [train])
    res = finetune(cfg("parsing", labels, 3e-3, 3), enc, train, evals)
    curve = res.loss_curve
    assert np.mean(curve[-10:]) < 0.5 * np.mean(curve[:10])
    kind = get_kind("parsing")
    _, baseline = kind.majority_baseline(train)
    for lang in ("en", "de"):
        gold = [kind.gold(r) for r in evals[lang]["dev"]]
        trivial = parsing_scores(gold, [baseline(g) for g in gold])
        got = res.scores[lang]["dev"]
        assert got["uas"] > trivial["uas"] + 20 and got["las"] > trivial["las"] + 20, (lang, got, trivial)  # fmt: skip
        assert got["las"] <= got["uas"]
    assert res.scores["en"]["dev"]["uas"] > 60
    assert all(h.count(0) == 1 for h in ([h for h, _ in p] for p in res.predictions["en"]))


def test_a_tiny_model_learns_synth_nli_pairs(world, enc):
    train, evals = load(world, "synth-nli", "classification")
    # mean pooling: the randomly initialised encoder's [CLS] vector alone learns more slowly
    res = finetune(cfg("classification", NLI_LABELS, 5e-3, 8, pooling="mean"), enc, train, evals)
    assert np.mean(res.loss_curve[-10:]) < np.mean(res.loss_curve[:10]) - 0.3
    # in-language well above chance (1/3; 150 balanced dev pairs: chance sd 3.8 points); German
    # shares no sub-words with English here (no pretraining), so transfer stays near chance
    assert res.scores["en"]["dev"]["accuracy"] > 100 / 3 + 12, res.scores
    assert res.scores["de"]["dev"]["accuracy"] > 100 / 3 - 8, res.scores


def test_same_seed_same_parser(world, enc):
    train, evals = load(world, "synth-parsing", "parsing")
    train, evals = train[:40], {"en": {"dev": evals["en"]["dev"][:20]}}
    labels = infer_labels("parsing", [train])
    a = finetune(cfg("parsing", labels, 3e-3, 1), enc, train, evals)
    b = finetune(cfg("parsing", labels, 3e-3, 1), enc, train, evals)
    assert a.loss_curve == b.loss_curve and a.predictions == b.predictions


# --------------------------------------------------------------------------------------------
# translate-train on sentence pairs (the synthetic engine realises both frames)


def test_synthetic_translation_of_nli_pairs_carries_the_labels(world):
    from xlt.translate import TranslateConfig, carry_labels, translate_sentences
    from xlt.world import World

    records = read_jsonl(world / "synth-nli" / "en" / "train.jsonl")[:30]
    w = World(["en", "de"], seed=1)
    cfg = TranslateConfig.from_config({"engine": "synthetic", "noise": "none", "seed": 1})
    out, summary = translate_sentences(records, cfg, "en", "de", dataset="synth-nli", world=w)
    assert summary["sentences"] == 60 and summary["engine"] == "synthetic"  # premise + hypothesis
    train, stats = carry_labels(out)
    counts = Counter(r["label"] for r in records)
    assert stats == {"sentences": 30, "pairs": 30, "labels": dict(sorted(counts.items()))}
    for src, tr in zip(records, train, strict=True):
        assert tr["label"] == src["label"] and tr["src_id"] == src["id"] and tr["id"] == f"{src['id']}.de"  # fmt: skip
        # the German realisation of the premise frame and of the hypothesis frame (sentence
        # id <id>.pair), each with the translator's own seed
        for key, frame, sid in (("text", "frame", src["id"]), ("text_pair", "frame_pair", f"{src['id']}.pair")):  # fmt: skip
            rng = random.Random(f"1:translate:{sid}:de:none")
            assert tr[key] == w.realise(src[frame], "de", rng).text
        assert tr["text"] != src["text"]

    # deterministic (all but the provenance's wall-clock date), and valid classification data
    def undated(recs):
        return [{**r, "provenance": {k: v for k, v in r["provenance"].items() if k != "date"}} for r in recs]  # fmt: skip

    again = translate_sentences(records, cfg, "en", "de", dataset="synth-nli", world=w)[0]
    assert undated(again) == undated(out) and all(r["provenance"]["date"] for r in again)
    for r in train:
        validate_record(r, "classification", "x", 1, NLI_LABELS)


def test_head_lr_gives_the_parser_head_its_own_rate_and_speeds_learning(world, enc):
    """finetune.head_lr: the parameters outside the encoder (the biaffine MLPs and scorers) get
    their own learning rate; every trainable parameter is in exactly one group; at an encoder's
    fine-tuning rate the fresh head learns slowly, and the head's own rate lets it learn."""
    from xlt.train.loop import LoopConfig, make_optimizer

    train, evals = load(world, "synth-parsing", "parsing")
    labels = infer_labels("parsing", [train])
    model = build_parser(str(enc), tuple(labels), seed=1)
    opt = make_optimizer(model, LoopConfig(lr=1e-4, head_lr=2e-3))
    by_lr = {}
    for g in opt.param_groups:
        by_lr.setdefault(g["lr"], set()).update(id(p) for p in g["params"])
    encoder = {id(p) for p in model.encoder.parameters()}
    assert by_lr[1e-4] == encoder and by_lr[2e-3] == {id(p) for p in model.parameters()} - encoder
    assert len(opt.param_groups) == 4 and len(make_optimizer(model, LoopConfig(lr=1e-4)).param_groups) == 2  # fmt: skip
    with pytest.raises(ValueError, match="head_lr"):
        make_optimizer(model.encoder, LoopConfig(lr=1e-4, head_lr=2e-3))

    train, evals = train[:200], {"en": evals["en"]}
    slow = finetune(cfg("parsing", labels, 1e-4, 2), enc, train, evals)
    fast = finetune(cfg("parsing", labels, 1e-4, 2, head_lr=3e-3), enc, train, evals)
    assert np.mean(fast.loss_curve[-5:]) < 0.8 * np.mean(slow.loss_curve[-5:])
    assert fast.scores["en"]["dev"]["las"] > slow.scores["en"]["dev"]["las"] + 5, (fast.scores, slow.scores)  # fmt: skip
    assert fast.scores["en"]["dev"]["uas"] > slow.scores["en"]["dev"]["uas"], (fast.scores, slow.scores)  # fmt: skip
