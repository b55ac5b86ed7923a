"""Translation backends behind one interface, and the tokenisation of their output.

Three engines (``translate.engine`` in the config):

- ``synthetic``: re-realises an English example's meaning frame (the record's ``"frame"``) in the
  target language of the embedded world, optionally through an MT-error model (dropped,
  substituted and swapped words). It knows the gold target tokens, tags and word alignment and
  returns them in :attr:`Translation.gold` -- for measuring projection quality only; projected
  training data never uses them.
- ``googletrans``: Google Translate through the ``googletrans`` 4.x package (async). Requests are
  batched (``asyncio`` tasks with a concurrency limit), rate-limited (a minimum interval between
  request starts), bounded by a timeout, retried with exponential back-off and jitter, and inputs
  longer than the engine's character limit are split at sentence/space boundaries and rejoined.
  The transport is injectable: any object with ``async translate(text, src=..., dest=...)``
  returning a string or an object with ``.text`` (tests use a fake one; no test touches the network).
- ``file``: translations supplied by the user, a TSV (``key<TAB>translation``) or a JSONL
  (``{"src_id" | "source", "translation", optional "tokens"}``) file.
- ``apertium``: the rule-based Apertium engine installed from Debian packages (offline; English
  to Spanish, Catalan, Galician), many sentences per process call
  (:class:`xlt.translate.local.ApertiumTranslator`).
- ``ctranslate2``: a neural model directory the user converted to CTranslate2 elsewhere (e.g. an
  OPUS-MT Marian model), with its SentencePiece models
  (:class:`xlt.translate.local.CTranslate2Translator`).

Every backend implements :class:`Translator`. :func:`translate_cached` puts a
:class:`~xlt.translate.cache.TranslationCache` in front of the cacheable ones (googletrans,
apertium, ctranslate2): each finished sentence is committed at once, so a failed or interrupted
run resumes where it stopped. :func:`xlt.translate.local.check_engine` checks, before any job
runs, that the configured engine can run on this machine.

Adding an engine (e.g. one that reads a local model directory): write a frozen config dataclass
with ``from_config`` (its keys live under ``translate.<engine>``; add it as a field of
:class:`TranslateConfig`), a class with the :class:`Translator` attributes and ``translate``
(one :class:`Translation` per item, in order, ``on_result`` called as soon as each is finished,
:class:`TranslationError` naming the engine, pair and fix on failure; ``cache_key`` when the
engine's output depends on more than its name, e.g. the model), a branch in
:func:`make_translator` and a name in :data:`ENGINES`, and, if it needs something installed, a
check in :func:`xlt.translate.local.check_engine`. :class:`~xlt.translate.local.CTranslate2Translator`
is the worked example.

Tokenisation (:func:`tokenize`) turns a translated text into tagging tokens the way the tagging
data are tokenised: whitespace, then every punctuation/symbol character is a token of its own
(except ``-``/``'``/``’`` inside a word and ``.``/``,`` inside a number); in unspaced scripts
(``zh``, ``ja``, ``th``, ... see :data:`UNSPACED`) runs of ASCII letters/digits stay whole, and
every other run of letters is cut into words by a word segmenter where :data:`SEGMENTERS` has one
(Chinese: ``jieba``), else into single characters (as in WikiANN's character-tokenised Chinese;
``segment=False`` gives characters for Chinese too).
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import logging
import random
import re
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from tqdm import tqdm

from ..io import DataError, iter_jsonl

if TYPE_CHECKING:
    from ..world import World

log = logging.getLogger(__name__)

ENGINES = ("synthetic", "googletrans", "file", "apertium", "ctranslate2")
#: engines whose translations go through the persistent cache (slow or remote ones)
CACHED_ENGINES = ("googletrans", "apertium", "ctranslate2")
UNSPACED = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo", "yue", "wuu"})
DEFAULT_NOISE_LEVELS: dict[str, dict[str, float]] = {
    "none": {"drop": 0.0, "substitute": 0.0, "reorder": 0.0},
    "low": {"drop": 0.03, "substitute": 0.05, "reorder": 0.05},
    "high": {"drop": 0.10, "substitute": 0.15, "reorder": 0.20},
    # nearest to Apertium eng-spa on the same 2,000 synthetic English sentences (see
    # xlt.translate.calibrate and docs/translate.md, "How honest is the synthetic translator?")
    "apertium": {"drop": 0.15, "substitute": 0.0, "reorder": 0.10},
}
# synthetic datasets whose records lack frames but share ids with one that has them
FRAME_DATASET = {"synth-pos": "synth-ner"}


class TranslationError(RuntimeError):
    """A translation that could not be obtained; the message says which and what to do."""


# =============================================================================================
# items and results


@dataclass(frozen=True)
class SourceItem:
    """One source sentence: its id, text and (for tagging data) tokens, tags and frame."""

    id: str
    text: str
    tokens: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    frame: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Translation:
    """A translated sentence.

    ``gold`` is only set by the synthetic engine: ``{"tags": NER BIO, "upos": [...],
    "alignment": [[src_i, tgt_j], ...]}`` of the realised target (``alignment`` is None when the
    source tokens are not a plain realisation of the frame).
    """

    src_id: str
    text: str
    tokens: tuple[str, ...]
    engine: str
    provenance: Mapping[str, Any]
    gold: Mapping[str, Any] | None = None
    cached: bool = False


OnResult = Callable[[SourceItem, Translation], None]


@runtime_checkable
class Translator(Protocol):
    """A translation engine. ``translate`` returns one :class:`Translation` per item, in order,
    and calls ``on_result`` as soon as each one is finished (the cache commits it there).

    ``name`` is the engine (``translate.engine``), ``version`` what made the translations (package
    and model versions; stored with every cache entry and in the provenance), ``cacheable``
    whether :func:`translate_cached` may cache it. An engine whose output depends on more than
    its name and the language pair (a model, a package version) also defines
    ``cache_key(src, tgt) -> str``: the cache's engine column, so that two models never share
    entries (see :func:`cache_engine`).
    """

    name: str
    version: str
    cacheable: bool

    def translate(
        self,
        items: Sequence[SourceItem | Mapping[str, Any] | str],
        src: str,
        tgt: str,
        *,
        on_result: OnResult | None = None,
    ) -> list[Translation]: ...


def as_items(
    items: Iterable[SourceItem | Mapping[str, Any] | str], src: str = "en"
) -> list[SourceItem]:
    """Normalise plain strings, common-schema records and SourceItems into SourceItems.

    A record's text is its ``"text"`` or, for tagging records, :func:`detokenize` of its tokens.
    A string's id is its position (``"0"``, ``"1"``, ...).
    """
    out = []
    for i, x in enumerate(items):
        if isinstance(x, SourceItem):
            out.append(x)
        elif isinstance(x, str):
            out.append(SourceItem(id=str(i), text=x, tokens=tuple(tokenize(x, src))))
        else:
            tokens = tuple(x.get("tokens") or ())
            text = x.get("text") or detokenize(tokens, src)
            out.append(
                SourceItem(
                    id=str(x.get("id", i)),
                    text=text,
                    tokens=tokens or tuple(tokenize(text, src)),
                    tags=tuple(x.get("tags") or ()),
                    frame=x.get("frame"),
                )
            )
    return out


def attach_frames(records: list[dict], frames_path: str | Path | None) -> list[dict]:
    """Give records without ``"frame"`` the frame of the same id in ``frames_path`` (synth-pos)."""
    if frames_path is None:
        return records
    frames = {str(r["id"]): r["frame"] for _, r in iter_jsonl(frames_path) if "frame" in r}
    return [r if "frame" in r else {**r, "frame": frames.get(str(r["id"]))} for r in records]


def cache_engine(translator: Translator, src: str, tgt: str) -> str:
    """The engine name under which ``translator``'s translations are cached: its ``cache_key``
    where it has one (e.g. ``apertium:eng-spa:0.8.1-2``), else its name."""
    key = getattr(translator, "cache_key", None)
    return key(src, tgt) if callable(key) else translator.name


def one_line(text: str) -> str:
    """``text`` on one line: control characters and runs of white space become one space.

    Engines that read one sentence per line (Apertium) send this form of each sentence.
    """
    return " ".join("".join(" " if unicodedata.category(c) == "Cc" else c for c in text).split())


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def package_version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:  # pragma: no cover - installed with xlt
        return "unknown"


# =============================================================================================
# tokenisation

_CLOSE = set(".,;:!?)]}%»”’、。，！？；：…") | {"।", "،", "؛", "؟"}
_OPEN = set("([{«“¿¡")
_WORD_JOINERS = {"-", "'", "’"}
_NUMBER_JOINERS = {".", ","}


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "M"


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


@lru_cache(maxsize=1)
def _jieba() -> Any:
    """jieba with its dictionary loaded (about 1 s; the first use ever also writes jieba's cache
    to the temporary directory) and its chatter silenced."""
    try:
        with warnings.catch_warnings():  # jieba imports the deprecated pkg_resources
            warnings.simplefilter("ignore")
            import jieba
    except ImportError:
        raise ImportError(
            "Chinese word segmentation needs jieba (pip install jieba==0.42.1, an xlt dependency)"
        ) from None
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def _jieba_words(run: str) -> list[str]:
    return _jieba().lcut(run, HMM=True)


#: word segmenters of unspaced languages (base language code -> function cutting a run of
#: letters into words); unspaced languages without one are split into characters
SEGMENTERS: dict[str, Callable[[str], list[str]]] = {"zh": _jieba_words}


def tokenize(
    text: str, lang: str, unspaced: Iterable[str] = UNSPACED, segment: bool = True
) -> list[str]:
    """Split a translation into tagging tokens (see the module docstring for the rules).

    Combining marks (Devanagari vowel signs, Arabic harakat) stay with their base character, so
    Hindi and Arabic words are never split inside. In an unspaced language, runs of letters other
    than ASCII go to the language's word segmenter (:data:`SEGMENTERS`) when ``segment`` is on,
    else become one token per character.
    """
    base = lang.split("-")[0].lower()
    per_char = base in set(unspaced)
    words = SEGMENTERS.get(base) if per_char and segment else None
    out: list[str] = []
    for chunk in text.split():
        cur = ""
        for k, ch in enumerate(chunk):
            nxt = chunk[k + 1] if k + 1 < len(chunk) else ""
            if _is_mark(ch) and cur:
                cur += ch
            elif _is_punct(ch):
                joins_word = ch in _WORD_JOINERS and cur and cur[-1].isalpha() and nxt.isalpha()
                joins_num = ch in _NUMBER_JOINERS and cur and cur[-1].isdigit() and nxt.isdigit()
                if joins_word or joins_num:
                    cur += ch
                else:
                    _flush(cur, out, words)
                    out.append(ch)
                    cur = ""
            elif per_char and not _ascii_alnum(ch):
                if cur and (words is None or _ascii_alnum(cur[0])):
                    _flush(cur, out, words)
                    cur = ""
                cur += ch  # a character (plus any combining marks that follow)
                if words is None and not (nxt and _is_mark(nxt)):
                    out.append(cur)
                    cur = ""
            else:
                if per_char and cur and not _ascii_alnum(cur[0]):  # a run of unspaced letters
                    _flush(cur, out, words)
                    cur = ""
                cur += ch
        _flush(cur, out, words)
    return out


def _flush(cur: str, out: list[str], words: Callable[[str], list[str]] | None) -> None:
    """Append the pending token ``cur``; a run of unspaced letters is cut by ``words``."""
    if not cur:
        return
    if words is None or _ascii_alnum(cur[0]):
        out.append(cur)
        return
    first = len(out)
    for w in filter(None, words(cur)):
        if len(out) > first and _is_mark(w[0]):
            out[-1] += w  # combining marks stay with their letter
        else:
            out.append(w)


def detokenize(tokens: Sequence[str], lang: str, unspaced: Iterable[str] = UNSPACED) -> str:
    """Join tagging tokens into the text sent to an MT engine.

    Closing punctuation attaches to the previous token, opening brackets to the next; in
    unspaced languages tokens are concatenated except between two ASCII words.
    """
    spaced = lang.split("-")[0].lower() not in set(unspaced)
    out = ""
    for tok in tokens:
        if not out:
            out = tok
        elif tok in _CLOSE or out[-1] in _OPEN:
            out += tok
        elif spaced or (_ascii_alnum(out[-1]) and _ascii_alnum(tok[0])):
            out += " " + tok
        else:
            out += tok
    return out


# =============================================================================================
# splitting long inputs

_SENTENCE_END = re.compile(r"(?<=[.!?。！？।؟])\s+|(?<=[。！？])")


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` characters.

    Pieces end at sentence boundaries where possible, else at spaces, else anywhere; joining the
    pieces with single spaces gives back ``text`` up to whitespace.
    """
    if limit < 1:
        raise ValueError(f"limit must be positive, got {limit}")
    if len(text) <= limit:
        return [text]
    units: list[str] = []
    for sent in (s.strip() for s in _SENTENCE_END.split(text)):
        if not sent:
            continue
        if len(sent) <= limit:
            units.append(sent)
            continue
        for word in sent.split():
            units.extend(word[i : i + limit] for i in range(0, len(word), limit))
    pieces: list[str] = []
    for u in units:
        if pieces and len(pieces[-1]) + 1 + len(u) <= limit:
            pieces[-1] += " " + u
        else:
            pieces.append(u)
    return pieces


