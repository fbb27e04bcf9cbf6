"""Factory-firmware checks: each rule per Device Group type, calls in comments and strings
that must not count, aliases that must."""

from __future__ import annotations

from pathlib import Path

import pytest

from imptsh.entities import DG_TYPES
from imptsh.firmware import (
    Finding,
    Reference,
    check_sources,
    find_references,
    firmware_role,
    format_finding,
)

PROGRAMS = Path(__file__).parent / "squirrel" / "programs"
APPLICATION = ("development", "pre-production", "production")
DUT = ("pre-dut", "dut")
FIXTURE = ("pre-factory", "factory")
# Device code that has what DUT and fixture firmware must have, so only the rule under test
# produces findings.
DUT_BASE = "server.bless(true, cb);\nimp.clearconfiguration();\n"
FIXTURE_BASE = "server.factoryblinkup(ssid, pw, pin, BLINKUP_FAST);\n"


def program(name: str) -> str:
    return (PROGRAMS / name).read_text(encoding="utf-8")


def summary(findings: list[Finding]) -> list[tuple[str, int | None, str]]:
    return [(f.severity, f.line, f.method) for f in findings]


def refs(source: str) -> list[tuple[str, int, str | None]]:
    return [(r.method, r.line, r.alias) for r in find_references(source)]


# -- what counts as a use --------------------------------------------------------------------


def test_calls_in_comments_and_strings_do_not_count() -> None:
    source = (
        "// server.bless(true, cb);\n"
        "# imp.clearconfiguration();\n"
        "/* server.factoryblinkup(a, b, c, d);\n   imp.configparams */\n"
        'server.log("server.bless(true, cb)");\n'
        'local help = @"call imp.clearconfiguration()\nthen server.bless()";\n'
        "local name = 'b';\n"
    )
    assert refs(source) == []
    assert check_sources("development", source, source) == []


def test_direct_calls_and_subscripts() -> None:
    source = (
        "server.bless(true, cb);\n"
        '::server["factoryblinkup"](a, b, c, d);\n'
        'imp[@"clearconfiguration"]();\n'
        "local url = imp.configparams.fixture_url;\n"
        "server.log(server.bless);\n"
    )
    assert refs(source) == [
        ("server.bless", 1, None),
        ("server.factoryblinkup", 2, None),
        ("imp.clearconfiguration", 3, None),
        ("imp.configparams", 4, None),
        ("server.bless", 5, None),
    ]


def test_aliases_of_methods_and_objects() -> None:
    source = (
        "local b = server.bless;\n"  # 1: a reference without a call counts here
        "b(true, cb);\n"  # 2: called through the alias
        "local s = server\n"  # 3: an object alias, no semicolon
        "s.factoryblinkup(ssid, key, pin, mode);\n"  # 4
        "bless <- s.bless;\n"  # 5
        "bless(false, null);\n"  # 6
        'local clear = imp["clearconfiguration"];\n'  # 7
        "local again = clear;\n"  # 8: an alias of an alias
        "again();\n"  # 9
        "register(b);\n"  # 10: the alias passed on
    )
    assert refs(source) == [
        ("server.bless", 1, None),
        ("server.bless", 2, "b"),
        ("server.factoryblinkup", 4, "s"),
        ("server.bless", 5, "s"),
        ("server.bless", 6, "bless"),
        ("imp.clearconfiguration", 7, None),
        ("imp.clearconfiguration", 8, "clear"),
        ("imp.clearconfiguration", 9, "again"),
        ("server.bless", 10, "b"),
    ]


def test_what_is_not_an_alias_or_not_a_use() -> None:
    source = (
        "this.server.bless(true, cb);\n"  # another object's slot named server
        "device.server.bless();\n"
        "server.log(x); imp.wakeup(1, f);\n"
        "local b = server.bless(true, cb);\n"  # 4: b is the call's result, not the method
        "b(1);\n"
        "local s = server.log;\n"  # s is not a factory member
        "s.bless();\n"
        "local i = imp;\n"
        "i = other;\n"  # reassigned: no longer imp
        "i.clearconfiguration();\n"
        "local t = server + 1;\n"  # not exactly the object
        "t.bless();\n"
        'server[name]();\nserver["log"]("x");\n'
    )
    assert refs(source) == [("server.bless", 4, None)]


