"""Readers: one upstream file in, a list of common-schema records out.

Formats (keys of ``READERS``):

- ``conllu``  Universal Dependencies; tokens = FORM (column 2), tags = UPOS (column 4); with
              ``kind: parsing`` also heads (column 7) and deprels (column 8).
- ``conll``   CoNLL-2002/2003 NER; token first, NER tag last, space- or tab-separated.
- ``wikiann`` WikiANN / PAN-X; ``index<TAB>token<TAB>tag`` or ``token<TAB>tag``.
- ``uner``    Universal NER; ``index<TAB>token<TAB>tag<TAB>extra<TAB>annotator`` + ``#`` comments.
- ``sib200``  SIB-200 topic classification; TSV with header ``index_id<TAB>category<TAB>text``.
- ``squad``   SQuAD v1.1 JSON (SQuAD, XQuAD, MLQA, TyDi QA GoldP): extractive QA, one record a
              question.
- ``kbp37``   KBP37 / RELX relations: ``id<TAB>"... <e1> A </e1> ... <e2> B </e2> ..."``, label.
- ``xnli``    XNLI TSV ``premise<TAB>hypothesis<TAB>label``: sentence pairs, ids carry the line
              (``layout: official``: the release's multi-language ``xnli.{dev,test}.tsv``).
- ``umsab``   UMSAB tweet sentiment: ``{split}_text.txt`` + ``{split}_labels.txt`` (0/1/2).
- ``jsonl``   already in the common schema (validated with ``xlt.io.read_jsonl``).

Every reader opens gzip files transparently (detected by their magic bytes), decodes through a
text stream (see ``iter_lines`` for byte-order marks and mis-declared encodings; a decoding error
names its line and column), raises ``DataError(path, line, problem, fix)`` for malformed input
(a tagging file's column count is fixed by its first token row), and validates each record with
``xlt.io.validate_record`` (against the optional ``labels`` the caller passes). Ids are the
file's own sentence id when it has one (``# sent_id``, SIB-200 ``index_id``, SQuAD and KBP37
ids), ``f"{split}-l{line:06d}"`` in one-example-per-line files (XNLI, UMSAB: the same id in
every language of a line-parallel file), else ``f"{lang}-{split}-{n}"`` with ``n`` the 0-based
sentence number.

What a reader accepts but distrusts (an ``I-X`` that starts a chunk in IOB2 data, text that
looks mis-declared) is logged with ``logging.warning`` naming file and line, and counted in the
``ReadReport`` the caller passes as ``report=`` (``prepare_split`` copies it into the
``{split}.provenance.json`` under ``reader``).
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import gzip
import inspect
import io
import json
import logging
import os
import re
import unicodedata
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from xlt.io import (
    DataError,
    Kind,
    describe_cycle,
    find_cycle,
    iter_jsonl,
    read_jsonl,
    validate_record,
)

Record = dict[str, Any]
PathLike = str | os.PathLike
Row = tuple[str, str, int | None]  # token, tag, number of columns (None: not checked)
RowParser = Callable[[str], Row | None]
Reader = Callable[..., list[Record]]
LineReader = Callable[..., Iterator[tuple[int, str]]]  # (path, encoding, report) -> numbered lines

UPOS_TAGS = frozenset(
    ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON")
    + ("PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X")
)
NER_TAG = re.compile(r"O|[BIES]-\S+")
SCHEMES = ("iob1", "iob2")
GZIP_MAGIC = b"\x1f\x8b"
CONLLU_ID = re.compile(r"[1-9]\d*|\d+-\d+|\d+\.\d+")
LANG_PREFIX = re.compile(r"([a-z]{2,3}):(?=.)")
SPACES = re.compile(r"[ \t]+")
SIB200_HEADER = ["index_id", "category", "text"]
DOCSTART = "-DOCSTART-"

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# what a reader accepts but distrusts: logged and counted


WARNING_KINDS = ("invalid_iob2_transition", "misdeclared_encoding")
MAX_LOGGED = 10  # per kind and report; further ones are only counted


def where(path: PathLike, lineno: int | None, problem: str, fix: str = "") -> str:
    """``path line N: problem (fix)``, the shape of every reader message."""
    at = f"{path} line {lineno}" if lineno is not None else str(path)
    return f"{at}: {problem}" + (f" ({fix})" if fix else "")


@dataclass
class ReadReport:
    """What reading one file noticed without rejecting it; ``prepare_split`` stores ``as_dict()``.

    ``misdeclared_encoding`` counts lines whose bytes contradict the declared encoding (a
    byte-order mark of another encoding, UTF-8 sequences in a file declared e.g. latin-1);
    ``invalid_iob2_transition`` counts ``I-X`` tags that do not continue a ``B-X``/``I-X``;
    ``unterminated_sentence`` (CoNLL-U only, listed once it occurs) a file that ends inside a
    sentence.
    """

    encoding_declared: str | None = None
    encoding_used: str | None = None
    counts: Counter[str] = field(default_factory=Counter)

    def note(self, kind: str, path: PathLike, lineno: int | None, problem: str, fix: str) -> None:
        self.counts[kind] += 1
        if self.counts[kind] <= MAX_LOGGED:
            more = " [further ones are only counted]" if self.counts[kind] == MAX_LOGGED else ""
            log.warning("%s%s", where(path, lineno, problem, fix), more)

    def as_dict(self) -> dict[str, Any]:
        return {
            "encoding_declared": self.encoding_declared,
            "encoding_used": self.encoding_used,
            "warnings": {
                kind: self.counts[kind] for kind in (*WARNING_KINDS, *sorted(self.counts))
            },
        }


# --------------------------------------------------------------------------------------------
# bytes to lines


BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
SNIFF_BYTES = 4096


def _open_binary(path: PathLike) -> BinaryIO:
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == GZIP_MAGIC else open(path, "rb")  # noqa: SIM115


def codec_name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(
            f"unknown encoding {encoding!r} (e.g. utf-8, latin-1, cp1252, utf-16)"
        ) from None


def iter_lines(
    path: PathLike, encoding: str = "utf-8", report: ReadReport | None = None
) -> Iterator[tuple[int, str]]:
    """Yield ``(1-based line number, line without its line ending)``; gzip is transparent.

    The bytes are decoded through a text stream (lines end at ``\\n``; a ``\\r`` before it is
    dropped). A byte-order mark decides the encoding (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE) over
    the declared one. A file without one whose first bytes hold NUL bytes (UTF-16/32 without a
    mark) is rejected with the encoding to declare. A file declared in a non-Unicode encoding
    (latin-1, cp1252, ...) whose bytes are valid UTF-8 with multibyte sequences is **decoded
    as UTF-8**: such bytes read as latin-1 would be mojibake (``fÃ¼r``), and real latin-1 text
    practically never forms valid UTF-8 sequences. Either way the user is told: a warning naming
    the file and the first such line, and the count in ``report``. A file that mixes UTF-8
    sequences with bytes that are not UTF-8 keeps its declared encoding, with the same warning.
    """
    report = ReadReport() if report is None else report
    try:
        used = choose_encoding(path, encoding, report)
        with _open_binary(path) as raw, io.TextIOWrapper(raw, used, newline="\n") as text:
            try:
                for lineno, line in enumerate(text, 1):
                    yield lineno, line.rstrip("\r\n")
            except UnicodeDecodeError:
                raise decode_error(path, used) from None
    except (gzip.BadGzipFile, EOFError) as e:
        raise DataError(path, None, f"broken gzip file ({e})", "download it again") from None


def choose_encoding(path: PathLike, declared: str, report: ReadReport) -> str:
    """The encoding to decode ``path`` with (see ``iter_lines``); records both in ``report``."""
    report.encoding_declared = declared
    declared_codec = codec_name(declared)
    with _open_binary(path) as fh:
        head = fh.read(SNIFF_BYTES)
    used = declared
    bom = next((name for mark, name in BOMS if head.startswith(mark)), None)
    if bom is not None:
        used = bom
        if not declared_codec.startswith("utf-"):
            report.note(
                "misdeclared_encoding",
                path,
                1,
                f"starts with a {bom} byte-order mark but is declared {declared}; decoded as {bom}",
                f"set the dataset's options: {{encoding: {bom}}}",
            )
    elif b"\0" in head and not declared_codec.startswith(("utf-16", "utf-32")):
        guess = "utf-16-le" if head[1::2].count(0) > head[::2].count(0) else "utf-16-be"
        first = head.index(b"\0")
        raise DataError(
            path,
            head[:first].count(b"\n") + 1,
            f"NUL byte at offset {first}: this looks like UTF-16 without a byte-order mark, "
            f"not {declared}",
            f"set the dataset's options: {{encoding: {guess}}} (or utf-32-le/-be)",
        )
    elif not declared_codec.startswith("utf-"):
        used = sniff_utf8(path, declared, report)
    report.encoding_used = used
    return used


def sniff_utf8(path: PathLike, declared: str, report: ReadReport) -> str:
    """``utf-8`` if a file declared in a non-Unicode encoding is valid UTF-8 with multibyte text."""
    utf8_lines: list[int] = []
    other = 0
    with _open_binary(path) as fh:
        for lineno, raw in enumerate(fh, 1):
            if raw.isascii():
                continue
            try:
                raw.decode("utf-8")
                utf8_lines.append(lineno)
            except UnicodeDecodeError:
                other += 1
    if not utf8_lines:
        return declared
    used = declared if other else "utf-8"
    problem = (
        f"declared {declared} but looks like UTF-8: {len(utf8_lines)} line(s) hold UTF-8 "
        f"multibyte sequences (first here), "
        + (
            f"{other} other line(s) are not UTF-8; kept {declared}, those lines may be mojibake"
            if other
            else "no byte is invalid UTF-8; decoded as UTF-8"
        )
    )
    fix = (
        "re-encode the file consistently"
        if other
        else "set the dataset's options: {encoding: utf-8} to silence this"
    )
    report.note("misdeclared_encoding", path, utf8_lines[0], problem, fix)
    report.counts["misdeclared_encoding"] += len(utf8_lines) - 1
    return used


def decode_error(path: PathLike, encoding: str) -> DataError:
    """Locate the first undecodable byte of ``path`` (line and column) for the error message."""
    with _open_binary(path) as fh:
        data = fh.read()
    try:
        data.decode(encoding)
    except UnicodeDecodeError as e:
        before = data[: e.start].decode(encoding)
        lineno, column = before.count("\n") + 1, len(before) - before.rfind("\n")
        bad = data[e.start : e.end]
        fix = (
            "if the file is ISO-8859-1 (e.g. CoNLL-2002) set the dataset's "
            "options: {encoding: latin-1}"
            if codec_name(encoding).startswith("utf-8")
            else "check the file's encoding and set the dataset's options: {encoding: ...}"
        )
        return DataError(
            path, lineno, f"byte(s) {bad!r} at column {column} are not valid {encoding}", fix
        )
    return DataError(path, None, f"cannot be decoded as {encoding}", "check the file")


# --------------------------------------------------------------------------------------------
# blocks and row errors (shared by every reader)


class RowError(ValueError):
    """A problem with one line; ``at_line`` turns it into a DataError naming file and line."""

    def __init__(self, problem: str, fix: str = ""):
        super().__init__(problem)
        self.problem, self.fix = problem, fix


@contextlib.contextmanager
def at_line(path: PathLike, lineno: int | None) -> Iterator[None]:
    try:
        yield
    except RowError as e:
        raise DataError(path, lineno, e.problem, e.fix) from None


@dataclass
class Block:
    """A blank-line-separated group of lines: its comment lines and its data rows."""

    start: int
    comments: list[str] = field(default_factory=list)
    rows: list[tuple[int, str]] = field(default_factory=list)


def conllu_lines(
    path: PathLike, encoding: str = "utf-8", report: ReadReport | None = None
) -> Iterator[tuple[int, str]]:
    """``iter_lines`` of a CoNLL-U file, warning (and counting ``unterminated_sentence``) when
    the file ends inside a sentence: CoNLL-U closes every sentence, the last one included, with
    a blank line, so a file whose last line is a word line was most likely cut short (a partial
    download or copy) at a line boundary, where no row looks broken. The sentence is kept."""
    report = ReadReport() if report is None else report
    last: tuple[int, str] | None = None
    for last in iter_lines(path, encoding, report):
        yield last
    if last is not None and last[1].strip():
        report.note(
            "unterminated_sentence",
            path,
            last[0],
            "the file ends inside a sentence (no blank line after its last line): it may be "
            "truncated",
            "CoNLL-U ends every sentence with a blank line; check the file is complete (download "
            "it again), or add the blank line if it is",
        )


def iter_blocks(
    lines: Iterable[tuple[int, str]], comment_prefix: str | None = None
) -> Iterator[Block]:
    """Group lines into blocks separated by blank lines; blocks without data rows are dropped."""
    block: Block | None = None
    for lineno, line in lines:
        if not line.strip():
            if block is not None and block.rows:
                yield block
            block = None
            continue
        if block is None:
            block = Block(lineno)
        if comment_prefix is not None and line.startswith(comment_prefix):
            block.comments.append(line)
        else:
            block.rows.append((lineno, line))
    if block is not None and block.rows:
        yield block


def comment_value(comments: Iterable[str], key: str) -> str | None:
    """The value of a ``# key = value`` comment (e.g. ``sent_id``), or None."""
    for comment in comments:
        name, sep, value = comment.lstrip("#").partition("=")
        if sep and name.strip() == key and value.strip():
            return value.strip()
    return None


