"""The Development Guide's "Cleaning Up": going to production (the builds that are not
needed, the devices, among them the DUTs the fixture's firmware blessed, and the Projects
go; the entities and flagged builds stay) and the full clean-up (everything goes). In a
real terminal each question is answered `y` after its summary; elsewhere the steps run with
`-q`."""

from __future__ import annotations

import shutil
from collections.abc import Sequence

import pytest

from tests.acceptance.conftest import done_before
from tests.acceptance.guide import DUTS, FULL_CLEANUP, GO_TO_PRODUCTION, LOGOUT, Step
from tests.acceptance.runners import Guide, follow, one_shot, shell_session
from tests.acceptance.state import attrs, builds, devices, group_of, groups
from tests.acceptance.terminal import terminal_session
from tests.conftest import SimApi

WAYS = [
    pytest.param("terminal session", marks=pytest.mark.terminal),
    "shell session",
    "one-shot commands",
]


def clean_up(guide: Guide, steps: Sequence[Step], way: str) -> None:
    """Follows `steps` (which end with the logout) one way; the auth file is unchanged
    until the logout deletes it."""
    if way == "terminal session" and shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    done_before(guide, "cleanup")
    auth = guide.auth_file.read_bytes()
    checked: list[int] = []

    def auth_untouched(n: int, step: Step) -> None:
        if step is not LOGOUT:
            assert guide.auth_file.read_bytes() == auth, step.line
            checked.append(n)

    if way == "terminal session":
        terminal_session(guide, steps, after=auth_untouched)
    elif way == "shell session":
        shell_session(guide, steps)
    else:
        follow(guide, steps, one_shot(guide), after=auth_untouched)
    assert steps[-1] is LOGOUT and not guide.auth_file.exists()
    if way != "shell session":
        assert checked == list(range(len(steps) - 1))


def no_project_left(guide: Guide, directory: str, *sources: str) -> None:
    where = guide.work / directory
    assert where.is_dir() and not (where / ".impt.project").exists()
    assert not any((where / name).exists() for name in sources)


@pytest.mark.parametrize("way", WAYS)
def test_go_to_production(guide: Guide, api: SimApi, way: str) -> None:
    clean_up(guide, GO_TO_PRODUCTION, way)
    everything = groups(api)
    assert sorted(everything) == sorted(
        ["MyDevDG", "MyDUTDevDG", "MyPreProductionDG", "MyPreDUTDG", "MyPreFactoryDG"]
    )
    assert [attrs(p)["name"] for p in api.client.list("/products")] == ["MyProduct"]
    # only the flagged release candidates are left of the fixture and application builds
    for group, tag in (("MyPreFactoryDG", "MyFactoryRC1"), ("MyDevDG", "MyRC1")):
        (kept,) = builds(api, everything[group])
        assert attrs(kept)["tags"] == [tag] and attrs(kept)["flagged"] is True
    assert len(builds(api, everything["MyPreProductionDG"])) == 1
    assert len(builds(api, everything["MyPreDUTDG"])) == 1
    on_account = devices(api)
    assert group_of(on_account["fieldbus"]) is None and group_of(on_account["myDevice1"]) is None
    # the blessed devices are unassigned from the production target, to be used again
    assert all(group_of(on_account[name]) is None for name in DUTS)
    assert all(attrs(on_account[name])["agent_id"] is None for name in DUTS)
    assert group_of(on_account["myDevice3"]) == everything["MyDUTDevDG"]["id"]
    no_project_left(guide, "factory", "factory.device.nut", "factory.agent.nut")
    no_project_left(guide, "dev", "myapp.device.nut", "myapp.agent.nut")
    no_project_left(guide, "dut", "dut.device.nut", "dut.agent.nut")


@pytest.mark.parametrize("way", WAYS)
def test_full_cleanup(guide: Guide, api: SimApi, way: str) -> None:
    clean_up(guide, FULL_CLEANUP, way)
    assert api.client.list("/products") == []
    assert api.client.list("/devicegroups") == []
    assert api.client.list("/deployments") == []
    on_account = devices(api)
    assert sorted(on_account) == [*DUTS, "fieldbus", "myDevice1", "myDevice2", "myDevice3"]
    assert all(group_of(d) is None for d in on_account.values())
    no_project_left(guide, "factory", "factory.device.nut", "factory.agent.nut")
    no_project_left(guide, "dev", "myapp.device.nut", "myapp.agent.nut")
    no_project_left(guide, "dut", "dut.device.nut", "dut.agent.nut")
