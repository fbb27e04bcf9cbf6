"""Device and agent code on real Squirrel VMs for the simulator (see imptsh/sim/README.md).

The VM comes from the optional ``squirrel-lang-sq305`` package (``pip install imptsh[squirrel]``),
which only the runner's worker processes load. Importing this package never fails without it:
``available()`` says whether the runner can be used and ``unavailable_reason()`` why not.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .runner import SquirrelRunner

__all__ = ["SquirrelRunner", "available", "unavailable_reason"]


def unavailable_reason() -> str | None:
    """Why ``SquirrelRunner`` cannot run here (one line), or None when it can."""
    if not sys.platform.startswith("linux"):
        return f"the Squirrel runner needs Linux (this is {sys.platform})"
    try:
        importlib.metadata.distribution("squirrel-lang-sq305")
    except importlib.metadata.PackageNotFoundError:
        if platform.machine() not in ("x86_64", "AMD64") or sys.version_info >= (3, 14):
            return (
                "the Squirrel VM (package squirrel-lang-sq305) is built for CPython 3.11 to "
                f"3.13 on Linux x86_64 only, not Python {platform.python_version()} on "
                f"{platform.machine()}"
            )
        return (
            "the Squirrel VM is not installed: pip install 'imptsh[squirrel]' "
            "(package squirrel-lang-sq305)"
        )
    if (
        importlib.util.find_spec("_squirrel") is None
        or importlib.util.find_spec("squirrel") is None
    ):
        return "the squirrel-lang-sq305 package is installed but its modules are missing"
    return None


def available() -> bool:
    """Whether the Squirrel runner can run device and agent code here."""
    return unavailable_reason() is None


def __getattr__(name: str) -> Any:
    if name == "SquirrelRunner":
        from .runner import SquirrelRunner

        return SquirrelRunner
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
