"""A local simulator of the impCentral API v5 (see README.md in this directory)."""

from .server import Simulator, start

__all__ = ["Simulator", "start"]
