"""Language feature vectors g(l) for learned model selection, from lang2vec.

Three feature sets:

- ``learned``: the 512-d vectors of Malaviya et al. (2017) shipped with lang2vec as
  ``data/learned.npy`` (a pickled dict ISO 639-3 code -> vector; the key ``langs`` is metadata).
  lang2vec's own loader for this set breaks on modern numpy, so the file is read here directly --
  and, since unpickling can run code, only when its SHA-256 is the one of lang2vec 1.1.2's file
  (:data:`LEARNED_SHA256`).
  English (``eng``) has *no* learned vector: it is the source language and never a pivot or target
  of the scorer, and asking for it is an error.
- ``syntax``: the 103-d URIEL syntax features, taken from lang2vec's ``syntax_knn`` set (typological
  values with gaps filled by k-nearest-neighbour prediction), so that no entry is missing. The raw
  ``syntax_wals``/``syntax_sswl`` sets contain "--" for unknown values, which would silently feed
  placeholders to the scorer.
- ``none``: no language information; every language gets the same constant 1-d vector, so the
  bilinear scorer reduces to a language-independent linear head on the model features.

Project code uses ISO 639-1 codes (``de``, ``zh``); lang2vec uses ISO 639-3 and its coverage differs
per feature set (``learned`` knows the macro-language members ``arb``, ``zho``, ``pes``, not
``ara``/``fas``). :data:`ISO639_3` is an explicit map; a language outside it, or one without a
vector in the requested set, raises a :class:`ValueError` naming the language, the feature set and
the fix. Nothing ever falls back to a placeholder (lang2vec's -1) vector.

Language *similarity* (:func:`most_similar`, the Pivot-Dev pivot) uses ``syntax`` by default
(:data:`DEFAULT_SIMILARITY`, as the workflow's ``lms.similarity``): it picks the paper's pivots for
9 of 10 POS targets.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

FEATURE_SETS = ("learned", "syntax", "none")
#: the lang2vec set that decides which language is most similar to a target (Pivot-Dev)
DEFAULT_SIMILARITY = "syntax"
#: SHA-256 of ``lang2vec/data/learned.npy`` in lang2vec 1.1.2 (a pickle: loaded only if it matches)
LEARNED_SHA256 = "c4291e75e50312e631cc97fe547e2622e010c45d69ae0dee44155ddd881ea23b"

#: ISO 639-1 (project) -> ISO 639-3 (lang2vec) code, chosen so that each language has a ``learned``
#: vector where lang2vec has one (Arabic -> Standard Arabic ``arb``, Persian -> Iranian Persian
#: ``pes``, Chinese -> ``zho``, Malay -> ``msa`` …).
ISO639_3: dict[str, str] = {
    "af": "afr", "am": "amh", "ar": "arb", "az": "azb", "be": "bel", "bg": "bul", "bn": "ben",
    "ca": "cat", "cs": "ces", "cy": "cym", "da": "dan", "de": "deu", "el": "ell", "en": "eng",
    "eo": "epo", "es": "spa", "et": "est", "eu": "eus", "fa": "pes", "fi": "fin", "fj": "fij",
    "fo": "fao", "fr": "fra", "ga": "gle", "gd": "gla", "ha": "hau", "he": "heb", "hi": "hin",
    "hr": "hrv", "hu": "hun", "hy": "hye", "id": "ind", "ig": "ibo", "it": "ita", "ja": "jpn",
    "jv": "jav", "ka": "kat", "kk": "kaz", "km": "khm", "ko": "kor", "la": "lat", "lt": "lit",
    "lv": "lav", "mg": "mlg", "mi": "mri", "mk": "mkd", "ml": "mal", "mr": "mar", "ms": "msa",
    "my": "mya", "ne": "nep", "nl": "nld", "no": "nob", "ny": "nya", "pl": "pol", "pt": "por", "qu": "quy",
    "ro": "ron", "ru": "rus", "sk": "slk", "sl": "slv", "sm": "smo", "sn": "sna", "so": "som",
    "sq": "sqi", "sr": "srp", "sv": "swe", "sw": "swh", "ta": "tam", "te": "tel", "th": "tha",
    "tl": "tgl", "tr": "tur", "tt": "tat", "ug": "uig", "uk": "ukr", "ur": "urd", "uz": "uzn", "vi": "vie",
    "xh": "xho", "yo": "yor", "zh": "zho", "zu": "zul",
}  # fmt: skip


def iso639_3(lang: str) -> str:
    """The lang2vec (ISO 639-3) code of a project language code.

    Three-letter codes are taken as ISO 639-3 already. An unknown two-letter code is an error.
    """
    if len(lang) == 3:
        return lang
    if lang not in ISO639_3:
        raise ValueError(
            f"language {lang!r} has no ISO 639-3 code in xlt.studies.lms.langvec.ISO639_3; add it there "
            "(lang2vec needs ISO 639-3 codes, e.g. 'de' -> 'deu') or use lang_features: none"
        )
    return ISO639_3[lang]


def _lang2vec_file(relative: str) -> Path:
    """A file of the installed lang2vec package, located through its distribution metadata.

    Not through ``import lang2vec``: lang2vec also installs a ``bin/lang2vec.py`` script, which
    shadows the package whenever ``bin`` is first on ``sys.path`` (e.g. under ``.venv/bin/pytest``).
    """
    from importlib import metadata

    try:
        path = Path(str(metadata.distribution("lang2vec").locate_file(f"lang2vec/{relative}")))
    except metadata.PackageNotFoundError:
        raise ImportError(
            "lang2vec is not installed (pip install lang2vec 'setuptools<82')"
        ) from None
    if not path.exists():
        raise ImportError(f"lang2vec is installed but {path} is missing; reinstall lang2vec")
    return path


@lru_cache(maxsize=1)
def _lang2vec():
    """lang2vec's ``lang2vec.lang2vec`` module, loaded from its file (slow: ~4 s, done once)."""
    import importlib.util
    import sys

    name = "_xlt_lang2vec"
    spec = importlib.util.spec_from_file_location(name, _lang2vec_file("lang2vec.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pkg_resources finds the package's data through this entry
    with warnings.catch_warnings():  # lang2vec imports the deprecated pkg_resources
        warnings.simplefilter("ignore")
        spec.loader.exec_module(module)
    return module


def load_learned(path: str | Path, sha256: str = LEARNED_SHA256) -> dict[str, np.ndarray]:
    """The learned vectors of a ``learned.npy`` file, unpickled only if its SHA-256 is ``sha256``."""
    path = Path(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise ValueError(
            f"{path}: SHA-256 {digest} differs from {sha256}, that of lang2vec 1.1.2's "
            "learned.npy; the file is a pickle (loading it can run code), so it is not loaded. "
            "Reinstall the pinned package (pip install --force-reinstall lang2vec==1.1.2) or use "
            "lang_features: syntax or none"
        )
    raw = np.load(path, allow_pickle=True).item()
    return {str(k): np.asarray(v, dtype=np.float32) for k, v in raw.items() if k != "langs"}


@lru_cache(maxsize=1)
def learned_table() -> dict[str, np.ndarray]:
    """lang2vec's learned vectors: ISO 639-3 code -> 512-d float32 vector (read once)."""
    return load_learned(_lang2vec_file("data/learned.npy"))


@lru_cache(maxsize=256)
def _syntax_knn(code: str) -> np.ndarray:
    try:
        values = _lang2vec().get_features([code], "syntax_knn")[code]
    except Exception as e:  # lang2vec raises a bare Exception for unknown languages
        raise LookupError(str(e).strip()) from None
    if any(v == "--" for v in values):
        raise LookupError(f"syntax_knn vector of {code!r} has missing values")
    return np.asarray(values, dtype=np.float32)


def language_vector(lang: str, feature_set: str) -> np.ndarray:
    """g(l) of one language (project code) in ``feature_set`` (``learned``, ``syntax``, ``none``)."""
    if feature_set == "none":
        return np.ones(1, dtype=np.float32)
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown language feature set {feature_set!r}; use one of {FEATURE_SETS}")
    code = iso639_3(lang)
    if feature_set == "learned":
        table = learned_table()
        if code not in table:
            extra = (
                " English is the source language: it is never a pivot or target of the scorer."
                if code == "eng"
                else ""
            )
            raise ValueError(
                f"language {lang!r} (lang2vec code {code!r}) has no 'learned' lang2vec vector.{extra} "
                "Map it to a covered ISO 639-3 code in xlt.studies.lms.langvec.ISO639_3, drop it from the "
                "pivots/targets, or use lang_features: syntax or none"
            )
        return table[code]
    try:
        return _syntax_knn(code)
    except LookupError as e:
        raise ValueError(
            f"language {lang!r} (lang2vec code {code!r}) has no 'syntax' (syntax_knn) vector: {e}. "
            "Fix the code in xlt.studies.lms.langvec.ISO639_3 or use lang_features: learned or none"
        ) from None


def language_matrix(langs: Sequence[str], feature_set: str) -> np.ndarray:
    """g(l) of several languages stacked: (len(langs), dim) float32."""
    return np.stack([language_vector(lang, feature_set) for lang in langs])


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two vectors (0 when either is all zeros)."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return float(a @ b / (na * nb)) if na > 0 and nb > 0 else 0.0


def most_similar(
    target: str, candidates: Sequence[str], feature_set: str = DEFAULT_SIMILARITY
) -> str:
    """The language of ``candidates`` (the target itself excluded) most similar to ``target``.

    Similarity is the cosine of lang2vec vectors of ``feature_set`` (``syntax`` by default, the
    workflow's ``lms.similarity``; or ``learned``); ties go to the first candidate in order.
    """
    pool = [c for c in candidates if c != target]
    if not pool:
        raise ValueError(f"no candidate language other than the target {target!r} in {candidates}")
    if feature_set == "none":
        raise ValueError("language similarity needs lang2vec vectors: use 'learned' or 'syntax'")
    t = language_vector(target, feature_set)
    sims = [cosine(t, language_vector(c, feature_set)) for c in pool]
    return pool[int(np.argmax(sims))]
