"""The Meta-World families rlmaml offers, by name; each in a module of its own, loaded when asked for.

ML10's train families in Meta-World's order, then its test families; ML1 takes any of them.
"""

from __future__ import annotations

import importlib
import importlib.util

from .base import TaskFamily

# rlmaml's name (Meta-World's without "-v3") -> (module, class)
MODULES: dict[str, tuple[str, str]] = {
    "reach": ("reach", "Reach"),
    "push": ("push", "Push"),
    "pick-place": ("pick_place", "PickPlace"),
    "door-open": ("door_open", "DoorOpen"),
    "drawer-close": ("drawer_close", "DrawerClose"),
    "button-press-topdown": ("button_press_topdown", "ButtonPressTopdown"),
    "peg-insert-side": ("peg_insert_side", "PegInsertSide"),
    "window-open": ("window_open", "WindowOpen"),
    "sweep": ("sweep", "Sweep"),
    "basketball": ("basketball", "Basketball"),
    "drawer-open": ("drawer_open", "DrawerOpen"),
    "door-close": ("door_close", "DoorClose"),
    "shelf-place": ("shelf_place", "ShelfPlace"),
    "sweep-into": ("sweep_into", "SweepInto"),
    "lever-pull": ("lever_pull", "LeverPull"),
}
ML10_TRAIN = (
    "reach", "push", "pick-place", "door-open", "drawer-close",
    "button-press-topdown", "peg-insert-side", "window-open", "sweep", "basketball",
)  # fmt: skip
ML10_TEST = ("drawer-open", "door-close", "shelf-place", "sweep-into", "lever-pull")
_LOADED: dict[str, TaskFamily] = {}


def available() -> list[str]:
    """The families whose module is present, in MODULES's order."""
    return [name for name, (module, _) in MODULES.items() if importlib.util.find_spec(f"{__name__}.{module}")]


def family_named(name: str) -> TaskFamily:
    """The family called `name`; ValueError listing the families on offer."""
    if name not in MODULES or name not in available():
        raise ValueError(f"family must be one of {', '.join(available())}, got {name!r}")
    if name not in _LOADED:
        module, cls = MODULES[name]
        _LOADED[name] = getattr(importlib.import_module(f"{__name__}.{module}"), cls)()
    return _LOADED[name]
