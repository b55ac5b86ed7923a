"""Sources: where one (dataset, language, split) comes from, and getting it onto local disk.

A dataset's config names a default ``source`` (a template with ``{lang}``/``{split}``) and
optional per-language, per-split overrides under ``sources``. A source has exactly one kind key:

- ``file``      a local path or ``file://`` URL (relative paths resolve against the working
                directory, the repository root under Snakemake);
- ``url``       an http(s) URL with a required ``sha256`` and an optional archive ``member``;
                downloaded once into ``<cache>/downloads/``, verified, reused while valid;
- ``hub``       a Hugging Face datasets id with a pinned ``revision`` (optional ``config``,
                ``split``, ``columns``), loaded with ``datasets.load_dataset``;
- ``synthetic`` produced by the synthetic world generator, not here.

Anything that cannot be fetched raises ``SourceUnavailable`` with the advice to download the file
by hand and point ``datasets.<name>.sources.<lang>.<split>: {file: ...}`` at it.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from xlt.io import atomic_path

PathLike = str | os.PathLike

SOURCE_KINDS = ("file", "url", "hub", "synthetic")
SOURCE_KEYS: dict[str, frozenset[str]] = {
    "file": frozenset({"file"}),
    "url": frozenset({"url", "sha256", "member"}),
    "hub": frozenset({"hub", "revision", "config", "split", "columns"}),
    "synthetic": frozenset({"synthetic"}),
}
STANDARD_SPLITS = ("train", "dev", "test")
HUB_SPLIT_NAMES = {"dev": "validation"}
DEFAULT_COLUMNS = {
    "tagging": {"tokens": "tokens", "tags": "ner_tags"},
    "classification": {"text": "text", "label": "label"},
}
SHA256 = re.compile(r"[0-9a-f]{64}")
DOWNLOAD_TIMEOUT_S = 60.0
CHUNK = 1 << 20


class SourceUnavailable(RuntimeError):
    """A source cannot be fetched (offline, 404, missing file, bad checksum, ...)."""


class ChecksumMismatch(SourceUnavailable):
    """A download's sha256 differs from the configured one (the bad file has been removed)."""


def _where(dataset: str, lang: str, split: str) -> str:
    return f"dataset {dataset!r} ({lang}/{split})"


def _manual_fix(dataset: str, lang: str, split: str) -> str:
    return (
        f"download the file by hand and set datasets.{dataset}.sources.{lang}.{split}: "
        "{file: /path/to/file} in the config"
    )


# --------------------------------------------------------------------------------------------
# resolving the config


def resolve_source(
    dataset_name: str,
    dataset_cfg: Mapping[str, Any],
    lang: str,
    split: str,
    *,
    check_split: bool = True,
) -> dict[str, Any]:
    """The source of one (dataset, lang, split): default template + overrides, substituted.

    Returns a dict with ``kind`` (one of SOURCE_KINDS) and that kind's keys. An override that
    names a kind key replaces the inherited source; one without only updates its keys.
    ``check_split=False`` resolves the file of a split the language does not list (a part of
    another split, ``datasets.<name>.splits``: e.g. English train read from the test file).
    """
    check_lang_split(dataset_name, dataset_cfg, lang, split if check_split else None)
    spec = dict(dataset_cfg.get("source") or {})
    per_lang = dict((dataset_cfg.get("sources") or {}).get(lang) or {})
    split_names = (
        set(STANDARD_SPLITS) | set(_splits_of(dataset_cfg, lang)) | _part_files(dataset_cfg)
    )
    per_split = per_lang.pop(split, None) or {}
    lang_level = {k: v for k, v in per_lang.items() if k not in split_names}
    for override in (lang_level, per_split):
        spec = _merge(spec, override)
    spec = _substitute(spec, lang, split)
    return _checked(dataset_name, spec, lang, split)


def _splits_of(dataset_cfg: Mapping[str, Any], lang: str) -> list[str]:
    return list((dataset_cfg.get("languages") or {}).get(lang) or [])


