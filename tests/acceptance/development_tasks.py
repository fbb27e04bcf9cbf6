"""The Development Guide's sections before its use cases, as data: "Projects" and
"Development Tasks" (creating, updating and linking Projects, device manipulation, creating
and running builds, logging, project information, deleting Projects), every example
command in the guide's order, with the lines imptsh prints for it (see `steps`).

The guide's examples were recorded in this order: its `project link` transcript shows the
description `project update` had just set, at the same `updated_at`, and its `project info`
and `project delete` transcripts show the linked directory's `device.nut` and `agent.nut`.
So the Project is created (example "Create A New Device Group") and updated in one
directory, then linked (example "Link An Existing Device Group") from another, as a
colleague sharing it would, and the later sections work there. What the guide assumes is
there already (the Product, a Device Group `TestDG` holding `myDevice2`) is created on the
server before the session.

Where the guide names a command without an example, it is followed too: `device unassign`
(so that `log get` and `log stream` find the Project's only device, as the guide's
examples do), `device restart` (while the log stream runs, so that the device logs again),
and a plain `project delete` in the first directory (the first level of deletion)."""

from __future__ import annotations

from tests.acceptance.firmware import MESSAGES
from tests.acceptance.guide import LOGIN
from tests.acceptance.state import devices_in, history
from tests.acceptance.steps import (
    MORE,
    OK,
    QUESTION,
    Step,
    Wait,
    device_block,
    edit,
    log_line,
    project_block,
    restarted,
    stop_logging,
    watch,
)
from tests.conftest import SimApi

DESCRIPTION = "New description of my DG"


def _group_tail(description: str) -> tuple[str, ...]:
    """The rest of the Project's Device Group block, after its name."""
    return (
        f"    description:<pad>{description}",
        "    region:",
        "    env_vars:",
        "    created_at:<pad><ts>",
        "    updated_at:<pad><ts>",
        "    Product: ",
        "      id:   <id>",
        "      name: MyProduct",
    )


def _messages(*numbers: int, stream: bool = False) -> tuple[str, ...]:
    """The device code's numbered lines: on a log stream, or as `log get` prints them."""
    return tuple(
        log_line("server.log", f"Message #{n}#") if stream else f"<ts> [server.log] Message #{n}#"
        for n in numbers
    )


def _logged_all(api: SimApi) -> bool:
    device = devices_in(api, "MyDG").get("myDevice1")
    return device is not None and "Message #20#" in history(api, device["id"])


LOGGED = Wait("myDevice1 to run its code", _logged_all)

