"""The Squirrel tokenizer: Squirrel 3's token rules (sqlexer.cpp), losslessness, errors."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from imptsh.squirrel import KEYWORDS, Token, TokenKind, code_tokens, literal_value, tokenize

K = TokenKind
PROGRAMS = sorted((Path(__file__).parent / "programs").glob("*.nut"))


def kinds(source: str) -> list[tuple[str, str]]:
    """(kind name, text) of the code tokens of `source`."""
    return [(t.kind.name, t.text) for t in code_tokens(tokenize(source))]


def all_kinds(source: str) -> list[tuple[str, str]]:
    return [(t.kind.name, t.text) for t in tokenize(source)]


# -- strings ---------------------------------------------------------------------------------


def test_verbatim_string_spans_lines_and_doubles_quotes() -> None:
    source = 'x = @"say ""hi""\nC:\\dir\\n" + 1'
    assert kinds(source) == [
        ("IDENT", "x"),
        ("OPERATOR", "="),
        ("VERBATIM", '@"say ""hi""\nC:\\dir\\n"'),
        ("OPERATOR", "+"),
        ("NUMBER", "1"),
    ]
    verbatim = code_tokens(tokenize(source))[2]
    assert literal_value(verbatim) == 'say "hi"\nC:\\dir\\n'
    one = code_tokens(tokenize(source))[-1]
    assert (one.line, one.column) == (2, 13)


def test_verbatim_string_ending_in_doubled_quote() -> None:
    assert kinds('@"a""" b') == [("VERBATIM", '@"a"""'), ("IDENT", "b")]
    assert kinds('@"""" ;') == [("VERBATIM", '@""""'), ("PUNCT", ";")]


def test_string_escapes() -> None:
    source = r'"tab\t quote\" back\\ hex\x41\x263A nul\0 q\' end"'
    (token,) = tokenize(source)
    assert token.kind is K.STRING
    assert literal_value(token) == "tab\t quote\" back\\ hexA\u263a nul\0 q' end"
    # A quote escaped at the end does not end the string.
    assert kinds(r'"a\"" b') == [("STRING", r'"a\""'), ("IDENT", "b")]


@pytest.mark.parametrize(
    ("source", "error_text"),
    [
        (r'"bad \q escape" x', r'"bad \q escape"'),
        (r'"hex \xZZ" x', r'"hex \xZZ"'),
    ],
)
def test_bad_escape_is_an_error_token_up_to_the_quote(source: str, error_text: str) -> None:
    assert kinds(source) == [("ERROR", error_text), ("IDENT", "x")]


def test_unterminated_string_stops_at_the_newline() -> None:
    assert all_kinds('s = "open\nlocal y') == [
        ("IDENT", "s"),
        ("WHITESPACE", " "),
        ("OPERATOR", "="),
        ("WHITESPACE", " "),
        ("ERROR", '"open'),
        ("NEWLINE", "\n"),
        ("KEYWORD", "local"),
        ("WHITESPACE", " "),
        ("IDENT", "y"),
    ]
    assert kinds('"open \\') == [("ERROR", '"open \\')]
    assert kinds('@"never closed\n""') == [("ERROR", '@"never closed\n""')]


def test_char_literals() -> None:
    assert kinds(r"'a' '\n' '\x41' '\''") == [
        ("CHAR", "'a'"),
        ("CHAR", r"'\n'"),
        ("CHAR", r"'\x41'"),
        ("CHAR", r"'\''"),
    ]
    assert [literal_value(t) for t in code_tokens(tokenize(r"'a' '\x41'"))] == ["a", "A"]
    # Squirrel's character constants are one byte: empty, long and multi-byte ones fail.
    assert kinds("'' 'ab' 'é'") == [("ERROR", "''"), ("ERROR", "'ab'"), ("ERROR", "'é'")]


# -- comments --------------------------------------------------------------------------------


