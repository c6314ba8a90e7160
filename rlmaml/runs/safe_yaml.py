"""The one YAML loader of rlmaml's configs (config files, --set values, a run's config.yaml).

A config is a flat mapping of a few dozen keys, so the loader refuses what no config needs
and what turns a small document into a hang or a traceback:

- aliases (`*name`), refused outright rather than counted: PyYAML shares an aliased value
  instead of copying it, so nine nested lines of ten aliases load at once as 10^9 leaves,
  which every later repr, comparison or JSON dump of the config expands (a "billion laughs").
  Counting aliases would not bound that, as each alias multiplies the ones it refers to;
  anchors alone are harmless and allowed. `yaml.safe_dump` of a config writes no aliases,
  as no two of its keys share one list or mapping.
- nesting deeper than MAX_DEPTH (the composer recurses: 10,000 brackets raise RecursionError);
- documents larger than MAX_BYTES (the packaged configs are under 2 KiB).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from rlmaml.errors import UserError

MAX_BYTES = 64 * 1024
MAX_DEPTH = 32


class _Refused(Exception):
    """A document the loader will not build; the message says why."""


class _BoundedLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML is untyped here (see pyproject.toml): Any
    """SafeLoader (pure Python: the composer is the part that sees aliases and depth)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                f"uses the YAML alias *{event.anchor} (line {line}): configs take no aliases, write the value out"
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nests values more than {MAX_DEPTH} deep (line {line})")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def safe_load(text: str, source: str) -> Any:
    """The YAML value of `text`. yaml.YAMLError if it is not YAML (the caller words that);
    UserError starting with `source` (e.g. "config foo.yaml") if it is refused."""
    if len(text) > MAX_BYTES:
        raise UserError(f"{source} is longer than {MAX_BYTES:,} characters: not a config")
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    except _Refused as refusal:
        raise UserError(f"{source} {refusal}") from None
    finally:
        loader.dispose()


def read_config_text(path: Path, source: str) -> str:
    """The text of a config file, reading no more than a config can hold."""
    try:
        with Path(path).open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except OSError as error:
        raise UserError(f"{source} cannot be read: {error.strerror or error}") from None
    if len(data) > MAX_BYTES:
        raise UserError(f"{source} is larger than {MAX_BYTES:,} bytes: not a config")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{source} is not UTF-8 text: not a config") from None
