"""The local engines: Apertium (rule-based, Debian packages) and CTranslate2 (a model directory).

The batching, error and cache logic of the Apertium engine is tested everywhere with a stand-in
``apertium`` command (a small script that upper-cases its input and can merge two sentences);
the tests of the real engine skip where Apertium or its English-Spanish pair is not installed
(``apt-get install apertium apertium-eng-spa``). The CTranslate2 engine is tested on a tiny
random-weight Marian model built here with transformers and converted by CTranslate2's own
converter (translations are gibberish; the plumbing is what is tested); those tests skip where
ctranslate2 or sentencepiece is not installed.
"""

from __future__ import annotations

import functools
import random
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from xlt.translate import (
    CacheConfig,
    SourceItem,
    TranslateConfig,
    TranslationCache,
    TranslationError,
    Translator,
    make_translator,
    translate_cached,
    translate_dataset,
)
from xlt.translate.backends import ApertiumConfig, CTranslate2Config, cache_engine
from xlt.translate.local import ApertiumTranslator, check_engine
from xlt.world import World
from xlt.world.grammar import tagging_frame


def _has_pair(mode: str) -> bool:
    if not shutil.which("apertium"):
        return False
    listed = subprocess.run(["apertium", "-l"], capture_output=True, text=True).stdout.split()
    return mode in listed


needs_apertium = pytest.mark.skipif(
    not _has_pair("eng-spa"),
    reason="Apertium English-Spanish is not installed (apt-get install apertium apertium-eng-spa)",
)

# lines that are hard for a sentence-per-line engine: no final punctuation, abbreviations,
# quotes, brackets, Apertium's stream syntax (^ $ [ ] / < > @ * #), numbers, lone punctuation
HARD = [
    "the big",
    "house is red",
    "Dr.",
    "U.S.",
    "He lives in the U.S.",
    "Dr. Smith met Prof. Jones at 5 p.m. in Washington, D.C.",
    '"Quoted',
    'text"',
    'She said: "it\'s fine."',
    "[brackets] and ^carets$ and a/b",
    "<b>bold</b> & stuff",
    r"C:\path\to\file @home #tag *star*",
    "{curly} 100% 3.14 1,000,000",
    "—",
    "...",
    "?",
    "1999",
    "e.g. i.e. etc.",
    "It's John's; they're here: see below—",
    "New York City",
]
BLANKISH = ["", "   ", "\t", " \n "]


@functools.cache
def english(n: int) -> tuple[str, ...]:
    """Synthetic-world English sentences (deterministic; no data files needed)."""
    from xlt.translate import detokenize

    world = World(("es",), seed=1)
    rng = random.Random("test:apertium")
    return tuple(
        detokenize(world.realise(tagging_frame(rng), "en", rng).tokens, "en") for _ in range(n)
    )


def thousand() -> list[str]:
    """1,000 sentences: the hard lines, blank-ish lines, and world sentences that each end in a
    unique number (numbers pass through Apertium unchanged, so they show where each went)."""
    out = HARD + BLANKISH
    k = 0
    while len(out) < 1000:
        s = english(1000)[k]
        out.append(f"{s.rstrip('.')} in {1000 + k}" if k % 2 else f"{s} {1000 + k}")
        k += 1
    return out


# =============================================================================================
# a stand-in apertium command: the engine's batching, errors and cache without the real one


