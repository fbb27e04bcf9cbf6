"""The Development Guide's "Typical Use-cases" as data: every line the guide has the user
type, in the guide's order, and the lines imptsh prints for it.

A step's `expect` lines are templates matched in order against what the step prints (see
`runners.match_in_order`): `<id>` stands for a UUID, `<dev>` for a device id, `<sha>` for a
SHA-256, `<pad>` for alignment spaces and `<any>` for anything. `dialog` lines are the
deletion summary and question, printed only when the confirmation is asked in a terminal
(elsewhere the step runs with `-q`). Where imptsh's output differs from the guide's, it is
impt 2.6.1's (commands.md): `build run` also sets the min supported Deployment, and a
group's deployments are deleted with it by impCentral.

The guide's `build run --log` steps run `build run` here: streaming logs is tested with the
log commands. Its physical steps (adding a device with the mobile app, a BlinkUp fixture)
are done on the simulator's control plane before the session starts."""

from __future__ import annotations

from dataclasses import dataclass, field

OK = "IMPT COMMAND SUCCEEDS"
QUESTION = ("Are you sure you want to continue?", "Enter 'y' (yes) or 'n' (no): <any>", "")

FIXTURE_ID = "5000d8c46a56cfca"
FIXTURE = {"id": FIXTURE_ID, "name": "fieldbus", "mac_address": "d8:c4:6a:56:cf:ca"}
"""The guide's BlinkUp fixture, added to the account like a development device."""


@dataclass(frozen=True)
class Step:
    line: str = ""  # what the user types (`impt ...`, `cd dev`, `mkdir dev`)
    expect: tuple[str, ...] = ()
    dialog: tuple[str, ...] = ()  # with `confirm`: the summary before the question
    confirm: bool = False
    edit: dict[str, str] = field(default_factory=dict)  # the user writes these files instead

    @property
    def command(self) -> bool:
        return self.line.startswith("impt ")


def edit(**files: str) -> Step:
    """The user writes source code (names with `_` for `.`: `myapp_device_nut`)."""
    return Step(edit={name.replace("_", "."): code for name, code in files.items()})


APP_DEVICE = """\
// Reads a sensor and sends the reading to the agent every ten seconds.
server.log("Data published successfully:");
function measure() {
    agent.send("data", { "measureTime": time(), "data": hardware.voltage() });
    imp.wakeup(10, measure);
}
measure();
"""
APP_DEVICE_2 = APP_DEVICE.replace("every ten seconds", "every five seconds").replace(
    "imp.wakeup(10", "imp.wakeup(5"
)
APP_AGENT = """\
device.on("data", function(reading) {
    server.log(http.jsonencode(reading));
});
"""
DUT_DEVICE = """\
// Device-under-test firmware: test the hardware, bless the device if it passes.
server.log("Testing the device under test");
local passed = hardware.voltage() > 3.0;
server.bless(passed, function(blessed) {
    server.log("Blessing " + (blessed ? "succeeded" : "failed"));
    if (blessed) imp.clearconfiguration();
});
"""
DUT_AGENT = 'server.log("DUT agent ready");\n'
FIXTURE_DEVICE = """\
// BlinkUp fixture firmware: configures devices under test at the press of a button.
server.log("Fixture ready");
const SSID = "factory";
const PASSWORD = "secret";
hardware.pin1.configure(DIGITAL_IN, function() {
    server.factoryblinkup(SSID, PASSWORD, hardware.pin5, BLINKUP_FAST);
});
"""
FIXTURE_DEVICE_2 = FIXTURE_DEVICE.replace("Fixture ready", "Fixture ready (v2)")
FIXTURE_AGENT = 'server.log("Fixture agent ready");\n'


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


def build_run(*devices: str) -> tuple[str, ...]:
    return (
        'Deployment "<id>" is created successfully.',
        'Min supported Deployment for Device Group "<id>" is updated successfully.',
        *restarted(*devices),
        'Deployment "<id>" is run successfully.',
        OK,
    )


def listed(*names: str) -> tuple[str, ...]:
    lines: list[str] = [f"Device list ({len(names)} items):"]
    for name in names:
        lines += ["Device: ", "  id:<pad><any>", f"  name:<pad>{name}"]
    return (*lines, OK)


