"""Sources (file / url / hub / synthetic) and ``prepare_split``; no test touches the network."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import socket
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from xlt.data.prepare import cap_records, prepare_split, split_seed
from xlt.data.sources import (
    ChecksumMismatch,
    SourceUnavailable,
    fetch,
    file_url_to_path,
    load_hub_records,
    resolve_source,
)
from xlt.io import DataError, read_jsonl

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("XLT_SHARED_DATA", REPO.parent / "shared" / "data"))
NER_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
CONLL = b"EU I-ORG\nrejects O\n\nPeter I-PER\nBlackburn I-PER\n"


def shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wikiann_cfg(**extra: object) -> dict:
    return {
        "task_type": "tagging",
        "format": "wikiann",
        "labels": NER_LABELS,
        "options": {},
        "languages": {"en": ["train", "dev", "test"], "de": ["dev", "test"], "es": ["train"]},
        "source": {"file": "../shared/data/wikiann/{lang}/{split}.tsv"},
        **extra,
    }


# --------------------------------------------------------------------------------------------
# resolve_source


def test_default_template_is_substituted() -> None:
    src = resolve_source("wikiann", wikiann_cfg(), "de", "dev")
    assert src == {"kind": "file", "file": "../shared/data/wikiann/de/dev.tsv"}


def test_language_and_split_overrides() -> None:
    cfg = wikiann_cfg(
        sources={
            "de": {"url": "https://example.org/{lang}-{split}.tsv.gz", "sha256": "a" * 64},
            "es": {"train": {"file": "/data/es_train.tsv"}},
        }
    )
    assert resolve_source("wikiann", cfg, "de", "test") == {
        "kind": "url",
        "url": "https://example.org/de-test.tsv.gz",
        "sha256": "a" * 64,
    }
    assert resolve_source("wikiann", cfg, "es", "train") == {
        "kind": "file",
        "file": "/data/es_train.tsv",
    }
    assert resolve_source("wikiann", cfg, "en", "dev")["file"].endswith("en/dev.tsv")


def test_override_without_kind_updates_the_template() -> None:
    cfg = wikiann_cfg(
        source={"hub": "org/panx", "revision": "abc", "config": "PAN-X.{lang}"},
        sources={"de": {"config": "special-{split}"}},
    )
    assert resolve_source("wikiann", cfg, "de", "dev")["config"] == "special-dev"
    assert resolve_source("wikiann", cfg, "en", "dev")["config"] == "PAN-X.en"


def test_unknown_language_or_split_lists_configured_ones() -> None:
    with pytest.raises(ValueError, match=r"no language 'fr'.*\['de', 'en', 'es'\]"):
        resolve_source("wikiann", wikiann_cfg(), "fr", "dev")
    with pytest.raises(ValueError, match=r"no split 'train' for 'de'.*\['dev', 'test'\]"):
        resolve_source("wikiann", wikiann_cfg(), "de", "train")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"file": "a", "url": "https://x/a"}, "exactly one of"),
        ({}, "exactly one of"),
        ({"url": "https://x/a"}, "need sha256"),
        ({"url": "ftp://x/a", "sha256": "a" * 64}, "not http"),
        ({"hub": "org/x"}, "pinned revision"),
        ({"file": "a", "sha265": "b"}, r"unknown key\(s\) \['sha265'\]"),
    ],
)
def test_invalid_sources(source: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_source("wikiann", wikiann_cfg(source=source), "en", "dev")


def test_synthetic_is_reported() -> None:
    cfg = wikiann_cfg(source={"synthetic": True})
    assert resolve_source("wikiann", cfg, "en", "dev") == {"kind": "synthetic", "synthetic": True}
    with pytest.raises(ValueError, match="synthetic"):
        prepare_split("wikiann", cfg, "en", "dev", "unused.jsonl")


# --------------------------------------------------------------------------------------------
# file sources


def test_file_source_relative_and_file_url(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "en.conll").write_bytes(CONLL)
    monkeypatch.chdir(tmp_path)
    assert fetch("x", {"kind": "file", "file": "d/en.conll"}, "en", "dev", "res") == Path(
        "d/en.conll"
    )
    assert file_url_to_path("file://localhost/a%20b/x.tsv") == "/a b/x.tsv"
    assert file_url_to_path("file://rel/x.tsv") == "rel/x.tsv"
    url = f"file://{tmp_path}/d/en.conll"
    assert fetch("x", {"kind": "file", "file": url}, "en", "dev", "res").read_bytes() == CONLL


def test_missing_file_explains_the_fix(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SourceUnavailable) as err:
        fetch("wikiann", {"kind": "file", "file": "nope/de.tsv"}, "de", "dev", "res")
    msg = str(err.value)
    assert "'wikiann' (de/dev)" in msg and "nope/de.tsv" in msg
    assert "datasets.wikiann.sources.de.dev: {file: /path/to/file}" in msg


# --------------------------------------------------------------------------------------------
# url sources (a loopback HTTP server in a thread)


class QuietHandler(SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        QuietHandler.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def server(tmp_path: Path, monkeypatch) -> Iterator[tuple[Path, str]]:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    root = tmp_path / "www"
    root.mkdir()
    QuietHandler.requests = []
    httpd = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_verifies_and_caches(server, tmp_path: Path) -> None:
    root, base = server
    (root / "en.conll").write_bytes(CONLL)
    source = {"kind": "url", "url": f"{base}/en.conll", "sha256": sha(CONLL)}
    cache = tmp_path / "resources"
    path = fetch("ner", source, "en", "dev", cache)
    assert path.parent == cache / "downloads" and path.read_bytes() == CONLL
    assert fetch("ner", source, "en", "dev", cache) == path
    assert len(QuietHandler.requests) == 1  # reused while valid
    path.write_bytes(b"corrupted")
    assert fetch("ner", source, "en", "dev", cache).read_bytes() == CONLL  # fetched again
    assert len(QuietHandler.requests) == 2
    assert [p.name for p in (cache / "downloads").iterdir()] == [path.name]  # no temp files


def test_checksum_mismatch_removes_the_download(server, tmp_path: Path) -> None:
    root, base = server
    (root / "en.conll").write_bytes(CONLL)
    source = {"kind": "url", "url": f"{base}/en.conll", "sha256": "0" * 64}
    with pytest.raises(ChecksumMismatch, match=f"has sha256 {sha(CONLL)}, expected 0000"):
        fetch("ner", source, "en", "dev", tmp_path / "resources")
    assert list((tmp_path / "resources" / "downloads").iterdir()) == []


def test_http_404_is_source_unavailable(server, tmp_path: Path) -> None:
    _, base = server
    source = {"kind": "url", "url": f"{base}/missing.tsv", "sha256": "0" * 64}
    with pytest.raises(SourceUnavailable) as err:
        fetch("ner", source, "de", "test", tmp_path)
    msg = str(err.value)
    assert "HTTP 404" in msg and f"{base}/missing.tsv" in msg and "'ner' (de/test)" in msg
    assert "datasets.ner.sources.de.test: {file: /path/to/file}" in msg


def test_unreachable_url_is_source_unavailable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("no_proxy", "*")
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = {"kind": "url", "url": f"http://127.0.0.1:{port}/x.tsv", "sha256": "0" * 64}
    with pytest.raises(SourceUnavailable, match="cannot download .*download the file by hand"):
        fetch("ner", source, "en", "dev", tmp_path)


def make_archives(root: Path) -> None:
    with zipfile.ZipFile(root / "data.zip", "w") as zf:
        zf.writestr("panx/en/dev.conll", CONLL)
    with tarfile.open(root / "data.tar.gz", "w:gz") as tf:
        info = tarfile.TarInfo("panx/en/dev.conll")
        info.size = len(CONLL)
        tf.addfile(info, io.BytesIO(CONLL))


@pytest.mark.parametrize("archive", ["data.zip", "data.tar.gz"])
def test_archive_member(server, tmp_path: Path, archive: str) -> None:
    root, base = server
    make_archives(root)
    digest = sha((root / archive).read_bytes())
    cfg = {
        "task_type": "tagging",
        "format": "conll",
        "options": {"scheme": "iob1"},
        "languages": {"en": ["dev"]},
        "source": {"url": f"{base}/{archive}", "sha256": digest, "member": "panx/{lang}/dev.conll"},
    }
    source = resolve_source("ner", cfg, "en", "dev")
    path = fetch("ner", source, "en", "dev", tmp_path / "res")
    assert path.read_bytes() == CONLL and path.name == "dev.conll"
    prov = prepare_split("ner", cfg, "en", "dev", tmp_path / "out.jsonl", tmp_path / "res")
    assert prov["url"] == f"{base}/{archive}" and prov["member"] == "panx/en/dev.conll"
    assert len(QuietHandler.requests) == 1  # the cached archive (stored raw) was reused
    assert read_jsonl(tmp_path / "out.jsonl")[1]["tags"] == ["B-PER", "I-PER"]
    bad = {**source, "member": "panx/xx/dev.conll"}
    with pytest.raises(SourceUnavailable, match="no member 'panx/xx/dev.conll'"):
        fetch("ner", bad, "en", "dev", tmp_path / "res")


# --------------------------------------------------------------------------------------------
# hub sources


def fake_hub(monkeypatch) -> list[dict]:
    datasets = pytest.importorskip("datasets")
    calls: list[dict] = []
    features = datasets.Features(
        {
            "tokens": datasets.List(datasets.Value("string")),
            "ner_tags": datasets.List(datasets.ClassLabel(names=["O", "B-PER", "I-PER"])),
            "text": datasets.Value("string"),
            "topic": datasets.ClassLabel(names=["travel", "sports"]),
        }
    )
    rows = {
        "tokens": [["Ann", "Lee", "runs"], ["Hi"]],
        "ner_tags": [[1, 2, 0], [0]],
        "text": ["Go to Rome.", "Run."],
        "topic": [0, 1],
    }

    def load_dataset(path: str, **kwargs: object):
        calls.append({"path": path, **kwargs})
        return datasets.Dataset.from_dict(rows, features=features)

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    return calls


def test_hub_tagging_maps_class_labels(monkeypatch, tmp_path: Path) -> None:
    calls = fake_hub(monkeypatch)
    source = {"kind": "hub", "hub": "org/panx", "revision": "v1", "config": "PAN-X.de"}
    records = load_hub_records("panx", source, "de", "dev", tmp_path)
    assert records[0] == {
        "id": "de-dev-0",
        "tokens": ["Ann", "Lee", "runs"],
        "tags": ["B-PER", "I-PER", "O"],
    }
    assert calls == [
        {
            "path": "org/panx",
            "name": "PAN-X.de",
            "split": "validation",
            "revision": "v1",
            "cache_dir": str(tmp_path / "hub"),
        }
    ]


def test_hub_classification_through_prepare(monkeypatch, tmp_path: Path) -> None:
    fake_hub(monkeypatch)
    cfg = {
        "task_type": "classification",
        "format": "jsonl",
        "labels": ["travel", "sports"],
        "languages": {"en": ["test"]},
        "source": {
            "hub": "org/sib",
            "revision": "0123abc",
            "split": "test",
            "columns": {"text": "text", "label": "topic"},
        },
    }
    prov = prepare_split("sib", cfg, "en", "test", tmp_path / "o.jsonl", tmp_path)
    assert read_jsonl(tmp_path / "o.jsonl", "classification") == [
        {"id": "en-test-0", "text": "Go to Rome.", "label": "travel"},
        {"id": "en-test-1", "text": "Run.", "label": "sports"},
    ]
    assert prov["source"] == "hub" and prov["revision"] == "0123abc"
    assert prov["hub_split"] == "test" and prov["n_written"] == 2
    cfg["labels"] = ["travel"]
    with pytest.raises(DataError, match="label 'sports' is not in the label set"):
        prepare_split("sib", cfg, "en", "test", tmp_path / "p.jsonl", tmp_path)
    assert not (tmp_path / "p.jsonl").exists()


def test_hub_offline_says_supply_a_file(monkeypatch, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    import huggingface_hub.constants

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    source = {"kind": "hub", "hub": "xlt-test/no-such-dataset", "revision": "v0"}
    with pytest.raises(SourceUnavailable) as err:
        load_hub_records("panx", source, "de", "dev", tmp_path)
    msg = str(err.value)
    assert "'xlt-test/no-such-dataset'" in msg and "revision 'v0'" in msg
    assert "datasets.panx.sources.de.dev: {file: /path/to/file}" in msg


# --------------------------------------------------------------------------------------------
# prepare_split


def ud_cfg(path: Path, **extra: object) -> dict:
    return {
        "task_type": "tagging",
        "format": "conllu",
        "languages": {"en": ["dev"]},
        "source": {"file": str(path)},
        **extra,
    }


def test_prepare_real_file_with_cap(tmp_path: Path) -> None:
    path = shared("ud", "en", "dev.conllu")
    cfg = ud_cfg(path, cap={"dev": 100})
    prov = prepare_split("ud", cfg, "en", "dev", tmp_path / "a.jsonl", tmp_path, seed=1)
    assert prov["n_read"] == 2001 and prov["n_written"] == 100
    assert prov["source"] == "file" and prov["format"] == "conllu"
    assert prov["sha256"] == sha(path.read_bytes())
    assert prov["cap_seed"] == split_seed(1, "ud", "en", "dev")
    json.dumps(prov)  # the caller writes it as JSON
    first = read_jsonl(tmp_path / "a.jsonl", "tagging")
    prepare_split("ud", cfg, "en", "dev", tmp_path / "b.jsonl", tmp_path, seed=1)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    prepare_split("ud", cfg, "en", "dev", tmp_path / "c.jsonl", tmp_path, seed=2)
    assert read_jsonl(tmp_path / "c.jsonl") != first
    full = prepare_split("ud", ud_cfg(path), "en", "dev", tmp_path / "d.jsonl", tmp_path)
    order = [r["id"] for r in read_jsonl(tmp_path / "d.jsonl")]
    ids = [r["id"] for r in first]
    assert ids == sorted(ids, key=order.index)  # file order kept
    assert full["n_written"] == 2001 and full["cap_seed"] is None


def test_cap_records_is_deterministic() -> None:
    records = [{"id": str(i)} for i in range(50)]
    assert cap_records(records, 10, 7) == cap_records(records, 10, 7)
    assert cap_records(records, 10, 7) != cap_records(records, 10, 8)
    assert cap_records(records, 60, 7) == records


def test_prepare_broken_file_leaves_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.conllu"
    bad.write_text("1\tHi\thi\tINTJ\t_\t_\t0\troot\t_\t_\n2\tthere\n", encoding="utf-8")
    out = tmp_path / "out" / "en" / "dev.jsonl"
    with pytest.raises(DataError, match=f"{bad} line 2"):
        prepare_split("ud", ud_cfg(bad), "en", "dev", out, tmp_path)
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_prepare_checks_format_against_task_type(tmp_path: Path) -> None:
    cfg = ud_cfg(tmp_path / "x.conllu", task_type="classification")
    with pytest.raises(ValueError, match="format 'conllu' gives tagging records"):
        prepare_split("ud", cfg, "en", "dev", tmp_path / "o.jsonl", tmp_path)
