"""impt's option parsing rules (commands.md §1.2), on real command specs."""

from __future__ import annotations

import pytest

from imptsh.commands.registry import groups
from imptsh.commands.spec import UsageError


def parse(group: str, command: str, line: str):
    return groups()[group].commands[command].parse(line.split() if line else [])


def error(group: str, command: str, tokens: list[str]) -> str:
    with pytest.raises(UsageError) as info:
        groups()[group].commands[command].parse(tokens)
    return info.value.message


def test_long_short_and_equals_forms():
    args = parse("product", "create", "--name P -s D -z json")
    assert (args.name, args.descr, args.output) == ("P", "D", "json")
    assert parse("product", "create", "--name=P").name == "P"


def test_missing_value_names_the_option_as_typed():
    assert error("product", "create", ["-n"]) == "Not enough arguments following: n"
    assert error("product", "create", ["--name", "--descr", "x"]) == (
        "Not enough arguments following: name"
    )


def test_empty_values():
    assert error("product", "create", ["--name", ""]) == 'Option "--name" must not be empty.'
    assert parse("product", "update", "").descr is None
    assert groups()["product"].commands["update"].parse(["--descr", ""]).descr == ""


def test_unknown_options_and_positionals():
    assert error("product", "list", ["--bogus"]) == "Unknown argument: bogus"
    assert error("product", "list", ["-x", "--yy"]) == "Unknown arguments: x, yy"
    assert error("product", "list", ["stray", "words"]) == "Unknown arguments: stray, words."
    assert error("product", "list", ["-qz"]) == "Unknown argument: qz"


def test_repeat_and_duplicates():
    assert parse("product", "list", "-o a --owner b").owner == ["a", "b"]
    assert error("product", "create", ["--name", "a", "-n", "b"]) == (
        'Option "--name" must not be specified multiple times.'
    )


def test_flags_consume_true_and_reject_false():
    assert parse("product", "delete", "--force true").force is True
    assert error("product", "delete", ["--force", "false"]) == (
        'Option "--force" has incorrect value "false".'
    )
    assert error("product", "delete", ["--force", "xyz"]) == "Unknown arguments: xyz."


def test_choices_and_required():
    message = error("product", "list", ["-z", "yaml"])
    assert message == (
        'Invalid values:\n  Argument: output, Given: "yaml", Choices: "minimal", "json", "debug"'
    )
    assert error("product", "create", []) == "Missing required argument: name"


def test_cross_option_checks():
    assert error("auth", "login", ["--user", "u", "--lk", "k"]) == (
        'Options "--user" and "--lk" are mutually exclusive.'
    )
    assert error("auth", "login", ["--pwd", "p"]) == (
        'Options "--pwd" and "--user" must be specified together.'
    )


def test_usage_line_is_generated_from_the_options():
    usage = groups()["product"].commands["create"].usage()
    assert usage == (
        "impt product create --name <product_name> [--descr <product_description>] "
        "[--owner <ACCOUNT_IDENTIFIER>] [--output <mode>] [--help]"
    )