def _part_files(dataset_cfg: Mapping[str, Any]) -> set[str]:
    """The file splits the dataset's ``splits`` parts read (``from``), e.g. UMSAB's ``val``."""
    named = dataset_cfg.get("splits")
    if not isinstance(named, Mapping):
        return set()
    parts = [p for spec in named.values() for p in (spec if isinstance(spec, list) else [spec])]
    return {str(p["from"]) for p in parts if isinstance(p, Mapping) and "from" in p}


def check_lang_split(
    dataset_name: str, dataset_cfg: Mapping[str, Any], lang: str, split: str | None
) -> None:
    """The language is configured, and the split for it (unless ``split`` is None)."""
    languages = dataset_cfg.get("languages") or {}
    if not isinstance(languages, Mapping):
        raise ValueError(
            f"datasets.{dataset_name}.languages must map each language to its splits, "
            f"e.g. {{en: [train, dev, test]}}; got {languages!r}"
        )
    if lang not in languages:
        raise ValueError(
            f"dataset {dataset_name!r} has no language {lang!r}; configured languages: "
            f"{sorted(languages)} (add it under datasets.{dataset_name}.languages)"
        )
    if split is not None and split not in _splits_of(dataset_cfg, lang):
        raise ValueError(
            f"dataset {dataset_name!r} has no split {split!r} for {lang!r}; configured splits: "
            f"{_splits_of(dataset_cfg, lang)} (see datasets.{dataset_name}.languages.{lang})"
        )


def _merge(spec: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    if not override:
        return spec
    if any(k in override for k in SOURCE_KINDS):
        return dict(override)
    return {**spec, **override}


def _substitute(value: Any, lang: str, split: str) -> Any:
    if isinstance(value, str):
        return value.replace("{lang}", lang).replace("{split}", split)
    if isinstance(value, Mapping):
        return {k: _substitute(v, lang, split) for k, v in value.items()}
    return value


def _checked(dataset: str, spec: dict[str, Any], lang: str, split: str) -> dict[str, Any]:
    where = _where(dataset, lang, split)
    kinds = [k for k in SOURCE_KINDS if k in spec]
    if len(kinds) != 1:
        raise ValueError(
            f"{where}: a source needs exactly one of {list(SOURCE_KINDS)}, found {kinds or 'none'} "
            f"(set datasets.{dataset}.source or datasets.{dataset}.sources.{lang})"
        )
    kind = kinds[0]
    unknown = sorted(set(spec) - SOURCE_KEYS[kind])
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {unknown} for a {kind!r} source; "
            f"allowed: {sorted(SOURCE_KEYS[kind])}"
        )
    if kind == "url" and urllib.parse.urlparse(str(spec["url"])).scheme not in ("http", "https"):
        raise ValueError(
            f"{where}: url {spec['url']!r} is not http(s); use a 'file' source for local files"
        )
    if kind == "url" and not SHA256.fullmatch(str(spec.get("sha256", "")).lower()):
        raise ValueError(
            f"{where}: url sources need sha256 (64 hex digits) to verify the download, "
            f"got {spec.get('sha256')!r} (compute it with `sha256sum FILE`)"
        )
    if kind == "hub" and not spec.get("revision"):
        raise ValueError(
            f"{where}: hub sources need a pinned revision (a commit sha or tag) so that "
            "results are reproducible"
        )
    return {"kind": kind, **spec}


# --------------------------------------------------------------------------------------------
# fetching files


def fetch(
    dataset_name: str, source: Mapping[str, Any], lang: str, split: str, cache_dir: PathLike
) -> Path:
    """The local path of a ``file`` or ``url`` source (downloading and verifying if needed)."""
    kind = source["kind"]
    if kind == "file":
        return local_file(dataset_name, source["file"], lang, split)
    if kind == "url":
        archive = download(dataset_name, source, lang, split, Path(cache_dir) / "downloads")
        member = source.get("member")
        if member:
            return extract_member(dataset_name, archive, member, lang, split)
        return archive
    raise ValueError(
        f"{_where(dataset_name, lang, split)}: a {kind!r} source is not a file "
        f"({'use load_hub_records' if kind == 'hub' else 'it is made by the synthetic generator'})"
    )