def test_three_comment_styles() -> None:
    source = "a # hash\nb // slashes\n/* block\n spans */ c"
    assert all_kinds(source) == [
        ("IDENT", "a"),
        ("WHITESPACE", " "),
        ("COMMENT", "# hash"),
        ("NEWLINE", "\n"),
        ("IDENT", "b"),
        ("WHITESPACE", " "),
        ("COMMENT", "// slashes"),
        ("NEWLINE", "\n"),
        ("COMMENT", "/* block\n spans */"),
        ("WHITESPACE", " "),
        ("IDENT", "c"),
    ]
    c = tokenize(source)[-1]
    assert (c.line, c.column, c.offset) == (4, 11, len(source) - 1)


def test_code_tokens_leave_out_whitespace_newlines_and_comments() -> None:
    tokens = tokenize("a # one\n\t/* two */ b // three\n")
    assert [t.text for t in code_tokens(tokens)] == ["a", "b"]
    assert [t.offset for t in code_tokens(tokens)] == [0, 19]


def test_comment_markers_inside_strings_are_string_text() -> None:
    assert kinds('"// no" "# no" "/* no */"') == [
        ("STRING", '"// no"'),
        ("STRING", '"# no"'),
        ("STRING", '"/* no */"'),
    ]


def test_unterminated_block_comment_is_an_error_to_the_end() -> None:
    assert all_kinds("x /* open\nstill") == [
        ("IDENT", "x"),
        ("WHITESPACE", " "),
        ("ERROR", "/* open\nstill"),
    ]


# -- operators and punctuation ---------------------------------------------------------------


def test_squirrel_operators_longest_match() -> None:
    source = "<- :: <=> >>> >> << <= >= == != && || ++ -- += -= *= /= %= </ /> ... ? : ~ ^ @"
    assert [t for _, t in kinds(source)] == source.split()
    assert {k for k, _ in kinds(source)} == {"OPERATOR", "PUNCT"}
    assert kinds("...")[0] == ("PUNCT", "...")


def test_no_compound_bitwise_assignment() -> None:
    # Squirrel 3 has no `|=`, `&=`, `^=` or `<<=`: they are two tokens.
    assert [t for _, t in kinds("a |= b &= c <<= d")] == [
        "a",
        "|",
        "=",
        "b",
        "&",
        "=",
        "c",
        "<<",
        "=",
        "d",
    ]


def test_new_slot_root_table_and_three_way_compare() -> None:
    assert kinds("::x <- a <=> b") == [
        ("OPERATOR", "::"),
        ("IDENT", "x"),
        ("OPERATOR", "<-"),
        ("IDENT", "a"),
        ("OPERATOR", "<=>"),
        ("IDENT", "b"),
    ]
    assert kinds("a<-1") == [("IDENT", "a"), ("OPERATOR", "<-"), ("NUMBER", "1")]


def test_lambda() -> None:
    assert kinds("@(a, b) a + b") == [
        ("OPERATOR", "@"),
        ("PUNCT", "("),
        ("IDENT", "a"),
        ("PUNCT", ","),
        ("IDENT", "b"),
        ("PUNCT", ")"),
        ("IDENT", "a"),
        ("OPERATOR", "+"),
        ("IDENT", "b"),
    ]


def test_two_dots_and_stray_characters_are_errors() -> None:
    assert kinds("a..b $ ` é \\") == [
        ("IDENT", "a"),
        ("ERROR", ".."),
        ("IDENT", "b"),
        ("ERROR", "$"),
        ("ERROR", "`"),
        ("ERROR", "é"),
        ("ERROR", "\\"),
    ]


# -- numbers, names, keywords ----------------------------------------------------------------


