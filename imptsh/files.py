"""Reading text files with errors that name the file, and atomic writes for files that
must never be left half-written."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path


class NotUtf8Error(OSError):
    """A file that should hold UTF-8 text does not; `strerror` says where it stops being so."""

    def __init__(self, path: Path | str, data: bytes, exc: UnicodeDecodeError):
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start : exc.start + 1].hex()
        reason = f"not UTF-8 text: byte 0x{byte} at line {line}, column {column}"
        super().__init__(errno.EILSEQ, reason, str(path))


def read_text(path: Path | str) -> str:
    """The UTF-8 text of `path`, line ends untouched; NotUtf8Error names the file and the
    first byte that is not UTF-8, other OSErrors are the system's."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotUtf8Error(path, data, exc) from None


def write_atomically(path: Path, text: str, mode: int = 0o600) -> None:
    """Writes `text` to a temporary file beside `path` with `mode`, then renames it over
    `path`, so readers see either the old file or the new one, never a torn one. Failures
    name `path`, not the temporary file."""
    write_bytes_atomically(path, text.encode("utf-8"), mode)


def write_bytes_atomically(path: Path, data: bytes, mode: int = 0o600) -> None:
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a file", str(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