def local_file(dataset: str, location: str, lang: str, split: str) -> Path:
    path = Path(file_url_to_path(location))
    if not path.is_file():
        raise SourceUnavailable(
            f"{_where(dataset, lang, split)}: file {str(path)!r} does not exist "
            f"(resolved to {str(path.absolute())!r}; relative paths are taken from the working "
            f"directory {os.getcwd()!r}). Fix: put the file there or set "
            f"datasets.{dataset}.sources.{lang}.{split}: {{file: /path/to/file}}"
        )
    return path


def file_url_to_path(location: str) -> str:
    """``file:///abs/x`` -> ``/abs/x``; ``file://rel/x`` -> ``rel/x``; plain paths unchanged."""
    if not location.startswith("file://"):
        return location
    rest = location.removeprefix("file://")
    if rest.startswith("localhost/"):
        rest = rest.removeprefix("localhost")
    return urllib.parse.unquote(rest)


def sha256_of(path: PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def cache_name(url: str, sha256: str) -> str:
    """Content-addressed cache name: ``<sha256[:16]>-<basename of the URL>``."""
    base = PurePosixPath(urllib.parse.urlparse(url).path).name or "download"
    base = re.sub(r"[^A-Za-z0-9._-]", "_", base)
    return f"{sha256[:16]}-{base}"


def download(
    dataset: str, source: Mapping[str, Any], lang: str, split: str, downloads: Path
) -> Path:
    """Download ``source['url']`` once into ``downloads``; verify (and re-verify) its sha256."""
    url, expected = source["url"], source["sha256"].lower()
    target = downloads / cache_name(url, expected)
    if target.is_file():
        if sha256_of(target) == expected:
            return target
        target.unlink()  # corrupted or tampered cache entry: fetch again
    try:
        actual = _download_to(url, target)
    except (OSError, http.client.HTTPException) as e:  # URLError, HTTPError, timeouts, ...
        raise SourceUnavailable(
            f"{_where(dataset, lang, split)}: cannot download {url} ({_reason(e)}). "
            f"Fix: {_manual_fix(dataset, lang, split)}"
        ) from e
    if actual != expected:
        target.unlink(missing_ok=True)
        raise ChecksumMismatch(
            f"{_where(dataset, lang, split)}: {url} has sha256 {actual}, expected {expected}; "
            "the download was removed. Fix: if the upstream file changed on purpose, check it "
            f"and update the sha256 in the config, or {_manual_fix(dataset, lang, split)}"
        )
    return target


def _reason(e: BaseException) -> str:
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        return str(e.reason)
    return f"{type(e).__name__}: {e}"


def _download_to(url: str, target: Path) -> str:
    """Stream ``url`` atomically into ``target``; return the sha256 of what was written."""
    digest = hashlib.sha256()
    with (
        urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp,
        atomic_path(target, shared=True) as tmp,  # jobs of one dataset may fetch one url at once
        open(tmp, "wb") as out,
    ):
        while chunk := resp.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def extract_member(dataset: str, archive: Path, member: str, lang: str, split: str) -> Path:
    """Copy one member of a .zip/.tar(.gz) archive next to it (once); return its path."""
    parts = PurePosixPath(member).parts
    if not parts or PurePosixPath(member).is_absolute() or ".." in parts:
        raise ValueError(f"{_where(dataset, lang, split)}: unsafe archive member {member!r}")
    target = archive.with_name(archive.name + ".d").joinpath(*parts)
    if target.is_file():
        return target
    # raw bytes, even for *.gz; shared: jobs of one dataset may extract one member at once
    with atomic_path(target, shared=True) as tmp, open(tmp, "wb") as out:
        _copy_member(dataset, archive, member, out, lang, split)
    return target


def _copy_member(dataset: str, archive: Path, member: str, out: Any, lang: str, split: str) -> None:
    def missing(names: Sequence[str]) -> SourceUnavailable:
        return SourceUnavailable(
            f"{_where(dataset, lang, split)}: {archive.name} has no member {member!r}; "
            f"it holds e.g. {sorted(names)[:10]}. Fix: correct 'member' in the config"
        )

    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            if member not in zf.namelist():
                raise missing(zf.namelist())
            with zf.open(member) as src:
                shutil.copyfileobj(src, out)
        return
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive, "r:*") as tf:
            try:
                src = tf.extractfile(member)
            except KeyError:
                src = None
            if src is None:
                raise missing(tf.getnames())
            with src:
                shutil.copyfileobj(src, out)
        return
    raise SourceUnavailable(
        f"{_where(dataset, lang, split)}: 'member' is set but {archive.name} is not a zip or tar "
        "archive. Fix: remove 'member' from the source or point 'url' at the archive"
    )