def tab_columns(line: str, expected: Sequence[int], what: str) -> list[str]:
    cols = line.split("\t")
    if len(cols) not in expected:
        raise RowError(
            f"expected {what}, found {len(cols)} column(s) in {line[:80]!r}",
            "columns must be separated by single tabs",
        )
    return cols


# --------------------------------------------------------------------------------------------
# tags


def check_ner_tag(tag: str) -> None:
    if not NER_TAG.fullmatch(tag):
        raise RowError(
            f"tag {tag!r} is not an IOB tag (O, B-TYPE, I-TYPE, E-TYPE or S-TYPE)",
            "check that the tag is the last column and the file is in the configured format",
        )


def check_upos(tag: str) -> None:
    if tag not in UPOS_TAGS:
        raise RowError(
            f"UPOS {tag!r} is not one of the 17 universal POS tags",
            f"column 4 must be one of {' '.join(sorted(UPOS_TAGS))}",
        )


def iob1_to_iob2(tags: Sequence[str]) -> list[str]:
    """Rewrite IOB1 as IOB2: an ``I-X`` that starts a chunk (after O or another type) -> ``B-X``."""
    out: list[str] = []
    prev_type: str | None = None
    for tag in tags:
        kind = None if tag == "O" else tag[2:]
        if tag.startswith("I-") and kind != prev_type:
            tag = "B-" + kind
        out.append(tag)
        prev_type = kind
    return out