# =============================================================================================
# synthetic


@dataclass(frozen=True)
class NoiseLevel:
    """A named MT-error level of the synthetic engine (probabilities per word)."""

    name: str = "none"
    drop: float = 0.0
    substitute: float = 0.0
    reorder: float = 0.0

    @classmethod
    def named(
        cls, name: str, levels: Mapping[str, Mapping[str, float]] | None = None
    ) -> NoiseLevel:
        levels = DEFAULT_NOISE_LEVELS if levels is None else levels
        if name not in levels:
            raise ValueError(
                f"unknown noise level {name!r}; translate.noise_levels defines {sorted(levels)}"
            )
        spec = dict(levels[name])
        unknown = set(spec) - {"drop", "substitute", "reorder"}
        if unknown:
            raise ValueError(
                f"translate.noise_levels.{name}: unknown keys {sorted(unknown)} "
                "(use drop, substitute, reorder)"
            )
        return cls(name=name, **{k: float(v) for k, v in spec.items()})


class SyntheticTranslator:
    """Translate synthetic-world examples by realising their frames in the target language.

    Deterministic per (seed, sentence id, target language, noise level).
    """

    name = "synthetic"
    cacheable = False  # cheap and deterministic; the records carry their provenance

    def __init__(self, world: World, noise: NoiseLevel | None = None, seed: int = 1):
        self.world, self.noise, self.seed = world, noise or NoiseLevel(), seed
        self.version = f"xlt-world-{package_version('xlt')}"

    def translate(self, items, src, tgt, *, on_result=None) -> list[Translation]:
        from ..world import Noise, gold_alignment

        noise = Noise(self.noise.drop, self.noise.substitute, self.noise.reorder)
        prov = {
            "engine": self.name,
            "version": self.version,
            "date": now_utc(),
            "noise": self.noise.name,
            "noise_probs": {
                "drop": noise.drop,
                "substitute": noise.substitute,
                "reorder": noise.reorder,
            },
            "seed": self.seed,
        }
        out = []
        for item in as_items(items, src):
            if not item.frame:
                raise TranslationError(
                    f"synthetic {src}->{tgt}: sentence {item.id!r} has no 'frame'; the synthetic "
                    "engine translates only synthetic-world records (synth-ner, synth-sentiment, "
                    "synth-nli, or synth-pos with the frames of synth-ner). Use translate.engine: "
                    "googletrans or file for real data"
                )
            rng = random.Random(f"{self.seed}:translate:{item.id}:{tgt}:{self.noise.name}")
            t = self.world.realise(item.frame, tgt, rng, noise=noise)
            s = self.world.realise(item.frame, src, random.Random(0))
            plain = not item.tokens or tuple(s.tokens) == item.tokens
            gold = {
                "tags": list(t.ner),
                "upos": list(t.upos),
                "alignment": [list(p) for p in gold_alignment(s, t)] if plain else None,
            }
            tr = Translation(item.id, t.text, tuple(t.tokens), self.name, prov, gold)
            if on_result is not None:
                on_result(item, tr)
            out.append(tr)
        return out


