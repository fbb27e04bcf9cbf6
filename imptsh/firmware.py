"""Checks of device and agent source code for the system calls reserved for factory firmware.

Electric Imp reserves `server.bless()` (DUT firmware), `server.factoryblinkup()` (BlinkUp
fixture firmware) and `imp.clearconfiguration()` (DUT firmware, strongly recommended) for
factory firmware: in application firmware they throw and make devices restart. All three
are device calls (the agent's `server` object has none of them). `imp.configparams`, the
table that carries the fixture's agent URL, exists on agents and devices and is meant for
factory firmware.

What is checked depends on the firmware the target Device Group runs: application
(development, pre-production, production), DUT (pre-dut, dut) or fixture (pre-factory,
factory). Sources are read with the Squirrel tokenizer, so calls in comments and strings do
not count, and simple aliases visible in the same file are followed:
`local b = server.bless; b(true, cb)`, `local s = server; s.bless(...)`,
`bless <- server.bless`, `server["bless"](...)`. A reference without a call
(`local f = server.bless;`) counts as a use where it appears.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from .entities import DG_TYPES, dg_cli_type
from .squirrel import Token, TokenKind, code_tokens, literal_value, tokenize

__all__ = [
    "FACTORY_MEMBERS",
    "Finding",
    "Reference",
    "check_sources",
    "find_references",
    "firmware_role",
    "format_finding",
]

Severity = Literal["error", "warning", "recommendation"]
Role = Literal["application", "dut", "fixture"]

BLESS = "server.bless"
BLINKUP = "server.factoryblinkup"
CLEAR = "imp.clearconfiguration"
CONFIGPARAMS = "imp.configparams"

FACTORY_MEMBERS: tuple[str, ...] = (BLESS, BLINKUP, CLEAR, CONFIGPARAMS)
"""The members of `server` and `imp` that factory firmware uses."""
DEVICE_ONLY: tuple[str, ...] = (BLESS, BLINKUP, CLEAR)
"""Factory calls that exist on devices only."""

_ROLES: dict[str, Role] = {
    "development": "application",
    "pre-production": "application",
    "production": "application",
    "pre-dut": "dut",
    "dut": "dut",
    "pre-factory": "fixture",
    "factory": "fixture",
}
_TYPE_NAMES = {"pre-dut": "pre-DUT", "dut": "DUT"}
_OWNER_FIRMWARE = {
    BLESS: "DUT firmware",
    BLINKUP: "BlinkUp fixture firmware",
    CLEAR: "DUT firmware",
}


@dataclass(frozen=True)
class Finding:
    severity: Severity
    file: str
    """The file name as the user gave it, or `device code` / `agent code`."""
    line: int | None
    """Where the call is; None for a call that is missing."""
    method: str
    """`server.bless`, `imp.clearconfiguration`, ..."""
    message: str
    """One line: what and why."""

    @property
    def location(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Reference:
    """One use of a factory member in a source file."""

    method: str
    line: int
    alias: str | None = None
    """The name it was reached through (`b` in `local b = server.bless; b()`), if any."""

    @property
    def shown(self) -> str:
        name = self.method if self.method == CONFIGPARAMS else f"{self.method}()"
        return f'{name} (through "{self.alias}")' if self.alias else name


def firmware_role(dg_type: str) -> Role | None:
    """`application`, `dut` or `fixture` for a Device Group type given as impt's constant
    (`pre-dut`) or the API's type (`pre_dut_devicegroup`); None for an unknown type."""
    cli_type = dg_type if dg_type in DG_TYPES else dg_cli_type(dg_type)
    return _ROLES.get(cli_type)


def check_sources(
    dg_type: str,
    device_code: str,
    agent_code: str,
    *,
    device_file: str | None = None,
    agent_file: str | None = None,
) -> list[Finding]:
    """Findings for deploying `device_code` and `agent_code` to a Device Group of `dg_type`
    (impt's constant or the API type). For an unknown type only the device/agent placement
    is checked."""
    cli_type = dg_type if dg_type in DG_TYPES else dg_cli_type(dg_type)
    role = _ROLES.get(cli_type)
    group = f"a {_TYPE_NAMES.get(cli_type, cli_type)} Device Group"
    device_name = device_file or "device code"
    agent_name = agent_file or "agent code"
    device_refs = find_references(device_code)
    findings: list[Finding] = []
    for ref in device_refs:
        finding = _device_rule(role, group, device_name, ref)
        if finding is not None:
            findings.append(finding)
    for ref in find_references(agent_code):
        if ref.method in DEVICE_ONLY:
            findings.append(
                Finding(
                    "error",
                    agent_name,
                    ref.line,
                    ref.method,
                    f"{ref.shown} is a device call: the agent's server and imp objects have "
                    "no such member, so the agent stops with an error here. Call it in the "
                    "device code.",
                )
            )
    used = {ref.method for ref in device_refs}
    findings.extend(_missing_calls(role, group, device_name, used))
    return findings


def _device_rule(role: Role | None, group: str, file: str, ref: Reference) -> Finding | None:
    method, shown = ref.method, ref.shown
    if role == "application":
        if method == CONFIGPARAMS:
            return Finding(
                "warning",
                file,
                ref.line,
                method,
                f"{shown} is meant for factory firmware (it carries the BlinkUp fixture's "
                f"agent URL); application firmware in {group} should not rely on it.",
            )
        return Finding(
            "error",
            file,
            ref.line,
            method,
            f"{shown} is reserved for {_OWNER_FIRMWARE[method]}; it throws and restarts "
            f"devices in {group}.",
        )
    if role == "dut" and method == BLINKUP:
        return Finding(
            "error",
            file,
            ref.line,
            method,
            f"{shown} is for BlinkUp fixture firmware only; DUT firmware in {group} must "
            "not perform factory BlinkUp.",
        )
    if role == "fixture" and method == BLESS:
        return Finding(
            "error",
            file,
            ref.line,
            method,
            f"{shown} is for DUT firmware only; the devices under test bless themselves, "
            f"fixture firmware in {group} must not.",
        )
    if role == "fixture" and method == CLEAR:
        return Finding(
            "warning",
            file,
            ref.line,
            method,
            f"{shown} is meant for DUT firmware; in fixture firmware ({group}) it wipes the "
            "fixture's own network and enrollment settings.",
        )
    return None