def convert_scheme(tags: Sequence[str], scheme: str) -> list[str]:
    if scheme not in SCHEMES:
        raise ValueError(f"unknown tag scheme {scheme!r}; use one of {list(SCHEMES)}")
    return iob1_to_iob2(tags) if scheme == "iob1" else list(tags)


def check_labels(
    path: PathLike,
    linenos: Sequence[int],
    tags: Sequence[str],
    labels: Sequence[str] | None,
    what: str = "tag",
) -> None:
    """Name the exact line of the first tag (or ``what``) outside the label set."""
    if labels is None:
        return
    allowed = set(labels)
    for lineno, tag in zip(linenos, tags, strict=True):
        if tag not in allowed:
            raise DataError(
                path,
                lineno,
                f"{what} {tag!r} is not in the label set {sorted(allowed)}",
                f"fix the {what.split()[-1]} or add it to the dataset's labels in the config",
            )


def clean_token(token: str) -> str:
    """Drop control characters (e.g. the stray 0x81 in Dutch CoNLL-2002); never return ''."""
    if token.isprintable():
        return token
    cleaned = "".join(ch for ch in token if unicodedata.category(ch) != "Cc")
    return cleaned if cleaned.strip() else token


# --------------------------------------------------------------------------------------------
# records


class RecordList:
    """Collects validated records and rejects duplicate ids, naming the offending line."""

    def __init__(self, path: PathLike, kind: Kind, labels: Sequence[str] | None):
        self.path, self.kind, self.labels = path, kind, labels
        self.records: list[Record] = []
        self._ids: dict[str, int | None] = {}

    def add(self, rec: Record, lineno: int | None) -> None:
        validate_record(rec, self.kind, self.path, lineno, self.labels)
        rid = rec["id"]
        if rid in self._ids:
            raise DataError(
                self.path,
                lineno,
                f"duplicate id {rid!r} (first seen at line {self._ids[rid]})",
                "sentence ids must be unique within a file",
            )
        self._ids[rid] = lineno
        self.records.append(rec)

    def result(self) -> list[Record]:
        if not self.records:
            raise DataError(
                self.path, None, "no examples found (empty file?)", "check the path and format"
            )
        return self.records


def default_id(lang: str, split: str, n: int) -> str:
    return f"{lang}-{split}-{n}"


def read_tagged(
    path: PathLike,
    parse_row: RowParser,
    *,
    lang: str,
    split: str,
    labels: Sequence[str] | None = None,
    encoding: str = "utf-8",
    scheme: str = "iob2",
    comment_prefix: str | None = None,
    report: ReadReport | None = None,
    lines: LineReader | None = None,
) -> list[Record]:
    """Shared driver of the tagging readers: blocks -> rows -> (scheme conversion) -> records.

    ``parse_row`` returns ``(token, tag, number of columns)``, or None for a row to skip, or
    raises RowError. The file's first kept row fixes the number of columns for every other row
    (a row whose column count is None is exempt).
    Blocks whose rows are all skipped (e.g. a lone ``-DOCSTART-``) yield no record. An ``I-X``
    that does not continue a ``B-X``/``I-X`` is kept as is, warned about and counted.
    ``lines`` reads the file's lines (default ``iter_lines``; CoNLL-U: ``conllu_lines``).
    """
    convert_scheme([], scheme)  # reject an unknown scheme before reading
    report = ReadReport() if report is None else report
    out = RecordList(path, "tagging", labels)
    columns = ColumnCount()
    for block in iter_blocks((lines or iter_lines)(path, encoding, report), comment_prefix):
        linenos, tokens, tags = parse_block(path, block, parse_row, columns)
        if not tokens:
            continue
        tags = convert_scheme(tags, scheme)
        check_labels(path, linenos, tags, labels)
        check_transitions(path, linenos, tags, report)
        rid = comment_value(block.comments, "sent_id") or default_id(lang, split, len(out.records))
        out.add({"id": rid, "tokens": tokens, "tags": tags}, block.start)
    return out.result()


@dataclass
class ColumnCount:
    """A file's number of columns, fixed by its first token row."""

    n: int | None = None
    lineno: int | None = None

    def check(self, n: int, lineno: int) -> None:
        if self.n is None:
            self.n, self.lineno = n, lineno
        elif n != self.n:
            raise RowError(
                f"{n} columns, but the file's first token row (line {self.lineno}) has {self.n}",
                "every token row of a file needs the same columns: fix this row, or split "
                "the file if it joins files of different layouts",
            )


def parse_block(
    path: PathLike, block: Block, parse_row: RowParser, columns: ColumnCount
) -> tuple[list[int], list[str], list[str]]:
    """Line numbers, tokens and tags of a block's kept rows (a RowError names its line)."""
    linenos: list[int] = []
    tokens: list[str] = []
    tags: list[str] = []
    lineno = block.start
    try:  # one try per block, not a context manager per row: this loop is the hot path
        for lineno, line in block.rows:
            parsed = parse_row(line)
            if parsed is not None:
                if parsed[2] != columns.n and parsed[2] is not None:
                    columns.check(parsed[2], lineno)
                linenos.append(lineno)
                tokens.append(parsed[0])
                tags.append(parsed[1])
    except RowError as e:
        raise DataError(path, lineno, e.problem, e.fix) from None
    return linenos, tokens, tags


def check_transitions(
    path: PathLike, linenos: Sequence[int], tags: Sequence[str], report: ReadReport
) -> None:
    """Warn about (and count) each ``I-X`` that does not follow ``B-X`` or ``I-X`` (IOB2)."""
    prev = ""
    for lineno, tag in zip(linenos, tags, strict=True):
        if tag.startswith("I-") and prev not in (tag, "B-" + tag[2:]):
            after = f"follows {prev!r}" if prev else "starts the sentence"
            report.note(
                "invalid_iob2_transition",
                path,
                lineno,
                f"{tag!r} {after}: in IOB2 an I- tag continues a B-/I- chunk of its type",
                "kept as is, scorers read it as a chunk start; if the file is IOB1, set the "
                "dataset's options: {scheme: iob1}",
            )
        prev = tag


# --------------------------------------------------------------------------------------------
# row parsers, one per tagging format