# =============================================================================================
# googletrans


@dataclass(frozen=True)
class GoogletransConfig:
    """Settings of the googletrans engine (``translate.googletrans`` in the config)."""

    batch_size: int = 64  # sentences scheduled together (asyncio.gather)
    concurrency: int = 4  # requests in flight at once
    min_interval: float = 0.25  # seconds between request starts
    timeout: float = 30.0  # seconds per request
    retries: int = 6  # extra attempts after the first
    backoff: float = 1.0  # first retry delay (s), doubled per attempt
    max_backoff: float = 60.0
    jitter: float = 0.5  # delay *= 1 + jitter * U(0, 1)
    max_chars: int = 4900  # googletrans refuses > 5000 characters
    lang_codes: Mapping[str, str] = field(default_factory=lambda: {"zh": "zh-cn"})
    service_urls: tuple[str, ...] = ()  # empty: googletrans' default

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> GoogletransConfig:
        kw = _known(cls, cfg or {}, "translate.googletrans")
        if "service_urls" in kw:
            kw["service_urls"] = tuple(kw["service_urls"])
        return cls(**kw)


class Transport(Protocol):
    async def translate(self, text: str, src: str, dest: str) -> Any: ...


class _RateLimiter:
    """At most one request start per ``interval`` seconds (shared by all tasks of a run)."""

    def __init__(self, interval: float):
        self.interval, self._next, self._lock = interval, 0.0, asyncio.Lock()

    async def wait(self) -> None:
        if self.interval <= 0:
            return
        async with self._lock:
            delay = self._next - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next = time.monotonic() + self.interval