# ===================================================================== use cases


LOGIN = Step(
    "impt auth login --user demo --pwd demo", ("Global login is successful.", OK)
)  # the guide's `--user username --pwd password`; the session's --endpoint is the simulator

DEVELOP_APPLICATION = (
    LOGIN,
    Step("mkdir dev"),
    Step("cd dev"),
    Step(
        "impt project create --product MyProduct --create-product --name MyDevDG "
        '--descr "imp Application Firmware" --device-file myapp.device.nut '
        "--agent-file myapp.agent.nut",
        (
            'Product "MyProduct" is created successfully.',
            'Device Group "MyDevDG" is created successfully.',
            'Device source file "myapp.device.nut" is created successfully.',
            'Agent source file "myapp.agent.nut" is created successfully.',
            "Project is created successfully.",
            *project_block("myapp.device.nut", "myapp.agent.nut", "development", "MyDevDG"),
            "    description: imp Application Firmware",
            "    Product: ",
            "      id:   <id>",
            "      name: MyProduct",
            OK,
        ),
    ),
    edit(myapp_device_nut=APP_DEVICE, myapp_agent_nut=APP_AGENT),
    Step("impt device list --unassigned", listed("myDevice1", "myDevice2", "myDevice3")),
    Step(
        "impt device assign --device myDevice1",
        ('Device "myDevice1" is assigned successfully to Device Group "<id>".', OK),
    ),
    Step("impt build run", build_run("myDevice1")),
    edit(myapp_device_nut=APP_DEVICE_2),
    Step("impt build run", build_run("myDevice1")),
    Step(
        'impt build update --descr "My Release Candidate 1" --tag MyRC1 --flagged',
        ('Deployment "<id>" is updated successfully.', OK),
    ),
)

DEVELOP_DUT = (
    Step("mkdir dut"),
    Step("cd dut"),
    Step(
        "impt project create --product MyProduct --pre-dut --name MyDUTDevDG "
        '--descr "DUT Firmware" --device-file dut.device.nut --agent-file dut.agent.nut',
        (
            'Device Group "MyDUTDevDG" is created successfully.',
            'Device source file "dut.device.nut" is created successfully.',
            'Agent source file "dut.agent.nut" is created successfully.',
            "Project is created successfully.",
            *project_block("dut.device.nut", "dut.agent.nut", "pre-dut", "MyDUTDevDG"),
            "    description: DUT Firmware",
            OK,
        ),
    ),
    edit(dut_device_nut=DUT_DEVICE, dut_agent_nut=DUT_AGENT),
    Step("impt device list --unassigned", listed("myDevice2", "myDevice3")),
    Step(
        "impt device assign --device myDevice3",
        ('Device "myDevice3" is assigned successfully to Device Group "<id>".', OK),
    ),
    Step("impt build run", build_run("myDevice3")),
    Step(
        'impt build update --descr "My Tests Release Candidate 1" --tag MyTestsRC1 --flagged',
        ('Deployment "<id>" is updated successfully.', OK),
    ),
)