@pytest.fixture
def fake_apertium(tmp_path):
    """An ``apertium`` that upper-cases its input; a batch holding MERGE loses the blank line
    after that sentence, a batch holding FAIL exits with an error."""
    script = tmp_path / "bin" / "apertium"
    script.parent.mkdir()
    script.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            """
            import pathlib, sys
            args = sys.argv[1:]
            log = pathlib.Path(__file__).with_name("calls.log")
            if "-l" in args:
                print("  eng-spa\\n  spa-eng")
                sys.exit(0)
            if "-V" in args:
                print("Apertium 0.0-fake")
                sys.exit(0)
            text = sys.stdin.read()
            with open(log, "a") as fh:
                fh.write(str(text.count("\\n\\n")) + "\\n")
            if "FAIL" in text:
                print("lt-proc: something broke", file=sys.stderr)
                sys.exit(3)
            out = text.upper()
            if text.count("\\n\\n") > 1:
                out = out.replace("MERGE\\n\\n", "MERGE ", 1)
            sys.stdout.write(out)
            """
        )
    )
    script.chmod(0o755)
    data = tmp_path / "apertium-data"
    (data / "modes").mkdir(parents=True)
    for mode in ("eng-spa", "spa-eng"):
        (data / "modes" / f"{mode}.mode").write_text("cat\n")
    return script, data


def fake_cfg(fake, **kw) -> ApertiumConfig:
    script, data = fake
    return ApertiumConfig(command=str(script), datadir=str(data), **kw)


def calls(fake) -> list[int]:
    log = fake[0].with_name("calls.log")
    return [int(x) for x in log.read_text().split()] if log.exists() else []


def test_fake_apertium_batches_sentences_and_keeps_blank_lines(fake_apertium):
    tr = ApertiumTranslator(fake_cfg(fake_apertium, batch_size=4), pair=("en", "es"))
    assert isinstance(tr, Translator)
    texts = ["one two", "", "three\nfour", "  ", "five.", "six", "seven"]
    out = tr.translate(texts, "en", "es")
    assert [t.text for t in out] == ["ONE TWO", "", "THREE FOUR", "", "FIVE.", "SIX", "SEVEN"]
    assert out[2].tokens == ("THREE", "FOUR") and out[1].tokens == ()
    # batches of 4 items; blank items are not sent: 2 + 3 sentences in two process calls
    assert calls(fake_apertium) == [2, 3]


def test_fake_apertium_merged_lines_are_split_by_halving(fake_apertium):
    """A batch whose output has one piece too few is translated again in halves."""
    texts = [f"s{i}" for i in range(8)]
    texts[5] = "MERGE"
    tr = ApertiumTranslator(fake_cfg(fake_apertium), pair=("en", "es"))
    out = tr.translate(texts, "en", "es")
    assert [t.text for t in out] == [x.upper() for x in texts]
    # 8 (merged) -> 4 + 4 (merged) -> 2 (merged: 1 + 1) + 2
    assert calls(fake_apertium) == [8, 4, 4, 2, 1, 1, 2]


def test_fake_apertium_provenance_and_cache_key_follow_the_data(fake_apertium):
    tr = ApertiumTranslator(fake_cfg(fake_apertium), pair=("en", "es"))
    [t] = tr.translate(["hello"], "en", "es")
    assert t.provenance["engine"] == "apertium" and t.provenance["mode"] == "eng-spa"
    pkgs = t.provenance["packages"]
    assert pkgs["apertium"] in ("Apertium 0.0-fake",) or re.match(r"\d", pkgs["apertium"])
    assert pkgs["eng-spa"].startswith("sha256:")  # not a Debian package: its data are hashed
    key = tr.cache_key("en", "es")
    assert key == f"apertium:eng-spa:{tr.version}" and cache_engine(tr, "en", "es") == key
    (fake_apertium[1] / "modes" / "eng-spa.mode").write_text("cat -n\n")
    assert ApertiumTranslator(fake_cfg(fake_apertium)).cache_key("en", "es") != key


def test_fake_apertium_failure_keeps_finished_batches_in_the_cache(fake_apertium, tmp_path):
    texts = [f"sentence {i}" for i in range(6)]
    texts[4] = "FAIL here"
    cfg = fake_cfg(fake_apertium, batch_size=2)
    path = str(tmp_path / "cache.sqlite")
    with TranslationCache(CacheConfig(path=path)) as cache:
        tr = ApertiumTranslator(cfg, pair=("en", "es"))
        with pytest.raises(TranslationError, match="exit status 3: lt-proc: something broke"):
            translate_cached(tr, texts, "en", "es", cache)
        assert cache.count(tr.cache_key("en", "es"), "en", "es") == 4
    texts[4] = "fixed"
    with TranslationCache(CacheConfig(path=path)) as cache:
        out = translate_cached(ApertiumTranslator(cfg), texts, "en", "es", cache)
    assert [t.cached for t in out] == [True] * 4 + [False] * 2
    assert [t.text for t in out] == [x.upper() for x in texts]
    assert calls(fake_apertium)[-1] == 2  # the rerun sent only the two missing sentences


