"""A deliberately small config schema: ``{field: ConfigField(type, required, help, default)}``.

Connectors declare what an account's ``connector_config`` may hold; ``validate_config`` checks a mapping against it
and returns a clean ``dict`` with defaults filled in, or raises ``ConfigError`` naming every bad field at once.
Plain ``(type, required, help)`` tuples are accepted in declarations and normalised to ``ConfigField``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from dandelion.connectors.errors import ConfigError

ALLOWED_TYPES: tuple[type, ...] = (str, int, float, bool, list, dict)


class ConfigField(NamedTuple):
    """One config field. ``type`` is one of ``str, int, float, bool, list, dict``."""

    type: type
    required: bool = False
    help: str = ""
    default: Any = None


ConfigSchema = Mapping[str, ConfigField]


def normalise_schema(schema: Mapping[str, Any], *, owner: str = "connector") -> dict[str, ConfigField]:
    """Turn a declared schema (``ConfigField`` or plain tuples) into ``{name: ConfigField}``; reject nonsense early."""
    out: dict[str, ConfigField] = {}
    for name, spec in schema.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise TypeError(f"{owner}.config_schema: field name {name!r} must be an identifier")
        field = spec if isinstance(spec, ConfigField) else ConfigField(*spec)
        if field.type not in ALLOWED_TYPES:
            raise TypeError(
                f"{owner}.config_schema[{name!r}]: type must be one of {ALLOWED_TYPES}, not {field.type!r}"
            )
        if field.required and field.default is not None:
            raise TypeError(f"{owner}.config_schema[{name!r}]: a required field cannot have a default")
        out[name] = field
    return out


def _type_ok(value: Any, expected: type) -> bool:
    if expected is float:  # an int is a fine float; a bool is neither
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def validate_config(schema: Mapping[str, ConfigField], config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check ``config`` against ``schema``; return a new dict with defaults filled in.

    Unknown fields, missing required fields (``None`` and ``""`` count as missing) and wrong types are all reported
    together in one ``ConfigError``.
    """
    config = dict(config or {})
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name in sorted(set(config) - set(schema)):
        errors[name] = "unknown field"
    for name, field in schema.items():
        value = config.get(name)
        if value is None or value == "":
            if field.required:
                errors[name] = "required"
            elif field.default is not None:
                clean[name] = field.default
            continue
        if not _type_ok(value, field.type):
            errors[name] = f"must be of type {field.type.__name__}, not {type(value).__name__}"
            continue
        clean[name] = float(value) if field.type is float else value
    if errors:
        raise ConfigError(errors)
    return clean
