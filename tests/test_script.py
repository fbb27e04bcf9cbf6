"""Scripts (`imptsh FILE`, `imptsh < FILE`, `-c`) run their lines of impt commands without
the interactive shell, and start it at the first line that needs it: what a script does and
prints is the same either way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cmd2.parsing import StatementParser

from imptsh.lines import split_commands
from imptsh.script import impt_commands
from imptsh.shell import SHORTCUTS
from tests.conftest import OK, SimApi, run_imptsh

READ_ALIKE = [
    "product list",
    "product create --name P1 --descr 'two words'",
    'product create --name "The benchmark\'s product"',
    "product update -p P1 --descr ''",
    'product update -p P1 --descr ""',
    "device list\t--unassigned",
    "dg create --name Ünïcødé --product P1",
    "product list; dg list  ;device list",
    "product list # a comment",
    "product create --name a=b --descr 'a | b > c'",
    'build deploy --tag v1 --descr "it\'s; fine"',
]

SHELL_ONLY = [
    "pwd",
    "cd sub; product list",
    "product list; history",
    "product list > out.txt",
    "product list | grep x",
    "product list >> out.txt",
    "product create --name a\\ b",
    'product create --name "a \\" b"',
    "product create --name ab'c d'",
    "product create --name 'ab'c",
    'product create --name="x y"',
    "'product' list",
    "impt product list",
    "!ls",
    "@other.imptsh",
    "?product",
    "product create --name 'never closed",
    "nosuchgroup list",
    "product list\x0b--owner me",
    "product create --name a\u00a0b",
]


def shell_words(command: str) -> list[str]:
    """The words the shell's own reader makes of one command (what its command gets)."""
    return StatementParser(terminators=(), shortcuts=SHORTCUTS).parse(command).argv


@pytest.mark.parametrize("line", READ_ALIKE)
def test_a_line_of_impt_commands_runs_with_the_words_the_shell_would_read(line: str) -> None:
    found = impt_commands(line)
    assert found is not None
    assert [command for command, _ in found] == split_commands(line)
    for command, words in found:
        assert words == shell_words(command)


@pytest.mark.parametrize("line", SHELL_ONLY)
def test_a_line_the_shell_could_read_differently_or_must_run_goes_to_the_shell(
    line: str,
) -> None:
    assert impt_commands(line) is None


def test_a_script_of_impt_commands_behaves_as_in_the_shell_until_it_needs_the_shell(
    logged_in: Any, home: Path
) -> None:
    """The shell starts for `history`, and lists the commands run before it started (not
    `history` itself, which the shell never lists)."""
    script = home / "work" / "mixed.imptsh"
    script.write_text(
        "product create --name First; product list -z minimal\n"
        "history\n"
        "pwd\n"
        "product create --name Second\n"
    )
    done = run_imptsh([str(script)], cwd=home / "work")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    history = out[out.index("    1  ") :].splitlines()[:3]
    assert [line.split(None, 1) for line in history] == [
        ["1", "product create --name First"],
        ["2", "product list -z minimal"],
        [str(home / "work")],  # pwd's output
    ]
    assert out.index('Product "First" is created') < out.index("    1  ")
    assert out.rstrip().endswith(OK) and 'Product "Second" is created' in out
    assert str(home / "work") in out  # pwd ran in the shell


def test_a_log_stream_in_a_script_of_impt_commands_runs_in_the_background(
    logged_in: Any, api: SimApi, home: Path
) -> None:
    device = api.devices()[0]["id"]
    script = home / "work" / "stream.imptsh"
    script.write_text(f"log stream -d {device}\nproduct list\n")
    done = run_imptsh([str(script)], cwd=home / "work", timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Log task 1 runs in the background" in done.stdout
    assert "No Products are found." in done.stdout
    assert done.stdout.rstrip().endswith("Log task 1 is stopped: the script has ended.")


def test_dash_c_with_impt_commands_only_stops_at_the_first_failure(
    logged_in: Any, home: Path
) -> None:
    done = run_imptsh(
        ["-c", "product create --name C1; product info -p nope; product create --name C2"],
        cwd=home / "work",
    )
    assert done.returncode == 1
    assert 'Product "C1" is created' in done.stdout and "C2" not in done.stdout
    assert 'Error: Product "nope" is not found.' in done.stdout
