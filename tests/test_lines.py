"""Splitting a typed line into its commands as a POSIX shell would."""

from __future__ import annotations

import pytest

from imptsh.lines import LineSyntaxError, split_commands, words


@pytest.mark.parametrize(
    ("line", "commands"),
    [
        ("product list; account info", ["product list", "account info"]),
        ("cd /tmp;pwd;", ["cd /tmp", "pwd"]),
        ("product create -n 'a;b'; pwd", ["product create -n 'a;b'", "pwd"]),
        ('product create -n "a;\\"b"', ['product create -n "a;\\"b"']),
        ("product create -n a\\;b; pwd", ["product create -n a\\;b", "pwd"]),
        ("pwd # a comment; cd /", ["pwd"]),
        ("product create -n a#b", ["product create -n a#b"]),
        ("# only a comment", []),
        ("  ;  ; ", []),
    ],
)
def test_split_commands(line, commands):
    assert split_commands(line) == commands


def test_words_keep_their_spans():
    line = "auth login -w 'p w'; x"
    found = words(line)
    assert [w.text for w in found] == ["auth", "login", "-w", "p w", ";", "x"]
    assert line[found[3].start : found[3].end] == "'p w'"
    assert found[4].separator


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('product create --name "unterminated', 'the quotation mark (") at position 23'),
        ("x 'open", "the apostrophe (') at position 3 is never closed"),
    ],
)
def test_unclosed_quotes(line, message):
    with pytest.raises(LineSyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        split_commands(line)
