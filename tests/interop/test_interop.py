"""Interoperability: the official JavaScript client ``imp-central-api`` (1.7.0, pinned in
``package.json``/``package-lock.json`` beside this file) against the bundled simulator.

Each test resets the simulator, seeds what it needs through the control plane and runs one
node script from this directory; the script asserts every response with node's ``assert``,
prints one line per check and exits non-zero on the first failure.

The node dependencies are installed once per session with ``npm ci`` when ``node_modules`` is
missing or was installed from a different lock file. The tests are skipped only when ``node``
or ``npm`` is not on PATH; an ``npm ci`` failure is a test failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

# The first test may have to run ``npm ci`` (bounded by NPM_TIMEOUT) before its script.
pytestmark = [pytest.mark.interop, pytest.mark.timeout(300)]

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
STAMP = NODE_MODULES / ".imptsh-lock-sha256"
CLIENT_VERSION = "1.7.0"
SCRIPT_TIMEOUT = 60  # seconds per node script; each script has its own 45 s watchdog
NPM_TIMEOUT = 220

USER, PASSWORD, EMAIL = "demo", "demo", "demo@example.com"
OTP_USER, OTP_PW, OTP_EMAIL, OTP_CODE = "otpuser", "otp-pw", "otp@example.com", "123456"

SCRIPTS = [
    "auth",
    "products",
    "devicegroups",
    "devices",
    "deployments",
    "logstreams",
    "webhooks",
    "faults",
]
TOKEN_TTL_SHORT = 2


def _lock_digest() -> str:
    return hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()


def _installed_version() -> str | None:
    manifest = NODE_MODULES / "imp-central-api" / "package.json"
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text(encoding="utf-8")).get("version")


def _child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for node/npm: no proxies for loopback, no colour, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["NO_COLOR"] = "1"
    env["npm_config_update_notifier"] = "false"
    if extra:
        env.update(extra)
    return env


@pytest.fixture(scope="session")
def node() -> str:
    """Path of ``node`` with ``tests/interop/node_modules`` installed from the lock file."""
    node_bin, npm_bin = shutil.which("node"), shutil.which("npm")
    if not node_bin or not npm_bin:
        pytest.skip("interop tests need node and npm on PATH (not found)")
    digest = _lock_digest()
    fresh = (
        STAMP.is_file()
        and STAMP.read_text(encoding="utf-8").strip() == digest
        and _installed_version() == CLIENT_VERSION
    )
    if not fresh:
        try:
            proc = subprocess.run(
                [npm_bin, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=HERE,
                env=_child_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(
                f"npm ci in {HERE} timed out after {NPM_TIMEOUT}s:\n{exc.stdout}\n{exc.stderr}"
            )
        if proc.returncode != 0:
            pytest.fail(
                f"npm ci in {HERE} failed with exit code {proc.returncode}:\n"
                f"{proc.stdout}\n{proc.stderr}"
            )
        STAMP.write_text(digest + "\n", encoding="utf-8")
    version = _installed_version()
    assert version == CLIENT_VERSION, (
        f"installed imp-central-api is {version}, not {CLIENT_VERSION}"
    )
    return node_bin


@pytest.fixture(scope="session")
def simulator():
    from imptsh.sim.server import start

    sim = start(
        host="127.0.0.1",
        port=0,
        db=None,
        user=USER,
        password=PASSWORD,
        email=EMAIL,
        devices=3,
        token_ttl=3600,
        log_interval=5.0,
        runner="literal",
    )
    try:
        yield sim
    finally:
        sim.stop()


def _root_url(base_url: str) -> str:
    return re.sub(r"/v5/?$", "", base_url)


def _seed(base_url: str) -> None:
    """Adds the two-factor account the auth script logs in with."""
    resp = requests.post(
        _root_url(base_url) + "/_sim/accounts",
        json={"username": OTP_USER, "password": OTP_PW, "email": OTP_EMAIL, "otp": OTP_CODE},
        timeout=10,
    )
    assert resp.status_code < 300, f"seeding the OTP account failed: {resp.status_code} {resp.text}"


@pytest.fixture
def sim(simulator):
    """The session simulator, reset to its initial state and seeded for one test."""
    simulator.reset()
    _seed(simulator.base_url)
    return simulator


def run_script(
    node: str, name: str, base_url: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    env = _child_env(
        {
            **(extra or {}),
            "IMPTSH_SIM_BASE_URL": base_url,
            "IMPTSH_SIM_ROOT_URL": _root_url(base_url),
            "IMPTSH_SIM_USER": USER,
            "IMPTSH_SIM_PASSWORD": PASSWORD,
            "IMPTSH_SIM_EMAIL": EMAIL,
            "IMPTSH_SIM_OTP_USER": OTP_USER,
            "IMPTSH_SIM_OTP_PASSWORD": OTP_PW,
            "IMPTSH_SIM_OTP_CODE": OTP_CODE,
        }
    )
    try:
        return subprocess.run(
            [node, str(HERE / f"{name}.js")],
            cwd=HERE,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        pytest.fail(f"{name}.js did not finish within {SCRIPT_TIMEOUT}s\n{out}\n{err}")


def assert_script_passed(proc: subprocess.CompletedProcess, name: str) -> None:
    output = proc.stdout + ("\n[stderr]\n" + proc.stderr if proc.stderr.strip() else "")
    assert proc.returncode == 0, f"{name}.js exited with {proc.returncode}:\n{output}"
    assert "# all " in proc.stdout, f"{name}.js did not report completion:\n{output}"


def test_client_is_pinned_exactly():
    manifest = json.loads((HERE / "package.json").read_text(encoding="utf-8"))
    assert manifest["dependencies"]["imp-central-api"] == CLIENT_VERSION
    lock = json.loads((HERE / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"]["node_modules/imp-central-api"]["version"] == CLIENT_VERSION


@pytest.mark.parametrize("name", SCRIPTS)
def test_js_client(node, sim, name):
    proc = run_script(node, name, sim.base_url)
    assert_script_passed(proc, name)


def test_js_client_token_expiry(node):
    """A simulator with a 2 s token lifetime: 401 after expiry, refresh and login key recover."""
    from imptsh.sim.server import start

    with start(
        host="127.0.0.1",
        port=0,
        user=USER,
        password=PASSWORD,
        email=EMAIL,
        devices=1,
        token_ttl=TOKEN_TTL_SHORT,
        log_interval=0,
        runner="literal",
    ) as short:
        proc = run_script(
            node, "expiry", short.base_url, {"IMPTSH_SIM_TOKEN_TTL": str(TOKEN_TTL_SHORT)}
        )
    assert_script_passed(proc, "expiry")


def test_cli_simulator_serves_the_js_client(node, tmp_path):
    """``imptsh-sim --port 0`` announces its URL and the JS client works against it."""
    cmd = [
        sys.executable,
        "-c",
        "import sys; from imptsh.sim.server import main; sys.exit(main())",
        "--port",
        "0",
    ]
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    lines: list[str] = []
    ready = threading.Event()
    url: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            m = re.fullmatch(r"imptsh-sim listening on (http://[^\s]+/v5)", line.strip())
            if m and not url:
                url.append(m.group(1))
                ready.set()
        ready.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        ready.wait(20)
        assert url, "imptsh-sim did not print its listening line:\n" + "".join(lines)
        assert url[0].startswith("http://127.0.0.1:"), url[0]
        result = run_script(node, "products", url[0])
        assert_script_passed(result, "products")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        reader.join(5)
        if proc.stdout is not None:
            proc.stdout.close()
