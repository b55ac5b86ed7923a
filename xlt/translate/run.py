"""Translating a dataset: the engine a config names, the per-sentence cache, the records.

:func:`make_translator` builds the engine (:mod:`.backends`: synthetic, googletrans, file;
:mod:`.local`: Apertium, CTranslate2), :func:`translate_cached` serves finished sentences from the
cache and commits new ones (so an interrupted run resumes), :func:`translate_dataset` turns a
dataset's source records into translated records with their provenance.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from .backends import (
    ENGINES,
    FileTranslator,
    GoogletransTranslator,
    NoiseLevel,
    SourceItem,
    SyntheticTranslator,
    TranslateConfig,
    Translation,
    TranslationError,
    Translator,
    Transport,
    as_items,
    cache_engine,
    tokenize,
)
from .cache import CacheConfig, TranslationCache
from .local import ApertiumTranslator, CTranslate2Translator

if TYPE_CHECKING:
    from ..world import World

log = logging.getLogger(__name__)


def make_translator(
    cfg: TranslateConfig,
    *,
    src: str = "en",
    tgt: str = "",
    dataset: str = "",
    world: World | None = None,
    transport: Transport | None = None,
) -> Translator:
    """The backend ``cfg.engine`` names (``world`` is needed by the synthetic engine; ``tgt`` by
    the local engines, which check their language pair or model at once)."""
    if cfg.engine == "synthetic":
        if world is None:
            raise ValueError("the synthetic engine needs the world (xlt.world.World)")
        return SyntheticTranslator(world, NoiseLevel.named(cfg.noise, cfg.noise_levels), cfg.seed)
    if cfg.noise != "none":
        raise ValueError(
            f"translate noise level {cfg.noise!r} applies only to the synthetic engine; "
            f"use noise 'none' with {cfg.engine}"
        )
    if cfg.engine == "googletrans":
        return GoogletransTranslator(cfg.googletrans, transport, segment=cfg.segment)
    if cfg.engine == "file":
        return FileTranslator(cfg.file.resolve(src, tgt, dataset), cfg.file.key, cfg.segment)
    if cfg.engine == "apertium":
        return ApertiumTranslator(
            cfg.apertium, segment=cfg.segment, pair=(src, tgt) if tgt else None
        )
    if cfg.engine == "ctranslate2":
        return CTranslate2Translator(cfg.ctranslate2, src=src, tgt=tgt, segment=cfg.segment)
    raise ValueError(f"unknown translation engine {cfg.engine!r}; expected one of {ENGINES}")


def translate_cached(
    translator: Translator,
    items: Sequence[SourceItem | Mapping[str, Any] | str],
    src: str,
    tgt: str,
    cache: TranslationCache | None,
    segment: bool = True,
) -> list[Translation]:
    """Translate ``items``, serving finished sentences from ``cache`` and committing new ones.

    Only cacheable engines use the cache (the key is :func:`cache_engine`, languages and source
    text; equal texts are translated once). On a :class:`TranslationError` everything finished is already
    committed, so calling again resumes. Cached texts are tokenised with ``segment`` (see
    :func:`tokenize`).
    """
    todo = as_items(items, src)
    if cache is None or not translator.cacheable:
        return translator.translate(todo, src, tgt)
    engine = cache_engine(translator, src, tgt)
    hits = cache.get_many(engine, src, tgt, [it.text for it in todo])
    missing: dict[str, SourceItem] = {}
    for it in todo:
        if it.text not in hits:
            missing.setdefault(it.text, it)
    n_hits = sum(it.text in hits for it in todo)
    log.info(
        "%s %s->%s: %d sentences, %d served by the cache %s, %d unique texts to translate",
        engine,
        src,
        tgt,
        len(todo),
        n_hits,
        cache.path,
        len(missing),
    )

    def commit(item: SourceItem, tr: Translation) -> None:
        cache.put(engine, src, tgt, item.text, tr.text, translator.version, tr.provenance)

    fresh = {}
    if missing:
        try:
            results = translator.translate(list(missing.values()), src, tgt, on_result=commit)
        except TranslationError as e:
            done = cache.count(engine, src, tgt)
            raise TranslationError(
                f"{e} [cache {cache.path}: {done} {src}->{tgt} sentences of {engine} stored]"
            ) from e
        fresh = {text: tr for text, tr in zip(missing, results, strict=True)}
    out = []
    for it in todo:
        if it.text in fresh:
            tr = fresh[it.text]
            out.append(Translation(it.id, tr.text, tr.tokens, tr.engine, tr.provenance))
        else:
            hit = hits[it.text]
            out.append(
                Translation(
                    it.id,
                    hit.text,
                    tuple(tokenize(hit.text, tgt, segment=segment)),
                    translator.name,
                    hit.provenance,
                    cached=True,
                )
            )
    return out


def translation_records(
    items: Sequence[SourceItem], translations: Sequence[Translation], src: str, tgt: str
) -> list[dict[str, Any]]:
    """The ``translated.jsonl`` records: source side, translation, tokens, provenance, gold."""
    out = []
    for it, tr in zip(items, translations, strict=True):
        rec: dict[str, Any] = {
            "id": f"{it.id}.{tgt}",
            "src_id": it.id,
            "src_lang": src,
            "tgt_lang": tgt,
            "src_tokens": list(it.tokens),
            "src_tags": list(it.tags),
            "text": tr.text,
            "tokens": list(tr.tokens),
            "engine": tr.engine,
            "provenance": dict(tr.provenance),
        }
        if tr.gold is not None:
            rec["gold"] = dict(tr.gold)
        out.append(rec)
    return out


def translate_dataset(
    records: Sequence[Mapping[str, Any]],
    cfg: TranslateConfig,
    src: str,
    tgt: str,
    *,
    dataset: str = "",
    world: World | None = None,
    cache: Any = None,
    transport: Transport | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Translate a tagging dataset's records; returns ``translated.jsonl`` records and a
    provenance summary. ``cache`` is a :class:`~xlt.translate.cache.CacheConfig` (or path); it is
    opened only for cacheable engines."""
    items = as_items(records, src)
    trs, summary = _translate(items, cfg, src, tgt, dataset, world, cache, transport)
    return translation_records(items, trs, src, tgt), summary


