"""What a step of the Development Guide is, and the lines imptsh prints for the kinds of step
the guide repeats.

A step's `expect` lines are templates matched in order against what the step prints (see
`runners.match_in_order`): `<id>` stands for a UUID, `<dev>` for a device id, `<sha>` for a
SHA-256, `<mac>` for a MAC address, `<ts>` for a log timestamp, `<pad>` for alignment spaces
and `<any>` for anything. `dialog` lines are the deletion summary and question, printed only
when the confirmation is asked in a terminal (elsewhere the step runs with `-q`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tests.conftest import SimApi

OK = "IMPT COMMAND SUCCEEDS"
QUESTION = ("Are you sure you want to continue?", "Enter 'y' (yes) or 'n' (no): <any>", "")
MORE = "Press <Enter> to see more logs or <Ctrl-C> to exit."


@dataclass(frozen=True)
class Wait:
    """Something the user waits for away from the keyboard (devices on the factory floor
    being blessed, a device's code running): `done` asks the server whether it happened."""

    what: str
    done: Callable[[SimApi], bool]


@dataclass(frozen=True)
class Step:
    line: str = ""  # what the user types (`impt ...`, `sim ...`, `cd dev`, `mkdir dev`)
    expect: tuple[str, ...] = ()
    dialog: tuple[str, ...] = ()  # with `confirm`: the summary before the question
    confirm: bool = False
    edit: dict[str, str] = field(default_factory=dict)  # the user writes these files instead
    on_terminal: tuple[str, ...] | None = None  # what a terminal shows instead of `expect`
    keys: tuple[str, ...] = ()  # pressed in a terminal at the command's "Press <Enter>" prompts
    stop_logging: bool = False  # the user stops the log stream the last command opened...
    logs: tuple[str, ...] = ()  # ...once it has shown these lines (templates, in this order)
    until: Wait | None = None  # the user waits for this before going on

    @property
    def command(self) -> bool:
        """A command that ends with impt's status line."""
        return self.line.startswith(("impt ", "sim "))

    @property
    def starts_logging(self) -> bool:
        """`impt log stream` or a command with `--log`: a log stream opens."""
        words = self.line.split()
        return words[:3] == ["impt", "log", "stream"] or (
            words[:1] == ["impt"] and "--log" in words
        )


def edit(**files: str) -> Step:
    """The user writes source code (names with `_` for `.`: `myapp_device_nut`)."""
    return Step(edit={name.replace("_", "."): code for name, code in files.items()})


def watch(until: Wait) -> Step:
    """The user watches something happen before the next step."""
    return Step(until=until)


def stop_logging(*logs: str) -> Step:
    """The guide's "Stop the logging by pressing Ctrl-C", once the stream has shown `logs`."""
    return Step(stop_logging=True, logs=logs)


def log_line(kind: str, message: str) -> str:
    """A line of a log stream: `[<device id>] <timestamp> [<type>] <message>`."""
    return f"[<dev>] <ts> [{kind}] {message}"


def project_block(device_file: str, agent_file: str, dg_type: str, name: str) -> tuple[str, ...]:
    """The start of a `Project` block as `project create`/`info` print it."""
    return (
        "Project: ",
        f"  Device file:  {device_file}",
        f"  Agent file:   {agent_file}",
        "  Device Group: ",
        "    id:<pad><id>",
        f"    type:<pad>{dg_type}",
        f"    name:<pad>{name}",
    )


def restarted(*names: str) -> tuple[str, ...]:
    lines: list[str] = [
        'Restart request for Devices assigned to Device Group "<id>" is successful:'
    ]
    for name in names:
        lines += ["Device: ", "  id:<pad><dev>", f"  name:<pad>{name}"]
    return tuple(lines)


def build_run(*devices: str, log: bool = False) -> tuple[str, ...]:
    """`build run`'s lines; with `log`, `build run --log`'s up to the stream's opening."""
    opened = ("Log stream for Device(s) <dev> is opened.",) if log else ()
    return (
        'Deployment "<id>" is created successfully.',
        'Min supported Deployment for Device Group "<id>" is updated successfully.',
        *restarted(*devices),
        'Deployment "<id>" is run successfully.',
        *opened,
        OK,
    )


def listed(*names: str) -> tuple[str, ...]:
    lines: list[str] = [f"Device list ({len(names)} items):"]
    for name in names:
        lines += ["Device: ", "  id:<pad><any>", f"  name:<pad>{name}"]
    return (*lines, OK)


def device_block(name: str, indent: str = "") -> tuple[str, ...]:
    """A Device as impt prints an assigned one."""
    return (
        f"{indent}Device: ",
        f"{indent}  id:<pad><dev>",
        f"{indent}  name:<pad>{name}",
        f"{indent}  mac_address:<pad><mac>",
        f"{indent}  agent_id:<pad><any>",
        f"{indent}  device_online: true",
    )
