"""Finding the modules of a package that each define one thing (a source, a destination)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from typing import Any


def discover(package: str, path: Iterable[str], attribute: str) -> list[Any]:
    """`attribute` of every module of `package` (found on `path`) but `base` and private ones, by module name."""
    found = []
    for module in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
        if module.name != "base" and not module.name.startswith("_"):
            found.append(getattr(importlib.import_module(f"{package}.{module.name}"), attribute))
    return found
