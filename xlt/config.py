"""Validating a configuration against ``schemas/config.schema.yaml``, with one-line errors.

Snakemake's own ``validate`` prints the whole schema and the whole config when a key is wrong
(over 1,600 lines for a top-level typo). :func:`validate` checks the same schema, fills in its
defaults exactly as Snakemake does, and raises a :class:`~xlt.plan.ConfigError` whose message is
one line naming the key, what is wrong and the fix (for an unknown key, the nearest valid one).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """An invalid configuration value (the message names the key and the fix)."""


NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
NAME_RULE = (
    "names may use letters, digits, '_', '.' and '-', start with a letter or digit and have at "
    "most 64 characters (a name becomes a directory under results/)"
)
_NAME = re.compile(NAME_PATTERN)


def check_name(name: Any, key: str) -> str:
    """``name`` if it is a safe file-system name for ``key``, else a ConfigError naming the fix."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"{key}: {name!r} is not a valid name; {NAME_RULE}")
    return name


def load_schema(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _where(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "config"


def _message(error) -> str:
    """One line for one jsonschema error: the key, the problem and, where possible, the fix."""
    where = _where(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        known = list(error.schema.get("properties", {}))
        unknown = [k for k in error.instance if k not in known]
        parts = []
        for key in unknown:
            near = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f"did you mean {near[0]!r}?" if near else f"valid keys: {', '.join(known)}"
            parts.append(f"unknown key {key!r} ({hint})")
        return f"{where}: {'; '.join(parts)}"
    if error.validator == "propertyNames":
        return f"{where}: invalid key {error.instance!r}: {error.message}"
    if error.validator == "pattern" and error.validator_value == NAME_PATTERN:
        return f"{where}: {error.instance!r} is not a valid name; {NAME_RULE}"
    if error.validator == "required":
        return f"{where}: {error.message}"
    return f"{where}: {error.message}"


def check_finite(obj: Any, path: tuple[str | int, ...] = ()) -> None:
    """Refuse ``.inf`` and ``.nan`` anywhere in ``obj``: no setting of xlt means "infinite", and
    a non-finite number passes every range check of the schema (``nan >= 0`` is False, so it is
    not even reported as out of range) yet hangs or silently corrupts what uses it (an infinite
    prior weight, a NaN learning rate)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        raise ConfigError(
            f"{_where(path)}: {obj!r} is not a finite number; every number in the configuration "
            "must be finite (write a finite value, e.g. 1.0e6 for a large weight)"
        )
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            check_finite(value, (*path, key))
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            check_finite(value, (*path, i))


def validate(config: MutableMapping[str, Any], schema_path: str | Path) -> None:
    """Check ``config`` against the schema and fill in its defaults (in place); every number
    must be finite (:func:`check_finite`)."""
    from jsonschema import Draft202012Validator, validators
    from jsonschema.exceptions import best_match
    from referencing import Registry, Resource

    schema = load_schema(schema_path)
    schema["$id"] = Path(schema_path).resolve().as_uri()
    registry = Registry().with_resource(schema["$id"], Resource.from_contents(schema))
    base = Draft202012Validator
    check_properties = base.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, sub):
        if isinstance(instance, dict):
            for prop, subschema in properties.items():
                if isinstance(subschema, Mapping) and "default" in subschema:
                    instance.setdefault(prop, subschema["default"])
        yield from check_properties(validator, properties, instance, sub)

    Validator = validators.extend(base, {"properties": set_defaults})
    validator = Validator(schema, registry=registry)
    if not isinstance(config, dict):
        raise ConfigError("the configuration must be a mapping of keys to values")
    check_finite(config)
    errors = list(validator.iter_errors(config))
    if errors:
        error = best_match(errors)
        # an unknown or misspelt key is the most likely cause of everything else: report it first
        for e in errors:
            if e.validator in ("additionalProperties", "propertyNames"):
                error = e
                break
        raise ConfigError(_message(error))
