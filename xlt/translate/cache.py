"""A persistent per-sentence translation cache (SQLite, WAL mode) with provenance.

Key: (engine, source language, target language, source text). Each entry records the
translation, the engine's version, the date it was made and a JSON provenance object. Every
``put`` is its own committed transaction, so a run that fails or is killed keeps every sentence it
finished and the next run asks the engine only for the rest.

A file that is not a readable SQLite database raises ``CorruptCacheError`` naming the file and
the fix (move it away; the translations it held are redone, the run resumes from then on).

Several Snakemake jobs (one per target language) may share one cache file: SQLite serialises the
writers, and a busy timeout makes a writer wait for the lock instead of failing. WAL mode needs a
local file system with working shared memory; on NFS/Lustre set ``translate.cache.journal_mode:
delete`` (slower, but safe).
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_CACHE = "resources/translate/cache.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    engine      TEXT NOT NULL,
    src_lang    TEXT NOT NULL,
    tgt_lang    TEXT NOT NULL,
    src_text    TEXT NOT NULL,
    text        TEXT NOT NULL,
    version     TEXT NOT NULL,
    created     TEXT NOT NULL,
    provenance  TEXT NOT NULL,
    PRIMARY KEY (engine, src_lang, tgt_lang, src_text)
)
"""


class CorruptCacheError(sqlite3.DatabaseError):
    """The cache file is not a readable SQLite database (truncated, overwritten, not SQLite)."""


@dataclass(frozen=True)
class CacheConfig:
    """Where the cache lives and how SQLite locks it (``translate.cache``)."""

    path: str = DEFAULT_CACHE
    busy_timeout: float = 120.0  # seconds a writer waits for another job's lock
    journal_mode: str = "wal"  # wal | delete (use delete on network file systems)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | str | None) -> CacheConfig:
        if cfg is None:
            return cls()
        if isinstance(cfg, str):
            return cls(path=cfg)
        unknown = set(cfg) - {"path", "busy_timeout", "journal_mode"}
        if unknown:
            raise ValueError(f"translate.cache: unknown keys {sorted(unknown)}")
        return cls(**cfg)


@dataclass(frozen=True)
class CachedTranslation:
    text: str
    version: str
    created: str
    provenance: Mapping[str, Any]


class TranslationCache:
    """The cache file; use as a context manager or call :meth:`close`."""

    def __init__(self, cfg: CacheConfig | str | Path | None = None):
        if cfg is None:
            cfg = CacheConfig()
        elif not isinstance(cfg, CacheConfig):
            cfg = CacheConfig(path=str(cfg))
        if cfg.journal_mode.lower() not in ("wal", "delete", "truncate", "persist"):
            raise ValueError(
                f"translate.cache.journal_mode must be wal or delete, got {cfg.journal_mode!r}"
            )
        self.cfg = cfg
        self.path = Path(cfg.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=cfg.busy_timeout, isolation_level=None)
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(cfg.busy_timeout * 1000)}")
            self._retry(self._init_schema)
        except BaseException:
            self._db.close()
            raise

    def _init_schema(self) -> None:
        mode = self._db.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() != self.cfg.journal_mode.lower():
            self._db.execute(f"PRAGMA journal_mode = {self.cfg.journal_mode.upper()}")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute(_SCHEMA)

    def _retry(self, fn, *args):
        """Run ``fn`` and retry while another writer holds the lock, up to ``busy_timeout``.

        SQLite's busy handler covers ordinary writes, but not every case: switching the journal
        mode or creating the schema while another connection does the same can answer "database
        is locked" at once. Those are retried here with a jittered back-off.
        """
        deadline = time.monotonic() + self.cfg.busy_timeout
        delay = 0.01
        while True:
            try:
                return fn(*args)
            except sqlite3.OperationalError as e:
                msg = str(e).lower()
                if ("locked" not in msg and "busy" not in msg) or time.monotonic() > deadline:
                    raise sqlite3.OperationalError(
                        f"{self.path}: {e} (waited {self.cfg.busy_timeout:g} s for another "
                        "job's lock; raise translate.cache.busy_timeout, or set "
                        "translate.cache.journal_mode: delete on a network file system)"
                    ) from e
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.5)
            except sqlite3.DatabaseError as e:  # not OperationalError: the file itself is bad
                raise self._corrupt(e) from e

    def _corrupt(self, e: sqlite3.DatabaseError) -> CorruptCacheError:
        side = ", ".join(
            f"{self.path}{s}" for s in ("-wal", "-shm") if Path(f"{self.path}{s}").exists()
        )
        return CorruptCacheError(
            f"{self.path}: the translation cache is unreadable ({e}); delete it or move it away "
            f"(mv {self.path} {self.path}.corrupt{'; also remove ' + side if side else ''}) and "
            "re-run: the translations it held are redone, and the new cache resumes sentence by "
            "sentence from then on"
        )

    def __enter__(self) -> TranslationCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def put(
        self,
        engine: str,
        src: str,
        tgt: str,
        src_text: str,
        text: str,
        version: str,
        provenance: Mapping[str, Any] | None = None,
    ) -> None:
        """Store one translation and commit it immediately (a newer one replaces an older)."""
        prov = dict(provenance or {})
        created = str(prov.get("date") or datetime.now(UTC).isoformat(timespec="seconds"))
        row = (
            engine,
            src,
            tgt,
            src_text,
            text,
            version,
            created,
            json.dumps(prov, ensure_ascii=False),
        )
        # autocommit: one transaction per sentence
        self._retry(
            self._db.execute,
            "INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            row,
        )

    def get_many(
        self, engine: str, src: str, tgt: str, texts: Iterable[str]
    ) -> dict[str, CachedTranslation]:
        """The cached translations of those ``texts`` that have one."""
        wanted = list(dict.fromkeys(texts))
        out: dict[str, CachedTranslation] = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            rows = self._query(
                "SELECT src_text, text, version, created, provenance FROM translations "
                f"WHERE engine = ? AND src_lang = ? AND tgt_lang = ? AND src_text IN ({','.join('?' * len(chunk))})",
                (engine, src, tgt, *chunk),
            )
            for src_text, text, version, created, prov in rows:
                out[src_text] = CachedTranslation(text, version, created, json.loads(prov))
        return out

    def get(self, engine: str, src: str, tgt: str, text: str) -> CachedTranslation | None:
        return self.get_many(engine, src, tgt, [text]).get(text)

    def count(
        self, engine: str | None = None, src: str | None = None, tgt: str | None = None
    ) -> int:
        """Entries matching the given engine / languages (None matches any)."""
        where, args = [], []
        for col, val in (("engine", engine), ("src_lang", src), ("tgt_lang", tgt)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        sql = "SELECT COUNT(*) FROM translations" + (
            " WHERE " + " AND ".join(where) if where else ""
        )
        return int(self._query(sql, args)[0][0])

    def _query(self, sql: str, args) -> list[tuple]:
        return self._retry(lambda: self._db.execute(sql, args).fetchall())