def conllu_row(line: str) -> Row | None:
    cols = tab_columns(line, (10,), "10 tab-separated CoNLL-U columns")
    if not CONLLU_ID.fullmatch(cols[0]):
        raise RowError(
            f"ID {cols[0]!r} is not a word index (1), a multiword range (1-2) or an empty node (1.1)"
        )
    if not cols[0].isdigit():
        return None  # multiword-token range or empty node: not a syntactic word of the sentence
    check_upos(cols[3])
    return cols[1], cols[3], len(cols)


def conll_row(line: str, strip_control_chars: bool = True) -> Row | None:
    cols = SPACES.split(line.strip(" \t"))
    if cols[0] == DOCSTART:
        return None
    if len(cols) < 2:
        raise RowError(
            f"expected 'token ... tag' (2 or more columns), found {line[:80]!r}",
            "each token line needs the token first and the NER tag last",
        )
    check_ner_tag(cols[-1])
    if cols[0].isprintable():
        return cols[0], cols[-1], len(cols)
    # a stray control byte (Dutch CoNLL-2002: 0x81, 431 train rows) may have eaten the separator
    # before the POS column: such a row is not held to the file's column count
    return clean_token(cols[0]) if strip_control_chars else cols[0], cols[-1], None


def wikiann_row(line: str) -> Row:
    cols = tab_columns(line, (2, 3), "'index<TAB>token<TAB>tag' or 'token<TAB>tag'")
    if len(cols) == 3 and not cols[0].isdigit():
        raise RowError(f"first column {cols[0]!r} is not a token index")
    check_ner_tag(cols[-1])
    return cols[-2], cols[-1], len(cols)


def uner_row(line: str) -> Row:
    cols = tab_columns(line, (5,), "5 tab-separated columns (index, token, tag, extra, annotator)")
    check_ner_tag(cols[2])
    return cols[1], cols[2], len(cols)


# --------------------------------------------------------------------------------------------
# readers


def read_conllu(
    path: PathLike,
    *,
    lang: str,
    split: str,
    labels: Sequence[str] | None = None,
    encoding: str = "utf-8",
    kind: Kind = "tagging",
    report: ReadReport | None = None,
) -> list[Record]:
    """UD CoNLL-U: FORM/UPOS per word (``kind: tagging``) or its dependency tree (``parsing``,
    see ``read_conllu_trees``); multiword ranges and empty nodes skipped."""
    if kind == "parsing":
        return read_conllu_trees(
            path, lang=lang, split=split, labels=labels, encoding=encoding, report=report
        )
    if kind != "tagging":
        raise ValueError(f"CoNLL-U gives tagging or parsing records, not {kind!r}")
    return read_tagged(
        path,
        conllu_row,
        lang=lang,
        split=split,
        labels=labels,
        encoding=encoding,
        comment_prefix="#",
        report=report,
        lines=conllu_lines,
    )


def read_conll(
    path: PathLike,
    *,
    lang: str,
    split: str,
    labels: Sequence[str] | None = None,
    encoding: str = "utf-8",
    scheme: str = "iob2",
    strip_control_chars: bool = True,
    report: ReadReport | None = None,
) -> list[Record]:
    """CoNLL-2002/2003 NER (``encoding: latin-1`` for 2002, ``scheme: iob1`` for 2003)."""
    return read_tagged(
        path,
        partial(conll_row, strip_control_chars=strip_control_chars),
        lang=lang,
        split=split,
        labels=labels,
        encoding=encoding,
        scheme=scheme,
        report=report,
    )


def read_wikiann(
    path: PathLike,
    *,
    lang: str,
    split: str,
    labels: Sequence[str] | None = None,
    encoding: str = "utf-8",
    scheme: str = "iob2",
    strip_lang_prefix: bool = True,
    report: ReadReport | None = None,
) -> list[Record]:
    """WikiANN; ``en:Token`` prefixes (Rahimi et al. files) are stripped, see ``strip_prefix``."""
    records = read_tagged(
        path,
        wikiann_row,
        lang=lang,
        split=split,
        labels=labels,
        encoding=encoding,
        scheme=scheme,
        report=report,
    )
    return strip_prefix(records) if strip_lang_prefix else records


def strip_prefix(records: list[Record]) -> list[Record]:
    """Remove a ``xx:`` language prefix from tokens, if the file uses one.

    A file is prefixed when its very first token starts with a 2-3 letter code and a colon;
    only that exact prefix is then removed. Plain files keep tokens such as ``bar:24`` intact.
    """
    match = LANG_PREFIX.match(records[0]["tokens"][0])
    if match is None:
        return records
    prefix = match.group(0)
    for rec in records:
        rec["tokens"] = [
            t[len(prefix) :] if t.startswith(prefix) and len(t) > len(prefix) else t
            for t in rec["tokens"]
        ]
    return records


def read_uner(
    path: PathLike,
    *,
    lang: str,
    split: str,
    labels: Sequence[str] | None = None,
    encoding: str = "utf-8",
    scheme: str = "iob2",
    report: ReadReport | None = None,
) -> list[Record]:
    """Universal NER IOB2 TSV (five columns, ``#`` comments, ``# sent_id`` ids)."""
    return read_tagged(
        path,
        uner_row,
        lang=lang,
        split=split,
        labels=labels,
        encoding=encoding,
        scheme=scheme,
        comment_prefix="#",
        report=report,
    )


def find_labels_file(path: PathLike, labels_file: PathLike | None) -> Path | None:
    """An explicit ``labels_file``, else ``labels.txt`` in the file's folder or the one above."""
    if labels_file is not None:
        if not Path(labels_file).is_file():
            raise DataError(labels_file, None, "labels file not found", "fix options.labels_file")
        return Path(labels_file)
    here = Path(path).resolve().parent
    for folder in (here, here.parent):
        if (folder / "labels.txt").is_file():
            return folder / "labels.txt"
    return None


def read_label_list(path: PathLike) -> list[str]:
    labels = [line.strip() for _, line in iter_lines(path) if line.strip()]
    if not labels:
        raise DataError(path, None, "labels file is empty", "list one class per line")
    return labels


def read_sib200(
    path: PathLike,
    *,
    lang: str,
    split: str,
    labels: Sequence[str] | None = None,
    encoding: str = "utf-8",
    labels_file: PathLike | None = None,
    report: ReadReport | None = None,
) -> list[Record]:
    """SIB-200 TSV; ids are the ``index_id`` (shared by the translations of one sentence)."""
    found = find_labels_file(path, labels_file)
    allowed = set(read_label_list(found)) if found is not None else None
    out = RecordList(path, "classification", labels)
    lines = iter_lines(path, encoding, report)
    check_sib200_header(path, next(lines, None))
    for lineno, line in lines:
        if not line.strip():
            continue
        with at_line(path, lineno):
            index_id, category, text = tab_columns(
                line, (3,), "3 columns (index_id, category, text)"
            )
            if allowed is not None and category not in allowed:
                raise RowError(
                    f"category {category!r} is not listed in {found}",
                    f"allowed: {sorted(allowed)}",
                )
            if not index_id.strip():
                raise RowError("empty index_id")
        out.add({"id": index_id.strip(), "text": text, "label": category}, lineno)
    return out.result()