def test_numbers() -> None:
    source = "0 42 0x1F 0XffFF 017 09 3.25 1.5e-3 2E+10 6e2 1. 0.5"
    assert kinds(source) == [("NUMBER", text) for text in source.split()]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("018 x", [("ERROR", "018"), ("IDENT", "x")]),  # 8 is not an octal digit
        ("1e x", [("ERROR", "1e"), ("IDENT", "x")]),  # exponent expected
        ("2.5e+ x", [("ERROR", "2.5e+"), ("IDENT", "x")]),
        ("12abc", [("NUMBER", "12"), ("IDENT", "abc")]),
        ("x.0", [("IDENT", "x"), ("PUNCT", "."), ("NUMBER", "0")]),
    ],
)
def test_number_edges(source: str, expected: list[tuple[str, str]]) -> None:
    assert kinds(source) == expected


def test_keywords_and_identifiers() -> None:
    words = (
        "base break case catch class clone const constructor continue default delete do else "
        "enum extends false for foreach function if in instanceof local null resume return "
        "static switch this throw true try typeof while yield __LINE__ __FILE__"
    ).split()
    assert set(words) == KEYWORDS
    assert kinds(" ".join(words)) == [("KEYWORD", w) for w in words]
    assert kinds("locals _x x1 Local foreach_ __line__") == [
        ("IDENT", w) for w in "locals _x x1 Local foreach_ __line__".split()
    ]


def test_foreach_local_and_positions() -> None:
    source = "foreach (k, v in t) {\n\tlocal x = v;\n}"
    tokens = code_tokens(tokenize(source))
    assert [(t.kind.name, t.text) for t in tokens][:6] == [
        ("KEYWORD", "foreach"),
        ("PUNCT", "("),
        ("IDENT", "k"),
        ("PUNCT", ","),
        ("IDENT", "v"),
        ("KEYWORD", "in"),
    ]
    local = next(t for t in tokens if t.text == "local")
    assert (local.line, local.column, local.offset) == (2, 2, 23)
    assert source[local.offset : local.end] == "local"


def test_whitespace_runs_keep_carriage_returns() -> None:
    assert all_kinds("a \t\r\nb") == [
        ("IDENT", "a"),
        ("WHITESPACE", " \t\r"),
        ("NEWLINE", "\n"),
        ("IDENT", "b"),
    ]


def test_token_helpers() -> None:
    token = Token(K.OPERATOR, "<-", 1, 3, 2)
    assert token.end == 4 and token.is_op("<-", "=") and not token.is_op("=")
    assert not Token(K.STRING, '"<-"', 1, 1, 0).is_op('"<-"')
    assert literal_value(Token(K.IDENT, "x", 1, 1, 0)) is None


# -- losslessness ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_sample_programs_round_trip_without_errors(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    tokens = tokenize(source)
    assert "".join(t.text for t in tokens) == source
    assert [t for t in tokens if t.kind is K.ERROR] == []
    for before, after in zip(tokens, tokens[1:], strict=False):
        assert before.end == after.offset
    lines = source.split("\n")
    for token in tokens:
        line = lines[token.line - 1]
        assert line[token.column - 1 :].startswith(token.text.split("\n")[0])


def test_sample_programs_cover_the_tricky_constructs() -> None:
    texts = {t.text for path in PROGRAMS for t in tokenize(path.read_text(encoding="utf-8"))}
    for wanted in ("<-", "::", "foreach", "local", "constructor", "@", "<=>", ">>>", "0x20"):
        assert wanted in texts
    assert len(PROGRAMS) >= 3


def test_never_raises_and_stays_lossless_on_noise() -> None:
    alphabet = "ab1_ 0x9.eE+-*/#@\"'\\\n\r\t<>=:!&|%^~?;,(){}[]é$`"
    corpus = "".join(p.read_text(encoding="utf-8") for p in PROGRAMS)
    rng = random.Random(1234)
    for _ in range(400):
        noise = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        start = rng.randint(0, len(corpus))
        cut = corpus[start : start + rng.randint(0, 300)]
        for source in (noise, cut, cut + noise):
            tokens = tokenize(source)
            assert "".join(t.text for t in tokens) == source
            assert all(t.text for t in tokens)