PAIR_SUFFIX = ".pair"


def sentence_items(records: Sequence[Mapping[str, Any]], src: str) -> list[SourceItem]:
    """The sentences of sentence-label records (classification): each ``text`` and, for a pair,
    its ``text_pair`` (id ``<id>.pair``), each with its frame where the record has one (the
    synthetic world's ``frame`` and ``frame_pair``), so every engine translates them as plain
    sentences."""
    items = []
    for r in records:
        for key, frame, suffix in (("text", "frame", ""), ("text_pair", "frame_pair", PAIR_SUFFIX)):
            if r.get(key) is not None:
                items.append(
                    SourceItem(
                        id=f"{r['id']}{suffix}",
                        text=r[key],
                        tokens=tuple(tokenize(r[key], src)) if r.get(frame) is None else (),
                        frame=r.get(frame),
                    )
                )
    return items


def translate_sentences(
    records: Sequence[Mapping[str, Any]],
    cfg: TranslateConfig,
    src: str,
    tgt: str,
    *,
    dataset: str = "",
    world: World | None = None,
    cache: Any = None,
    transport: Transport | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Translate a classification dataset (single texts or NLI pairs: premise and hypothesis are
    translated as two sentences); the label carries over unchanged, since a sentence label needs
    no alignment or projection. Returns ``translated.jsonl`` records (``text``, ``text_pair``,
    ``label``, ``src_id``, engine and provenance) and a provenance summary."""
    items = sentence_items(records, src)
    trs, summary = _translate(items, cfg, src, tgt, dataset, world, cache, transport)
    done = {t.src_id: t for t in trs}
    out = []
    for r in records:
        first = done[str(r["id"])]
        rec: dict[str, Any] = {
            "id": f"{r['id']}.{tgt}",
            "src_id": str(r["id"]),
            "src_lang": src,
            "tgt_lang": tgt,
            "text": first.text,
        }
        if r.get("text_pair") is not None:
            rec["text_pair"] = done[f"{r['id']}{PAIR_SUFFIX}"].text
        rec |= {"label": r["label"], "engine": first.engine, "provenance": dict(first.provenance)}
        out.append(rec)
    return out, summary


def carry_labels(translated: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:  # fmt: skip
    """Training records of translated sentence-label data (:func:`translate_sentences`): each
    translation with its source's label (``id``, ``text``, ``text_pair``, ``label``, ``src_id``),
    and counts per label."""
    out = []
    for r in translated:
        rec = {"id": r["id"], "text": r["text"]}
        if "text_pair" in r:
            rec["text_pair"] = r["text_pair"]
        out.append(rec | {"label": r["label"], "src_id": r["src_id"]})
    labels: dict[str, int] = {}
    for r in out:
        labels[r["label"]] = labels.get(r["label"], 0) + 1
    stats = {
        "sentences": len(out),
        "pairs": sum("text_pair" in r for r in out),
        "labels": dict(sorted(labels.items())),
    }
    return out, stats


def _translate(
    items: list[SourceItem],
    cfg: TranslateConfig,
    src: str,
    tgt: str,
    dataset: str,
    world: World | None,
    cache: Any,
    transport: Transport | None,
) -> tuple[list[Translation], dict[str, Any]]:
    """Translations of ``items`` (through the cache for cacheable engines) and the summary."""
    translator = make_translator(
        cfg, src=src, tgt=tgt, dataset=dataset, world=world, transport=transport
    )
    cache_path = None
    if translator.cacheable and cache is not None:
        cache_cfg = cache if isinstance(cache, CacheConfig) else CacheConfig.from_config(cache)
        cache_path = cache_cfg.path
        with TranslationCache(cache_cfg) as db:
            trs = translate_cached(translator, items, src, tgt, db, cfg.segment)
    else:
        trs = translator.translate(items, src, tgt)
    dates = sorted(str(t.provenance.get("date", "")) for t in trs)
    summary = {
        "engine": translator.name,
        "version": translator.version,
        "src_lang": src,
        "tgt_lang": tgt,
        "dataset": dataset,
        "sentences": len(trs),
        "from_cache": sum(t.cached for t in trs),
        "cache": cache_path,
        "cache_engine": cache_engine(translator, src, tgt) if cache_path else None,
        "dates": {"first": dates[0], "last": dates[-1]} if dates else None,
    }
    if isinstance(translator, SyntheticTranslator):
        summary["noise"] = asdict(translator.noise)
        summary["seed"] = translator.seed
    return trs, summary
