"""How a config dataclass is its own schema: each field's type, default, range and doc become
the rules a value is checked against, the same rules whether the value comes from YAML,
`key=value` or Python.

A field is declared as `horizon: int = field(metadata=spec("steps per episode", minimum=1))`;
its kind comes from the annotation (`int`, `float`, `bool`, `str`, `Literal["a", "b"]` for a
choice, `Mapping[str, Any]`, `tuple[int, ...]` for a list of integers), its default from the
dataclass (none: every config must set it; keys added after runs were saved have one, so
old runs still load), its heading from the docstring of the class that declares it."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import math
import reprlib
import typing
from collections.abc import Mapping
from typing import Any, Literal

from rlmaml.errors import UserError

KIND_NAMES = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "str": "a string",
    "dict": "a mapping",
    "int_list": "a list of integers",
}
SCALAR_KINDS: dict[object, str] = {bool: "bool", int: "int", float: "float", str: "str"}


def spec(doc: str, minimum: float | None = None, maximum: float | None = None) -> dict[str, Any]:
    """A field's metadata: what the key means in one line (units, the paper's value), and
    its bounds (a list's bounds hold for each of its items)."""
    return {"doc": doc, "minimum": minimum, "maximum": maximum}


@dataclasses.dataclass(frozen=True)
class KeySpec:
    """One config key as the schema sees it."""

    name: str
    kind: str  # a key of KIND_NAMES
    doc: str
    group: str  # the first line of the declaring class's docstring
    default: Any = dataclasses.MISSING  # MISSING: every config sets it
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None

    @property
    def required(self) -> bool:
        return self.default is dataclasses.MISSING


def kind_of(hint: Any) -> tuple[str, tuple[str, ...] | None]:
    """(kind, choices) of a field's resolved annotation."""
    origin = typing.get_origin(hint)
    if origin is Literal:
        return "str", typing.get_args(hint)
    if origin is tuple:
        return "int_list", None
    if origin is Mapping:
        return "dict", None
    return SCALAR_KINDS[hint], None


def heading(cls: type) -> str:
    return (cls.__doc__ or cls.__name__).strip().splitlines()[0]


def schema_of(cls: type) -> dict[str, KeySpec]:
    """The config dataclass's keys in field order (the order of config.yaml)."""
    hints = typing.get_type_hints(cls)
    owners = {name: klass for klass in reversed(cls.__mro__) for name in inspect.get_annotations(klass)}
    keys = {}
    for field in dataclasses.fields(cls):
        kind, choices = kind_of(hints[field.name])
        metadata = field.metadata
        group = heading(owners[field.name])
        keys[field.name] = KeySpec(
            field.name, kind, metadata["doc"], group, field.default, metadata["minimum"], metadata["maximum"], choices
        )
    return keys


class ConfigFields:
    """What every config dataclass does: check its values on construction (a UserError
    naming the key, whether built from YAML, `dataclasses.replace` or by hand) and give its
    plain mapping back."""

    def __post_init__(self) -> None:
        for name, key in schema_of(type(self)).items():
            value = check_value(key, plain(getattr(self, name)))
            object.__setattr__(self, name, tuple(value) if key.kind == "int_list" else value)

    def to_mapping(self) -> dict[str, Any]:
        """The config as config.yaml and a checkpoint's "config" hold it: plain YAML values
        (lists, dicts), keys in field order."""
        return {name: plain(getattr(self, name)) for name in schema_of(type(self))}


def plain(value: Any) -> Any:
    """A field's value as YAML holds it: a tuple as a list, a mapping as a dict of its own."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return copy.deepcopy(dict(value))
    return value


# Values in messages are shortened: a config's list may be long, a YAML integer hundreds of digits.
SHORT = reprlib.Repr()
SHORT.maxlevel, SHORT.maxlist, SHORT.maxdict, SHORT.maxstring, SHORT.maxlong, SHORT.maxother = 3, 8, 8, 60, 40, 60


def shown(value: Any) -> str:
    return SHORT.repr(value)


def bound(number: float) -> str:
    """A schema's bound as written: 4294967295, not 4.29497e+09."""
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def check_value(key: KeySpec, value: Any) -> Any:
    """The value converted to the key's kind, or UserError naming the key."""
    name = key.name
    if key.kind == "float" and isinstance(value, str):
        value = as_number(value)  # YAML 1.1 reads 1e-2 (no dot) as a string
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "str": isinstance(value, str),
        "dict": isinstance(value, dict),
        "int_list": isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value),
    }[key.kind]
    if not ok:
        raise UserError(f"config key '{name}' must be {KIND_NAMES[key.kind]}, got {shown(value)}")
    if key.kind == "float":
        try:
            value = float(value)
        except OverflowError:  # an integer beyond the largest float
            value = math.inf
        if not math.isfinite(value):
            raise UserError(f"config key '{name}' must be a finite number, got {shown(value)}")
    if key.minimum is not None:
        values = value if key.kind == "int_list" else [value]
        if any(v < key.minimum for v in values):
            raise UserError(f"config key '{name}' must be at least {bound(key.minimum)}, got {shown(value)}")
    if key.maximum is not None and value > key.maximum:
        raise UserError(f"config key '{name}' must be at most {bound(key.maximum)}, got {shown(value)}")
    if key.choices is not None and value not in key.choices:
        raise UserError(f"config key '{name}' must be one of {', '.join(key.choices)}, got {shown(value)}")
    return value


def as_number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text