def check_sib200_header(path: PathLike, first: tuple[int, str] | None) -> None:
    if first is None:
        raise DataError(path, None, "empty file", "expected a SIB-200 TSV with a header line")
    lineno, header = first
    if header.split("\t") != SIB200_HEADER:
        raise DataError(
            path,
            lineno,
            f"header is {header[:80]!r}, expected 'index_id<TAB>category<TAB>text'",
            "is this a SIB-200 file? the header line is required",
        )


# --------------------------------------------------------------------------------------------
# task kinds beyond tagging: dependency trees, extractive QA, relations, sentence pairs


def line_id(split: str, lineno: int) -> str:
    """The id of a one-example-per-line file's example: its split and 1-based line.

    Shared by the translations of a line-parallel file (XNLI line i of every language is the
    same pair), so that a line split can be checked across languages by id.
    """
    return f"{split}-l{lineno:06d}"


def conllu_word(line: str) -> tuple[int, str, str, int, str] | None:
    """ID, FORM, UPOS, HEAD and DEPREL of a word line; None for ranges and empty nodes."""
    cols = tab_columns(line, (10,), "10 tab-separated CoNLL-U columns")
    if not CONLLU_ID.fullmatch(cols[0]):
        raise RowError(
            f"ID {cols[0]!r} is not a word index (1), a multiword range (1-2) or an empty node (1.1)"
        )
    if not cols[0].isdigit():
        return None
    check_upos(cols[3])
    if not cols[6].isdigit():
        raise RowError(
            f"HEAD {cols[6]!r} is not a word index",
            "parsing needs the gold head (column 7) of every word; is the file annotated for "
            "syntax?",
        )
    if not cols[7].strip() or cols[7] == "_":
        raise RowError(
            f"DEPREL {cols[7]!r} is empty", "column 8 must name the relation to the head"
        )
    return int(cols[0]), cols[1], cols[3], int(cols[6]), cols[7]


def read_conllu_trees(
    path: PathLike,
    *,
    lang: str,
    split: str,
    labels: Sequence[str] | None = None,
    encoding: str = "utf-8",
    report: ReadReport | None = None,
) -> list[Record]:
    """UD CoNLL-U as parsing records: FORM, HEAD (column 7), DEPREL (column 8), UPOS as tags.

    Multiword ranges and empty nodes are skipped: HEAD holds word IDs, which such lines do not
    shift. Beyond the schema's tree check, UD's own guarantees are enforced (its validator
    checks them; every shared treebank meets them): word IDs count 1, 2, 3, ..., exactly one
    word has HEAD 0, and it alone has DEPREL ``root``. Errors name the word's line.
    """
    out = RecordList(path, "parsing", labels)
    for block in iter_blocks(conllu_lines(path, encoding, report), "#"):
        words: list[tuple[int, str, str, int, str]] = []
        linenos: list[int] = []
        for lineno, line in block.rows:
            with at_line(path, lineno):
                word = conllu_word(line)
                if word is not None and word[0] != len(words) + 1:
                    raise RowError(
                        f"word ID {word[0]} follows word {len(words)}",
                        "word IDs count 1, 2, 3, ... within a sentence (heads refer to them)",
                    )
            if word is not None:
                words.append(word)
                linenos.append(lineno)
        if not words:
            continue
        check_ud_tree(path, linenos, words)
        check_labels(path, linenos, [w[4] for w in words], labels, "dependency relation")
        rid = comment_value(block.comments, "sent_id") or default_id(lang, split, len(out.records))
        record = {
            "id": rid,
            "tokens": [w[1] for w in words],
            "heads": [w[3] for w in words],
            "deprels": [w[4] for w in words],
            "tags": [w[2] for w in words],
        }
        out.add(record, block.start)
    return out.result()


def check_ud_tree(
    path: PathLike, linenos: Sequence[int], words: Sequence[tuple[int, str, str, int, str]]
) -> None:
    """Heads inside the sentence, one root (DEPREL root), no cycle; errors name the word's line."""
    n = len(words)
    for lineno, (i, form, _, head, deprel) in zip(linenos, words, strict=True):
        if head > n:
            raise DataError(
                path,
                lineno,
                f"word {i} {form!r} has HEAD {head}, but the sentence has {n} words",
                "HEAD (column 7) is 0 or the ID of a word of the same sentence",
            )
        if head == i:
            raise DataError(path, lineno, f"word {i} {form!r} is its own head", "fix column 7")
        if (head == 0) != (deprel == "root"):
            raise DataError(
                path,
                lineno,
                f"word {i} {form!r} has HEAD {head} and DEPREL {deprel!r}",
                "in UD the word with HEAD 0 has DEPREL root, and no other word has",
            )
    roots = [lineno for lineno, w in zip(linenos, words, strict=True) if w[3] == 0]
    if len(roots) != 1:
        raise DataError(
            path,
            roots[1] if roots else linenos[0],
            f"{len(roots)} words have HEAD 0",
            "a UD sentence has exactly one root word (HEAD 0, DEPREL root)",
        )
    cycle = find_cycle([w[3] for w in words])
    if cycle is not None:
        raise DataError(
            path,
            linenos[cycle[0] - 1],
            f"the heads form a cycle: {describe_cycle(cycle, [w[1] for w in words])}",
            "every word must reach the root by following HEAD (column 7); fix the heads",
        )


SQUAD_SHAPE = (
    'SQuAD v1.1 JSON: {"data": [{"paragraphs": [{"context": "...", "qas": [{"id": "...", '
    '"question": "...", "answers": [{"text": "...", "answer_start": 0}]}]}]}]}'
)
JSON_ID_KEY = re.compile(r'"id"\s*:\s*("(?:[^"\\]|\\.)*")')


def read_squad(
    path: PathLike,
    *,
    lang: str,
    split: str,
    labels: Sequence[str] | None = None,
    encoding: str = "utf-8",
    report: ReadReport | None = None,
) -> list[Record]:
    """SQuAD v1.1 JSON (SQuAD, XQuAD, MLQA, TyDi QA GoldP): one record per question.

    The id is the file's question id; an id the file repeats (XTREME's TyDi QA English train
    has 89 distinct ids for 3,696 questions) gets ``~2``, ``~3``, ... in file order, warned
    about and counted (``renamed_duplicate_id``). Every answer is checked against its context
    (``context[answer_start:answer_start + len(text)] == text``). Errors name the line of the
    question's ``"id"`` (a file on one line has only line 1) and the question id.
    """
    if labels is not None:
        raise ValueError("extractive QA has no label set: remove the dataset's labels")
    report = ReadReport() if report is None else report
    text = "\n".join(line for _, line in iter_lines(path, encoding, report))
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(
            path,
            e.lineno,
            f"not valid JSON ({e.msg} at column {e.colno})",
            f"expected {SQUAD_SHAPE}",
        ) from None
    questions = list(squad_questions(path, doc))
    check_answers_present(path, questions)
    id_lines = json_id_lines(text)
    out = RecordList(path, "qa", None)
    first_line: dict[str, int | None] = {}
    repeats: Counter[str] = Counter()
    for where, context, qa in questions:
        raw_id = str(qa.get("id", ""))
        queue = id_lines.get(raw_id)
        lineno = queue.popleft() if queue else None
        rid = raw_id
        if raw_id in first_line:
            repeats[raw_id] += 1
            rid = f"{raw_id}~{repeats[raw_id] + 1}"
            report.note(
                "renamed_duplicate_id",
                path,
                lineno,
                f"question id {raw_id!r} repeats (first at line {first_line[raw_id]}): "
                f"renamed {rid!r}",
                "ids should be unique within a file",
            )
        else:
            first_line[raw_id] = lineno
        out.add(squad_record(path, lineno, where, rid, context, qa, lang), lineno)
    return out.result()


