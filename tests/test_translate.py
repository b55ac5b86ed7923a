"""Translation backends, the persistent cache and tokenisation; no test touches the network.

The googletrans engine is driven through a fake transport that simulates intermittent failures,
a permanent failure after k sentences, and slow responses.
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
import re
import sqlite3
import threading
import time

import pytest

from xlt.io import DataError, validate_record
from xlt.translate import (
    CacheConfig,
    FileTranslator,
    GoogletransConfig,
    GoogletransTranslator,
    NoiseLevel,
    SourceItem,
    SyntheticTranslator,
    TranslateConfig,
    TranslationCache,
    TranslationError,
    Translator,
    as_items,
    attach_frames,
    detokenize,
    make_translator,
    split_text,
    tokenize,
    translate_cached,
    translate_dataset,
)
from xlt.translate.cache import CorruptCacheError
from xlt.world import World, gold_alignment
from xlt.world.grammar import tagging_frame


@functools.cache
def world() -> World:
    return World(("de", "es", "ar", "hi", "ru", "zh", "tr"), seed=1)


@functools.cache
def english(n: int = 40) -> tuple[dict, ...]:
    """English synthetic NER records with frames, as generate() writes them."""
    rng = random.Random("test:en")
    out = []
    for i in range(n):
        frame = tagging_frame(rng)
        s = world().realise(frame, "en", rng)
        out.append({"id": f"en-train-{i:06d}", "tokens": s.tokens, "tags": s.ner, "frame": frame})
    return tuple(out)


def fast_cfg(**kw) -> GoogletransConfig:
    base = {
        "min_interval": 0.0,
        "backoff": 0.001,
        "max_backoff": 0.01,
        "jitter": 0.1,
        "timeout": 2.0,
    }
    return GoogletransConfig(**{**base, **kw})


class FakeTransport:
    """Stands in for googletrans.Translator: ``async translate(text, src=, dest=)``.

    fail_times: each text fails this many times before succeeding (intermittent errors);
    ok_budget: after this many successful calls every call fails (a permanent failure);
    slow_first: the first call for each text hangs for ``slow`` seconds (a timeout).
    """

    def __init__(
        self,
        fail_times: int = 0,
        ok_budget: int | None = None,
        slow_first: bool = False,
        slow: float = 5.0,
    ):
        self.fail_times, self.ok_budget, self.slow_first, self.slow = (
            fail_times,
            ok_budget,
            slow_first,
            slow,
        )
        self.calls: list[str] = []
        self.starts: list[float] = []
        self.ok = 0
        self.seen: dict[str, int] = {}

    async def translate(self, text: str, src: str, dest: str):
        self.calls.append(text)
        self.starts.append(time.monotonic())
        n = self.seen[text] = self.seen.get(text, 0) + 1
        if self.slow_first and n == 1:
            await asyncio.sleep(self.slow)
        if n <= self.fail_times:
            raise ConnectionError(f"transient failure {n}")
        if self.ok_budget is not None and self.ok >= self.ok_budget:
            raise ConnectionError("HTTP 429 Too Many Requests")
        self.ok += 1
        await asyncio.sleep(0)
        return _Result(f"[{dest}] {text.upper()}")


class _Result:
    def __init__(self, text: str):
        self.text = text


# =============================================================================================
# tokenisation


@pytest.mark.parametrize("lang", ["de", "es", "ar", "hi", "ru", "tr"])
def test_tokenize_reproduces_world_tokens_of_spaced_languages(lang):
    for rec in english(40):
        s = world().realise(rec["frame"], lang, random.Random(rec["id"]))
        assert tokenize(s.text, lang) == s.tokens, s.text


def test_detokenize_gives_the_world_english_text():
    for rec in english(40):
        s = world().realise(rec["frame"], "en", random.Random(0))
        assert detokenize(rec["tokens"], "en") == s.text


def test_tokenize_rules():
    assert tokenize("Well-known (Paris), don't pay 3.5 or 1,000!", "en") == [
        "Well-known",
        "(",
        "Paris",
        ")",
        ",",
        "don't",
        "pay",
        "3.5",
        "or",
        "1,000",
        "!",
    ]
    assert tokenize("王小明在Beijing工作。", "zh", segment=False) == [
        "王",
        "小",
        "明",
        "在",
        "Beijing",
        "工",
        "作",
        "。",
    ]
    assert tokenize("东京", "ja") == ["东", "京"]  # no segmenter for Japanese: characters
    assert tokenize("हिन्दी भाषा।", "hi") == ["हिन्दी", "भाषा", "।"]  # vowel signs stay attached
    assert tokenize("مرحبا، العالم؟", "ar") == ["مرحبا", "،", "العالم", "؟"]
    assert (
        detokenize(["王", "小", "明", "在", "Beijing", "IBM", "。"], "zh")
        == "王小明在Beijing IBM。"
    )


def test_chinese_is_cut_into_words_by_jieba():
    zh = "王小明在Beijing和IBM工作了3.5年，住在哈萨克斯坦。"
    assert tokenize(zh, "zh") == tokenize(zh, "zh-cn") == [
        "王小明", "在", "Beijing", "和", "IBM", "工作", "了", "3.5", "年", "，", "住", "在",
        "哈萨克斯坦", "。",
    ]  # fmt: skip
    assert "".join(tokenize(zh, "zh")) == zh.replace(" ", "")
    assert tokenize("हिन्दी 北京大学", "zh") == ["हि", "न्", "दी", "北京大学"]  # marks stay attached


def test_translate_segment_false_gives_characters_in_every_engine(tmp_path):
    tsv = tmp_path / "zh.tsv"
    tsv.write_text("s0\t北京大学\n", encoding="utf-8")
    for segment, tokens in ((True, ("北京大学",)), (False, ("北", "京", "大", "学"))):
        cfg = TranslateConfig.from_config(
            {"engine": "file", "file": {"path": str(tsv)}, "segment": segment}
        )
        [t] = make_translator(cfg, tgt="zh").translate(items(1), "en", "zh")
        assert t.tokens == tokens
        with TranslationCache(tmp_path / "c.sqlite") as cache:
            cache.put("googletrans", "en", "zh", "sentence 0 .", "北京大学", "4.0.2", {})
            engine = GoogletransTranslator(fast_cfg(), transport=FakeTransport())
            [hit] = translate_cached(engine, items(1), "en", "zh", cache, segment)
        assert hit.cached and hit.tokens == tokens


def test_split_text_respects_the_limit_and_keeps_the_text():
    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    pieces = split_text(text, 100)
    assert len(pieces) > 1 and all(len(p) <= 100 for p in pieces)
    assert " ".join(pieces) == text
    assert all(p.endswith(".") for p in pieces)  # cut at sentence ends
    long_word = "x" * 250
    assert split_text(long_word, 100) == ["x" * 100, "x" * 100, "x" * 50]
    assert split_text("short", 100) == ["short"]


# =============================================================================================
# googletrans with a fake transport


def items(n: int) -> list[SourceItem]:
    return [SourceItem(id=f"s{i}", text=f"sentence {i} .") for i in range(n)]


def test_googletrans_retries_intermittent_failures():
    fake = FakeTransport(fail_times=2)
    tr = GoogletransTranslator(fast_cfg(retries=3, concurrency=3), transport=fake)
    assert isinstance(tr, Translator)
    out = tr.translate(items(5), "en", "de")
    assert [t.text for t in out] == [f"[de] SENTENCE {i} ." for i in range(5)]
    assert len(fake.calls) == 15  # two failures + one success per sentence
    assert out[0].tokens == ("[", "de", "]", "SENTENCE", "0", ".")
    assert out[0].provenance["engine"] == "googletrans" and out[0].provenance["version"]


def test_googletrans_permanent_failure_names_engine_pair_sentence_and_error():
    fake = FakeTransport(ok_budget=0)
    tr = GoogletransTranslator(fast_cfg(retries=2, concurrency=1), transport=fake)
    with pytest.raises(TranslationError) as err:
        tr.translate(items(3), "en", "de")
    msg = str(err.value)
    for part in ("googletrans", "en->de", "3 attempts", "429", "cache", "re-running"):
        assert part in msg, part
    assert re.search(r"sentence 's[0-2]' failed", msg)
    assert len(fake.calls) <= 9  # once one sentence gives up, the others are cancelled


def test_googletrans_times_out_slow_responses_and_retries():
    fake = FakeTransport(slow_first=True, slow=5.0)
    tr = GoogletransTranslator(fast_cfg(retries=2, timeout=0.05, concurrency=4), transport=fake)
    out = tr.translate(items(4), "en", "de")
    # every first call hung (5 s) and was abandoned after the 0.05 s timeout, then retried once
    assert len(out) == 4 and len(fake.calls) == 8


def test_googletrans_timeout_exhausted_says_timed_out():
    fake = FakeTransport(slow_first=True, slow=5.0)
    tr = GoogletransTranslator(fast_cfg(retries=0, timeout=0.05), transport=fake)
    with pytest.raises(TranslationError, match="timed out"):
        tr.translate(items(1), "en", "de")


def test_googletrans_rate_limit_spaces_request_starts():
    fake = FakeTransport()
    tr = GoogletransTranslator(fast_cfg(min_interval=0.03, concurrency=4), transport=fake)
    tr.translate(items(6), "en", "de")
    gaps = [b - a for a, b in zip(fake.starts, fake.starts[1:], strict=False)]
    assert min(gaps) >= 0.025


def test_googletrans_splits_long_inputs_and_rejoins():
    fake = FakeTransport()
    tr = GoogletransTranslator(fast_cfg(max_chars=100), transport=fake)
    text = " ".join(f"Part {i} of a long document." for i in range(20))
    [out] = tr.translate([SourceItem("long", text)], "en", "zh")
    assert len(fake.calls) > 1 and all(len(c) <= 100 for c in fake.calls)
    assert out.text == "".join(f"[zh-cn] {c.upper()}" for c in fake.calls)  # unspaced: no joiner
    assert out.provenance["pieces"] == len(fake.calls)


def test_googletrans_maps_language_codes():
    seen = []

    class Recorder(FakeTransport):
        async def translate(self, text, src, dest):
            seen.append((src, dest))
            return text

    GoogletransTranslator(fast_cfg(), transport=Recorder()).translate(["a b"], "en", "zh")
    assert seen == [("en", "zh-cn")]


# =============================================================================================
# the cache


def test_cache_keeps_finished_sentences_and_resumes(tmp_path):
    """A transport that dies after k sentences: k are cached; the rerun asks only for the rest."""
    k, n = 3, 8
    todo = items(n)
    with TranslationCache(CacheConfig(path=str(tmp_path / "cache.sqlite"))) as cache:
        broken = FakeTransport(ok_budget=k)
        tr = GoogletransTranslator(fast_cfg(retries=1, concurrency=1), transport=broken)
        with pytest.raises(TranslationError, match="3 en->de sentences of googletrans stored"):
            translate_cached(tr, todo, "en", "de", cache)
        assert cache.count("googletrans", "en", "de") == k

    with TranslationCache(CacheConfig(path=str(tmp_path / "cache.sqlite"))) as cache:
        healthy = FakeTransport()
        tr = GoogletransTranslator(fast_cfg(), transport=healthy)
        out = translate_cached(tr, todo, "en", "de", cache)
        assert len(healthy.calls) == n - k
        assert sorted(healthy.calls) == sorted(it.text for it in todo[k:])
        assert [t.text for t in out] == [f"[de] {it.text.upper()}" for it in todo]
        assert [t.cached for t in out] == [True] * k + [False] * (n - k)
        assert [t.src_id for t in out] == [it.id for it in todo]
        # a third run needs no requests at all
        again = FakeTransport()
        translate_cached(
            GoogletransTranslator(fast_cfg(), transport=again), todo, "en", "de", cache
        )
        assert again.calls == []


def test_cache_translates_duplicate_texts_once(tmp_path):
    fake = FakeTransport()
    todo = [SourceItem("a", "same text"), SourceItem("b", "same text"), SourceItem("c", "other")]
    with TranslationCache(tmp_path / "c.sqlite") as cache:
        out = translate_cached(
            GoogletransTranslator(fast_cfg(), transport=fake), todo, "en", "es", cache
        )
    assert sorted(fake.calls) == ["other", "same text"]
    assert [t.src_id for t in out] == ["a", "b", "c"] and out[0].text == out[1].text


def test_cache_records_provenance(tmp_path):
    with TranslationCache(tmp_path / "c.sqlite") as cache:
        cache.put(
            "googletrans",
            "en",
            "de",
            "hello",
            "hallo",
            "4.0.2",
            {"date": "2026-01-02T03:04:05+00:00"},
        )
        hit = cache.get("googletrans", "en", "de", "hello")
        assert hit.text == "hallo" and hit.version == "4.0.2"
        assert hit.created == "2026-01-02T03:04:05+00:00"
        assert cache.get("googletrans", "en", "fr", "hello") is None
        mode = cache._db.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode.lower() == "wal"


def test_cache_is_safe_for_concurrent_writers(tmp_path):
    path = tmp_path / "shared.sqlite"
    errors: list[BaseException] = []

    def writer(lang: str) -> None:
        try:
            with TranslationCache(CacheConfig(path=str(path), busy_timeout=30)) as cache:
                for i in range(60):
                    cache.put("googletrans", "en", lang, f"text {i}", f"{lang} {i}", "v")
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(lang,)) for lang in ("de", "es", "ar")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with TranslationCache(path) as cache:
        assert cache.count() == 180 and cache.count(tgt="es") == 60


def test_cache_retries_a_lock_the_busy_handler_does_not_cover(tmp_path):
    # SQLite answers "database is locked" at once (no busy wait) in some races, e.g. while
    # another connection switches the journal mode; the cache retries until busy_timeout.
    import sqlite3

    with TranslationCache(CacheConfig(path=str(tmp_path / "c.sqlite"), busy_timeout=5)) as cache:
        calls = []

        def flaky():
            calls.append(1)
            if len(calls) < 3:
                raise sqlite3.OperationalError("database is locked")
            return "done"

        assert cache._retry(flaky) == "done" and len(calls) == 3

    with TranslationCache(CacheConfig(path=str(tmp_path / "d.sqlite"), busy_timeout=0.2)) as cache:

        def locked():
            raise sqlite3.OperationalError("database is locked")

        with pytest.raises(sqlite3.OperationalError, match=r"d\.sqlite.*busy_timeout"):
            cache._retry(locked)


def test_cache_config_validation():
    assert CacheConfig.from_config("x.sqlite").path == "x.sqlite"
    with pytest.raises(ValueError, match="unknown keys"):
        CacheConfig.from_config({"pth": "x"})


def test_corrupt_cache_names_the_file_and_the_fix(tmp_path):
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"this is not a database\n" * 100)
    with pytest.raises(CorruptCacheError) as err:
        TranslationCache(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: the translation cache is unreadable (file is not a database)")
    assert f"mv {path} {path}.corrupt" in msg and "redone" in msg
    assert isinstance(err.value, sqlite3.DatabaseError)  # callers catching sqlite errors still do
    path.rename(tmp_path / "moved")  # the advertised fix works
    with TranslationCache(path) as cache:
        assert cache.count() == 0


def test_cache_damaged_after_opening_names_the_file(tmp_path):
    path = tmp_path / "cache.sqlite"
    with TranslationCache(CacheConfig(path=str(path), journal_mode="delete")) as cache:
        for i in range(300):
            cache.put("googletrans", "en", "de", f"text {i} " * 20, f"Text {i} " * 20, "v")
    data = bytearray(path.read_bytes())
    page = 4096
    data[2 * page :] = b"\xff" * (len(data) - 2 * page)  # keep the header and schema pages
    path.write_bytes(bytes(data))
    cache = TranslationCache(CacheConfig(path=str(path), journal_mode="delete"))
    with cache, pytest.raises(CorruptCacheError, match=re.escape(str(path)) + ".*malformed.*mv "):
        cache.count()


# =============================================================================================
# synthetic


def test_synthetic_is_deterministic_and_returns_gold():
    recs = list(english(30))
    low = SyntheticTranslator(world(), NoiseLevel.named("low"), seed=1)
    a, b = low.translate(recs, "en", "de"), low.translate(recs, "en", "de")
    assert [t.tokens for t in a] == [t.tokens for t in b]
    for rec, t in zip(recs, a, strict=True):
        assert len(t.gold["tags"]) == len(t.tokens) == len(t.gold["upos"])
        assert all(
            0 <= i < len(rec["tokens"]) and 0 <= j < len(t.tokens) for i, j in t.gold["alignment"]
        )
    assert a[0].provenance["noise"] == "low" and a[0].provenance["seed"] == 1
    high = SyntheticTranslator(world(), NoiseLevel.named("high"), seed=1).translate(
        recs, "en", "de"
    )
    assert [t.tokens for t in high] != [t.tokens for t in a]
    other_seed = SyntheticTranslator(world(), NoiseLevel.named("low"), seed=2).translate(
        recs, "en", "de"
    )
    assert [t.tokens for t in other_seed] != [t.tokens for t in a]


def test_synthetic_without_noise_is_the_world_realisation():
    recs = list(english(20))
    out = SyntheticTranslator(world(), NoiseLevel.named("none")).translate(recs, "en", "es")
    for rec, t in zip(recs, out, strict=True):
        ref = world().realise(rec["frame"], "es", random.Random(0))
        src = world().realise(rec["frame"], "en", random.Random(0))
        assert list(t.tokens) == ref.tokens and t.gold["tags"] == ref.ner
        assert t.gold["alignment"] == [list(p) for p in gold_alignment(src, ref)]


def test_synthetic_needs_frames_and_known_noise():
    with pytest.raises(TranslationError, match="has no 'frame'"):
        SyntheticTranslator(world()).translate(
            [{"id": "x", "tokens": ["a"], "tags": ["O"]}], "en", "de"
        )
    with pytest.raises(ValueError, match="unknown noise level 'medium'"):
        NoiseLevel.named("medium")
    with pytest.raises(ValueError, match="unknown keys"):
        NoiseLevel.named("x", {"x": {"dropp": 0.1}})


def test_attach_frames_from_the_ner_records(tmp_path):
    path = tmp_path / "ner.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in english(5)))
    pos = [
        {"id": r["id"], "tokens": r["tokens"], "tags": ["X"] * len(r["tokens"])} for r in english(5)
    ]
    with_frames = attach_frames(pos, path)
    assert all(r["frame"] == e["frame"] for r, e in zip(with_frames, english(5), strict=True))


# =============================================================================================
# file


def test_file_backend_tsv_and_jsonl(tmp_path):
    tsv = tmp_path / "de.tsv"
    tsv.write_text("# id\ttranslation\ns0\tSatz null.\ns1\tSatz eins.\n", encoding="utf-8")
    out = FileTranslator(tsv).translate(items(2), "en", "de")
    assert [t.tokens for t in out] == [("Satz", "null", "."), ("Satz", "eins", ".")]
    assert out[0].provenance["version"].startswith("sha256:")

    jl = tmp_path / "de.jsonl"
    jl.write_text(
        json.dumps(
            {"source": "sentence 0 .", "translation": "Satz 0.", "tokens": ["Satz", "0", "."]}
        )
        + "\n",
        encoding="utf-8",
    )
    [t] = FileTranslator(jl, key="text").translate(items(1), "en", "de")
    assert t.text == "Satz 0." and t.tokens == ("Satz", "0", ".")


def test_file_backend_errors_name_file_ids_and_fix(tmp_path):
    tsv = tmp_path / "de.tsv"
    tsv.write_text("s0\tSatz null.\n", encoding="utf-8")
    with pytest.raises(TranslationError) as err:
        FileTranslator(tsv).translate(items(9), "en", "de")
    msg = str(err.value)
    assert str(tsv) in msg and "8 of 9" in msg and "'s1', 's2'" in msg and "'s7'" not in msg
    assert "add a line" in msg
    bad = tmp_path / "bad.tsv"
    bad.write_text("s0\tone\ns0\ttwo\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 2"):
        FileTranslator(bad)
    cols = tmp_path / "cols.tsv"
    cols.write_text("s0 only one column\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 1: expected 2 tab-separated columns"):
        FileTranslator(cols)
    with pytest.raises(TranslationError, match="not found"):
        FileTranslator(tmp_path / "missing.tsv")


# =============================================================================================
# configuration and whole datasets


def test_config_and_factory():
    cfg = TranslateConfig.from_config(
        {"engine": "googletrans", "targets": ["de"], "googletrans": {"retries": 2}}
    )
    assert cfg.googletrans.retries == 2
    assert isinstance(make_translator(cfg), GoogletransTranslator)
    with pytest.raises(ValueError, match="unknown keys"):
        TranslateConfig.from_config({"engin": "file"})
    with pytest.raises(ValueError, match="must be one of"):
        TranslateConfig.from_config({"engine": "deepl"})
    with pytest.raises(ValueError, match="only to the synthetic engine"):
        make_translator(TranslateConfig(engine="googletrans", noise="low"))
    with pytest.raises(TranslationError, match="translate.file.path is not set"):
        make_translator(TranslateConfig(engine="file"))


def test_translate_dataset_synthetic_records_are_complete():
    recs, summary = translate_dataset(
        list(english(10)),
        TranslateConfig(engine="synthetic", noise="low"),
        "en",
        "ar",
        world=world(),
        cache=None,
    )
    assert summary["engine"] == "synthetic" and summary["sentences"] == 10
    assert summary["noise"]["name"] == "low" and summary["cache"] is None
    for r, src in zip(recs, english(10), strict=True):
        validate_record(r, "parallel", "translated.jsonl", None)
        assert r["src_id"] == src["id"] and r["src_tags"] == src["tags"]
        assert r["tokens"] and "gold" in r


def test_translate_dataset_googletrans_uses_the_cache(tmp_path):
    cache = {"path": str(tmp_path / "c.sqlite")}
    fake = FakeTransport()
    recs = [{"id": "a", "tokens": ["Hello", "world", "."], "tags": ["O", "O", "O"]}]
    cfg = TranslateConfig(engine="googletrans", googletrans=fast_cfg())
    out, summary = translate_dataset(recs, cfg, "en", "de", cache=cache, transport=fake)
    assert fake.calls == ["Hello world."] and summary["from_cache"] == 0
    out, summary = translate_dataset(recs, cfg, "en", "de", cache=cache, transport=FakeTransport())
    assert summary["from_cache"] == 1 and out[0]["tokens"] == [
        "[",
        "de",
        "]",
        "HELLO",
        "WORLD",
        ".",
    ]


def test_as_items_accepts_strings_records_and_items():
    got = as_items(["Hello there.", {"id": 7, "tokens": ["A", "b", "."]}, SourceItem("z", "z")])
    assert [g.id for g in got] == ["0", "7", "z"]
    assert got[0].tokens == ("Hello", "there", ".") and got[1].text == "A b."


# =============================================================================================
# calibrating the synthetic engine's noise (xlt.translate.calibrate)


def test_kendall_distance_on_hand_made_links():
    from xlt.translate.calibrate import kendall_distance

    assert kendall_distance([(0, 0), (1, 1), (2, 2)]) == (0, 3)
    assert kendall_distance([(0, 2), (1, 1), (2, 0)]) == (3, 3)
    assert kendall_distance([(0, 1), (1, 0), (2, 2)]) == (1, 3)
    # one-to-many: a source word sits at the mean of its targets; ties are not discordant
    assert kendall_distance([(0, 0), (0, 2), (1, 1)]) == (0, 1)
    assert kendall_distance([(0, 3), (2, 0), (2, 1)]) == (1, 1)
    assert kendall_distance([]) == (0, 0)


def test_mt_statistics_on_a_hand_made_corpus():
    from xlt.translate.calibrate import mt_statistics

    src = [["Anna", "Smith", "visited", "New", "York", "."], ["He", "slept", "."]]
    tags = [["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O"], ["O", "O", "O"]]
    tgt = [["Anna", "Smith", "visitó", "Nueva", "York", "ayer", "."], ["Durmió", "."]]
    links = [[(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 6)], [(1, 0), (2, 1)]]
    st = mt_statistics(src, tags, tgt, links)
    assert st["src_aligned"] == pytest.approx(6 / 7)  # "He" has no link; "." is not a word
    assert st["tgt_aligned"] == pytest.approx(6 / 7)  # "ayer" has none
    assert st["length_ratio"] == pytest.approx(9 / 9)
    assert st["copied"] == pytest.approx(3 / 7)  # anna, smith, york
    assert st["ent_verbatim"] == pytest.approx(1 / 2)  # "Anna Smith" yes, "New York" no
    assert st["s2s_projected"] == 1.0 and st["s2s_exact"] == 1.0 and st["w2w_exact"] == 1.0
    assert st["kendall"] == 0.0 and st["verbatim_spans"] == 1
    # a stray link of "Smith" widens the projected name: span-to-span misses the exact run
    links[0][1] = (1, 2)
    st = mt_statistics(src, tags, tgt, links)
    assert st["s2s_exact"] == 0.0 and st["w2w_exact"] == 0.0
    assert st["kendall"] == 0.0  # Smith and visited share a target position: a tie
    swapped = [[(0, 1), (1, 0), (2, 2), (3, 3), (4, 4), (5, 6)], [(1, 0), (2, 1)]]
    assert mt_statistics(src, tags, tgt, swapped)["kendall"] == pytest.approx(0.5 * (1 / 15))


def test_synthetic_noise_moves_the_statistics_it_should():
    from xlt.translate.calibrate import measure

    todo = as_items(english(120))
    rows = {
        name: measure(todo, SyntheticTranslator(world(), noise, 1).translate(todo, "en", "de"))
        for name, noise in (
            ("none", NoiseLevel()),
            ("drop", NoiseLevel("d", drop=0.3)),
            ("reorder", NoiseLevel("r", reorder=0.3)),
        )
    }
    assert rows["none"]["src_aligned_gold"] == 1.0 and rows["none"]["s2s_F1"] > 0.95
    assert rows["drop"]["src_aligned_gold"] < 0.8 < rows["reorder"]["src_aligned_gold"]
    assert rows["drop"]["length_ratio"] < 0.8 < rows["none"]["length_ratio"]
    assert rows["reorder"]["kendall_gold"] > rows["none"]["kendall_gold"] + 0.03
    assert rows["drop"]["ent_verbatim"] < rows["none"]["ent_verbatim"]


def test_calibrate_recovers_the_level_that_made_the_reference():
    """The reference comes from the synthetic engine itself (another seed): the nearest grid
    point is the level that made it."""
    from xlt.translate.calibrate import calibrate, measure

    todo = as_items(english(40))
    todo = [SourceItem(f"{k}-{it.id}", it.text, it.tokens, it.tags, it.frame) for k in range(4) for it in todo]  # fmt: skip
    made = NoiseLevel("ref", drop=0.3, substitute=0.0, reorder=0.3)
    ref = measure(todo, SyntheticTranslator(world(), made, seed=7).translate(todo, "en", "es"))
    grid = {"drop": (0.0, 0.3), "substitute": (0.0, 0.45), "reorder": (0.0, 0.3)}
    table = calibrate(ref, todo, world(), "es", grid, seed=1)
    assert len(table) == 8 and table["distance"].is_monotonic_increasing
    best = table.iloc[0]
    assert (best["drop"], best["reorder"]) == (0.3, 0.3)