class GoogletransTranslator:
    """Google Translate through googletrans 4.x, robust to the free endpoint's failures."""

    name = "googletrans"
    cacheable = True

    def __init__(
        self,
        cfg: GoogletransConfig | None = None,
        transport: Transport | None = None,
        rng: random.Random | None = None,
        segment: bool = True,
    ):
        self.cfg = cfg or GoogletransConfig()
        self.transport = transport
        self.rng = rng or random.Random()
        self.segment = segment  # tokenize(..., segment=): words or characters for zh
        self.version = package_version("googletrans")

    def code(self, lang: str) -> str:
        return self.cfg.lang_codes.get(lang, lang)

    def translate(self, items, src, tgt, *, on_result=None) -> list[Translation]:
        todo = as_items(items, src)
        if not todo:
            return []
        return asyncio.run(self._run(todo, src, tgt, on_result))

    async def _run(
        self, items: list[SourceItem], src: str, tgt: str, on_result
    ) -> list[Translation]:
        if self.transport is not None:
            return await self._batches(self.transport, items, src, tgt, on_result)
        import googletrans

        for lang in (src, tgt):
            code = self.code(lang)
            if code not in googletrans.LANGUAGES:
                raise TranslationError(
                    f"googletrans does not know the language code {code!r} (of {lang!r}); map it "
                    "in translate.googletrans.lang_codes, e.g. {zh: zh-cn}"
                )
        kw: dict[str, Any] = {"raise_exception": True, "timeout": self.cfg.timeout}
        if self.cfg.service_urls:
            kw["service_urls"] = list(self.cfg.service_urls)
        async with googletrans.Translator(**kw) as client:
            return await self._batches(client, items, src, tgt, on_result)

    async def _batches(self, transport, items, src, tgt, on_result) -> list[Translation]:
        limiter = _RateLimiter(self.cfg.min_interval)
        sem = asyncio.Semaphore(self.cfg.concurrency)
        out: list[Translation] = []
        bar = tqdm(total=len(items), desc=f"googletrans {src}->{tgt}", unit="sent", mininterval=10)
        for start in range(0, len(items), self.cfg.batch_size):
            batch = items[start : start + self.cfg.batch_size]
            tasks = [
                asyncio.ensure_future(self._one(transport, limiter, sem, it, src, tgt, on_result))
                for it in batch
            ]
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            failed = [t for t in tasks if t.done() and not t.cancelled() and t.exception()]
            if failed:
                for t in pending:
                    t.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                bar.close()
                raise failed[0].exception()
            out += [t.result() for t in tasks]
            bar.update(len(batch))
        bar.close()
        return out

    async def _one(self, transport, limiter, sem, item: SourceItem, src, tgt, on_result):
        pieces = split_text(item.text, self.cfg.max_chars)
        done = [await self._request(transport, limiter, sem, p, item, src, tgt) for p in pieces]
        sep = "" if tgt.split("-")[0] in UNSPACED else " "
        text = sep.join(done)
        prov = {
            "engine": self.name,
            "version": self.version,
            "date": now_utc(),
            "src_code": self.code(src),
            "dest_code": self.code(tgt),
            "pieces": len(pieces),
        }
        tokens = tuple(tokenize(text, tgt, segment=self.segment))
        tr = Translation(item.id, text, tokens, self.name, prov)
        if on_result is not None:
            on_result(item, tr)
        return tr

    async def _request(self, transport, limiter, sem, text, item, src, tgt) -> str:
        cfg = self.cfg
        last: BaseException | None = None
        for attempt in range(cfg.retries + 1):
            await limiter.wait()
            try:
                async with sem:
                    res = await asyncio.wait_for(
                        transport.translate(text, src=self.code(src), dest=self.code(tgt)),
                        cfg.timeout,
                    )
                out = res if isinstance(res, str) else getattr(res, "text", None)
                if not isinstance(out, str) or (text.strip() and not out.strip()):
                    raise TranslationError(f"empty or malformed response {res!r}")
                return out
            except Exception as e:  # TimeoutError included
                last = e
                if attempt == cfg.retries:
                    break
                delay = min(cfg.max_backoff, cfg.backoff * 2**attempt)
                delay *= 1 + cfg.jitter * self.rng.random()
                log.warning(
                    "googletrans %s->%s %s: attempt %d failed (%s: %s); retrying in %.1fs",
                    src,
                    tgt,
                    item.id,
                    attempt + 1,
                    type(e).__name__,
                    e,
                    delay,
                )
                await asyncio.sleep(delay)
        err = "timed out" if isinstance(last, TimeoutError) else f"{type(last).__name__}: {last}"
        raise TranslationError(
            f"googletrans {src}->{tgt}: sentence {item.id!r} failed after {cfg.retries + 1} "
            f"attempts; last error: {err}. Every sentence translated before it is kept in the "
            "translation cache, so re-running the same command resumes from there (check network "
            "access, or raise translate.googletrans.retries / min_interval if you are rate-limited)"
        ) from last


