"""Reading and writing the common data schema, atomically and with errors that name file and line.

Every dataset in xlt is a JSONL file with one example per line (see architecture.md):

- tagging:        {"id", "tokens": [...], "tags": [...]}
- classification: {"id", "text", "label"} (+ optional "text_pair": the second sentence of a pair,
                  e.g. the NLI hypothesis)
- qa:             {"id", "context", "question", "answers": {"text": [...], "answer_start": [...]}}
                  (+ optional "lang"); extractive: ``context[start:start + len(text)] == text``
                  (0-based character offsets), one answer or more (dev/test sets list several
                  annotators' answers), never none (SQuAD v1.1: every question is answerable)
- relation:       {"id", "tokens", "head": [start, end], "tail": [start, end], "label"}: head and
                  tail are token spans, **end exclusive** (Python slices: ``tokens[start:end]``),
                  non-empty and disjoint; a directed label (``org:founded_by(e1,e2)``) keeps its
                  direction in its name, head = e1 and tail = e2 of the source file
- parsing:        {"id", "tokens", "heads": [int, ...], "deprels": [...]} (+ optional "tags",
                  UPOS): heads are 1-based word indices, 0 = the root; the heads form a tree (no
                  word is its own head, no cycle, at least one word attached to the root)
- parallel:       {"id", "src_id", ...} links a translated/realised example to its source

Outputs are written to a temporary name next to the target and renamed into place, so an
interrupted job never leaves a valid-looking partial file.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import logging
import os
import re
import shutil
import tempfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger("xlt.io")

Kind = Literal["tagging", "classification", "qa", "relation", "parsing", "parallel", "text"]

REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "tagging": ("id", "tokens", "tags"),
    "classification": ("id", "text", "label"),
    "qa": ("id", "context", "question", "answers"),
    "relation": ("id", "tokens", "head", "tail", "label"),
    "parsing": ("id", "tokens", "heads", "deprels"),
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


# what tempfile.mkstemp names a temporary of ``atomic_path``: ".{name}." + 8 random characters
# of this alphabet + ".tmp"; the fixed length keeps target ``a``'s temporaries apart from ``a.b``'s
_TEMP_RANDOM = "[a-z0-9_]{8}"


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Delete the temporaries an earlier, killed writer of ``path`` left next to it.

    ``atomic_path`` removes its temporary on any exception, but not when the process is killed
    (``kill -9``, out of memory, a cluster's time limit): a converted encoder then leaves a
    ``.e5.<random>.tmp`` directory of hundreds of MB behind. A workflow output has one writer at
    a time (Snakemake runs one job per output and locks it), so when a writer starts, any
    temporary of the same target is a leftover. (Not so for a cache that several jobs may fill
    at once, such as the download cache: ``atomic_path(..., shared=True)`` skips this.) Returns
    what was removed.
    """
    path = Path(path)
    if not path.parent.is_dir():
        return []
    pattern = re.compile(rf"\.{re.escape(path.name)}\.{_TEMP_RANDOM}\.tmp")
    removed = []
    for stale in path.parent.iterdir():
        if pattern.fullmatch(stale.name):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
            removed.append(stale)
            log.warning("removed %s, left by an earlier writer of %s that was killed", stale, path)
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, shared: bool = False) -> Iterator[Path]:
    """Yield a temporary path in the target's directory; rename it onto ``path`` on success.

    On any exception the temporary file is removed and ``path`` is left untouched; what a
    killed earlier writer of ``path`` left is removed first (:func:`remove_stale_temps`), unless
    ``shared``: several processes may write ``path`` at the same time (a cache that jobs share),
    so another temporary may be a live writer's.
    Works for files and directories (``save_pretrained`` into the yielded path).
    """
    path = safe_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not shared:
        remove_stale_temps(path)
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
    """A JSON (``.gz``: gzip-compressed JSON) file; a broken one is a DataError naming it."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as e:
        raise DataError(path, e.lineno, f"invalid JSON: {e.msg}") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        problem = f"truncated or corrupt gzip file ({type(e).__name__}: {e})"
        raise DataError(path, None, problem) from None
    except UnicodeDecodeError as e:
        raise DataError(path, None, f"not UTF-8 text (byte {e.start}): corrupt") from None


def rebuild_fix(
    path: str | os.PathLike, action: str = "rebuild it and everything made from it"
) -> str:
    """How to rebuild a workflow output and everything made from it: Snakemake's ``--forcerun``
    of a file re-runs the job that makes it and every job downstream, whether the file exists
    or not. (Deleting the file is no fix: while the files made from it are in place, Snakemake
    sees nothing to do.)"""
    return (
        f"a workflow output: {action} with `snakemake all --forcerun {path}` (add your usual "
        "--cores, --configfile or --profile)"
    )


def output_error(path: str | os.PathLike, problem: str, line: int | None = None) -> DataError:
    """A workflow output (an intermediate such as a pool or a study's document) that cannot be
    read, with the fix: rebuild it."""
    return DataError(path, line, problem, rebuild_fix(path))


def read_output_json(path: str | os.PathLike) -> Any:
    """:func:`read_json` of a workflow output: a broken file names itself and the fix."""
    try:
        return read_json(path)
    except DataError as e:
        raise output_error(path, e.problem, e.line) from None
    except OSError as e:
        raise output_error(path, f"unreadable ({e.strerror or e})") from None


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


class Invalid(ValueError):
    """One record breaks the schema; ``validate_record`` adds the file and line."""

    def __init__(self, problem: str, fix: str = ""):
        super().__init__(problem)
        self.problem, self.fix = problem, fix


def validate_record(
    rec: Mapping[str, Any],
    kind: Kind,
    path: str | os.PathLike,
    lineno: int | None,
    labels: Sequence[str] | None = None,
) -> None:
    """Check one record against the common schema (and an optional label set).

    ``labels`` is the allowed set of the record's labels: tags (tagging), the label
    (classification, relation) or the dependency relations (parsing); QA has none.
    """
    missing = [k for k in REQUIRED_KEYS[kind] if k not in rec]
    if missing:
        raise DataError(
            path,
            lineno,
            f"{kind} record lacks {', '.join(repr(k) for k in missing)}",
            f"expected keys {list(REQUIRED_KEYS[kind])}",
        )
    check = CHECKS.get(kind)
    if check is None:
        return
    try:
        check(rec, None if labels is None else frozenset(labels))
    except Invalid as e:
        raise DataError(path, lineno, e.problem, e.fix) from None


def _label_error(what: str, value: Any, labels: frozenset[str]) -> Invalid:
    return Invalid(
        f"{what} {value!r} is not in the label set {sorted(labels)}",
        "fix the " + what.split()[-1] + " or add it to the dataset's labels in the config",
    )


def _check_tokens(toks: Any) -> None:
    if not isinstance(toks, list):
        raise Invalid("'tokens' must be a list")
    if not toks:
        raise Invalid("empty sentence", "drop empty examples")
    if any(not isinstance(t, str) or not t or t.isspace() for t in toks):
        raise Invalid("a token is empty, whitespace or not a string")


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check_tagging(rec: Mapping[str, Any], labels: frozenset[str] | None) -> None:
    toks, tags = rec["tokens"], rec["tags"]
    if not isinstance(toks, list) or not isinstance(tags, list):
        raise Invalid("'tokens' and 'tags' must be lists")
    if len(toks) != len(tags):
        raise Invalid(
            f"{len(toks)} tokens but {len(tags)} tags", "every token needs exactly one tag"
        )
    _check_tokens(toks)
    if labels is not None:
        for t in tags:
            if t not in labels:
                raise _label_error("tag", t, labels)


def _check_classification(rec: Mapping[str, Any], labels: frozenset[str] | None) -> None:
    if not isinstance(rec["text"], str) or not rec["text"].strip():
        raise Invalid("'text' must be a non-empty string")
    pair = rec.get("text_pair")
    if pair is not None and (not isinstance(pair, str) or not pair.strip()):
        raise Invalid(
            "'text_pair' must be a non-empty string when present",
            "give the second sentence of the pair, or drop the key for single-sentence data",
        )
    if not isinstance(rec["label"], str) or not rec["label"].strip():
        raise Invalid(
            f"'label' is {rec['label']!r}: blank or not a string",
            "every example needs its class: fill in the label or drop the example",
        )
    if labels is not None and rec["label"] not in labels:
        raise _label_error("label", rec["label"], labels)


def _check_qa(rec: Mapping[str, Any], labels: frozenset[str] | None) -> None:
    rid, context, answers = rec["id"], rec["context"], rec["answers"]
    if not isinstance(context, str) or not context.strip():
        raise Invalid(f"question {rid!r}: 'context' must be a non-empty string")
    if not isinstance(rec["question"], str) or not rec["question"].strip():
        raise Invalid(f"question {rid!r}: 'question' must be a non-empty string")
    if "lang" in rec and not isinstance(rec["lang"], str):
        raise Invalid(f"question {rid!r}: 'lang' must be a language code")
    shape = "{'text': [...], 'answer_start': [...]}"
    if not isinstance(answers, Mapping) or not all(
        isinstance(answers.get(k), list) for k in ("text", "answer_start")
    ):
        raise Invalid(f"question {rid!r}: 'answers' must be {shape}")
    texts, starts = answers["text"], answers["answer_start"]
    if len(texts) != len(starts):
        raise Invalid(
            f"question {rid!r}: {len(texts)} answer texts but {len(starts)} answer_start values",
            "every answer needs its text and its start",
        )
    if not texts:
        raise Invalid(
            f"question {rid!r} has no answer",
            "extractive QA (SQuAD v1.1) has no unanswerable questions: give the answer's text "
            "and answer_start, or drop the question",
        )
    for text, start in zip(texts, starts, strict=True):
        if not isinstance(text, str) or not text.strip():
            raise Invalid(f"question {rid!r}: an answer text is empty or not a string")
        if not _is_int(start) or start < 0:
            raise Invalid(f"question {rid!r}: answer_start {start!r} is not an offset (int >= 0)")
        found = context[start : start + len(text)]
        if found != text:
            at = [m.start() for m in re.finditer(re.escape(text), context)][:5]
            where = f"the text occurs at {at}" if at else "the text does not occur in the context"
            raise Invalid(
                f"question {rid!r}: answer {text!r} expected at answer_start {start}, but the "
                f"context there reads {found!r}",
                f"answer_start is the 0-based character (not byte) offset in the context; {where}",
            )


def _check_span(rec: Mapping[str, Any], key: str, n: int) -> tuple[int, int]:
    span = rec[key]
    if not (isinstance(span, list | tuple) and len(span) == 2 and all(map(_is_int, span))):
        raise Invalid(f"'{key}' must be [start, end] token offsets, got {span!r}")
    start, end = span
    if not 0 <= start < end <= n:
        raise Invalid(
            f"'{key}' span {list(span)} is not a non-empty span of the {n} tokens",
            "spans are [start, end) token offsets, end exclusive: 0 <= start < end <= #tokens",
        )
    return start, end


def _check_relation(rec: Mapping[str, Any], labels: frozenset[str] | None) -> None:
    _check_tokens(rec["tokens"])
    n = len(rec["tokens"])
    head, tail = _check_span(rec, "head", n), _check_span(rec, "tail", n)
    if head[0] < tail[1] and tail[0] < head[1]:
        raise Invalid(
            f"head {list(head)} and tail {list(tail)} overlap",
            "the two entities must be disjoint token spans",
        )
    if not isinstance(rec["label"], str) or not rec["label"]:
        raise Invalid("'label' must be a non-empty string")
    if labels is not None and rec["label"] not in labels:
        raise _label_error("label", rec["label"], labels)


def find_cycle(heads: Sequence[int]) -> list[int] | None:
    """The 1-based words of a cycle in ``heads`` (1-based heads, 0 = root), or None.

    Each word's head chain is followed until it reaches the root or a word already known to
    reach it; revisiting a word of the current chain closes a cycle.
    """
    reaches_root = [False] * (len(heads) + 1)
    reaches_root[0] = True
    for word in range(1, len(heads) + 1):
        chain: list[int] = []
        on_chain: set[int] = set()
        j = word
        while not reaches_root[j]:
            if j in on_chain:
                return chain[chain.index(j) :]
            chain.append(j)
            on_chain.add(j)
            j = heads[j - 1]
        for k in chain:
            reaches_root[k] = True
    return None


def _check_parsing(rec: Mapping[str, Any], labels: frozenset[str] | None) -> None:
    toks, heads, deprels = rec["tokens"], rec["heads"], rec["deprels"]
    _check_tokens(toks)
    n = len(toks)
    for key in ("heads", "deprels", "tags"):
        value = rec.get(key, toks)
        if not isinstance(value, list) or len(value) != n:
            size = len(value) if isinstance(value, list) else type(value).__name__
            raise Invalid(f"{n} tokens but {size} {key}", f"every word needs exactly one of {key}")
    for i, (head, tok) in enumerate(zip(heads, toks, strict=True), 1):
        if not _is_int(head) or not 0 <= head <= n:
            raise Invalid(
                f"word {i} {tok!r} has head {head!r}, outside 0..{n}",
                "heads are 1-based word indices of the sentence, 0 for the root",
            )
        if head == i:
            raise Invalid(f"word {i} {tok!r} is its own head", "fix the head column")
    if 0 not in heads:
        raise Invalid("no word is attached to the root (head 0)", "one word must have head 0")
    cycle = find_cycle(heads)
    if cycle is not None:
        raise Invalid(
            f"the heads form a cycle: {describe_cycle(cycle, toks)}",
            "every word must reach the root (head 0) by following its heads",
        )
    if any(not isinstance(d, str) or not d.strip() for d in deprels):
        raise Invalid("a dependency relation is empty or not a string")
    if labels is not None:
        for d in deprels:  # a subtype trains as its universal part (xlt.tasks.parsing.relation_id)
            if d not in labels and d.split(":")[0] not in labels:
                raise _label_error("dependency relation", d, labels)


def describe_cycle(cycle: Sequence[int], tokens: Sequence[str]) -> str:
    """``3 'go' -> 5 'home' -> 3 'go'``: the words of a cycle, each pointing at its head."""
    steps = [f"{i} {tokens[i - 1]!r}" for i in (*cycle, cycle[0])]
    return " -> ".join(steps)


CHECKS = {
    "tagging": _check_tagging,
    "classification": _check_classification,
    "qa": _check_qa,
    "relation": _check_relation,
    "parsing": _check_parsing,
}


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
