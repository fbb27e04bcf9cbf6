"""Simulated devices carry names a user can type: `myDevice1`, `myDevice2`, ... as in the
Development Guide, a prefix chosen at start, and names given through the control plane."""

from __future__ import annotations

import signal
import subprocess
import sys

import requests

from imptsh.sim.server import main, start

from .helpers import Client


def names(client: Client) -> list[str | None]:
    return [d["attributes"]["name"] for d in client.devices()]


def test_seeded_devices_are_named_like_the_guide_and_reset_names_them_again(client):
    assert names(client) == ["myDevice1", "myDevice2", "myDevice3"]
    first = client.devices()[0]
    assert client.patch(
        f"/devices/{first['id']}",
        {"data": {"type": "device", "id": first["id"], "attributes": {"name": "renamed"}}},
    ).ok
    client.sim.reset()
    assert names(Client(client.sim)) == ["myDevice1", "myDevice2", "myDevice3"]


def test_control_plane_counts_on_and_names_what_it_is_told(client):
    made = client.control("devices", {"count": 2}).json()["data"]
    assert [d["attributes"]["name"] for d in made] == ["myDevice4", "myDevice5"]
    made = client.control(
        "devices",
        {"devices": [{"name": "fieldbus"}, {"name": None}, {}], "name_prefix": "dut"},
    ).json()["data"]
    assert [d["attributes"]["name"] for d in made] == ["fieldbus", None, "dut1"]
    # a free number is found past names already taken
    dev = client.devices()[0]
    client.patch(
        f"/devices/{dev['id']}",
        {"data": {"type": "device", "id": dev["id"], "attributes": {"name": "dut2"}}},
    )
    made = client.control("devices", {"count": 1, "name_prefix": "dut"}).json()["data"]
    assert made[0]["attributes"]["name"] == "dut3"


def test_control_plane_refuses_a_bad_prefix(client):
    for bad in ("", 7, "x" * 61):
        r = client.control("devices", {"count": 1, "name_prefix": bad})
        assert r.status_code == 400, bad
        assert "name_prefix" in r.text
    assert len(client.devices()) == 3


def test_start_takes_a_name_prefix():
    with start(
        port=0, devices=2, log_interval=0, device_name_prefix="bench", runner="literal"
    ) as sim:
        assert names(Client(sim)) == ["bench1", "bench2"]


def test_cli_flag_sets_the_prefix_and_rejects_an_empty_one(capsys):
    assert main(["--device-name-prefix", ""]) == 2
    assert "--device-name-prefix takes 1 to 60 characters" in capsys.readouterr().err
    proc = subprocess.Popen(
        [sys.executable, "-m", "imptsh.sim", "--port", "0", "--log-interval", "0"]
        + ["--devices", "2", "--device-name-prefix", "kit"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = proc.stdout.readline().split(" on ", 1)[1].strip()
        token = requests.post(base + "/auth", json={"id": "demo", "password": "demo"}).json()[
            "access_token"
        ]
        devices = requests.get(base + "/devices", headers={"Authorization": f"Bearer {token}"})
        assert [d["attributes"]["name"] for d in devices.json()["data"]] == ["kit1", "kit2"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