def test_missing_binary_and_pair_name_the_apt_get_line(fake_apertium):
    missing = ApertiumConfig(command="no-such-apertium-xyz")
    with pytest.raises(TranslationError, match="apt-get install apertium apertium-eng-spa"):
        ApertiumTranslator(missing, pair=("en", "es"))
    with pytest.raises(TranslationError, match="apt-get install apertium apertium-eng-cat"):
        ApertiumTranslator(missing, pair=("en", "ca"))
    # the stand-in lists eng-spa and spa-eng only
    with pytest.raises(
        TranslationError, match=r"mode 'eng-cat' is not installed.*apertium-eng-cat"
    ):
        ApertiumTranslator(fake_cfg(fake_apertium), pair=("en", "ca"))
    with pytest.raises(TranslationError, match=r"no mode known for en->fr.*modes\.fr.*eng-spa"):
        ApertiumTranslator(fake_cfg(fake_apertium), pair=("en", "fr"))
    cfg = fake_cfg(fake_apertium, modes={"fr": "spa-eng"})
    assert ApertiumTranslator(cfg, pair=("en", "fr")).pair("en", "fr").mode == "spa-eng"


def test_check_engine_fails_before_any_job(fake_apertium):
    script, data = fake_apertium
    section = {
        "source": "en",
        "engine": "apertium",
        "datasets": ["wikiann"],
        "targets": ["es"],
        "apertium": {"command": str(script), "datadir": str(data)},
    }
    check_engine(section)
    with pytest.raises(TranslationError, match="apertium-eng-cat"):
        check_engine({**section, "targets": ["es", "ca"]})
    with pytest.raises(TranslationError, match="apt-get install apertium apertium-eng-spa"):
        check_engine({**section, "apertium": {"command": "no-such-apertium-xyz"}})
    check_engine({"engine": "googletrans", "targets": ["es"]})  # nothing to install
    pytest.importorskip("ctranslate2")
    pytest.importorskip("sentencepiece")
    with pytest.raises(TranslationError, match="model_dir is not set"):
        check_engine({"engine": "ctranslate2", "targets": ["es"]})


def test_config_keys_of_the_local_engines():
    cfg = TranslateConfig.from_config(
        {
            "engine": "apertium",
            "apertium": {"modes": {"ca": "eng-cat_valencia"}, "batch_size": 50},
            "ctranslate2": {"model_dir": "models/{src}-{lang}", "beam_size": 2},
        }
    )
    assert cfg.apertium.modes == {"ca": "eng-cat_valencia"} and cfg.apertium.batch_size == 50
    assert str(cfg.ctranslate2.resolve("en", "es")) == "models/en-es"
    with pytest.raises(ValueError, match=r"translate.apertium: unknown keys \['mode'\]"):
        TranslateConfig.from_config({"engine": "apertium", "apertium": {"mode": "x"}})
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        TranslateConfig.from_config({"apertium": {"batch_size": 0}})
    with pytest.raises(ValueError, match="only to the synthetic engine"):
        make_translator(TranslateConfig(engine="apertium", noise="low"), tgt="es")


# =============================================================================================
# the real Apertium


