"""imptsh: an interactive shell for the Electric Imp impCentral API v5."""

__version__ = "0.1.0"
