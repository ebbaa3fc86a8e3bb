"""Run configs: YAML files plus ``key=value`` dotted overrides, turned into validated dataclasses.

``kgnlu pretrain --config configs/NAME.yaml trainer.lr=3e-4 data.masking.rate=0.2`` reads the
file, applies each override in order, then builds the job's config dataclasses with
:func:`from_dict`. Values on the right of ``=`` are parsed as YAML scalars/flow collections, so
``3e-4`` is a float, ``true`` a bool, ``null`` None and ``[1, 2]`` a list. An override may only
change a key the file (or the dataclass defaults) already has, so a typo fails loudly with close
matches; ``+key=value`` adds a key that is not there yet (Hydra's convention).

Every run kind (pretrain, distill, kge, qa) assembles its config the same way, with
:func:`load_run_config`: the dataclass defaults, the file deep-merged over them, the overrides
(CLI ``key=value`` strings and flag mappings) in order, then :func:`from_dict`.

Only ``yaml.safe_load`` is used: configs never construct arbitrary Python objects.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
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


# ---------------------------------------------------------------------- run configs
#: a source: a YAML/JSON file, a mapping, or nothing (the defaults alone)
Source = str | Path | Mapping[str, Any] | None
#: one override layer: ``"key.sub=value"`` (CLI style) or a mapping (nested or ``{"key.sub": value}``)
Override = str | Mapping[str, Any] | None


def load_run_config(cls: type[T], source: Source = None,
                    overrides: Override | Sequence[Override] = (), *, replace: Sequence[str] = ()) -> T:
    """The one way to assemble a run config: defaults ← file ← overrides → dataclass ``cls``.

    1. ``cls``'s field defaults, recursively (nested dataclasses become nested mappings), so that an
       override may name any key the dataclasses know;
    2. ``source`` (a YAML or ``.json`` file, or a mapping) deep-merged over them: mappings merge key by
       key, lists and scalars replace; the dotted sections in ``replace`` (e.g. ``"objectives"``, a map
       of names that is the whole set) are replaced wholesale. A section typed ``X | None`` given as a
       mapping starts from ``X``'s defaults;
    3. each override in order: a ``"key.sub=value"`` string as :func:`apply_overrides` (the key must
       exist, ``+key=`` adds one), or a mapping deep-merged like the file, where ``None`` means "not
       given" (CLI flags left unset) and dotted keys are paths;
    4. :func:`from_dict`: unknown keys at any depth raise :class:`ConfigError` (E001) naming the key
       path and the closest known names; simple fields are type-checked.
    """
    return from_dict(cls, merge_run_config(cls, source, overrides, replace=replace))


def merge_run_config(cls: type, source: Source = None, overrides: Override | Sequence[Override] = (), *,
                     replace: Sequence[str] = ()) -> dict[str, Any]:
    """Steps 1–3 of :func:`load_run_config`: the merged plain mapping, not yet built into ``cls``."""
    raw = _fill_sections(cls, merge_config(run_defaults(cls), read_config(source), replace=replace))
    if overrides is None or isinstance(overrides, str | Mapping):
        overrides = [overrides]
    for layer in overrides:
        if layer is None:
            continue
        if isinstance(layer, str):
            raw = apply_overrides(raw, [layer])
        else:
            raw = merge_config(raw, _expand_dotted(layer), replace=replace, skip_none=True)
        raw = _fill_sections(cls, raw)
    return raw


def read_config(source: Source) -> dict[str, Any]:
    """A config's own mapping: a ``.json`` file, a YAML file, a mapping (copied), or ``{}`` for nothing."""
    if source is None or source == "":
        return {}
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source))
    path = Path(source)
    if path.suffix.lower() != ".json":
        return load_yaml(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"cannot read config {path}: {err.strerror or err}") from None
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of keys to values at the top, not a {type(data).__name__}")
    return data


def merge_config(base: Mapping[str, Any], top: Mapping[str, Any], *, replace: Sequence[str] = (),
                 skip_none: bool = False, _where: str = "") -> dict[str, Any]:
    """``top`` deep-merged over ``base`` (neither is changed): mappings merge key by key; lists and
    scalars replace; the dotted paths in ``replace`` are replaced wholesale; ``skip_none``: a ``None``
    in ``top`` means "not given" and keeps ``base``'s value."""
    out = copy.deepcopy(dict(base))
    for key, value in (_drop_unset(top) if skip_none else top).items():
        where = _join(_where, key)
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping) and where not in replace:
            out[key] = merge_config(out[key], value, replace=replace, _where=where)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _drop_unset(layer: Mapping[str, Any]) -> dict[str, Any]:
    """``layer`` without its ``None`` leaves, and without the sections that held only those."""
    out: dict[str, Any] = {}
    for key, value in layer.items():
        if isinstance(value, Mapping) and value:
            value = _drop_unset(value)
            if not value:
                continue
        if value is not None:
            out[key] = value
    return out


def run_defaults(cls: type) -> dict[str, Any]:
    """Every defaulted field of dataclass ``cls`` as plain YAML types (nested dataclasses as mappings);
    required fields are left out."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.default is not dataclasses.MISSING:
            value = f.default
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()
        else:
            continue
        out[f.name] = to_dict(value) if dataclasses.is_dataclass(value) else _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return copy.deepcopy(value)


def _expand_dotted(layer: Mapping[str, Any]) -> dict[str, Any]:
    """``{"model.dim": 8, "loss": {"margin": 6}}`` → ``{"model": {"dim": 8}, "loss": {"margin": 6}}``."""
    out: dict[str, Any] = {}
    for key, value in layer.items():
        *parents, last = str(key).split(".")
        nested: Any = {last: value}
        for part in reversed(parents):
            nested = {part: nested}
        out = merge_config(out, nested)
    return out


def _section_type(annotation: Any) -> tuple[type | None, bool]:
    """(the dataclass a field holds, whether it may be None), or (None, _) for other fields."""
    if dataclasses.is_dataclass(annotation):
        return annotation, False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        options = [a for a in args if a is not type(None)]
        if len(options) == 1 and dataclasses.is_dataclass(options[0]):
            return options[0], type(None) in args
    return None, False


def _fill_sections(cls: type, raw: dict[str, Any]) -> dict[str, Any]:
    """Give every nested dataclass section all its keys: ``X | None`` sections given as a mapping start
    from ``X``'s defaults, and a ``null`` non-optional section is its defaults (as :func:`from_dict`
    reads it), so that later overrides may name any of their keys."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        section, optional = _section_type(hints.get(f.name))
        if section is None or f.name not in raw:
            continue
        value = raw[f.name]
        if value is None and not optional:
            value = {}
        if isinstance(value, Mapping):
            raw[f.name] = _fill_sections(section, merge_config(run_defaults(section), value))
    return raw


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
        options = [a for a in args if a is not type(None)]
        if len(options) == 1 and dataclasses.is_dataclass(options[0]):
            _coerce(value, options[0], where)  # its own message names the nested key that is wrong
        wanted = " or ".join(_describe(a) for a in args)
        raise ConfigError(f"{where} must be {wanted}, got {value!r}")
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


def _describe(annotation: Any) -> str:
    """What a value of ``annotation`` looks like, for error messages."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return "one of " + ", ".join(map(repr, typing.get_args(annotation)))
    if origin in (list, tuple) or annotation in (list, tuple):
        return "a list"
    if origin is dict or annotation is dict or dataclasses.is_dataclass(annotation):
        return "a mapping"
    names = {float: "a number", int: "an integer", bool: "true or false", str: "a string", type(None): "null"}
    return names.get(annotation, str(annotation))
