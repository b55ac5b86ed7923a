"""Reading and writing the common data schema, atomically and with errors that name file and line.

Every dataset in xlt is a JSONL file with one example per line (see architecture.md):

- tagging:        {"id", "tokens": [...], "tags": [...]}
- classification: {"id", "text", "label"} (+ optional "text_pair")
- parallel:       {"id", "src_id", ...} links a translated/realised example to its source

Outputs are written to a temporary name next to the target and renamed into place, so an
interrupted job never leaves a valid-looking partial file.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

Kind = Literal["tagging", "classification", "parallel", "text"]

REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "tagging": ("id", "tokens", "tags"),
    "classification": ("id", "text", "label"),
    "parallel": ("id", "src_id"),
    "text": ("id", "text"),
}


class DataError(ValueError):
    """A malformed input: the message names the file, the line and what to do about it."""

    def __init__(self, path: str | os.PathLike, line: int | None, problem: str, fix: str = ""):
        where = f"{path} line {line}" if line is not None else str(path)
        msg = f"{where}: {problem}"
        if fix:
            msg += f" ({fix})"
        super().__init__(msg)
        self.path, self.line, self.problem = str(path), line, problem


# --------------------------------------------------------------------------------------------
# atomic writes


def safe_target(path: str | os.PathLike) -> Path:
    """``path`` as a Path if writing it stays inside its parent directory, else a ValueError.

    A target named ``.`` or ``..`` (``results/encoders/..`` *is* ``results/``) or a path that
    climbs with ``..`` (``results/data/../../x``) is refused: xlt writes only below the
    directories it names, and replacing a directory deletes what was in it.
    """
    p = Path(path)
    if p.name in ("", ".", "..") or ".." in p.parts:
        raise ValueError(
            f"refusing to write {str(path)!r}: the target must be a named file or directory inside "
            "its parent, without '.' or '..' components (check the names in the config: "
            "encoders, datasets and tasks may not be '.', '..' or contain '/')"
        )
    return p


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's directory; rename it onto ``path`` on success.

    On any exception the temporary file is removed and ``path`` is left untouched.
    Works for files and directories (``save_pretrained`` into the yielded path).
    """
    path = safe_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()
    try:
        yield tmp_path
        if path.is_dir() and tmp_path.is_dir():
            shutil.rmtree(path)
        os.replace(tmp_path, path)
    except BaseException:
        if tmp_path.is_dir():
            shutil.rmtree(tmp_path, ignore_errors=True)
        else:
            tmp_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str = "utf-8"):
    """Open a temporary file for writing; it replaces ``path`` only when the block succeeds.

    ``.gz`` paths are gzip-compressed with a fixed header, so equal content gives equal bytes.
    """
    path = Path(path)
    binary = "b" in mode
    with atomic_path(path) as tmp:
        if path.suffix != ".gz":
            with open(tmp, mode, encoding=None if binary else encoding) as fh:
                yield fh
            return
        with open(tmp, "wb") as raw, gzip.GzipFile("", "wb", fileobj=raw, mtime=0) as gz:
            if binary:
                yield gz
            else:
                fh = io.TextIOWrapper(gz, encoding=encoding)
                yield fh
                fh.flush()
                fh.detach()


def write_json(path: str | os.PathLike, obj: Any) -> None:
    with atomic_open(path) as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=1, sort_keys=False)
        fh.write("\n")


def read_json(path: str | os.PathLike) -> Any:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        try:
            return json.load(fh)
        except json.JSONDecodeError as e:
            raise DataError(path, e.lineno, f"invalid JSON: {e.msg}") from None


def write_jsonl(path: str | os.PathLike, records: Iterable[Mapping[str, Any]]) -> int:
    """Write records atomically, one JSON object per line. Returns the number written."""
    n = 0
    with atomic_open(path) as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
            fh.write("\n")
            n += 1
    return n


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_open(path) as fh:
        fh.write(text)


# --------------------------------------------------------------------------------------------
# reading and validating


def iter_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, record)``; blank lines are skipped, bad JSON raises DataError."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(
                    path, lineno, f"not valid JSON ({e.msg})", "each line must be one JSON object"
                ) from None
            if not isinstance(rec, dict):
                raise DataError(path, lineno, "expected a JSON object", "one example per line")
            yield lineno, rec


def validate_record(
    rec: Mapping[str, Any],
    kind: Kind,
    path: str | os.PathLike,
    lineno: int | None,
    labels: Sequence[str] | None = None,
) -> None:
    """Check one record against the common schema (and an optional label set)."""
    missing = [k for k in REQUIRED_KEYS[kind] if k not in rec]
    if missing:
        raise DataError(
            path,
            lineno,
            f"{kind} record lacks {', '.join(repr(k) for k in missing)}",
            f"expected keys {list(REQUIRED_KEYS[kind])}",
        )
    if kind == "tagging":
        toks, tags = rec["tokens"], rec["tags"]
        if not isinstance(toks, list) or not isinstance(tags, list):
            raise DataError(path, lineno, "'tokens' and 'tags' must be lists")
        if len(toks) != len(tags):
            raise DataError(
                path,
                lineno,
                f"{len(toks)} tokens but {len(tags)} tags",
                "every token needs exactly one tag",
            )
        if not toks:
            raise DataError(path, lineno, "empty sentence", "drop empty examples")
        if any(not isinstance(t, str) or not t or t.isspace() for t in toks):
            raise DataError(path, lineno, "a token is empty, whitespace or not a string")
        if labels is not None:
            allowed = set(labels)
            for t in tags:
                if t not in allowed:
                    raise DataError(
                        path,
                        lineno,
                        f"tag {t!r} is not in the label set {sorted(allowed)}",
                        "fix the tag or add it to the dataset's labels in the config",
                    )
    elif kind == "classification":
        if not isinstance(rec["text"], str) or not rec["text"].strip():
            raise DataError(path, lineno, "'text' must be a non-empty string")
        if labels is not None and rec["label"] not in set(labels):
            raise DataError(
                path,
                lineno,
                f"label {rec['label']!r} is not in the label set {sorted(labels)}",
                "fix the label or add it to the dataset's labels in the config",
            )


def read_jsonl(
    path: str | os.PathLike,
    kind: Kind | None = None,
    labels: Sequence[str] | None = None,
) -> list[dict]:
    """Read a JSONL file; with ``kind`` every record is validated (errors name file and line)."""
    out = []
    ids: set[str] = set()
    for lineno, rec in iter_jsonl(path):
        if kind is not None:
            validate_record(rec, kind, path, lineno, labels)
            rid = str(rec["id"])
            if rid in ids:
                raise DataError(path, lineno, f"duplicate id {rid!r}", "ids must be unique")
            ids.add(rid)
        out.append(rec)
    return out
