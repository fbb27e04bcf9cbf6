"""The Development Guide's sections before its use cases (Projects, Devices, Builds, Logs,
Project information, Deleting Projects), step by step in the guide's order: in one shell
session fed on stdin, as one-shot commands, and in a real terminal (tmux), where `log get`
pages and `project delete` asks. After each step what it left on the server and on disk is
checked; at the end, that the deletions left what the guide says."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from tests.acceptance.development_tasks import DESCRIPTION, DEVELOPMENT_TASKS
from tests.acceptance.firmware import MESSAGES
from tests.acceptance.runners import Guide, follow, one_shot, shell_session
from tests.acceptance.state import (
    attrs,
    builds,
    current_build,
    devices,
    devices_in,
    group_of,
    groups,
    project_file,
)
from tests.acceptance.steps import Step
from tests.acceptance.terminal import terminal_session
from tests.conftest import SimApi

WAYS = [
    "shell session",
    "one-shot commands",
    pytest.param("terminal session", marks=pytest.mark.terminal),
]


@pytest.mark.parametrize("way", WAYS)
def test_development_tasks(guide: Guide, api: SimApi, way: str) -> None:
    # what the guide's examples assume: the Product, and a Device Group holding myDevice2
    product = api.product("MyProduct")
    test_dg = api.dg(product, "TestDG")
    api.assign(test_dg, devices(api)["myDevice2"])
    checked: list[str] = []

    def after(_n: int, step: Step) -> None:
        check_step(guide, api, step)
        checked.append(step.line)

    if way == "shell session":
        shell_session(guide, DEVELOPMENT_TASKS, after)
    elif way == "one-shot commands":
        follow(guide, DEVELOPMENT_TASKS, one_shot(guide), after)
    else:
        if shutil.which("tmux") is None:
            pytest.skip("tmux is not installed")
        transcript = terminal_session(guide, DEVELOPMENT_TASKS, after)
        assert "imptsh MyDG> impt project info --full" in transcript  # the prompt followed
    assert checked == [step.line for step in DEVELOPMENT_TASKS]

    # the Product stays, with TestDG (the guide's `project delete --all` lists no Product)
    assert sorted(groups(api)) == ["TestDG"]
    assert [attrs(p)["name"] for p in api.client.list("/products")] == ["MyProduct"]
    assert api.client.list("/deployments") == []
    assert all(group_of(d) is None for d in devices(api).values())
    # the first directory keeps its source files, the linked one has nothing left
    first, linked = guide.work / "project", guide.work / "linked"
    assert sorted(p.name for p in first.iterdir()) == ["agent.nut", "device.nut", "device1.nut"]
    assert list(linked.iterdir()) == []
    assert guide.auth_file.exists()


def check_step(guide: Guide, api: SimApi, step: Step) -> None:
    """What the step left on the server and on disk."""
    first, linked = guide.work / "project", guide.work / "linked"
    dg = groups(api).get("MyDG")
    if step.line.startswith("impt project create"):
        assert dg is not None and dg["type"] == "development_devicegroup"
        assert dg["relationships"]["product"]["id"] == product_id(api)
        assert project_file(first) == project(dg, "device.nut")
        assert (first / "device.nut").read_text() == (first / "agent.nut").read_text() == ""
    elif step.line.startswith("impt project update"):
        assert attrs(dg)["description"] == DESCRIPTION
        assert project_file(first) == project(dg, "device1.nut")
        assert (first / "device1.nut").read_text() == ""
    elif step.line.startswith("impt project link"):
        assert project_file(linked) == project(dg, "device.nut")
        assert project_file(first) == project(dg, "device1.nut")  # untouched
    elif step.line == "impt dg reassign --from TestDG":
        assert sorted(devices_in(api, "MyDG")) == ["myDevice1", "myDevice2"]
        assert devices_in(api, "TestDG") == {}
    elif step.line.startswith("impt device unassign"):
        assert sorted(devices_in(api, "MyDG")) == ["myDevice1"]
        assert group_of(devices(api)["myDevice2"]) is None
    elif step.line.startswith("impt build deploy"):
        (build,) = builds(api, dg)
        assert current_build(api, dg)["id"] == build["id"]
        assert (attrs(build)["device_code"], attrs(build)["agent_code"]) == (MESSAGES, "")
        assert attrs(build)["description"] == "my new build"
        assert (attrs(build)["tags"], attrs(build)["flagged"]) == (["TAG1"], True)
    elif step.line == "impt project delete":
        assert not (first / ".impt.project").exists()
        assert (first / "device1.nut").exists()  # only the Project file goes
        assert dg is not None and project_file(linked) == project(dg, "device.nut")
    elif step.line == "impt project delete --all":
        assert dg is None and not (linked / ".impt.project").exists()


def product_id(api: SimApi) -> str:
    (product,) = api.client.list("/products")
    return product["id"]


def project(dg: dict[str, Any], device_file: str) -> dict[str, str]:
    return {"deviceGroupId": dg["id"], "deviceFile": device_file, "agentFile": "agent.nut"}
