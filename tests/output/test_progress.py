"""The progress line of operations over many entities: on a terminal it counts, is rewritten
in place under the lines printed meanwhile, and is gone at the end; piped, nothing."""

from __future__ import annotations

import os
import pty
import threading
from typing import Any

from imptsh.commands.runner import run_line
from tests.conftest import OK, SimApi


class PseudoTerminal:
    """A real pseudo-terminal: what a command writes to its slave side, read from the master."""

    def __init__(self) -> None:
        master, slave = pty.openpty()
        self._master = master
        self.stream = os.fdopen(slave, "w", encoding="utf-8")
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # the slave side is closed
                return
            if not chunk:
                return
            self._chunks.append(chunk)

    def output(self) -> str:
        self.stream.close()
        self._reader.join(10)
        os.close(self._master)
        return b"".join(self._chunks).decode("utf-8")


def screen(raw: str) -> list[str]:
    """The lines a terminal shows for `raw`: a carriage return moves back to the start of
    the line, whatever follows overwrites what was there."""
    shown = []
    for line in raw.replace("\r\n", "\n").split("\n"):
        cells: list[str] = []
        column = 0
        for char in line:
            if char == "\r":
                column = 0
                continue
            if column < len(cells):
                cells[column] = char
            else:
                cells.append(char)
            column += 1
        shown.append("".join(cells).rstrip())
    return shown


def _product_with_groups(api: SimApi, groups: int) -> dict[str, Any]:
    product = api.product("Big")
    for n in range(groups):
        api.deploy(api.dg(product, f"G{n}"), "")
    return product


def test_deleting_many_entities_shows_a_counting_line_on_a_terminal(logged_in: Any, api: SimApi):
    _product_with_groups(api, 3)
    terminal = PseudoTerminal()
    status = run_line(
        logged_in.session, "product delete -p Big --force --builds -q".split(), terminal.stream
    )
    raw = terminal.output()
    assert status == 0, raw
    for n in (1, 2, 3):
        assert f"Deleting {n}/7..." in raw  # 3 groups, the product, 3 builds
    assert "Deleting 8/7" not in raw
    lines = screen(raw)
    assert not [line for line in lines if "Deleting" in line]  # gone, and no line begins with it
    assert lines[-2:] == [OK, ""]
    deleted = [
        line for line in lines if line.endswith(("deleted successfully.", "already deleted."))
    ]
    assert len(deleted) == 7  # every line the command printed is whole


def test_piped_output_has_no_progress_line(logged_in: Any, api: SimApi):
    _product_with_groups(api, 2)
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w", encoding="utf-8") as stream:
        status = run_line(logged_in.session, "product delete -p Big --force -q".split(), stream)
    with os.fdopen(read_end, encoding="utf-8") as reader:
        out = reader.read()
    assert status == 0
    assert "Deleting" not in out.replace("is deleted", "") and "\r" not in out


def test_reassigning_devices_names_their_number_while_it_runs(logged_in: Any, api: SimApi):
    product = api.product("P")
    source, target = api.dg(product, "From"), api.dg(product, "To")
    api.assign(source, *api.devices())
    terminal = PseudoTerminal()
    status = run_line(logged_in.session, "dg reassign --from From --to To".split(), terminal.stream)
    raw = terminal.output()
    assert status == 0, raw
    assert "Reassigning 3 Devices..." in raw
    assert not [line for line in screen(raw) if "Reassigning" in line]
    assert {d["relationships"]["devicegroup"]["id"] for d in api.devices()} == {target["id"]}
