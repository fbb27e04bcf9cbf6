"""Squirrel's compiler, with the error report impCentral gives.

The VM's compiler prints a failure's ``desc``, ``source``, ``line`` and ``column`` to the C-level
standard output and raises a bare ``ValueError``; so compiling redirects file descriptors 1 and 2
into a temporary file for the duration of the call. That is only safe in a single-threaded
process: the runner calls this in its own worker processes, never in the simulator's.
"""

from __future__ import annotations

import ctypes
import dataclasses
import os
import re
import socket
from dataclasses import dataclass

from . import frames

_REPORT = re.compile(r"^(desc|source|line|column):(.*)$", re.MULTILINE)
_libc = ctypes.CDLL(None)


@dataclass(frozen=True)
class CompileProblem:
    """One compiler complaint about a source file."""

    file: str
    row: int
    column: int
    text: str


def compile_source(source: str, name: str) -> bytes | CompileProblem:
    """Bytecode for ``source`` (named ``name`` in stack traces), or the compiler's complaint."""
    import squirrel

    sink = _sink()
    os.ftruncate(sink, 0)
    os.lseek(sink, 0, os.SEEK_SET)
    saved = os.dup(1), os.dup(2)
    _libc.fflush(None)
    os.dup2(sink, 1)
    os.dup2(sink, 2)
    try:
        try:
            return squirrel.compile(source, name)
        except ValueError:
            pass
    finally:
        _libc.fflush(None)
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
    os.lseek(sink, 0, os.SEEK_SET)
    report = os.read(sink, 1 << 16).decode("utf-8", "replace")
    return parse_report(report, name)


_SINK: dict[int, int] = {}


def _sink() -> int:
    """One scratch file per process for the compiler's report (creating one per call is slow).

    Keyed by pid: a forked worker must not share its zygote's file with its siblings."""
    pid = os.getpid()
    if pid not in _SINK:
        for inherited in _SINK.values():
            os.close(inherited)
        _SINK.clear()
        _SINK[pid] = os.memfd_create("imptsh-sim-compiler-report", 0)
    return _SINK[pid]


def parse_report(report: str, name: str) -> CompileProblem:
    """The compiler's printed ``desc:``/``line:``/``column:`` lines as a problem of ``name``."""
    fields = {key: value.strip() for key, value in _REPORT.findall(report)}
    try:
        row = max(1, int(fields.get("line", "1")))
        column = max(1, int(fields.get("column", "1")))
    except ValueError:
        row, column = 1, 1
    if row > 1:
        # The lexer counts the newline itself into the next line's columns; without this the
        # same mistake would be reported one column further right on every line but the first.
        column = max(1, column - 1)
    return CompileProblem(name, row, column, fields.get("desc") or "compilation failed")


def compile_both(device_code: str, agent_code: str) -> list[CompileProblem]:
    """Compile both files of a deployment; one problem per file that does not compile."""
    problems = []
    for name, source in (("device_code", device_code), ("agent_code", agent_code)):
        result = compile_source(source, name)
        if isinstance(result, CompileProblem):
            problems.append(result)
    return problems


def serve(sock: socket.socket) -> None:
    """Entry point of the compiler worker: answers ``compile`` ops until the runner hangs up."""
    reader = frames.FrameReader()
    while True:
        data = sock.recv(1 << 16)
        if not data:
            return
        for message in reader.feed(data):
            problems = compile_both(message["device_code"], message["agent_code"])
            errors = [dataclasses.asdict(problem) for problem in problems]
            frames.send_blocking(sock, {"t": "compiled", "id": message["id"], "errors": errors})
