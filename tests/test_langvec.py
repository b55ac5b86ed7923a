"""lang2vec language vectors: the ISO 639-1 -> 639-3 map, clear failures, no placeholder vectors."""

from __future__ import annotations

import inspect
import shutil

import numpy as np
import pytest

from xlt.studies.lms import baselines
from xlt.studies.lms.langvec import (
    DEFAULT_SIMILARITY,
    ISO639_3,
    LEARNED_SHA256,
    _lang2vec_file,
    iso639_3,
    language_matrix,
    language_vector,
    learned_table,
    load_learned,
    most_similar,
)
from xlt.studies.lms.lms import LMSConfig

PAPER_LANGS = ["ar", "de", "es", "nl", "zh", "bg", "da", "fa", "hi", "hu", "it", "pt", "ro", "sk",
               "sl", "sv", "vi", "ru", "tr"]  # fmt: skip


def test_code_map_covers_the_papers_languages_with_lang2vec_codes():
    assert iso639_3("ar") == "arb" and iso639_3("zh") == "zho" and iso639_3("fa") == "pes"
    assert iso639_3("en") == "eng" and iso639_3("deu") == "deu"  # 3-letter codes pass through
    table = learned_table()
    for lang in PAPER_LANGS:
        assert ISO639_3[lang] in table, lang


@pytest.mark.parametrize("feature_set,dim", [("learned", 512), ("syntax", 103)])
def test_vectors_have_the_documented_size_and_no_missing_values(feature_set, dim):
    m = language_matrix(["ar", "de", "es", "nl", "zh", "hi"], feature_set)
    assert m.shape == (6, dim) and m.dtype == np.float32
    assert np.isfinite(m).all()
    assert not (m == -1).all(axis=1).any()  # never lang2vec's -1 placeholder row
    if feature_set == "syntax":
        assert set(np.unique(m)) <= {0.0, 1.0}


def test_none_is_a_constant_vector():
    assert language_matrix(["de", "zh"], "none").tolist() == [[1.0], [1.0]]


def test_unknown_code_fails_clearly():
    with pytest.raises(ValueError, match=r"'xx'.*ISO639_3"):
        language_vector("xx", "learned")
    with pytest.raises(ValueError, match="unknown language feature set"):
        language_vector("de", "phonology")


def test_english_has_no_learned_vector_and_says_why():
    with pytest.raises(ValueError, match=r"'en'.*'eng'.*'learned'.*source language"):
        language_vector("en", "learned")
    assert language_vector("en", "syntax").shape == (103,)  # URIEL syntax covers English


def test_missing_learned_vector_names_language_set_and_fix():
    assert "heb" not in learned_table()
    with pytest.raises(ValueError, match=r"'he'.*'heb'.*'learned'.*lang_features: syntax or none"):
        language_vector("he", "learned")


def test_unknown_three_letter_code_fails_for_syntax():
    with pytest.raises(ValueError, match=r"'qqq'.*'syntax'"):
        language_vector("qqq", "syntax")


def test_most_similar_excludes_the_target():
    pivots = ["ar", "de", "es", "nl", "zh"]
    assert most_similar("de", pivots, "syntax") == "nl"
    assert most_similar("nl", pivots, "syntax") == "de"
    assert most_similar("pt", pivots, "syntax") == "es"
    assert most_similar("de", pivots, "learned") != "de"
    with pytest.raises(ValueError, match="no candidate language"):
        most_similar("de", ["de"], "syntax")


def test_similarity_defaults_to_syntax_everywhere():
    assert DEFAULT_SIMILARITY == "syntax" == LMSConfig().similarity
    for fn in (most_similar, baselines.pivot_dev):
        assert inspect.signature(fn).parameters["feature_set"].default == "syntax", fn
    pivots = ["ar", "nl", "zh"]  # learned puts ar closest to de, syntax nl
    assert most_similar("de", pivots, "learned") == "ar"
    assert most_similar("de", pivots) == most_similar("de", pivots, "syntax") == "nl"


def test_learned_file_is_the_pinned_one_and_loads():
    path = _lang2vec_file("data/learned.npy")
    table = load_learned(path)
    assert len(LEARNED_SHA256) == 64 and table.keys() == learned_table().keys()


def test_tampered_learned_file_is_not_unpickled(tmp_path, monkeypatch):
    bad = tmp_path / "learned.npy"
    shutil.copyfile(_lang2vec_file("data/learned.npy"), bad)
    with open(bad, "ab") as fh:
        fh.write(b"\0")

    def no_load(*args, **kwargs):
        raise AssertionError("a file with the wrong SHA-256 was unpickled")

    monkeypatch.setattr(np, "load", no_load)
    with pytest.raises(ValueError, match=r"learned\.npy: SHA-256 .* differs .*lang2vec==1\.1\.2"):
        load_learned(bad)