DEVELOP_FIXTURE = (
    Step("mkdir factory"),
    Step("cd factory"),
    Step(
        "impt project create --pre-factory --product MyProduct --name MyPreFactoryDG "
        '--descr "Factory Firmware" --dut MyPreDUTDG --create-dut '
        "--target MyPreProductionDG --create-target "
        "--device-file factory.device.nut --agent-file factory.agent.nut",
        (
            'Device Group "MyPreProductionDG" is created successfully.',
            'Device Group "MyPreDUTDG" is created successfully.',
            'Device Group "MyPreFactoryDG" is created successfully.',
            'Device source file "factory.device.nut" is created successfully.',
            'Agent source file "factory.agent.nut" is created successfully.',
            "Project is created successfully.",
            *project_block(
                "factory.device.nut", "factory.agent.nut", "pre-factory", "MyPreFactoryDG"
            ),
            "    description:<pad>Factory Firmware",
            "    Product: ",
            "      name: MyProduct",
            "    Production Target: ",
            "      id:   <id>",
            "      type: pre-production",
            "      name: MyPreProductionDG",
            "    DUT Target: ",
            "      id:   <id>",
            "      type: pre-dut",
            "      name: MyPreDUTDG",
            OK,
        ),
    ),
    Step(
        "impt build copy --build MyTestsRC1 --dg MyPreDUTDG",
        (
            'Deployment "<id>" is created successfully.',
            'Deployment "MyTestsRC1" is copied successfully to Deployment "<id>".',
            OK,
        ),
    ),
    Step(
        "impt build copy --build MyRC1 --dg MyPreProductionDG",
        (
            'Deployment "<id>" is created successfully.',
            'Deployment "MyRC1" is copied successfully to Deployment "<id>".',
            OK,
        ),
    ),
    edit(factory_device_nut=FIXTURE_DEVICE, factory_agent_nut=FIXTURE_AGENT),
    Step("impt device list --unassigned", listed("myDevice2", "fieldbus")),
    Step(
        f"impt device assign --device {FIXTURE_ID}",
        (f'Device "{FIXTURE_ID}" is assigned successfully to Device Group "<id>".', OK),
    ),
    Step("impt build run", build_run("fieldbus")),
    edit(factory_device_nut=FIXTURE_DEVICE_2),
    Step("impt build run", build_run("fieldbus")),
    Step(
        "impt build update --descr "
        '"My Factory Firmware Release Candidate 1" --tag MyFactoryRC1 --flagged',
        ('Deployment "<id>" is updated successfully.', OK),
    ),
)


def builds_removed(tags: str, dg_type: str, name: str) -> Step:
    """`dg builds --remove` where one unflagged build older than the min supported one goes
    and the flagged latest one stays."""
    return Step(
        "impt dg builds --remove",
        (
            'Deployment "<id>" is deleted successfully.',
            "Deployment list (1 items):",
            "Deployment: ",
            "  id:<pad><id>",
            "  sha:<pad><sha>",
            f"  tags:<pad>{tags}",
            "  flagged:<pad>true",
            "  Device Group: ",
            "    id:   <id>",
            f"    type: {dg_type}",
            f"    name: {name}",
            OK,
        ),
        dialog=(
            "The following entities will be deleted:",
            "Deployment: ",
            "  id:  <id>",
            "  sha: <sha>",
            "",
            *QUESTION,
        ),
        confirm=True,
    )


def files_deleted(device_file: str, agent_file: str) -> Step:
    return Step(
        "impt project delete --files",
        (
            f'Device/agent source files "{device_file}", "{agent_file}" are deleted successfully.',
            "Project is deleted successfully.",
            OK,
        ),
        dialog=(
            "The following files will be deleted:",
            f"Device/agent source files: {device_file}, {agent_file}",
            "",
            "Project File in the current directory will be deleted.",
            *QUESTION,
        ),
        confirm=True,
    )


def unassigned(name: str) -> Step:
    return Step(
        "impt dg unassign",
        (
            'The following Devices are unassigned successfully from Device Group "<id>":',
            "Device: ",
            "  id:<pad><dev>",
            f"  name:<pad>{name}",
            OK,
        ),
    )


LOGOUT = Step("impt auth logout", ("Global logout is successful.", OK))

GO_TO_PRODUCTION = (
    Step("cd factory"),
    builds_removed("MyFactoryRC1", "pre-factory", "MyPreFactoryDG"),
    unassigned("fieldbus"),
    Step(
        "impt dg unassign --dg MyPreProductionDG",
        # the simulator does not bless devices, so no DUT reached the production target
        ('Device Group "MyPreProductionDG" does not have assigned Devices.', OK),
    ),
    files_deleted("factory.device.nut", "factory.agent.nut"),
    Step("cd ../dev"),
    builds_removed("MyRC1", "development", "MyDevDG"),
    unassigned("myDevice1"),
    Step(
        "impt product info --full",
        (
            "Product: ",
            "  id:<pad><id>",
            "  name:<pad>MyProduct",
            "  Device Groups: ",
            "    Device Group: ",
            "      type:<pad>development",
            "      name:<pad>MyDevDG",
            "      Current Deployment: ",
            "        tags:<pad>MyRC1",
            "    Device Group: ",
            "      name:<pad>MyDUTDevDG",
            "    Device Group: ",
            "      name:<pad>MyPreProductionDG",
            "      Production Target for: ",
            "          name: MyPreFactoryDG",
            "    Device Group: ",
            "      name:<pad>MyPreDUTDG",
            "      DUT Target for: ",
            "          name: MyPreFactoryDG",
            "    Device Group: ",
            "      type:<pad>pre-factory",
            "      name:<pad>MyPreFactoryDG",
            "      Production Target: ",
            "        name: MyPreProductionDG",
            "      DUT Target: ",
            "        name: MyPreDUTDG",
            OK,
        ),
    ),
    files_deleted("myapp.device.nut", "myapp.agent.nut"),
    # the guide's note: a DUT firmware project is cleaned up like the application's
    Step("cd ../dut"),
    files_deleted("dut.device.nut", "dut.agent.nut"),
    LOGOUT,
)