DEVELOPMENT_TASKS = (
    LOGIN,
    Step("mkdir project"),
    Step("cd project"),
    # -- Creating Projects: Create A New Device Group
    Step(
        "impt project create --product MyProduct --name MyDG",
        (
            'Device Group "MyDG" is created successfully.',
            'Device source file "device.nut" is created successfully.',
            'Agent source file "agent.nut" is created successfully.',
            "Project is created successfully.",
            *project_block("device.nut", "agent.nut", "development", "MyDG"),
            *_group_tail(""),
            OK,
        ),
    ),
    # -- Updating Projects
    Step(
        f'impt project update --descr "{DESCRIPTION}" --device-file device1.nut',
        (
            'Device Group "<id>" is updated successfully.',
            'Device source file "device1.nut" is created successfully.',
            "Project is updated successfully.",
            *project_block("device1.nut", "agent.nut", "development", "MyDG"),
            *_group_tail(DESCRIPTION),
            OK,
        ),
    ),
    # -- Creating Projects: Link An Existing Device Group (from another directory)
    Step("cd .."),
    Step("mkdir linked"),
    Step("cd linked"),
    Step(
        "impt project link --dg MyDG",
        (
            'Device source file "device.nut" is created successfully.',
            'Agent source file "agent.nut" is created successfully.',
            "Project is linked successfully.",
            *project_block("device.nut", "agent.nut", "development", "MyDG"),
            *_group_tail(DESCRIPTION),
            OK,
        ),
    ),
    edit(device_nut=MESSAGES),  # the agent file may stay empty, the guide says
    # -- Device Manipulation
    Step(
        "impt device assign --device myDevice1",
        ('Device "myDevice1" is assigned successfully to Device Group "<id>".', OK),
    ),
    Step(
        "impt dg reassign --from TestDG",
        (
            'The following Devices assigned to Device Group "TestDG" are reassigned '
            'successfully to Device Group "<id>":',
            *device_block("myDevice2"),
            OK,
        ),
    ),
    Step(
        "impt device unassign --device myDevice2",
        ('Device "myDevice2" is unassigned successfully.', OK),
    ),
    # -- Creating And Running Builds
    Step(
        'impt build deploy --descr "my new build" --tag TAG1 --flagged',
        (
            'Deployment "<id>" is created successfully.',
            "Deployment: ",
            "  id:      <id>",
            "  sha:     <sha>",
            "  tags:    TAG1",
            "  flagged: true",
            OK,
        ),
    ),
    Step("impt dg restart", (*restarted("myDevice1"), *device_block("myDevice1")[3:], OK)),
    # -- Logging: Historical Logs
    watch(LOGGED),
    Step(
        "impt log get --page-size 5",
        # not on a terminal: every page, at once
        (*_messages(*range(20, 0, -1)), "<ts> [status] Device connected", OK),
        # on a terminal: a page, Enter, the next page, Ctrl-C
        on_terminal=(
            *_messages(20, 19, 18, 17, 16),
            OK,
            "",
            MORE,
            *_messages(15, 14, 13, 12, 11),
            OK,
            "",
            MORE,
            OK,
        ),
        keys=("Enter", "C-c"),
    ),
    # -- Logging: Real-time Logs
    Step("impt log stream", ("Log stream for Device(s) <dev> is opened.", OK)),
    Step(
        "impt device restart --device myDevice1",
        ('Restart request for Device "myDevice1" is successful.', OK),
    ),
    stop_logging(log_line("status", "Device connected"), *_messages(*range(1, 21), stream=True)),
    # -- Getting Project Information
    Step(
        "impt project info --full",
        (
            *project_block("device.nut", "agent.nut", "development", "MyDG"),
            *_group_tail(DESCRIPTION),
            "    Current Deployment: ",
            "      id:      <id>",
            "      sha:     <sha>",
            "      tags:    TAG1",
            "      flagged: true",
            "    Min supported Deployment: ",
            "      id:<pad><id>",
            "    Devices: ",
            *device_block("myDevice1", indent="      "),
            "Auth: ",
            "  Auth type:                 Global Auth file",
            "  impCentral API endpoint:   <any>",
            "  Access token auto refresh: true",
            "  Login method:              User/Password",
            "  Username:                  demo",
            "  Email:                     demo@example.com",
            "  Account id:                <id>",
            OK,
        ),
    ),
    # -- Deleting Projects: the Project file only, then everything
    Step("cd ../project"),
    Step(
        "impt project delete",
        ("Project is deleted successfully.", OK),
        dialog=("Project File in the current directory will be deleted.", *QUESTION),
        confirm=True,
    ),
    Step("cd ../linked"),
    Step(
        "impt project delete --all",
        (
            'Device "<dev>" is unassigned successfully.',
            'Deployment "<id>" is updated successfully.',
            'Device Group "<id>" is deleted successfully.',
            # impCentral deletes a group's deployments with it (impt 2.6.1's message)
            'Deployment "<id>" is already deleted.',
            'Device/agent source files "device.nut", "agent.nut" are deleted successfully.',
            "Project is deleted successfully.",
            OK,
        ),
        dialog=(
            "The following entities will be deleted:",
            "Device Group: ",
            "  id:   <id>",
            "  type: development",
            "  name: MyDG",
            "Deployment: ",
            "  id:      <id>",
            "  sha:     <sha>",
            "  tags:    TAG1",
            "  flagged: true",
            "",
            "The following Devices will be unassigned from Device Groups:",
            *device_block("myDevice1"),
            "",
            'The following Deployments are marked "flagged" to prevent deleting. They will be '
            'modified by setting "flagged" attribute to false:',
            "Deployment: ",
            "  id:      <id>",
            "  sha:     <sha>",
            "  tags:    TAG1",
            "  flagged: true",
            "",
            "The following files will be deleted:",
            "Device/agent source files: device.nut, agent.nut",
            "",
            "Project File in the current directory will be deleted.",
            *QUESTION,
        ),
        confirm=True,
    ),
)
