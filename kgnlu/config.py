"""Run configs: YAML files plus ``key=value`` dotted overrides, turned into validated dataclasses.

``kgnlu pretrain --config configs/NAME.yaml trainer.lr=3e-4 data.masking.rate=0.2`` reads the
file, applies each override in order, then builds the job's config dataclasses with
:func:`from_dict`. Values on the right of ``=`` are parsed as YAML scalars/flow collections, so
``3e-4`` is a float, ``true`` a bool, ``null`` None and ``[1, 2]`` a list. An override may only
change a key the file (or the dataclass defaults) already has, so a typo fails loudly with close
matches; ``+key=value`` adds a key that is not there yet (Hydra's convention).

Only ``yaml.safe_load`` is used: configs never construct arbitrary Python objects.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import re
import types
import typing
from collections.abc import Mapping, Sequence
from difflib import get_close_matches
from pathlib import Path
from typing import Any, TypeVar

import yaml

from kgnlu.errors import ConfigError
from kgnlu.io import atomic_write

T = TypeVar("T")
_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")


def load_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML file whose top level is a mapping (an empty file is ``{}``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read config {path}: {err.strerror or err}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of keys to values at the top, not a {type(data).__name__}")
    return data


def parse_override(text: str) -> tuple[list[str], Any, bool]:
    """``a.b.c=value`` → (["a", "b", "c"], parsed value, adds_new_key)."""
    key, sep, raw = text.partition("=")
    adds = key.startswith("+")
    key = key.removeprefix("+").strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(f"override {text!r} must look like key.sub=value (or +key=value to add a key)")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw  # not YAML (e.g. an unbalanced bracket): keep the plain string
    if isinstance(value, str) and _FLOAT.match(value):
        value = float(value)  # YAML 1.1 reads "3e-4" (no dot) as a string; everyone means the number
    return key.split("."), value, adds


def apply_overrides(config: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """A deep copy of ``config`` with every override applied, in order."""
    result = copy.deepcopy(dict(config))
    for text in overrides:
        path, value, adds = parse_override(text)
        node: Any = result
        for depth, part in enumerate(path):
            last = depth == len(path) - 1
            where = ".".join(path[: depth + 1])
            if isinstance(node, list):
                if not part.lstrip("-").isdigit() or not -len(node) <= int(part) < len(node):
                    raise ConfigError(f"override {text!r}: {where} is not an index of a {len(node)}-item list")
                part = int(part)
            elif isinstance(node, dict):
                if part not in node:
                    if not adds:
                        close = get_close_matches(part, [str(k) for k in node], n=3)
                        hint = f" Did you mean {', '.join(close)}?" if close else ""
                        raise ConfigError(f"override {text!r}: no key {where!r} in the config.{hint} "
                                          f"Use +{'.'.join(path)}=... to add a new key.")
                    node[part] = value if last else {}
            else:
                raise ConfigError(f"override {text!r}: {'.'.join(path[:depth])} is a value, not a mapping")
            if last:
                node[part] = value
            else:
                node = node[part]
    return result


def load_config(path: str | Path | None, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """Read ``path`` (or start empty) and apply ``overrides``."""
    return apply_overrides(load_yaml(path) if path is not None else {}, overrides)


def save_config(config: Mapping[str, Any] | Any, path: str | Path) -> Path:
    """Write a dict or dataclass as YAML, atomically (runs keep the resolved config beside their output)."""
    data = to_dict(config) if dataclasses.is_dataclass(config) else dict(config)
    with atomic_write(path) as f:
        yaml.safe_dump(data, f, sort_keys=False)
    return Path(path)


def to_dict(config: Any) -> dict[str, Any]:
    """A dataclass as plain YAML/JSON types (tuples become lists)."""
    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    return plain(dataclasses.asdict(config))


# ---------------------------------------------------------------------- dataclass building
def from_dict(cls: type[T], data: Mapping[str, Any] | None, where: str = "") -> T:
    """Build dataclass ``cls`` from a mapping: unknown keys and wrongly typed values raise ConfigError.

    Nested dataclass fields are built recursively from nested mappings; ints are accepted where a
    float is expected; lists where a tuple is. The dataclass's own ``__post_init__`` then checks
    value ranges.
    """
    if data is None:
        data = {}
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where or cls.__name__} must be a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [k for k in data if k not in fields]
    if unknown:
        key = unknown[0]
        close = get_close_matches(str(key), fields, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"unknown key {_join(where, key)!r} for {cls.__name__}.{hint} "
                          f"Known: {', '.join(fields)}.")
    hints = typing.get_type_hints(cls)
    kwargs = {name: _coerce(value, hints[name], _join(where, name)) for name, value in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as err:  # a required field is missing
        raise ConfigError(f"{where or cls.__name__}: {err}") from None


def _join(where: str, key: Any) -> str:
    return f"{where}.{key}" if where else str(key)


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for option in (a for a in args if a is not type(None)):
            with contextlib.suppress(ConfigError):
                return _coerce(value, option, where)
        raise ConfigError(f"{where}: {value!r} matches none of {annotation}")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{where} must be one of {', '.join(map(repr, args))}, got {value!r}")
        return value
    if dataclasses.is_dataclass(annotation):
        return from_dict(annotation, value, where)
    if origin in (list, tuple) or annotation in (list, tuple):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(f"{where} must have {len(args)} items, got {len(value)}")
            return tuple(_coerce(v, a, f"{where}.{i}") for i, (v, a) in enumerate(zip(value, args, strict=True)))
        item = args[0] if args else Any
        items = [_coerce(v, item, f"{where}.{i}") for i, v in enumerate(value)]
        return tuple(items) if (origin or annotation) is tuple else items
    if origin is dict or annotation is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where} must be a mapping, got {value!r}")
        return dict(value)
    if annotation is float:
        if isinstance(value, str) and _FLOAT.match(value.strip()):
            return float(value)  # "lr: 3e-4" in a YAML file arrives as a string (YAML 1.1)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where} must be a number, got {value!r}")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be an integer, got {value!r}")
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {value!r}")
        return value
    if annotation is type(None):
        if value is not None:
            raise ConfigError(f"{where} must be null, got {value!r}")
        return None
    return value