# --------------------------------------------------------------------------------------------
# Hugging Face hub


def hub_split_name(source: Mapping[str, Any], split: str) -> str:
    return source.get("split") or HUB_SPLIT_NAMES.get(split, split)


def load_hub_records(
    dataset_name: str,
    source: Mapping[str, Any],
    lang: str,
    split: str,
    cache_dir: PathLike,
    task_type: str = "tagging",
) -> list[dict[str, Any]]:
    """Load a pinned hub dataset split and map it to common-schema records (labels as names)."""
    try:
        import datasets  # heavy: only when a hub source is used
    except ImportError as e:
        raise SourceUnavailable(
            f"{_where(dataset_name, lang, split)}: the 'datasets' package is not installed. "
            f"Fix: install it, or {_manual_fix(dataset_name, lang, split)}"
        ) from e
    hub_id, hub_split = source["hub"], hub_split_name(source, split)
    try:
        ds = datasets.load_dataset(
            hub_id,
            name=source.get("config"),
            split=hub_split,
            revision=source["revision"],
            cache_dir=str(Path(cache_dir) / "hub"),
        )
    except Exception as e:  # the hub raises many types (offline, 404, gated, ...)
        raise SourceUnavailable(
            f"{_where(dataset_name, lang, split)}: cannot load {hub_id!r} "
            f"(config {source.get('config')!r}, split {hub_split!r}, revision "
            f"{source['revision']!r}) from the Hugging Face hub: {type(e).__name__}: {e}. "
            f"Fix: {_manual_fix(dataset_name, lang, split)}"
        ) from e
    return hub_rows_to_records(ds, source.get("columns"), task_type, lang, split)


def _label_namer(feature: Any) -> Callable[[Any], Any]:
    """A function mapping a column's values to label names (ClassLabel ints -> names)."""
    inner = getattr(feature, "feature", None)  # List/Sequence of ClassLabel
    target = inner if inner is not None else feature
    int2str = getattr(target, "int2str", None)
    if int2str is None:
        return lambda v: [str(x) for x in v] if isinstance(v, list) else str(v)
    if inner is not None:
        return lambda v: [int2str(int(x)) for x in v]
    return lambda v: int2str(int(v))


def hub_rows_to_records(
    ds: Any, columns: Mapping[str, str] | None, task_type: str, lang: str, split: str
) -> list[dict[str, Any]]:
    """Rename columns to the common schema; ``columns`` maps schema key -> hub column."""
    if task_type not in DEFAULT_COLUMNS:
        raise ValueError(f"hub sources support {sorted(DEFAULT_COLUMNS)}, not {task_type!r}")
    mapping = {**DEFAULT_COLUMNS[task_type], **(columns or {})}
    missing = sorted(col for col in mapping.values() if col not in ds.column_names)
    if missing:
        raise ValueError(
            f"hub dataset lacks column(s) {missing}; it has {ds.column_names} "
            "(set the source's 'columns', e.g. {tokens: tokens, tags: ner_tags})"
        )
    label_key = "tags" if task_type == "tagging" else "label"
    namer = _label_namer(ds.features[mapping[label_key]])
    id_col = mapping.get("id")
    records = []
    for n, row in enumerate(ds):
        rec = {key: row[col] for key, col in mapping.items() if key != "id"}
        rec[label_key] = namer(rec[label_key])
        rid = str(row[id_col]) if id_col else f"{lang}-{split}-{n}"
        records.append({"id": rid, **rec})
    return records