# =============================================================================================
# file


@dataclass(frozen=True)
class FileConfig:
    """User-supplied translations (``translate.file``): ``path`` may contain ``{lang}``,
    ``{src}`` and ``{dataset}``; ``key`` says whether entries are keyed by source id or text."""

    path: str = ""
    key: str = "id"  # id | text

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> FileConfig:
        return cls(**_known(cls, cfg or {}, "translate.file"))

    def resolve(self, src: str, tgt: str, dataset: str = "") -> Path:
        if not self.path:
            raise TranslationError(
                "translate.engine is 'file' but translate.file.path is not set (give a TSV or "
                "JSONL path, e.g. data/translations/{dataset}.{lang}.tsv)"
            )
        return Path(self.path.format(lang=tgt, src=src, dataset=dataset))


class FileTranslator:
    """Look translations up in a TSV or JSONL file (see :class:`FileConfig`)."""

    name = "file"
    cacheable = False

    def __init__(self, path: str | Path, key: str = "id", segment: bool = True):
        if key not in ("id", "text"):
            raise ValueError(f"translate.file.key must be 'id' or 'text', got {key!r}")
        self.path, self.key, self.segment = Path(path), key, segment
        if not self.path.exists():
            raise TranslationError(
                f"{self.path}: translation file not found (translate.file.path; write one line "
                "per source sentence: '<source id><TAB><translation>' or JSONL)"
            )
        self.version = "sha256:" + hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]
        self.entries = self._load()

    def _load(self) -> dict[str, tuple[str, tuple[str, ...] | None]]:
        entries: dict[str, tuple[str, tuple[str, ...] | None]] = {}

        def add(k: str, text: str, tokens, lineno: int) -> None:
            if k in entries and entries[k][0] != text:
                raise DataError(
                    self.path,
                    lineno,
                    f"{self.key} {k!r} has two different translations",
                    "keep one line per source sentence",
                )
            entries[k] = (text, tuple(tokens) if tokens else None)

        if self.path.suffix in (".jsonl", ".gz") or self.path.name.endswith(".jsonl.gz"):
            src_field = "src_id" if self.key == "id" else "source"
            for lineno, rec in iter_jsonl(self.path):
                if src_field not in rec or "translation" not in rec:
                    raise DataError(
                        self.path,
                        lineno,
                        f"record lacks {src_field!r} or 'translation'",
                        f'write {{"{src_field}": ..., "translation": ...}} per line '
                        f"(translate.file.key: {self.key})",
                    )
                add(str(rec[src_field]), str(rec["translation"]), rec.get("tokens"), lineno)
            return entries
        with open(self.path, encoding="utf-8", newline="") as fh:
            for lineno, row in enumerate(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
                if not row or row[0].startswith("#"):
                    continue
                if len(row) != 2:
                    raise DataError(
                        self.path,
                        lineno,
                        f"expected 2 tab-separated columns, found {len(row)}",
                        f"write '<source {self.key}><TAB><translation>' (no tabs inside fields)",
                    )
                add(row[0], row[1], None, lineno)
        return entries

    def translate(self, items, src, tgt, *, on_result=None) -> list[Translation]:
        todo = as_items(items, src)
        keys = [it.id if self.key == "id" else it.text for it in todo]
        missing = [k for k in keys if k not in self.entries]
        if missing:
            shown = ", ".join(repr(m) for m in missing[:5])
            raise TranslationError(
                f"{self.path}: no translation for {len(missing)} of {len(todo)} {src}->{tgt} "
                f"sentences (source {self.key}s {shown}{', ...' if len(missing) > 5 else ''}); "
                "add a line per missing sentence, or check translate.file.key "
                "(id = first column holds source ids, text = it holds source texts)"
            )
        prov = {
            "engine": self.name,
            "version": self.version,
            "date": now_utc(),
            "file": str(self.path),
        }
        out = []
        for it, k in zip(todo, keys, strict=True):
            text, tokens = self.entries[k]
            tokens = tokens or tuple(tokenize(text, tgt, segment=self.segment))
            tr = Translation(it.id, text, tokens, self.name, prov)
            if on_result is not None:
                on_result(it, tr)
            out.append(tr)
        return out


# =============================================================================================
# settings of the local engines (the engines themselves are in xlt.translate.local)


@dataclass(frozen=True)
class ApertiumConfig:
    """Settings of the Apertium engine (``translate.apertium``).

    ``modes`` maps a target language to an Apertium mode (``apertium -l`` lists the installed
    ones); targets not in it use :data:`xlt.translate.local.APERTIUM_MODES` (es: ``eng-spa``,
    ca: ``eng-cat``, gl: ``en-gl``). ``datadir`` is ``apertium -d`` (empty: Apertium's default,
    ``$APERTIUM_DATADIR`` or ``/usr/share/apertium``).
    """

    modes: Mapping[str, str] = field(default_factory=dict)
    batch_size: int = 1000  # sentences per apertium process (about 0.2 s start-up per call)
    timeout: float = 600.0  # seconds per process call
    command: str = "apertium"
    datadir: str = ""

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> ApertiumConfig:
        kw = _known(cls, cfg or {}, "translate.apertium")
        if int(kw.get("batch_size", 1)) < 1:
            raise ValueError(f"translate.apertium.batch_size must be >= 1, got {kw['batch_size']}")
        return cls(**kw)


@dataclass(frozen=True)
class CTranslate2Config:
    """Settings of the CTranslate2 engine (``translate.ctranslate2``): a model directory made by
    a CTranslate2 converter, with the SentencePiece models of its source and target side.

    ``model_dir`` may contain ``{src}`` and ``{lang}`` (one model per pair, as OPUS-MT).
    ``source_spm``/``target_spm`` are paths relative to the model directory (or absolute).
    Multilingual models need language tokens: ``source_prefix`` (e.g. ``eng_Latn`` for NLLB) is
    put before the source pieces, ``target_prefix[lang]`` (e.g. ``spa_Latn``) forces the start of
    the output and is removed from the translation.
    """

    model_dir: str = ""
    source_spm: str = "source.spm"
    target_spm: str = "target.spm"
    source_prefix: str = ""
    target_prefix: Mapping[str, str] = field(default_factory=dict)
    add_eos: bool = True  # append </s> to the source pieces (Marian, NLLB, M2M100)
    batch_size: int = 32  # sentences per translate_batch call (each committed to the cache)
    beam_size: int = 4
    max_decoding_length: int = 256
    device: str = "cpu"
    compute_type: str = "default"
    intra_threads: int = 0  # 0: CTranslate2's default

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> CTranslate2Config:
        kw = _known(cls, cfg or {}, "translate.ctranslate2")
        for key in ("batch_size", "beam_size", "max_decoding_length"):
            if key in kw and int(kw[key]) < 1:
                raise ValueError(f"translate.ctranslate2.{key} must be >= 1, got {kw[key]}")
        return cls(**kw)

    def resolve(self, src: str, tgt: str) -> Path:
        if not self.model_dir:
            raise TranslationError(
                "translate.engine is 'ctranslate2' but translate.ctranslate2.model_dir is not set "
                "(give the directory a CTranslate2 converter wrote, e.g. models/opus-mt-{src}-{lang})"
            )
        return Path(self.model_dir.format(src=src, lang=tgt))


# =============================================================================================
# configuration, factory, caching


@dataclass(frozen=True)
class TranslateConfig:
    """What ``make_translator`` needs: the engine and its settings."""

    engine: str = "synthetic"
    noise: str = "none"
    seed: int = 1
    noise_levels: Mapping[str, Mapping[str, float]] = field(
        default_factory=lambda: dict(DEFAULT_NOISE_LEVELS)
    )
    googletrans: GoogletransConfig = field(default_factory=GoogletransConfig)
    file: FileConfig = field(default_factory=FileConfig)
    apertium: ApertiumConfig = field(default_factory=ApertiumConfig)
    ctranslate2: CTranslate2Config = field(default_factory=CTranslate2Config)
    # tokenisation of translations in unspaced languages with a word segmenter (zh: jieba):
    # words (true) or one token per character (false, as WikiANN's Chinese)
    segment: bool = True

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> TranslateConfig:
        kw = _known(cls, cfg, "translate", ignore=IGNORED_KEYS)
        if kw.get("engine", "synthetic") not in ENGINES:
            raise ValueError(f"translate.engine must be one of {ENGINES}, got {kw['engine']!r}")
        kw["googletrans"] = GoogletransConfig.from_config(kw.get("googletrans"))
        kw["file"] = FileConfig.from_config(kw.get("file"))
        kw["apertium"] = ApertiumConfig.from_config(kw.get("apertium"))
        kw["ctranslate2"] = CTranslate2Config.from_config(kw.get("ctranslate2"))
        return cls(**kw)


# keys of the config section that other parts of xlt read (cache, align, project, quality, ...)
IGNORED_KEYS = frozenset(
    {
        "source",
        "datasets",
        "targets",
        "train_noise",
        "strategies",
        "cache",
        "align",
        "project",
        "quality",
        "engines",
    }
)


def _known(cls, cfg: Mapping[str, Any], where: str, ignore: Iterable[str] = ()) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    unknown = set(cfg) - names - set(ignore)
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; known: {sorted(names)}")
    return {k: v for k, v in cfg.items() if k in names}
