"""Translation engines that run on this machine, offline: Apertium and CTranslate2.

``apertium`` (:class:`ApertiumTranslator`): the rule-based Apertium engine from Debian packages
(``apt-get install apertium apertium-eng-spa``; GPL-2+). English -> Spanish (``eng-spa``), Catalan
(``eng-cat``) and Galician (``en-gl``) are packaged. Its quality is poor, which is what
low-resource MT looks like. Sentences are sent many per process call, separated by blank lines:
Apertium's text deformatter ends a sentence at a blank line (it inserts a sentence end there and
removes it again on output), so no word moves from one sentence into another, and the output
splits back into exactly one translation per input sentence. A batch whose output does not split
into as many pieces as it had sentences is translated again in halves, down to single sentences,
so sentence boundaries are kept whatever Apertium does with a line. ``-u`` drops the ``*``
marks of unknown words (they are copied through).

``ctranslate2`` (:class:`CTranslate2Translator`): a neural model directory a user converted to
CTranslate2 elsewhere (an OPUS-MT Marian model: ``ct2-transformers-converter --model
Helsinki-NLP/opus-mt-en-es --output_dir models/opus-mt-en-es --copy_files source.spm
target.spm``; NLLB/M2M100 with language tokens), tokenised with the model's SentencePiece models.
Needs ``pip install ctranslate2 sentencepiece``.

Both are cacheable: their :meth:`cache_key` names the engine, the model or language pair, and its
version, so a different model or an upgraded package never serves another's cache entries.
:func:`check_engine` checks, before any job runs, that the configured engine can translate into
every target on this machine.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .backends import (
    ApertiumConfig,
    CTranslate2Config,
    SourceItem,
    TranslateConfig,
    Translation,
    TranslationError,
    as_items,
    now_utc,
    one_line,
    tokenize,
)

log = logging.getLogger(__name__)

#: the Apertium mode of a language pair when ``translate.apertium.modes`` does not name one
APERTIUM_MODES: dict[tuple[str, str], str] = {
    ("en", "es"): "eng-spa",
    ("en", "ca"): "eng-cat",
    ("en", "gl"): "en-gl",
}
DEFAULT_DATADIR = "/usr/share/apertium"
_SEP = "\n\n"  # a blank line: a sentence boundary for Apertium's txt deformatter


def apertium_package(mode: str) -> str:
    """The Debian package of a mode: ``eng-cat_valencia`` -> ``apertium-eng-cat``."""
    return "apertium-" + mode.split("_")[0]


def install_hint(mode: str) -> str:
    return (
        f"sudo apt-get install apertium {apertium_package(mode)} (Debian/Ubuntu; "
        "apt-cache search apertium lists the packaged pairs)"
    )


def _run(args: Sequence[str], text: str = "", timeout: float | None = None) -> str:
    """Run a command, feeding ``text`` as UTF-8; its stdout, or a TranslationError."""
    try:
        res = subprocess.run(
            list(args),
            input=text,
            capture_output=True,
            encoding="utf-8",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TranslationError(
            f"{' '.join(args)}: no answer within {timeout:g} s (raise translate.apertium.timeout "
            "or lower translate.apertium.batch_size)"
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise TranslationError(f"{' '.join(args)}: {type(e).__name__}: {e}") from e
    if res.returncode != 0:
        said = (res.stderr.strip() or res.stdout.strip())[-2000:]
        raise TranslationError(f"{' '.join(args)} failed with exit status {res.returncode}: {said}")
    return res.stdout


@dataclass(frozen=True)
class ApertiumPair:
    """A resolved language pair: the mode, its mode file and the versions that made it."""

    src: str
    tgt: str
    mode: str
    packages: Mapping[str, str]  # Debian package -> version (or "sha256:..." if not packaged)

    @property
    def version(self) -> str:
        return "; ".join(f"{k} {v}" for k, v in self.packages.items())


class ApertiumTranslator:
    """Apertium, many sentences per ``apertium -u <mode>`` call (see the module docstring).

    ``pair=(src, tgt)`` resolves and checks that pair at once (the binary, the installed mode,
    the package versions), so a missing install fails before any sentence is read.
    """

    name = "apertium"
    cacheable = True

    def __init__(
        self,
        cfg: ApertiumConfig | None = None,
        *,
        segment: bool = True,
        pair: tuple[str, str] | None = None,
    ):
        self.cfg, self.segment = cfg or ApertiumConfig(), segment
        self._pairs: dict[tuple[str, str], ApertiumPair] = {}
        self._last: ApertiumPair | None = None
        if pair is not None:
            self.pair(*pair)

    # --- resolution -------------------------------------------------------------------------
    @property
    def datadir(self) -> Path:
        return Path(self.cfg.datadir or os.environ.get("APERTIUM_DATADIR") or DEFAULT_DATADIR)

    def _args(self, mode: str = "eng-spa") -> list[str]:
        return [self.binary(mode), *(["-d", self.cfg.datadir] if self.cfg.datadir else [])]

    def binary(self, mode: str = "eng-spa") -> str:
        """The path of the ``apertium`` command; missing: an error with the install line of
        ``mode``'s pair."""
        found = shutil.which(self.cfg.command)
        if found is None:
            raise TranslationError(
                f"apertium: the command {self.cfg.command!r} is not on PATH; install the engine "
                f"and the language pair: {install_hint(mode)} (English->Spanish: "
                "apertium-eng-spa, Catalan: apertium-eng-cat, Galician: apertium-en-gl)"
            )
        return found

    def mode_of(self, src: str, tgt: str) -> str:
        """The configured or default mode of ``src -> tgt`` (not yet checked)."""
        if tgt in self.cfg.modes:
            return str(self.cfg.modes[tgt])
        if (src, tgt) in APERTIUM_MODES:
            return APERTIUM_MODES[(src, tgt)]
        try:
            installed = ", ".join(self.installed_modes()) or "none"
        except TranslationError:
            installed = "none: Apertium is not installed"
        raise TranslationError(
            f"apertium: no mode known for {src}->{tgt}; set translate.apertium.modes.{tgt} to an "
            f"installed mode (installed: {installed}; `apertium -l` lists them, "
            "`apt-cache search apertium` the packaged pairs)"
        )

    @cached_property
    def _installed(self) -> tuple[str, ...]:
        listed = _run([*self._args(), "-l"], timeout=60).split()
        return tuple(m for m in listed if m != "*")

    def installed_modes(self) -> tuple[str, ...]:
        """The modes ``apertium -l`` lists."""
        return self._installed

    def check(self, src: str, tgt: str) -> str:
        """The mode of ``src -> tgt``, after checking that Apertium and the mode are installed."""
        mode = self.mode_of(src, tgt)
        self.binary(mode)
        if mode not in self.installed_modes():
            raise TranslationError(
                f"apertium: the {src}->{tgt} mode {mode!r} is not installed in {self.datadir} "
                f"(installed: {', '.join(self.installed_modes()) or 'none'}); install it: "
                f"{install_hint(mode)}, or set translate.apertium.modes.{tgt} / datadir"
            )
        return mode

    def pair(self, src: str, tgt: str) -> ApertiumPair:
        """The checked pair with its package versions (cached per pair)."""
        if (src, tgt) not in self._pairs:
            mode = self.check(src, tgt)
            self._pairs[(src, tgt)] = ApertiumPair(src, tgt, mode, self._versions(mode))
        self._last = self._pairs[(src, tgt)]
        return self._last

    def _versions(self, mode: str) -> dict[str, str]:
        """Versions of the engine and of the mode's package (``dpkg-query``); a pair installed
        outside the package manager gets the SHA-256 of its mode file and the files it names."""
        mode_file = self.datadir / "modes" / f"{mode}.mode"
        out: dict[str, str] = {}
        if shutil.which("dpkg-query"):
            owner = subprocess.run(
                ["dpkg-query", "-S", str(mode_file)], capture_output=True, text=True, check=False
            )
            pkgs = ["apertium"]
            if owner.returncode == 0 and ":" in owner.stdout:
                pkgs.append(owner.stdout.split(":", 1)[0].strip())
            q = subprocess.run(
                ["dpkg-query", "-W", "-f=${Package} ${Version}\\n", *pkgs],
                capture_output=True,
                text=True,
                check=False,
            )
            for line in q.stdout.splitlines():
                name, _, version = line.partition(" ")
                if version:
                    out[name] = version
        if "apertium" not in out:
            out["apertium"] = _run([self.binary(mode), "-V"], timeout=60).strip()
        if len(out) < 2:  # the pair is not a Debian package: fingerprint its data
            out[mode] = "sha256:" + _mode_fingerprint(mode_file)
        return out

    @property
    def version(self) -> str:
        """Versions of the last pair used (``pair`` resolves one)."""
        return self._last.version if self._last else "apertium (no language pair resolved yet)"

    def cache_key(self, src: str, tgt: str) -> str:
        p = self.pair(src, tgt)
        return f"apertium:{p.mode}:{p.packages.get(apertium_package(p.mode), p.version)}"

    # --- translation ------------------------------------------------------------------------
    def translate(self, items, src, tgt, *, on_result=None) -> list[Translation]:
        todo = as_items(items, src)
        pair = self.pair(src, tgt)
        out: list[Translation] = []
        bar = tqdm(total=len(todo), desc=f"apertium {pair.mode}", unit="sent", mininterval=10)
        for start in range(0, len(todo), self.cfg.batch_size):
            batch = todo[start : start + self.cfg.batch_size]
            lines = [one_line(it.text) for it in batch]
            done = iter(self.translate_lines([x for x in lines if x], pair))
            prov = {
                "engine": self.name,
                "version": pair.version,
                "date": now_utc(),
                "mode": pair.mode,
                "packages": dict(pair.packages),
            }
            for it, line in zip(batch, lines, strict=True):
                text = next(done) if line else ""
                tokens = tuple(tokenize(text, tgt, segment=self.segment))
                tr = Translation(it.id, text, tokens, self.name, prov)
                if on_result is not None:
                    on_result(it, tr)
                out.append(tr)
            bar.update(len(batch))
        bar.close()
        return out

    def translate_lines(self, lines: Sequence[str], pair: ApertiumPair) -> list[str]:
        """One translation per (non-empty, one-line) sentence, in order.

        The sentences go to one process, blank-line separated; if the output does not split into
        exactly ``len(lines)`` pieces, the halves are translated separately (recursively), so the
        result always has one translation per sentence.
        """
        if not lines:
            return []
        args = [*self._args(pair.mode), "-u", pair.mode]
        raw = _run(args, _SEP.join(lines) + _SEP, timeout=self.cfg.timeout)
        if len(lines) == 1:
            return [" ".join(raw.split())]
        parts = raw.split(_SEP)
        whole = not parts[-1].strip() and not any("\n" in p for p in parts[:-1])
        if len(parts) == len(lines) + 1 and whole:
            return [" ".join(p.split()) for p in parts[:-1]]
        log.warning(
            "apertium %s: %d sentences came back as %d pieces; translating the halves separately",
            pair.mode,
            len(lines),
            len(parts) - 1,
        )
        half = len(lines) // 2
        return self.translate_lines(lines[:half], pair) + self.translate_lines(lines[half:], pair)