def deleted_all(dialog: tuple[str, ...], expect: tuple[str, ...]) -> Step:
    return Step("impt project delete --all", expect, dialog=(*dialog, *QUESTION), confirm=True)


FULL_CLEANUP = (
    Step("cd factory"),
    deleted_all(
        (
            "The following entities will be deleted:",
            "Device Group: ",
            "  type: pre-production",
            "  name: MyPreProductionDG",
            "Device Group: ",
            "  type: pre-dut",
            "  name: MyPreDUTDG",
            "Device Group: ",
            "  type: pre-factory",
            "  name: MyPreFactoryDG",
            *("Deployment: ", "  id:<pad><id>") * 4,
            "",
            "The following Devices will be unassigned from Device Groups:",
            "Device: ",
            f"  id:            {FIXTURE_ID}",
            "  name:          fieldbus",
            "",
            'The following Deployments are marked "flagged" to prevent deleting. They will be '
            'modified by setting "flagged" attribute to false:',
            "Deployment: ",
            "  id:<pad><id>",
            "  sha:<pad><sha>",
            "  tags:<pad>MyFactoryRC1",
            "  flagged: true",
            "",
            "The following files will be deleted:",
            "Device/agent source files: factory.device.nut, factory.agent.nut",
            "",
            "Project File in the current directory will be deleted.",
        ),
        (
            f'Device "{FIXTURE_ID}" is unassigned successfully.',
            'Deployment "<id>" is updated successfully.',
            *('Device Group "<id>" is deleted successfully.',) * 3,
            *('Deployment "<id>" is already deleted.',) * 4,
            'Device/agent source files "factory.device.nut", "factory.agent.nut" are deleted '
            "successfully.",
            "Project is deleted successfully.",
            OK,
        ),
    ),
    # the guide's note: a DUT firmware project is cleaned up like the application's
    Step("cd ../dut"),
    deleted_all(
        (
            "The following entities will be deleted:",
            "Device Group: ",
            "  type: pre-dut",
            "  name: MyDUTDevDG",
        ),
        (
            'Device "<dev>" is unassigned successfully.',
            'Deployment "<id>" is updated successfully.',
            'Device Group "<id>" is deleted successfully.',
            'Deployment "<id>" is already deleted.',
            'Device/agent source files "dut.device.nut", "dut.agent.nut" are deleted successfully.',
            "Project is deleted successfully.",
            OK,
        ),
    ),
    Step("cd ../dev"),
    deleted_all(
        (
            "The following entities will be deleted:",
            "Product: ",
            "  id:   <id>",
            "  name: MyProduct",
            "Device Group: ",
            "  type: development",
            "  name: MyDevDG",
            *("Deployment: ", "  id:<pad><id>") * 2,
            "",
            "The following Devices will be unassigned from Device Groups:",
            "Device: ",
            "  id:<pad><dev>",
            "  name:          myDevice1",
        ),
        (
            'Device "<dev>" is unassigned successfully.',
            'Deployment "<id>" is updated successfully.',
            'Device Group "<id>" is deleted successfully.',
            'Product "<id>" is deleted successfully.',
            *('Deployment "<id>" is already deleted.',) * 2,
            'Device/agent source files "myapp.device.nut", "myapp.agent.nut" are deleted '
            "successfully.",
            "Project is deleted successfully.",
            OK,
        ),
    ),
    LOGOUT,
)