def check_answers_present(path: PathLike, questions: Sequence[tuple[str, str, dict]]) -> None:
    """Reject a file whose every answer text is empty: its gold answers were stripped.

    XTREME's copies of evaluation sets (TyDi QA GoldP dev among them) blank the answers as
    ``{"text": "", "answer_start": 0}``; such a file can be neither trained nor scored on.
    """
    answers = [a for _, _, qa in questions for a in qa.get("answers") or [] if isinstance(a, dict)]
    if answers and all(a.get("text") == "" for a in answers):
        raise DataError(
            path,
            None,
            f"all {len(answers)} answers of its {len(questions)} questions are empty: the gold "
            "answers were stripped from this copy",
            "use a copy with its gold answers (for TyDi QA GoldP dev: the original release "
            "of google-research-datasets/tydiqa); this one can be neither trained nor scored on",
        )


def json_id_lines(text: str) -> dict[str, deque[int]]:
    """The 1-based lines of every ``"id": "..."`` key in a JSON text, per id, in file order."""
    newlines = [i for i, ch in enumerate(text) if ch == "\n"]
    lines: dict[str, deque[int]] = {}
    for match in JSON_ID_KEY.finditer(text):
        value = json.loads(match.group(1))
        lines.setdefault(value, deque()).append(bisect.bisect(newlines, match.start()) + 1)
    return lines


def squad_questions(path: PathLike, doc: Any) -> Iterator[tuple[str, str, dict]]:
    """``(where, context, qa)`` for every question, checking the SQuAD nesting on the way."""
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, list):
        raise DataError(path, 1, "no 'data' list at the top", f"expected {SQUAD_SHAPE}")
    for a, article in enumerate(data):
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise DataError(
                path, None, f"data[{a}] has no 'paragraphs' list", f"expected {SQUAD_SHAPE}"
            )
        for p, para in enumerate(paragraphs):
            where = f"data[{a}].paragraphs[{p}]"
            if not (
                isinstance(para, dict)
                and isinstance(para.get("context"), str)
                and isinstance(para.get("qas"), list)
            ):
                raise DataError(
                    path,
                    None,
                    f"{where} needs 'context' (a string) and 'qas' (a list)",
                    f"expected {SQUAD_SHAPE}",
                )
            for q, qa in enumerate(para["qas"]):
                if not isinstance(qa, dict):
                    raise DataError(
                        path, None, f"{where}.qas[{q}] is not an object", f"expected {SQUAD_SHAPE}"
                    )
                yield f"{where}.qas[{q}]", para["context"], qa


def squad_record(
    path: PathLike, lineno: int | None, where: str, rid: str, context: str, qa: dict, lang: str
) -> Record:
    missing = [k for k in ("id", "question", "answers") if k not in qa]
    if missing:
        raise DataError(path, lineno, f"{where} lacks {missing}", f"expected {SQUAD_SHAPE}")
    if qa.get("is_impossible"):
        raise DataError(
            path,
            lineno,
            f"question {rid!r} is marked is_impossible (SQuAD 2.0)",
            "this reader reads SQuAD v1.1, where every question has an answer: drop "
            "unanswerable questions",
        )
    answers = qa["answers"]
    if not isinstance(answers, list) or not all(
        isinstance(a, dict) and "text" in a and "answer_start" in a for a in answers
    ):
        raise DataError(
            path,
            lineno,
            f"question {rid!r}: 'answers' must be a list of {{'text', 'answer_start'}} objects",
            f"expected {SQUAD_SHAPE}",
        )
    return {
        "id": rid,
        "context": context,
        "question": qa["question"],
        "answers": {
            "text": [a["text"] for a in answers],
            "answer_start": [a["answer_start"] for a in answers],
        },
        "lang": lang,
    }


RELATION_MARKER = re.compile(r"</?e[12]>")
EMPTY_ENTITIES = ("error", "skip")
KBP37_BLOCK = 'id<TAB>"sentence with <e1> ... </e1> and <e2> ... </e2>", the label, a blank line'


class EmptyEntity(RowError):
    """An entity marker pair encloses no word (KBP37: the entity text was lost upstream)."""


def read_kbp37(
    path: PathLike,
    *,
    lang: str,
    split: str,
    labels: Sequence[str] | None = None,
    encoding: str = "utf-8",
    empty_entities: str = "error",
    report: ReadReport | None = None,
) -> list[Record]:
    """KBP37 / RELX relation classification: ``id<TAB>"sentence"``, label, blank line(s).

    The sentence's outer quotes are dropped, the markers ``<e1> </e1> <e2> </e2>`` are split
    off whatever they touch, and the rest is split at whitespace: punctuation stays as the file
    writes it (KBP37 is pre-tokenised, so its punctuation is already a token of its own; RELX
    keeps ``Sacramento,`` as one token). ``head`` is e1's token span and ``tail`` e2's (end
    exclusive), the label is kept as written (the direction lives in its name:
    ``org:members(e2,e1)``), ids are the file's. Markers missing, repeated, out of order or
    nested are errors naming the sentence's line. KBP37 has blocks whose entity lost its text
    (``<e1> </e1>``: 110 train, 10 dev, 26 test; RELX 1 in de/en/fr/tr): an error, or with
    ``empty_entities: skip`` dropped, warned about and counted (``skipped_empty_entity``).
    """
    if empty_entities not in EMPTY_ENTITIES:
        raise ValueError(
            f"empty_entities must be one of {list(EMPTY_ENTITIES)}, got {empty_entities!r}"
        )
    report = ReadReport() if report is None else report
    out = RecordList(path, "relation", labels)
    for block in iter_blocks(iter_lines(path, encoding, report)):
        lineno, first = block.rows[0]
        if len(block.rows) != 2:
            at = block.rows[2][0] if len(block.rows) > 2 else lineno
            found = "no label line after the sentence" if len(block.rows) < 2 else "a third line"
            raise DataError(
                path, at, f"{found} (a block is {KBP37_BLOCK})", "separate blocks by a blank line"
            )
        label_lineno, label = block.rows[1][0], block.rows[1][1].strip()
        try:
            rid, tokens, head, tail = parse_marked_sentence(first)
        except EmptyEntity as e:
            if empty_entities == "error":
                raise DataError(path, lineno, e.problem, e.fix) from None
            report.note(
                "skipped_empty_entity", path, lineno, e.problem, "dropped: empty_entities is skip"
            )
            continue
        except RowError as e:
            raise DataError(path, lineno, e.problem, e.fix) from None
        if labels is not None and label not in labels:
            raise DataError(
                path,
                label_lineno,
                f"label {label!r} is not in the label set {sorted(labels)}",
                "fix the label or add it to the dataset's labels in the config",
            )
        out.add({"id": rid, "tokens": tokens, "head": head, "tail": tail, "label": label}, lineno)
    return out.result()