def test_one_finding_per_method_and_line() -> None:
    source = "server.bless(server.bless, server.bless);\nserver.bless(1);"
    assert refs(source) == [("server.bless", 1, None), ("server.bless", 2, None)]


# -- application firmware --------------------------------------------------------------------


@pytest.mark.parametrize("dg_type", APPLICATION)
def test_application_groups_refuse_every_factory_call(dg_type: str) -> None:
    source = (
        "server.bless(true, cb);\n"
        "server.factoryblinkup(a, b, c, d);\n"
        "imp.clearconfiguration();\n"
        "local p = imp.configparams;\n"
    )
    findings = check_sources(dg_type, source, "", device_file="app.device.nut")
    assert summary(findings) == [
        ("error", 1, "server.bless"),
        ("error", 2, "server.factoryblinkup"),
        ("error", 3, "imp.clearconfiguration"),
        ("warning", 4, "imp.configparams"),
    ]
    assert findings[0].file == "app.device.nut"
    assert findings[0].message == (
        "server.bless() is reserved for DUT firmware; it throws and restarts devices in a "
        f"{dg_type} Device Group."
    )
    assert "BlinkUp fixture firmware" in findings[1].message
    assert "DUT firmware" in findings[2].message


@pytest.mark.parametrize("name", ["weather.device.nut", "led.class.nut"])
def test_application_programs_are_clean(name: str) -> None:
    assert check_sources("development", program(name), program("weather.agent.nut")) == []


def test_application_program_with_factory_calls() -> None:
    findings = check_sources("production", program("factory.dut.device.nut"), "")
    assert summary(findings) == [
        ("warning", 3, "imp.configparams"),
        ("error", 12, "server.bless"),
        ("error", 13, "server.bless"),
        ("error", 15, "imp.clearconfiguration"),
        ("warning", 16, "imp.configparams"),  # the alias `params` passed on
    ]
    assert findings[2].message.startswith('server.bless() (through "bless") is reserved')


# -- DUT firmware ----------------------------------------------------------------------------


@pytest.mark.parametrize("dg_type", DUT)
def test_dut_groups(dg_type: str) -> None:
    assert check_sources(dg_type, DUT_BASE, "") == []
    assert check_sources(dg_type, DUT_BASE + "local p = imp.configparams;\n", "") == []
    blinkup = check_sources(dg_type, DUT_BASE + "server.factoryblinkup(a, b, c, d);\n", "")
    assert summary(blinkup) == [("error", 3, "server.factoryblinkup")]
    assert "fixture firmware only" in blinkup[0].message
    missing = check_sources(dg_type, "server.log(1);", "", device_file="dut.nut")
    assert summary(missing) == [
        ("warning", None, "server.bless"),
        ("recommendation", None, "imp.clearconfiguration"),
    ]
    assert format_finding(missing[0]).startswith("Warning: dut.nut: no server.bless() call: ")
    assert format_finding(missing[1]).startswith(
        "Recommendation: dut.nut: no imp.clearconfiguration() call: "
    )
    # Calls in comments do not satisfy the rule.
    commented = check_sources(dg_type, "// server.bless(true, cb)\n# imp.clearconfiguration()", "")
    assert [f.severity for f in commented] == ["warning", "recommendation"]


def test_dut_program_is_clean_and_reached_through_an_alias() -> None:
    device, agent = program("factory.dut.device.nut"), program("factory.dut.agent.nut")
    assert check_sources("pre-dut", device, agent) == []
    assert check_sources("dut", device.replace("bless(passed", "log(passed"), agent) == []
    unused_alias = device.replace("local bless = server.bless;", "local bless = server.log;")
    assert summary(check_sources("dut", unused_alias, agent)) == [("warning", None, "server.bless")]


