"""Highlighting: Squirrel through the Squirrel tokenizer, JSON output on terminals only, log
lines by type; pygments loaded only when something is highlighted."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
)

from imptsh.highlight import highlight_json, highlight_log_line, highlight_squirrel
from imptsh.squirrel.pygments_lexer import SquirrelLexer
from tests.conftest import REPO, run_imptsh

ANSI = re.compile(r"\x1b\[[0-9;]*m")
PROGRAMS = sorted((Path(__file__).parent / "squirrel" / "programs").glob("*.nut"))
STRING_RED = "\x1b[38;5;124m"  # pygments' default style for strings


def types(code: str) -> list[tuple[object, str]]:
    return [(t, v) for _, t, v in SquirrelLexer().get_tokens_unprocessed(code) if v.strip()]


# -- Squirrel --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_highlighting_keeps_text_and_line_count(path: Path) -> None:
    code = path.read_text(encoding="utf-8")
    coloured = highlight_squirrel(code)
    assert coloured != code
    assert ANSI.sub("", coloured) == code
    assert coloured.count("\n") == code.count("\n")


@pytest.mark.parametrize(
    "code",
    ['a = 1;\r\nb = "x";\r\n', '\ufefflocal x = "open\n', "/* open\n comment", "x", ""],
)
def test_highlighting_keeps_odd_text_exactly(code: str) -> None:
    coloured = highlight_squirrel(code)
    assert ANSI.sub("", coloured) == code
    assert coloured.count("\n") == code.count("\n")


def test_every_line_closes_its_codes() -> None:
    coloured = highlight_squirrel('local s = @"one\ntwo";\n/* a\nb */ x <- 1;')
    for line in coloured.split("\n"):
        codes = ANSI.findall(line)
        assert codes, line
        assert codes[-1] in ("\x1b[39m", "\x1b[39;00m"), line


def test_verbatim_string_is_one_string_across_lines() -> None:
    code = 'local s = @"line one\nline two ""quoted"" \\ end";'
    assert types(code) == [
        (Keyword.Declaration, "local"),
        (Name, "s"),
        (Operator, "="),
        (String.Double, '@"line one\nline two '),
        (String.Escape, '""'),
        (String.Double, "quoted"),
        (String.Escape, '""'),
        (String.Double, ' \\ end"'),
        (Punctuation, ";"),
    ]
    second = highlight_squirrel(code).split("\n")[1]
    assert second.startswith(STRING_RED), second


def test_squirrel_constructs_get_their_token_types() -> None:
    code = (
        "# hash comment\n"
        "::bless <- @(a) a + 0x1F;\n"
        'foreach (k, v in t) server.log("k\\t" + k);\n'
        "class Led extends Base { constructor() { base.constructor(); } }\n"
        "function tick() { return typeof this == null ? 017 : 1.5e3; }\n"
        "local bad = 'ab';"
    )
    found = types(code)
    expected = [
        (Comment.Single, "# hash comment"),
        (Operator, "::"),
        (Operator, "<-"),
        (Operator, "@"),
        (Number.Hex, "0x1F"),
        (Keyword, "foreach"),
        (Operator.Word, "in"),
        (Name.Builtin, "server"),
        (Name, "log"),
        (String.Escape, "\\t"),
        (Keyword.Declaration, "class"),
        (Name.Class, "Led"),
        (Name.Class, "Base"),
        (Keyword, "constructor"),
        (Name.Builtin.Pseudo, "base"),
        (Name.Function, "tick"),
        (Operator.Word, "typeof"),
        (Name.Builtin.Pseudo, "this"),
        (Keyword.Constant, "null"),
        (Number.Oct, "017"),
        (Number.Float, "1.5e3"),
        (Error, "'ab'"),
    ]
    for pair in expected:
        assert pair in found, pair
    assert (Error, "#") not in found and (Comment.Single, "// c") not in found


# -- JSON and log lines ----------------------------------------------------------------------


def test_json_highlighting_keeps_text() -> None:
    text = json.dumps({"Findings": [{"line": 3, "ok": True, "file": None}]}, indent=2)
    coloured = highlight_json(text)
    assert coloured != text
    assert ANSI.sub("", coloured) == text
    assert coloured.count("\n") == text.count("\n")


def test_log_lines_coloured_by_type() -> None:
    assert highlight_log_line("server.error", "boom") == "\x1b[31mboom\x1b[39m"
    assert highlight_log_line("agent.error", "boom") == "\x1b[31mboom\x1b[39m"
    assert highlight_log_line("status", "Device connected") == "\x1b[36mDevice connected\x1b[39m"
    agent = highlight_log_line("agent.log", "hello")
    assert agent.startswith("\x1b[") and agent not in (
        highlight_log_line("server.error", "hello"),
        highlight_log_line("status", "hello"),
    )
    assert highlight_log_line("server.log", "plain") == "plain"
    assert highlight_log_line("no.such.type", "plain") == "plain"
    two = highlight_log_line("server.error", "first\nsecond")
    assert two.split("\n") == ["\x1b[31mfirst\x1b[39m", "\x1b[31msecond\x1b[39m"]


# -- where colour is decided -----------------------------------------------------------------


def test_importing_highlight_does_not_import_pygments() -> None:
    code = (
        "import sys, imptsh.highlight, imptsh.firmware, imptsh.commands.build\n"
        "print('pygments' in sys.modules)\n"
        "imptsh.highlight.highlight_log_line('server.error', 'x')\n"
        "print('pygments' in sys.modules)\n"
        "imptsh.highlight.highlight_squirrel('local x = 1;')\n"
        "print('pygments' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.split() == ["False", "False", "True"], done.stderr


def run_in_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    """`imptsh ARGS` with its stdout on a real pseudo-terminal; what the terminal got."""
    master, slave = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("IMPT_")}
    full_env.update(env)
    with subprocess.Popen(
        [sys.executable, "-m", "imptsh", *args],
        cwd=cwd,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
    ) as proc:
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_json_output_highlighted_only_on_a_terminal(home: Path) -> None:
    Path("d.nut").write_text("server.bless(true, cb);\n")
    args = ["build", "check", "--dg-type", "development", "-x", "d.nut", "-z", "json"]
    env = {"HOME": str(home), "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    piped = run_imptsh(args, cwd=Path.cwd(), env=env)
    assert "\x1b[" not in piped.stdout
    findings_doc, end = json.JSONDecoder().raw_decode(piped.stdout)
    assert findings_doc["Findings"][0]["method"] == "server.bless"
    # piped text is exactly the plain JSON rendering
    assert piped.stdout[:end] == json.dumps(findings_doc, indent=2, ensure_ascii=False)
    on_terminal = run_in_terminal(args, Path.cwd(), env)
    assert "\x1b[" in on_terminal
    assert ANSI.sub("", on_terminal) == piped.stdout
    no_color = run_in_terminal(args, Path.cwd(), {**env, "NO_COLOR": "1"})
    assert no_color == piped.stdout