def parse_marked_sentence(line: str) -> tuple[str, list[str], list[int], list[int]]:
    """Id, tokens and the e1/e2 spans of ``id<TAB>"... <e1> A </e1> ... <e2> B </e2> ..."``."""
    rid, tab, sentence = line.partition("\t")
    if not tab or not rid.strip():
        raise RowError(
            f"expected {KBP37_BLOCK.split(',')[0]}, found {line[:80]!r}",
            "the id and the sentence are separated by a tab",
        )
    sentence = sentence.strip()
    if len(sentence) >= 2 and sentence[0] == sentence[-1] == '"':
        sentence = sentence[1:-1]
    tokens: list[str] = []
    opened: dict[str, int] = {}
    spans: dict[str, list[int]] = {}
    for piece in RELATION_MARKER.sub(lambda m: f" {m.group(0)} ", sentence).split():
        if not RELATION_MARKER.fullmatch(piece):
            tokens.append(piece)
            continue
        name = piece.strip("</>")
        if piece.startswith("</"):
            if name not in opened:
                raise RowError(f"{piece} without an open <{name}> before it", MARKER_FIX)
            spans[name] = [opened.pop(name), len(tokens)]
        elif name in opened or name in spans:
            raise RowError(f"<{name}> appears twice", MARKER_FIX)
        elif opened:
            raise RowError(
                f"<{name}> opens inside <{next(iter(opened))}>: entities may not nest", MARKER_FIX
            )
        else:
            opened[name] = len(tokens)
    if opened:
        raise RowError(f"<{next(iter(opened))}> is never closed", MARKER_FIX)
    for name in ("e1", "e2"):
        if name not in spans:
            raise RowError(f"no <{name}> ... </{name}> marker pair", MARKER_FIX)
        if spans[name][0] == spans[name][1]:
            raise EmptyEntity(
                f"entity <{name}> </{name}> encloses no word",
                "the entity text is missing: fix the block, or set the dataset's options: "
                "{empty_entities: skip} to drop such blocks; they are counted in the provenance",
            )
    return rid.strip(), tokens, spans["e1"], spans["e2"]


MARKER_FIX = "each sentence marks two disjoint entities, <e1> ... </e1> and <e2> ... </e2>"
XNLI_LABELS = ("entailment", "neutral", "contradiction")


def read_xnli(
    path: PathLike,
    *,
    lang: str,
    split: str,
    labels: Sequence[str] | None = None,
    encoding: str = "utf-8",
    layout: str = "pairs",
    report: ReadReport | None = None,
) -> list[Record]:
    """XNLI TSV ``premise<TAB>hypothesis<TAB>label`` (no header) as sentence pairs.

    Records are ``{"id", "text": premise, "text_pair": hypothesis, "label"}`` with the id
    ``f"{split}-l{line:06d}"`` (see ``line_id``): the same in every language, since XNLI is
    parallel line by line. A blank line inside the file is an error (it would shift the
    index of every later line); trailing blank lines are ignored, so the n-th example is
    line n, which ``splits: ... lines:`` in the config selects. Labels are entailment,
    neutral, contradiction, or the dataset's ``labels`` when it sets them.

    ``layout: official`` reads the official release's ``XNLI-1.0/xnli.{dev,test}.tsv`` instead:
    one file for all 15 languages, a header naming the columns, ``language``, ``gold_label``,
    ``sentence1`` and ``sentence2`` among them; the rows of ``lang`` are taken in file order
    and the n-th gets the id of line n (``line_id``), as in the per-language files (XTREME's,
    the shared copy) derived from it, so ``splits`` select the same pairs in both.
    """
    if layout == "official":
        return _read_xnli_official(path, lang, split, labels, encoding, report)
    if layout != "pairs":
        raise ValueError(f"xnli: layout must be 'pairs' or 'official', got {layout!r}")
    allowed = frozenset(labels if labels is not None else XNLI_LABELS)
    out = RecordList(path, "classification", labels)
    blank: int | None = None
    for lineno, line in iter_lines(path, encoding, report):
        if not line.strip():
            blank = blank or lineno
            continue
        with at_line(path, lineno):
            if blank is not None:
                raise RowError(
                    f"blank line {blank} inside the file",
                    "XNLI is parallel line by line and a blank line shifts every later line: "
                    "remove it",
                )
            premise, hypothesis, label = tab_columns(
                line, (3,), "3 columns (premise, hypothesis, label)"
            )
            if not premise.strip() or not hypothesis.strip():
                raise RowError(
                    "empty premise or hypothesis", "every line holds a sentence pair and its label"
                )
            if label not in allowed:
                raise RowError(
                    f"label {label!r} is not one of {sorted(allowed)}",
                    "no header line is expected; another spelling (e.g. 'contradictory') can be "
                    "renamed with the dataset's labels and label_map",
                )
        rec = {
            "id": line_id(split, lineno),
            "text": premise,
            "text_pair": hypothesis,
            "label": label,
        }
        out.add(rec, lineno)
    return out.result()


XNLI_OFFICIAL_COLUMNS = ("language", "gold_label", "sentence1", "sentence2")


def _read_xnli_official(
    path: PathLike,
    lang: str,
    split: str,
    labels: Sequence[str] | None,
    encoding: str,
    report: ReadReport | None,
) -> list[Record]:
    """The rows of ``lang`` in the official multi-language XNLI TSV (see :func:`read_xnli`)."""
    allowed = frozenset(labels if labels is not None else XNLI_LABELS)
    out = RecordList(path, "classification", labels)
    column: dict[str, int] = {}
    for lineno, line in iter_lines(path, encoding, report):
        if not line.strip():
            continue
        cols = line.rstrip("\r\n").split("\t")
        if not column:
            missing = [c for c in XNLI_OFFICIAL_COLUMNS if c not in cols]
            if missing:
                raise DataError(
                    path,
                    lineno,
                    f"the header lacks the column(s) {missing}",
                    "layout: official reads XNLI-1.0/xnli.dev.tsv or xnli.test.tsv (a header "
                    "line first); per-language premise/hypothesis/label files need no layout",
                )
            column = {c: cols.index(c) for c in XNLI_OFFICIAL_COLUMNS}
            continue
        with at_line(path, lineno):
            if len(cols) <= max(column.values()):
                raise RowError(
                    f"expected at least {max(column.values()) + 1} tab-separated columns, found "
                    f"{len(cols)}",
                    "every row has the header's columns",
                )
            if cols[column["language"]] != lang:
                continue
            premise, hypothesis = cols[column["sentence1"]], cols[column["sentence2"]]
            label = cols[column["gold_label"]]
            if not premise.strip() or not hypothesis.strip():
                raise RowError(
                    "empty premise or hypothesis", "every row holds a sentence pair and its label"
                )
            if label not in allowed:
                raise RowError(
                    f"label {label!r} is not one of {sorted(allowed)}",
                    "rename it with the dataset's labels and label_map",
                )
        n = len(out.records) + 1
        out.add({"id": line_id(split, n), "text": premise, "text_pair": hypothesis, "label": label}, lineno)  # fmt: skip
    if not column:
        raise DataError(path, None, "the file is empty", "point the source at xnli.dev.tsv or xnli.test.tsv")  # fmt: skip
    if not out.records:
        raise DataError(
            path,
            None,
            f"no row has language {lang!r}",
            "the official files hold ar bg de el en es fr hi ru sw th tr ur vi zh",
        )
    return out.result()