@needs_apertium
def test_apertium_keeps_sentence_boundaries_on_1000_sentences():
    """1,000 sentences in, 1,000 translations out, each from its own sentence."""
    texts = thousand()
    assert len(texts) == 1000
    tr = make_translator(TranslateConfig(engine="apertium"), tgt="es")
    out = tr.translate(texts, "en", "es")
    assert len(out) == 1000
    for src, t in zip(texts, out, strict=True):
        assert "\n" not in t.text
        assert bool(src.strip()) == bool(t.text), (src, t.text)
    # every numbered sentence's number is in its own translation and in no neighbour's
    for i in range(len(HARD + BLANKISH), 1000):
        number = re.findall(r"\d{4}$", texts[i])[0]
        assert number in out[i].tokens, (texts[i], out[i].text)
        assert number not in out[i - 1].tokens
    # same translations in batches of 7 and of 1000: no sentence depends on its neighbours
    small = ApertiumTranslator(ApertiumConfig(batch_size=7)).translate(texts[:140], "en", "es")
    assert [t.text for t in small] == [t.text for t in out[:140]]


@needs_apertium
def test_apertium_batch_equals_one_sentence_per_process():
    texts = HARD + list(english(200)[:10])
    tr = ApertiumTranslator(pair=("en", "es"))
    batched = [t.text for t in tr.translate(texts, "en", "es")]
    alone = [
        " ".join(
            subprocess.run(
                ["apertium", "-u", "eng-spa"], input=x, capture_output=True, text=True
            ).stdout.split()
        )  # fmt: skip
        for x in texts
    ]
    assert batched == alone
    assert batched[texts.index("U.S.")] == "EE.UU."  # the abbreviation's period is kept


@needs_apertium
def test_apertium_provenance_names_the_debian_packages():
    tr = ApertiumTranslator(pair=("en", "es"))
    [t] = tr.translate(["The house is red."], "en", "es")
    assert t.text == "La casa es roja."
    assert t.tokens == ("La", "casa", "es", "roja", ".")
    if shutil.which("dpkg-query"):
        want = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "apertium-eng-spa"],
            capture_output=True,
            text=True,
        ).stdout
        assert t.provenance["packages"]["apertium-eng-spa"] == want
        assert tr.cache_key("en", "es") == f"apertium:eng-spa:{want}"
    with pytest.raises(TranslationError, match="mode 'eng-xxx' is not installed"):
        ApertiumTranslator(ApertiumConfig(modes={"es": "eng-xxx"}), pair=("en", "es"))


@needs_apertium
def test_apertium_translate_dataset_caches_and_resumes(tmp_path):
    recs = [
        {"id": f"s{i}", "tokens": s.rstrip(".").split() + ["."], "tags": ["O"] * 0}
        for i, s in enumerate(english(30))
    ]
    for r in recs:
        r["tags"] = ["O"] * len(r["tokens"])
    cfg = TranslateConfig(engine="apertium")
    cache = {"path": str(tmp_path / "c.sqlite")}
    first, summary = translate_dataset(recs[:20], cfg, "en", "es", cache=cache)
    assert summary["from_cache"] == 0 and summary["engine"] == "apertium"
    assert summary["cache_engine"].startswith("apertium:eng-spa:")
    again, summary = translate_dataset(recs, cfg, "en", "es", cache=cache)
    assert summary["from_cache"] == 20 and summary["sentences"] == 30
    assert [r["text"] for r in again[:20]] == [r["text"] for r in first]
    assert all(r["provenance"]["mode"] == "eng-spa" for r in again)


@pytest.mark.skipif(not _has_pair("en-gl") or not _has_pair("eng-cat"), reason="no eng-cat/en-gl")
def test_apertium_catalan_and_galician():
    for tgt, want in (("ca", "La casa és vermell."), ("gl", "A casa é vermella.")):
        [t] = make_translator(TranslateConfig(engine="apertium"), tgt=tgt).translate(
            ["The house is red."], "en", tgt
        )
        assert t.text == want and t.provenance["mode"] in ("eng-cat", "en-gl")


# =============================================================================================
# CTranslate2 on a tiny random-weight Marian model