def _mode_fingerprint(mode_file: Path) -> str:
    """SHA-256 (16 hex digits) of a mode file and of the data files it names."""
    h = hashlib.sha256()
    text = mode_file.read_text(encoding="utf-8") if mode_file.is_file() else ""
    h.update(text.encode())
    for name in sorted(set(re.findall(r"'(/[^']+)'", text))):
        p = Path(name)
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


# =============================================================================================
# CTranslate2


def _require(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            "translate.engine 'ctranslate2' needs the ctranslate2 and sentencepiece packages: "
            "pip install ctranslate2 sentencepiece"
        ) from None


@dataclass(frozen=True)
class CTranslate2Files:
    """The files of a CTranslate2 model directory the engine reads."""

    model_dir: Path
    source_spm: Path
    target_spm: Path


def ctranslate2_files(cfg: CTranslate2Config, src: str, tgt: str) -> CTranslate2Files:
    """Resolve and check the model directory and SentencePiece models of ``src -> tgt``."""
    model_dir = cfg.resolve(src, tgt)
    if not (model_dir / "model.bin").is_file():
        raise TranslationError(
            f"{model_dir}: not a CTranslate2 model directory (no model.bin) for {src}->{tgt}; "
            "convert a model there, e.g. ct2-transformers-converter --model <downloaded model "
            f"directory> --output_dir {model_dir} --copy_files source.spm target.spm, or set "
            "translate.ctranslate2.model_dir"
        )
    spm = []
    for key in ("source_spm", "target_spm"):
        path = model_dir / getattr(cfg, key)
        if not path.is_file():
            raise TranslationError(
                f"{path}: SentencePiece model not found (translate.ctranslate2.{key}); copy the "
                "model's SentencePiece files into the model directory (--copy_files source.spm "
                "target.spm when converting) or point the key at them"
            )
        spm.append(path)
    return CTranslate2Files(model_dir, spm[0], spm[1])