UMSAB_LABELS = ("negative", "neutral", "positive")


def read_umsab(
    path: PathLike,
    *,
    lang: str,
    split: str,
    labels: Sequence[str] | None = None,
    encoding: str = "utf-8",
    gold_file: PathLike | None = None,
    label_names: Sequence[str] = UMSAB_LABELS,
    report: ReadReport | None = None,
) -> list[Record]:
    """UMSAB (XLM-T sentiment): ``{split}_text.txt`` (the source) + ``{split}_labels.txt``.

    The labels file is found beside the text file (``_text`` -> ``_labels`` in its name), or
    given as ``gold_file`` (``{lang}``/``{split}`` are substituted). Line n of the one holds
    the label (0 negative, 1 neutral, 2 positive: ``label_names`` in that order) of line n of
    the other; the line counts must agree. Texts are stripped of surrounding whitespace and
    otherwise kept as written (the English files keep escapes such as ``\\u2019`` literally).
    Ids are ``line_id(split, line)``.
    """
    gold = find_gold_file(path, gold_file, lang, split)
    texts = list(iter_lines(path, encoding, report))
    values = list(iter_lines(gold))
    for lines in (texts, values):  # empty lines at the end are no examples
        while lines and not lines[-1][1]:
            lines.pop()
    if len(texts) != len(values):
        raise DataError(
            path,
            None,
            f"{len(texts)} lines, but its labels file {gold} has {len(values)}",
            "the text and labels files hold one example per line, in the same order",
        )
    names = list(label_names)
    out = RecordList(path, "classification", labels)
    for (lineno, text), (_, value) in zip(texts, values, strict=True):
        with at_line(gold, lineno):
            if not value.strip().isdigit() or int(value) >= len(names):
                raise RowError(
                    f"label {value!r} is not one of 0..{len(names) - 1}",
                    "one integer a line: " + ", ".join(f"{i} = {n}" for i, n in enumerate(names)),
                )
        if not text.strip():
            raise DataError(path, lineno, "empty text", "remove the line from both files")
        out.add(
            {"id": line_id(split, lineno), "text": text.strip(), "label": names[int(value)]}, lineno
        )
    return out.result()


def find_gold_file(path: PathLike, gold_file: PathLike | None, lang: str, split: str) -> Path:
    """The labels file of a UMSAB text file (see ``read_umsab``)."""
    if gold_file is not None:
        gold = Path(str(gold_file).replace("{lang}", lang).replace("{split}", split))
    else:
        name = Path(path).name
        if "_text" not in name:
            raise DataError(
                path,
                None,
                "cannot find the labels file: the name has no '_text' to replace by '_labels'",
                "set the dataset's options: {gold_file: path/{lang}/{split}_labels.txt}",
            )
        head, _, tail = name.rpartition("_text")
        gold = Path(path).with_name(f"{head}_labels{tail}")
    if not gold.is_file():
        raise DataError(
            gold,
            None,
            f"labels file of {path} not found",
            "put it beside the text file or set the dataset's options: {gold_file: ...}",
        )
    return gold


def read_common_jsonl(
    path: PathLike,
    *,
    lang: str,
    split: str,
    labels: Sequence[str] | None = None,
    kind: Kind | None = None,
    report: ReadReport | None = None,
) -> list[Record]:
    """Common-schema JSONL; ``kind`` is inferred from the first record when not given."""
    if report is not None:
        report.encoding_declared = report.encoding_used = "utf-8"
    kind = kind or infer_kind(path)
    records = read_jsonl(path, kind, labels)
    if not records:
        raise DataError(path, None, "no examples found (empty file?)", "check the path")
    return records


#: the key that tells a record's kind, most specific first (a relation has tokens and a label)
KIND_MARKS: tuple[tuple[str, Kind], ...] = (
    ("heads", "parsing"),
    ("head", "relation"),
    ("context", "qa"),
    ("tokens", "tagging"),
    ("label", "classification"),
)


def infer_kind(path: PathLike) -> Kind:
    """The kind of a common-schema JSONL file, told by its first record's keys."""
    for lineno, rec in iter_jsonl(path):
        for key, kind in KIND_MARKS:
            if key in rec:
                return kind
        raise DataError(
            path,
            lineno,
            "cannot tell the record kind",
            f"records need one of {[key for key, _ in KIND_MARKS]} (see the common schema)",
        )
    raise DataError(path, None, "no examples found (empty file?)", "check the path")


# --------------------------------------------------------------------------------------------
# registry

READERS: dict[str, Reader] = {
    "conllu": read_conllu,
    "conll": read_conll,
    "wikiann": read_wikiann,
    "uner": read_uner,
    "sib200": read_sib200,
    "squad": read_squad,
    "kbp37": read_kbp37,
    "xnli": read_xnli,
    "umsab": read_umsab,
    "jsonl": read_common_jsonl,
}

DATA_KINDS: tuple[Kind, ...] = ("tagging", "classification", "qa", "relation", "parsing")

#: the record kinds each format can produce; a reader of several takes the dataset's task_type
#: as its ``kind`` option
READER_KINDS: dict[str, tuple[Kind, ...]] = {
    "conllu": ("tagging", "parsing"),
    "conll": ("tagging",),
    "wikiann": ("tagging",),
    "uner": ("tagging",),
    "sib200": ("classification",),
    "squad": ("qa",),
    "kbp37": ("relation",),
    "xnli": ("classification",),
    "umsab": ("classification",),
    "jsonl": DATA_KINDS,
}


def reader_options(fmt: str) -> list[str]:
    """The options (keyword arguments besides lang/split) a format's reader accepts."""
    params = inspect.signature(get_reader(fmt)).parameters
    return [
        name
        for name, p in params.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and name not in ("lang", "split", "report")
    ]


def get_reader(fmt: str) -> Reader:
    if fmt not in READERS:
        raise ValueError(f"unknown data format {fmt!r}; known formats: {sorted(READERS)}")
    return READERS[fmt]


def read_file(
    fmt: str,
    path: PathLike,
    *,
    lang: str,
    split: str,
    report: ReadReport | None = None,
    **options: Any,
) -> list[Record]:
    """Read ``path`` in format ``fmt`` into common-schema records (``options`` go to the reader).

    ``report`` collects what the reader warned about (see ``ReadReport``).
    """
    reader = get_reader(fmt)
    unknown = sorted(set(options) - set(reader_options(fmt)))
    if unknown:
        raise ValueError(
            f"format {fmt!r} does not take option(s) {unknown}; it takes {reader_options(fmt)}"
        )
    return reader(path, lang=lang, split=split, report=report, **options)
