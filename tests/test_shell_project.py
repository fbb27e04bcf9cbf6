"""The shell's project context: the prompt names the Project's Device Group as soon as a
project command changes it, follows `cd`, and `mkdir` makes the Guide's directories."""

from __future__ import annotations

from tests.conftest import run_in_shell as run


def test_prompt_follows_project_commands_at_once(shell, sim, home, api):
    run(shell, f"auth login -e {sim.base_url} -u demo -w demo")
    run(shell, "project create --product MyProduct --create-product --name MyDevDG")
    assert shell.prompt == "imptsh MyDevDG> "
    run(shell, "project update --name Renamed")
    assert shell.prompt == "imptsh Renamed> "
    run(shell, "dg update --name Again")  # any rename through the session shows
    assert shell.prompt == "imptsh Again> "
    assert "Project is deleted successfully." in run(shell, "project delete -q")
    assert shell.prompt == "imptsh> "
    other = api.dg(api.entity("product", _product_id(api)), "OtherDG")
    run(shell, "project link --dg OtherDG")
    assert shell.prompt == "imptsh OtherDG> "
    # a rename elsewhere is seen once the session reads the group again
    api.client.patch(
        f"/devicegroups/{other['id']}",
        {"data": {"type": other["type"], "id": other["id"], "attributes": {"name": "Outside"}}},
    )
    run(shell, "project info")
    assert shell.prompt == "imptsh Outside> "


def _product_id(api) -> str:
    return api.get("/products")[0]["id"]


def test_prompt_follows_cd_between_projects(shell, sim, home):
    run(shell, f"auth login -e {sim.base_url} -u demo -w demo")
    run(shell, "mkdir dev factory")
    assert shell.last_status == 0
    run(shell, "cd dev")
    run(shell, "project create -p MyProduct -c -n MyDevDG")
    run(shell, "cd ../factory")
    assert shell.prompt == "imptsh> "
    run(shell, "project create -p MyProduct -n MyPreFactoryDG -f -t PP -r -u PD -w")
    assert shell.prompt == "imptsh MyPreFactoryDG> "
    run(shell, "cd ../dev")
    assert shell.prompt == "imptsh MyDevDG> "
    (home / "work" / "factory" / ".impt.project").write_text("{not json")
    run(shell, "cd ../factory")
    assert shell.prompt == "imptsh (broken project file)> "


def test_mkdir(shell, home):
    work = home / "work"
    run(shell, "mkdir a b/c")
    assert shell.last_status == 0 and (work / "a").is_dir() and (work / "b" / "c").is_dir()
    out = run(shell, "mkdir a")
    assert shell.last_status == 1 and out.startswith("Error: mkdir: already exists:")
    run(shell, "mkdir -p a")
    assert shell.last_status == 0
    out = run(shell, "mkdir")
    assert shell.last_status == 1 and "mkdir takes one or more directory names" in out
    (work / "file").write_text("")
    out = run(shell, "mkdir file/sub")
    assert shell.last_status == 1 and "mkdir: cannot create" in out