@pytest.fixture(scope="module")
def ct2_model(tmp_path_factory):
    """A Marian model with random weights (transformers), converted by CTranslate2's converter,
    with SentencePiece models trained here on synthetic-world sentences."""
    ct2 = pytest.importorskip("ctranslate2")
    spm = pytest.importorskip("sentencepiece")
    transformers = pytest.importorskip("transformers")
    import json
    import warnings

    import torch

    root = tmp_path_factory.mktemp("ct2")
    hf = root / "hf"
    hf.mkdir()
    world = World(("es",), seed=1)
    rng = random.Random("test:ct2")
    frames = [tagging_frame(rng) for _ in range(200)]
    text = {
        lang: [" ".join(world.realise(f, lang, random.Random(0)).tokens) for f in frames]
        for lang in ("en", "es")
    }
    for side, lang in (("source", "en"), ("target", "es")):
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(text[lang]),
            model_prefix=str(hf / side),
            vocab_size=120,
            hard_vocab_limit=False,
            model_type="unigram",
            character_coverage=1.0,
            bos_id=-1,
            eos_id=1,
            unk_id=0,
            pad_id=-1,
            minloglevel=2,
        )
        (hf / f"{side}.model").rename(hf / f"{side}.spm")
    vocab: dict[str, int] = {}
    for side in ("source", "target"):
        sp = spm.SentencePieceProcessor(model_file=str(hf / f"{side}.spm"))
        for i in range(sp.get_piece_size()):
            vocab.setdefault(sp.id_to_piece(i), len(vocab))
    for tok in ("</s>", "<unk>", "<pad>"):  # Marian: <pad> last
        vocab.setdefault(tok, len(vocab))
    (hf / "vocab.json").write_text(json.dumps(vocab))
    with warnings.catch_warnings():  # "Recommended: pip install sacremoses" (not needed here)
        warnings.simplefilter("ignore")
        tok = transformers.MarianTokenizer(
            str(hf / "source.spm"), str(hf / "target.spm"), str(hf / "vocab.json")
        )
    tok.save_pretrained(hf)
    torch.manual_seed(0)
    config = transformers.MarianConfig(
        vocab_size=len(tok.get_vocab()),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=128,
        pad_token_id=vocab["<pad>"],
        eos_token_id=vocab["</s>"],
        decoder_start_token_id=vocab["<pad>"],
    )
    transformers.MarianMTModel(config).save_pretrained(hf)
    out = root / "opus-mt-en-es"
    with warnings.catch_warnings():  # the converter loads the tokenizer again
        warnings.simplefilter("ignore")
        converter = ct2.converters.TransformersConverter(
            str(hf), copy_files=["source.spm", "target.spm"]
        )
        converter.convert(str(out))
    return root


def ct2_cfg(root, **kw) -> CTranslate2Config:
    base = {"model_dir": str(root / "opus-mt-{src}-{lang}"), "max_decoding_length": 12}
    return CTranslate2Config(**{**base, "beam_size": 2, **kw})


def test_ctranslate2_translates_in_batches_deterministically(ct2_model):
    texts = list(english(9)) + ["", "   "]
    cfg = ct2_cfg(ct2_model, batch_size=4)
    tr = make_translator(TranslateConfig(engine="ctranslate2", ctranslate2=cfg), tgt="es")
    assert isinstance(tr, Translator) and tr.name == "ctranslate2"
    seen: list[str] = []
    out = tr.translate(texts, "en", "es", on_result=lambda it, t: seen.append(it.id))
    assert seen == [str(i) for i in range(11)] and len(out) == 11
    assert all(t.text for t in out[:9]) and [t.text for t in out[9:]] == ["", ""]
    assert all(t.tokens and len(t.tokens) <= 40 for t in out[:9])
    again = make_translator(TranslateConfig(engine="ctranslate2", ctranslate2=cfg), tgt="es")
    assert [t.text for t in again.translate(texts, "en", "es")] == [t.text for t in out]
    prov = out[0].provenance
    assert prov["engine"] == "ctranslate2" and prov["model_dir"].endswith("opus-mt-en-es")
    assert prov["version"].startswith("ctranslate2 4.") and "sha256:" in prov["version"]
    assert prov["decoding"]["beam_size"] == 2


