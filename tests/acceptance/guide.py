"""The Development Guide's "Typical Use-cases" as data: every line the guide has the user
type, in the guide's order, and the lines imptsh prints for it (see `steps` for the
templates). Where imptsh's output differs from the guide's, it is impt 2.6.1's
(commands.md): `build run` also sets the min supported Deployment, and a group's
deployments are deleted with it by impCentral.

The source files hold realistic Squirrel, which the simulator runs on its Squirrel VM: the
application takes readings that its agent publishes (the guide's `Data published
successfully:` lines), the DUT firmware tests and blesses the device, the fixture firmware
blinks up the devices in front of it. `build run --log` opens the log stream, whose lines
are checked before the user stops it (the guide's "Stop the logging by pressing Ctrl-C").

The guide's physical steps are the simulator's: adding a device with the mobile app and
the BlinkUp fixture joining the account happen on its control plane before the session,
and "Use the fixture to configure some DUTs" (step 11 of "Develop Factory Fixture
Firmware", on the factory floor) is `sim blinkup --fixture`, imptsh's command for putting
new devices in front of a fixture: the fixture's code blinks them up, they run the DUT
firmware, which blesses them into MyPreProductionDG, where "Go To Production" finds
them."""

from __future__ import annotations

from tests.acceptance.firmware import (
    APP_AGENT,
    APP_DEVICE,
    APP_DEVICE_2,
    DUT_AGENT,
    DUT_DEVICE,
    FIXTURE_AGENT,
    FIXTURE_DEVICE,
    FIXTURE_DEVICE_2,
)
from tests.acceptance.state import devices_in, history
from tests.acceptance.steps import (
    OK,
    QUESTION,
    Step,
    Wait,
    build_run,
    device_block,
    edit,
    listed,
    log_line,
    project_block,
    stop_logging,
    watch,
)
from tests.conftest import SimApi

FIXTURE_ID = "5000d8c46a56cfca"
FIXTURE = {"id": FIXTURE_ID, "name": "fieldbus", "mac_address": "d8:c4:6a:56:cf:ca"}
"""The guide's BlinkUp fixture, added to the account like a development device."""
DUTS = ("dut1", "dut2")
"""The devices put in front of the fixture (named by the simulator)."""


def readings(*numbers: int) -> tuple[str, ...]:
    """The application's lines on a log stream, for the readings `numbers`."""
    lines: list[str] = []
    for n in numbers:
        lines += [
            log_line("agent.log", "Data published successfully:"),
            log_line("agent.log", f'{{ "measureTime": "<any>", "data": {n} }}'),
        ]
    return tuple(lines)


def _blessed(api: SimApi) -> bool:
    """Every device put in front of the fixture is in MyPreProductionDG and runs the
    application (its agent has published a reading)."""
    production = devices_in(api, "MyPreProductionDG")
    return sorted(production) == list(DUTS) and all(
        "Data published successfully:" in history(api, d["id"]) for d in production.values()
    )


BLESSED = Wait("the DUTs to be blessed and run the application", _blessed)


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
    Step("impt build run --log", build_run("myDevice1", log=True)),
    # 10. the user reviews how the application works; 11. stops the logging with Ctrl-C
    stop_logging(*readings(1, 2)),
    edit(myapp_device_nut=APP_DEVICE_2),
    Step("impt build run --log", build_run("myDevice1", log=True)),
    stop_logging(*readings(1, 2)),
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
    # the application's way: `build run --log`, the logging stopped with Ctrl-C; outside the
    # factory no fixture group targets the DUT group, so the device is not blessed
    Step("impt build run --log", build_run("myDevice3", log=True)),
    stop_logging(
        log_line("server.log", "Testing the device under test"),
        log_line("server.log", "Blessing failed"),
    ),
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
    Step("impt build run --log", build_run("fieldbus", log=True)),
    # 11. "Use the fixture to configure some DUTs. They will connect, then download and run
    # their assigned DUT firmware which will test and bless them": on the factory floor,
    # rehearsed with the simulator's `sim blinkup`
    Step(
        f"sim blinkup --fixture {FIXTURE_ID} --count {len(DUTS)}",
        (
            f'{len(DUTS)} new Device(s) are in front of BlinkUp fixture "{FIXTURE_ID}" '
            f"({len(DUTS)} waiting in all): its code's next server.factoryblinkup() call "
            'enrols them in Device Group "MyPreDUTDG".',
            *(
                line
                for name in DUTS
                for line in ("Device: ", "  id:<pad><dev>", f"  name:<pad>{name}")
            ),
            OK,
        ),
    ),
    watch(BLESSED),
    # 12. the logging is stopped with Ctrl-C
    stop_logging(
        log_line("server.log", "Fixture ready"),
        log_line("server.log", "BlinkUp #<any> of the devices in front of the fixture"),
    ),
    edit(factory_device_nut=FIXTURE_DEVICE_2),
    Step("impt build run --log", build_run("fieldbus", log=True)),
    stop_logging(log_line("server.log", "Fixture ready (v2)")),
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
        (
            "The following Devices are unassigned successfully from Device Group "
            '"MyPreProductionDG":',
            *(line for name in DUTS for line in device_block(name)),
            OK,
        ),
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
            # the DUTs blessed into MyPreProductionDG (the guide's transcript predates them)
            *(line for name in DUTS for line in device_block(name)),
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
            *('Device "<dev>" is unassigned successfully.',) * len(DUTS),
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