def _fingerprint(paths: Sequence[Path]) -> str:
    """SHA-256 over the names and contents of ``paths`` (files, or every file in a directory)."""
    h = hashlib.sha256()
    files: list[Path] = []
    for p in paths:
        files += sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    for f in files:
        h.update(f.name.encode() + b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


class CTranslate2Translator:
    """A CTranslate2 model of one language pair (see :class:`CTranslate2Config`).

    The source text goes through the source SentencePiece model (plus ``source_prefix`` and
    ``</s>``), ``translate_batch`` decodes ``batch_size`` sentences at a time with beam search,
    and the best hypothesis (less ``target_prefix``) is decoded by the target SentencePiece
    model and tokenised for tagging by :func:`~xlt.translate.backends.tokenize`.
    """

    name = "ctranslate2"
    cacheable = True

    def __init__(
        self,
        cfg: CTranslate2Config,
        *,
        src: str = "en",
        tgt: str = "",
        segment: bool = True,
    ):
        ct2 = _require("ctranslate2")
        spm = _require("sentencepiece")
        self.cfg, self.src, self.tgt, self.segment = cfg, src, tgt, segment
        self.files = ctranslate2_files(cfg, src, tgt)
        self.source_sp = spm.SentencePieceProcessor(model_file=str(self.files.source_spm))
        self.target_sp = spm.SentencePieceProcessor(model_file=str(self.files.target_spm))
        self.model = ct2.Translator(
            str(self.files.model_dir),
            device=cfg.device,
            compute_type=cfg.compute_type,
            intra_threads=cfg.intra_threads,
        )
        self.fingerprint = _fingerprint(
            [self.files.model_dir, self.files.source_spm, self.files.target_spm]
        )[:16]
        self.version = f"ctranslate2 {ct2.__version__}; model sha256:{self.fingerprint}"

    def _decoding(self) -> dict[str, Any]:
        keys = ("source_prefix", "target_prefix", "add_eos", "beam_size", "max_decoding_length")
        return {k: v for k, v in asdict(self.cfg).items() if k in keys}

    def cache_key(self, src: str, tgt: str) -> str:
        """The model's fingerprint and a hash of the decoding settings that change the output."""
        blob = json.dumps({**self._decoding(), "tgt": tgt}, sort_keys=True, default=dict)
        return f"ctranslate2:{self.fingerprint}:{hashlib.sha256(blob.encode()).hexdigest()[:8]}"

    def translate(self, items, src, tgt, *, on_result=None) -> list[Translation]:
        if self.cfg.resolve(src, tgt) != self.files.model_dir:
            raise ValueError(
                f"this CTranslate2 engine holds the model {self.files.model_dir} "
                f"({self.src}->{self.tgt}); make one per language pair for {src}->{tgt}"
            )
        todo = as_items(items, src)
        prefix = self.cfg.target_prefix.get(tgt, "").split()
        prov = {
            "engine": self.name,
            "version": self.version,
            "model_dir": str(self.files.model_dir),
            "decoding": self._decoding(),
        }
        out: list[Translation] = []
        bar = tqdm(total=len(todo), desc=f"ctranslate2 {src}->{tgt}", unit="sent", mininterval=10)
        for start in range(0, len(todo), self.cfg.batch_size):
            batch = todo[start : start + self.cfg.batch_size]
            texts = self._translate_batch(batch, prefix, src, tgt)
            stamp = {**prov, "date": now_utc()}
            for it, text in zip(batch, texts, strict=True):
                tokens = tuple(tokenize(text, tgt, segment=self.segment))
                tr = Translation(it.id, text, tokens, self.name, stamp)
                if on_result is not None:
                    on_result(it, tr)
                out.append(tr)
            bar.update(len(batch))
        bar.close()
        return out

    def _translate_batch(
        self, batch: Sequence[SourceItem], prefix: list[str], src: str, tgt: str
    ) -> list[str]:
        lines = [one_line(it.text) for it in batch]
        send = [i for i, x in enumerate(lines) if x]
        head = self.cfg.source_prefix.split()
        tail = ["</s>"] if self.cfg.add_eos else []
        pieces = [head + self.source_sp.encode(lines[i], out_type=str) + tail for i in send]
        texts = [""] * len(lines)
        if not pieces:
            return texts
        try:
            results = self.model.translate_batch(
                pieces,
                target_prefix=[prefix] * len(pieces) if prefix else None,
                beam_size=self.cfg.beam_size,
                max_decoding_length=self.cfg.max_decoding_length,
            )
        except Exception as e:  # ctranslate2 raises RuntimeError/ValueError from C++
            raise TranslationError(
                f"ctranslate2 {src}->{tgt} ({self.files.model_dir}): sentences "
                f"{batch[0].id!r}..{batch[-1].id!r} failed: {type(e).__name__}: {e}. Every "
                "sentence translated before them is in the translation cache; re-running resumes"
            ) from e
        for i, res in zip(send, results, strict=True):
            hyp = list(res.hypotheses[0])
            if prefix and hyp[: len(prefix)] == prefix:
                hyp = hyp[len(prefix) :]
            texts[i] = " ".join(self.target_sp.decode(hyp).split())
        return texts


# =============================================================================================
# the workflow-level check


def check_engine(translate: Mapping[str, Any]) -> None:
    """Check that ``translate.engine`` can translate ``translate.source`` into every
    ``translate.targets`` language on this machine; raise an error naming the fix otherwise.

    ``translate`` is the config's ``translate`` section. The workflow calls this when it reads
    the config, so a missing engine, language pair or model fails before any job runs.
    Apertium: the binary and the mode of every target are installed (``apertium -l``).
    CTranslate2: the packages import and every target's model directory and SentencePiece
    models exist (the model itself is not loaded). The other engines need nothing installed
    (googletrans needs the network, checked when it translates; file is a job input).
    """
    cfg = TranslateConfig.from_config(translate)
    src = str(translate.get("source", "en"))
    targets = [str(t) for t in translate.get("targets") or []]
    if cfg.engine == "apertium":
        engine = ApertiumTranslator(cfg.apertium, segment=cfg.segment)
        for tgt in targets:
            engine.check(src, tgt)
    elif cfg.engine == "ctranslate2":
        _require("ctranslate2")
        _require("sentencepiece")
        for tgt in targets:
            ctranslate2_files(cfg.ctranslate2, src, tgt)
