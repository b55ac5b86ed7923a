"""Value checks of the IWDA study's settings dataclasses (torch-free).

Each dataclass (:class:`~xlt.studies.iwda.iwda.IWDAConfig`, ``SelfTrainConfig``,
``DistillConfig``) names its rules once; a wrong value raises ``ValueError`` whose one line names
the config key (``iwda.stage2.lr``, ...) and what it must be, so that the settings check
(:mod:`.settings`) stops a workflow before any job, and a library caller gets the same message.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

Rule = tuple[Callable[[Any], bool], str]


def is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def positive(v: Any) -> bool:
    return is_number(v) and v > 0


def non_negative(v: Any) -> bool:
    return is_number(v) and v >= 0


def unit(v: Any) -> bool:
    return is_number(v) and 0 <= v <= 1


def at_least_one(v: Any) -> bool:
    return is_int(v) and v >= 1


def optional(ok: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or ok(v)


def check(section: str, obj: Any, rules: Mapping[str, Rule]) -> None:
    """Raise ``ValueError("{section}.{key}: {value!r} is invalid; use {need}")`` for the first
    field of ``obj`` that breaks its rule."""
    for key, (ok, need) in rules.items():
        value = getattr(obj, key)
        if not ok(value):
            raise ValueError(f"{section}.{key}: {value!r} is invalid; use {need}")
