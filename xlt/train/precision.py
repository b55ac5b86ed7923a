"""Which floating-point precision a job trains and scores in: ``finetune.precision``.

``fp32``, ``bf16`` (autocast to bfloat16) and ``fp16`` (autocast, CUDA only) are taken as given.
``auto`` (the default) chooses per job, on the machine the job runs on:

- **bf16** where the device multiplies bfloat16 matrices natively — a CUDA GPU that reports bf16
  support, or a CPU with Intel AMX-BF16 or AVX512-BF16 (read from the CPU's flags, never assumed)
  — and the encoder is a real one (``bundled`` or ``hub``);
- **fp32** for a task kind whose bf16 scores have not been shown within tolerance of fp32's on
  real runs (:attr:`xlt.tasks.base.TaskKind.bf16_parity`): only tagging (UD POS) has; NER
  (WikiANN) and classification (SIB-200) were measured and missed on some languages
  (docs/real-data.md), QA, relations and parsing are unmeasured. ``precision: bf16`` still asks
  for bf16 on any kind;
- **fp32** elsewhere, and always for the ``tiny`` encoder the workflow trains itself: bf16 would
  be faster for it too where the CPU has the units (measured 1.27x fine-tuning, 1.73x scoring on
  an AMX Xeon, one thread), but the default's numbers would then depend on the machine; in fp32
  they agree across CPU kinds in every table cell but one IWDA model's (docs/development.md).

The detection and the choice are written to every candidate's record (``info.precision``), so a
table's provenance says which precision made it.
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path
from typing import Any

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")
REAL_ENCODERS = ("bundled", "hub")


@functools.cache
def cpu_info() -> dict[str, Any]:
    """The CPU model and its bf16 matrix flags (from ``/proc/cpuinfo`` on Linux; none elsewhere)."""
    model, flags = platform.processor() or platform.machine(), set()
    path = Path("/proc/cpuinfo")
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                model = value.strip()
            elif key.strip() in ("flags", "Features"):
                flags |= set(value.split())
    return {"model": model, "bf16_flags": sorted(flags & set(BF16_CPU_FLAGS))}


def native_bf16(device_type: str) -> bool:
    """Does the device multiply bfloat16 matrices natively?"""
    if device_type == "cuda":
        import torch

        return bool(torch.cuda.is_bf16_supported())
    return bool(cpu_info()["bf16_flags"])


def resolve(requested: str, device_type: str, encoder_kind: str | None, task_kind: str | None = None) -> dict[str, Any]:  # fmt: skip
    """The precision a job uses for ``finetune.precision: requested`` on ``device_type``
    (``cpu`` / ``cuda``) with an encoder of ``encoder_kind`` (``tiny``, ``bundled``, ``hub``;
    ``None``: unknown, treated as real) for a task of ``task_kind`` (``None``: not asked, as for
    a kind at parity): ``{"requested", "used", "reason", "device", "cpu"}``."""
    if requested not in PRECISIONS:
        raise ValueError(f"finetune.precision must be one of {PRECISIONS}, got {requested!r}")
    info: dict[str, Any] = {"requested": requested, "device": device_type}
    if device_type == "cpu":
        info["cpu"] = cpu_info()
    if requested != "auto":
        return {**info, "used": requested, "reason": "as configured"}
    if encoder_kind == "tiny":
        return {
            **info,
            "used": "fp32",
            "reason": "tiny encoder: fp32 (bf16 would make its numbers depend on the CPU's bf16 units)",
        }
    if task_kind is not None:
        from xlt.tasks import get_kind

        if not get_kind(task_kind).bf16_parity:
            return {
                **info,
                "used": "fp32",
                "reason": f"task kind {task_kind!r}: bf16 scores not shown within tolerance of fp32 "
                "(docs/real-data.md); precision: bf16 asks for it",
            }
    if native_bf16(device_type):
        what = "GPU bf16 support" if device_type == "cuda" else f"CPU flags {info['cpu']['bf16_flags']}"  # fmt: skip
        return {**info, "used": "bf16", "reason": f"native bf16 matrix units ({what})"}
    return {**info, "used": "fp32", "reason": "no native bf16 matrix units"}