def _missing_calls(role: Role | None, group: str, file: str, used: set[str]) -> Iterator[Finding]:
    if role == "dut" and BLESS not in used:
        yield Finding(
            "warning",
            file,
            None,
            BLESS,
            f"no server.bless() call: DUT firmware in {group} must bless the devices that pass "
            "their tests, or none of them becomes a production device.",
        )
    if role == "dut" and CLEAR not in used:
        yield Finding(
            "recommendation",
            file,
            None,
            CLEAR,
            "no imp.clearconfiguration() call: blessed devices keep the factory's network and "
            "enrollment credentials; DUT firmware should clear them (strongly recommended).",
        )
    if role == "fixture" and BLINKUP not in used:
        yield Finding(
            "warning",
            file,
            None,
            BLINKUP,
            f"no server.factoryblinkup() call: fixture firmware in {group} must run factory "
            "BlinkUp, or it configures no devices under test.",
        )


def format_finding(finding: Finding, *, suffix: str = "") -> str:
    """`Error: device.nut:12: <message>`, with `Warning:` / `Recommendation:` for the other
    severities; `suffix` is appended after a space (e.g. how to override)."""
    label = finding.severity.capitalize()
    text = f"{label}: {finding.location}: {finding.message}"
    return f"{text} {suffix}" if suffix else text


# -- finding references ----------------------------------------------------------------


def find_references(source: str) -> list[Reference]:
    """Uses of the factory members in `source`, in order, one per member and line."""
    tokens = code_tokens(tokenize(source))
    objects: dict[str, str] = {"server": "server", "imp": "imp"}  # name → object it is
    methods: dict[str, str] = {}  # name → factory member it is
    found: dict[tuple[str, int], Reference] = {}
    i = 0
    while i < len(tokens):
        if tokens[i].kind is not TokenKind.IDENT or _is_member_name(tokens, i):
            i += 1
            continue
        if _is_assignment_target(tokens, i):
            name = tokens[i].text
            objects.pop(name, None)
            methods.pop(name, None)
            _record_alias(tokens, i + 2, name, objects, methods)
            i += 2  # the right-hand side is scanned like any other expression
            continue
        target, end = _resolve(tokens, i, objects, methods)
        if isinstance(target, Reference):
            found.setdefault((target.method, target.line), target)
        i = end
    return sorted(found.values(), key=lambda ref: ref.line)


def _is_member_name(tokens: Sequence[Token], i: int) -> bool:
    """Whether `tokens[i]` names a slot of something else (`x.server`)."""
    return i > 0 and tokens[i - 1].is_op(".")


def _is_assignment_target(tokens: Sequence[Token], i: int) -> bool:
    return i + 1 < len(tokens) and tokens[i + 1].is_op("=", "<-")


def _resolve(
    tokens: Sequence[Token], i: int, objects: dict[str, str], methods: dict[str, str]
) -> tuple[Reference | str | None, int]:
    """What the expression starting with the name `tokens[i]` denotes, and where it ends:
    a factory member (as a Reference), `server` or `imp` (the object's name), or None."""
    token = tokens[i]
    name = token.text
    if name in methods:
        return Reference(methods[name], token.line, name), i + 1
    obj = objects.get(name)
    if obj is None:
        return None, i + 1
    member, end = _member_after(tokens, i + 1)
    if member is None:
        return obj, i + 1
    method = f"{obj}.{member}"
    if method not in FACTORY_MEMBERS:
        return None, end
    return Reference(method, token.line, None if name == obj else name), end


def _member_after(tokens: Sequence[Token], j: int) -> tuple[str | None, int]:
    """The slot named by `.name` or `["name"]` at `tokens[j]`, and the index after it."""
    if j + 1 < len(tokens) and tokens[j].is_op(".") and tokens[j + 1].kind is TokenKind.IDENT:
        return tokens[j + 1].text, j + 2
    if (
        j + 2 < len(tokens)
        and tokens[j].is_op("[")
        and tokens[j + 1].kind in (TokenKind.STRING, TokenKind.VERBATIM)
        and tokens[j + 2].is_op("]")
    ):
        return literal_value(tokens[j + 1]), j + 3
    return None, j


def _record_alias(
    tokens: Sequence[Token],
    j: int,
    name: str,
    objects: dict[str, str],
    methods: dict[str, str],
) -> None:
    """`name = <expression at j>`: remember `name` when the expression is exactly `server`,
    `imp`, a factory member or another alias (nothing follows it on its line but `;`,
    `,`, `)` or `}`)."""
    if j >= len(tokens) or tokens[j].kind is not TokenKind.IDENT:
        return
    target, end = _resolve(tokens, j, objects, methods)
    if target is None:
        return
    if end < len(tokens):
        following = tokens[end]
        same_line = following.line == tokens[end - 1].line
        if same_line and not following.is_op(";", ",", ")", "}"):
            return
    if isinstance(target, Reference):
        methods[name] = target.method
    else:
        objects[name] = target