def test_ctranslate2_target_prefix_forces_and_is_removed(ct2_model):
    import ctranslate2
    import sentencepiece

    model_dir = ct2_model / "opus-mt-en-es"
    src_sp = sentencepiece.SentencePieceProcessor(model_file=str(model_dir / "source.spm"))
    tgt_sp = sentencepiece.SentencePieceProcessor(model_file=str(model_dir / "target.spm"))
    piece = tgt_sp.id_to_piece(5)
    cfg = ct2_cfg(ct2_model, target_prefix={"es": piece})
    forced = make_translator(TranslateConfig(engine="ctranslate2", ctranslate2=cfg), tgt="es")
    plain = make_translator(
        TranslateConfig(engine="ctranslate2", ctranslate2=ct2_cfg(ct2_model)), tgt="es"
    )
    assert forced.cache_key("en", "es") != plain.cache_key("en", "es")
    text = english(1)[0]
    [got] = forced.translate([text], "en", "es")
    [res] = ctranslate2.Translator(str(model_dir)).translate_batch(
        [src_sp.encode(text, out_type=str) + ["</s>"]],
        target_prefix=[[piece]],
        beam_size=2,
        max_decoding_length=12,
    )
    hyp = res.hypotheses[0]
    assert hyp[0] == piece  # the prefix was forced ...
    assert got.text == " ".join(tgt_sp.decode(hyp[1:]).split())  # ... and removed


def test_ctranslate2_cache_key_names_the_model(ct2_model, tmp_path):
    cfg = TranslateConfig(engine="ctranslate2", ctranslate2=ct2_cfg(ct2_model))
    texts = list(english(5))
    tr = make_translator(cfg, tgt="es")
    key = tr.cache_key("en", "es")
    assert key.startswith(f"ctranslate2:{tr.fingerprint}:") and len(tr.fingerprint) == 16
    with TranslationCache(tmp_path / "c.sqlite") as cache:
        first = translate_cached(tr, texts, "en", "es", cache)
        assert cache.count(key, "en", "es") == 5
        second = translate_cached(tr, texts, "en", "es", cache)
    assert [t.cached for t in second] == [True] * 5
    assert [t.text for t in second] == [t.text for t in first]
    other = ct2_cfg(ct2_model, beam_size=1)
    assert (
        make_translator(
            TranslateConfig(engine="ctranslate2", ctranslate2=other), tgt="es"
        ).cache_key("en", "es")
        != key
    )


def test_ctranslate2_missing_model_and_spm_name_file_and_fix(ct2_model, tmp_path):
    cfg = TranslateConfig(engine="ctranslate2", ctranslate2=ct2_cfg(ct2_model))
    with pytest.raises(
        TranslationError, match=r"opus-mt-en-de: not a CTranslate2 model.*--copy_files"
    ):
        make_translator(cfg, tgt="de")
    bad = ct2_cfg(ct2_model, target_spm="missing.spm")
    with pytest.raises(TranslationError, match=r"missing.spm: SentencePiece model not found"):
        make_translator(TranslateConfig(engine="ctranslate2", ctranslate2=bad), tgt="es")
    tr = make_translator(cfg, tgt="es")
    with pytest.raises(ValueError, match="make one per language pair"):
        tr.translate(["x"], "en", "de")
    section = {
        "engine": "ctranslate2",
        "targets": ["es", "de"],
        "ctranslate2": {"model_dir": cfg.ctranslate2.model_dir},
    }
    with pytest.raises(TranslationError, match="opus-mt-en-de"):
        check_engine(section)
    check_engine({**section, "targets": ["es"]})


def test_source_item_ids_survive_every_local_engine(fake_apertium):
    tr = ApertiumTranslator(fake_cfg(fake_apertium), pair=("en", "es"))
    out = tr.translate([SourceItem("a", "x"), SourceItem("b", "")], "en", "es")
    assert [t.src_id for t in out] == ["a", "b"]