# -- fixture firmware ------------------------------------------------------------------------


@pytest.mark.parametrize("dg_type", FIXTURE)
def test_fixture_groups(dg_type: str) -> None:
    assert check_sources(dg_type, FIXTURE_BASE, "") == []
    assert check_sources(dg_type, FIXTURE_BASE + "local p = imp.configparams;", "") == []
    bless = check_sources(dg_type, FIXTURE_BASE + "server.bless(true, cb);\n", "")
    assert summary(bless) == [("error", 2, "server.bless")]
    clear = check_sources(dg_type, FIXTURE_BASE + "imp.clearconfiguration();\n", "")
    assert summary(clear) == [("warning", 2, "imp.clearconfiguration")]
    assert "fixture's own network" in clear[0].message
    missing = check_sources(dg_type, "server.log(1);", "")
    assert summary(missing) == [("warning", None, "server.factoryblinkup")]
    assert missing[0].file == "device code"


def test_fixture_program() -> None:
    fixture = program("factory.fixture.device.nut")
    assert check_sources("pre-factory", fixture, "") == []
    assert summary(check_sources("dut", fixture, "")) == [
        ("error", 14, "server.factoryblinkup"),
        ("warning", None, "server.bless"),
        ("recommendation", None, "imp.clearconfiguration"),
    ]
    dut = program("factory.dut.device.nut")
    assert summary(check_sources("factory", dut, "")) == [
        ("error", 12, "server.bless"),
        ("error", 13, "server.bless"),
        ("warning", 15, "imp.clearconfiguration"),
        ("warning", None, "server.factoryblinkup"),
    ]


# -- agent code ------------------------------------------------------------------------------


@pytest.mark.parametrize("dg_type", [*DG_TYPES, "unknown"])
def test_device_calls_in_agent_code_are_errors_everywhere(dg_type: str) -> None:
    agent = (
        "server.bless(true, cb);\n"
        "local s = server; s.factoryblinkup(a, b, c, d);\n"
        "imp.clearconfiguration();\n"
        "local p = imp.configparams;\n"  # available to agents: fine
    )
    device = DUT_BASE if dg_type in DUT else FIXTURE_BASE if dg_type in FIXTURE else ""
    findings = [f for f in check_sources(dg_type, device, agent, agent_file="a.nut")]
    assert [(f.file, *s) for f, s in zip(findings, summary(findings), strict=True)] == [
        ("a.nut", "error", 1, "server.bless"),
        ("a.nut", "error", 2, "server.factoryblinkup"),
        ("a.nut", "error", 3, "imp.clearconfiguration"),
    ]
    assert "device call" in findings[0].message


# -- types, formatting -----------------------------------------------------------------------


def test_types_by_constant_and_api_name() -> None:
    for cli, api in DG_TYPES.items():
        assert firmware_role(cli) == firmware_role(api)
    assert [firmware_role(t) for t in ("development", "pre-dut", "factory", "nonsense")] == [
        "application",
        "dut",
        "fixture",
        None,
    ]
    source = "server.bless(true, cb);"
    assert check_sources("production_devicegroup", source, "") == check_sources(
        "production", source, ""
    )
    assert check_sources("mystery_devicegroup", source, "") == []


def test_format_finding() -> None:
    finding = Finding("error", "device.nut", 12, "server.bless", "What and why.")
    assert format_finding(finding) == "Error: device.nut:12: What and why."
    assert format_finding(finding, suffix="Use --force.") == (
        "Error: device.nut:12: What and why. Use --force."
    )
    assert finding.as_dict() == {
        "severity": "error",
        "file": "device.nut",
        "line": 12,
        "method": "server.bless",
        "message": "What and why.",
    }
    assert Reference("imp.configparams", 1).shown == "imp.configparams"
    assert Reference("server.bless", 1, "b").shown == 'server.bless() (through "b")'
