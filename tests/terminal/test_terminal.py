"""The shell in a real terminal (tmux): what only a terminal shows."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from imptsh.api.auth import login_with_password
from imptsh.api.client import Client
from imptsh.api.errors import ConnectionFailedError
from tests.conftest import run_imptsh, sim_control

pytestmark = [
    pytest.mark.terminal,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


class Terminal:
    """One tmux session on a tmux server of its own (`-L`), so that other tmux users on the
    machine can neither see it nor take its server down."""

    def __init__(self, command: str, cwd: Path, home: Path, *, toolbar: bool = False):
        self.name = f"imptsh-{uuid.uuid4().hex[:8]}"
        # Without the toolbar the prompt is the screen's last line (`imptsh>$`).
        env = (
            f"HOME={home} XDG_CONFIG_HOME={home}/.config TERM=xterm-256color "
            f"IMPTSH_TOOLBAR={'on' if toolbar else 'off'}"
        )
        subprocess.run(
            [
                *self.tmux,
                "new-session",
                "-d",
                "-s",
                self.name,
                "-x",
                "160",
                "-y",
                "50",
                f"cd {cwd} && env -u NO_COLOR {env} {command}; echo EXITED=$?; sleep 30",
            ],
            check=True,
        )

    def send(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, *keys], check=True)

    @property
    def tmux(self) -> list[str]:
        return ["tmux", "-L", self.name]

    def escaped_screen(self) -> str:
        """The pane with its colour codes."""
        return subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-e", "-t", self.name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def screen(self) -> str:
        """The pane's text, trailing spaces and blank lines removed (so `$` means "last")."""
        raw = subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-J", "-t", self.name, "-S", "-200"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return "\n".join(line.rstrip() for line in raw.splitlines()).rstrip("\n")

    def wait_for(self, pattern: str, timeout: float = 15) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.screen())
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} never appeared; screen:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


@pytest.fixture
def term(home: Path) -> Iterator[callable]:
    opened: list[Terminal] = []

    def open_(args: str = "--sim") -> Terminal:
        t = Terminal(f"{sys.executable} -m imptsh {args}", home / "work", home)
        opened.append(t)
        return t

    yield open_
    for t in opened:
        t.close()


def test_sim_session_prompt_completion_ctrl_c_and_ctrl_d(term):
    t = term("--sim --no-rc")
    port = t.wait_for(r"simulator at http://127\.0\.0\.1:(\d+)/v5").group(1)
    t.wait_for(r"imptsh>$")
    t.send("product create --name TermProd", "Enter")
    t.wait_for(r'Product "TermProd" is created successfully\.')
    t.wait_for(r"SUCCEEDS\nimptsh>$")  # keys typed before the prompt are the terminal's to echo
    t.send("product li", "Tab")
    t.wait_for(r"imptsh> product list")
    t.send("Enter")
    t.wait_for(r"Product list \(1 items\):")
    t.send("product info -p Term", "Tab")
    t.wait_for(r"product info -p TermProd")
    t.send("C-c")
    t.wait_for(r"\^C\s*\nimptsh>$")
    requests.post(
        f"http://127.0.0.1:{port}/_sim/faults", json={"latency_ms": 8000, "count": 1}, timeout=5
    ).raise_for_status()
    t.send("product list", "Enter")
    time.sleep(1.0)
    t.send("C-c")
    t.wait_for(r"Operation is canceled\.\nIMPT COMMAND FAILS\nimptsh>$", timeout=6)
    t.send("pwd", "Enter")
    t.wait_for(r"/work\nimptsh>$")
    t.send("C-d")
    t.wait_for(r"EXITED=0$", timeout=10)


def test_rc_files_run_before_the_first_prompt(term, home):
    (home / ".imptrc").write_text("pwd\n")
    (home / "work" / ".imptrc").write_text("product create --name FromLocalRc\n")
    t = term("--sim")
    t.wait_for(r'Product "FromLocalRc" is created successfully\.')
    t.wait_for(r"imptsh>$")
    screen = t.screen()
    assert screen.index(str(home / "work")) < screen.index("FromLocalRc")
    skipped = term("--sim --no-rc")
    skipped.wait_for(r"imptsh>$")
    assert "FromLocalRc" not in skipped.screen()


def test_colour_only_on_a_terminal_and_never_with_no_color(term, home):
    t = term("--sim --no-rc")
    t.wait_for(r"imptsh>$")
    t.send("auth info", "Enter")
    t.wait_for("Bundled impCentral simulator")
    coloured = t.escaped_screen()
    assert "\x1b[32mAuth type: \x1b[39m" in coloured
    nc = Terminal(f"env NO_COLOR=1 {sys.executable} -m imptsh --sim --no-rc", home / "work", home)
    try:
        nc.wait_for(r"imptsh>$")
        nc.send("auth info", "Enter")
        nc.wait_for("Bundled impCentral simulator")
        raw = nc.escaped_screen()
        assert "Auth type: " in raw and "\x1b[32m" not in raw
    finally:
        nc.close()


def test_a_confirmation_is_answered_on_the_terminal(term):
    t = term("--sim --no-rc")
    t.wait_for(r"imptsh>$")
    t.send("product create --name Asked", "Enter")
    t.wait_for(r"IMPT COMMAND SUCCEEDS\nimptsh>$")
    t.send("product delete --product Asked", "Enter")
    t.wait_for(r"Enter 'y' \(yes\) or 'n' \(no\):$")
    t.send("n", "Enter")
    t.wait_for(r"Operation is canceled\.\nIMPT COMMAND FAILS\nimptsh>$")
    t.send("loginkey create", "Enter")
    t.wait_for(r"Enter password:$")
    t.send("demo", "Enter")  # typed on the terminal, not echoed
    t.wait_for(r"Login Key \"\w+\" is created successfully\.")
    assert t.screen().split("Enter password:", 1)[1].startswith("\nLogin Key")
    t.send("product delete --product Asked", "Enter")
    t.wait_for(r"Enter 'y' \(yes\) or 'n' \(no\):$")
    t.send("y", "Enter")
    t.wait_for(r'Product "Asked" is deleted successfully\.\nIMPT COMMAND SUCCEEDS\nimptsh>$')


def test_a_piped_script_asks_the_terminal_not_its_next_line(home, term):
    script = home / "work" / "steps.imptsh"
    script.write_text(
        "product create --name P1\nproduct delete --product P1\nproduct create --name P2\n"
        "product list -z minimal\n"
    )
    t = Terminal(f"cat {script} | {sys.executable} -m imptsh --sim --no-rc", home / "work", home)
    try:
        t.wait_for(r"Enter 'y' \(yes\) or 'n' \(no\):$")
        t.send("y", "Enter")
        t.wait_for(r"EXITED=0$")
        screen = t.screen()
        assert 'Product "P1" is deleted successfully.' in screen
        listed = screen.rsplit('Product "P2" is created successfully.', 1)[1]
        assert "name: P2" in listed and "name: P1" not in listed
    finally:
        t.close()


def test_recalled_lines_and_history_keep_no_secret(term):
    t = term("--sim --no-rc")
    t.wait_for(r"imptsh>$")
    t.send("auth login --user demo --pwd hunter2-secret", "Enter")
    t.wait_for(r"IMPT COMMAND FAILS\nimptsh>$")  # refused in a --sim session
    t.send("Up")
    t.wait_for(r"imptsh> auth login --user demo --pwd \*\*\*$")
    t.send("C-u", "history", "Enter")
    t.wait_for(r"imptsh> history\n +1  auth login --user demo --pwd \*\*\*\nimptsh>$")
    assert t.screen().count("hunter2-secret") == 1  # only where it was typed


def _login_once_up(base: str) -> dict:
    """The bundled simulator starts once the first prompt is shown, so it may not listen
    yet when the prompt appears: log in as soon as it does."""
    deadline = time.monotonic() + 15
    while True:
        try:
            return login_with_password(Client(base), "demo", "demo", lambda: "")
        except ConnectionFailedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def sim_session_device(t: Terminal) -> tuple[str, str]:
    """The bundled simulator's API root (`http://HOST:PORT`) and its first device's id, once
    the `--sim` session in `t` is at its prompt with the simulator started."""
    base = t.wait_for(r"simulator at (http://127\.0\.0\.1:\d+/v5)").group(1)
    t.wait_for(r"imptsh>$")
    tokens = _login_once_up(base)
    devices = requests.get(
        f"{base}/devices",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    ).json()["data"]
    return base.removesuffix("/v5"), devices[0]["id"]


def test_a_log_line_arriving_while_typing_appears_above_the_prompt(term):
    t = term("--sim --no-rc")
    root, device = sim_session_device(t)
    t.send(f"log stream -d {device}", "Enter")
    t.wait_for(r"Log task 1 runs in the background")
    t.wait_for(r"IMPT COMMAND SUCCEEDS\nimptsh>$")
    t.send("-l", "product lis")  # typed, not entered
    t.wait_for(r"imptsh> product lis$")
    requests.post(
        f"{root}/_sim/devices/{device}/logs",
        json={"lines": ["hello while typing", {"type": "server.error", "msg": "ERROR: red"}]},
        timeout=10,
    ).raise_for_status()
    t.wait_for(
        rf"\[{device}\] \S+ \[server\.log\] hello while typing\n"
        rf"\[{device}\] \S+ \[server\.error\] ERROR: red\nimptsh> product lis$"
    )
    coloured = subprocess.run(
        [*t.tmux, "capture-pane", "-p", "-e", "-t", t.name], capture_output=True, text=True
    ).stdout
    assert "\x1b[31m[" in coloured and "ERROR: red" in coloured
    t.send("t", "Enter")
    t.wait_for(r"imptsh> product list\nNo Products are found\.\nIMPT COMMAND SUCCEEDS\nimptsh>$")
    t.send("tasks stop 1", "Enter")
    t.wait_for(r"Log task 1 is stopped\.\nimptsh>$")


def test_ctrl_c_at_an_empty_prompt_stops_the_log_tasks(term):
    """As Ctrl-C stops impt's log stream (the Development Guide's "Stop the logging by
    pressing Ctrl-C"), Ctrl-C at an empty prompt stops the shell's background log tasks;
    with text on the line it only clears the line."""
    t = term("--sim --no-rc")
    root, device = sim_session_device(t)

    def log(message: str) -> None:
        requests.post(
            f"{root}/_sim/devices/{device}/logs", json={"lines": [message]}, timeout=10
        ).raise_for_status()

    t.send(f"log stream -d {device}", "Enter")
    t.wait_for(
        r'Log task 1 runs in the background: "tasks" lists the log tasks, "tasks stop 1" '
        r"stops this one, Ctrl-C at an empty prompt stops them all\.\nIMPT COMMAND SUCCEEDS\n"
    )
    t.send("log stream -d myDevice2", "Enter")
    t.wait_for(r"Log task 2 runs in the background(.*\n)*imptsh>$")
    t.send("-l", "product lis")
    t.send("C-c")  # text on the line: cleared, the tasks go on
    t.wait_for(r"imptsh> product lis\n\^C\nimptsh>$")
    log("still streaming")
    t.wait_for(rf"\[{device}\] \S+ \[server\.log\] still streaming\nimptsh>$")
    t.send("C-c")
    t.wait_for(r"\nLog tasks 1, 2 are stopped\.\nimptsh>$")
    log("after Ctrl-C")
    t.send("tasks", "Enter")
    t.wait_for(r"imptsh> tasks\nNo Log Tasks are found\.\nimptsh>$")
    assert "after Ctrl-C" not in t.screen()
    t.send("C-c")  # no task left: Ctrl-C at an empty prompt is what it always was
    t.wait_for(r"imptsh> tasks\nNo Log Tasks are found\.\nimptsh>\n\^C\nimptsh>$")


def test_tab_completes_a_device_no_command_fetched(home, sim):
    """Names come from impCentral in the background: a device created on the server before
    the shell started completes at the first Tab, though no command listed devices."""
    login = run_imptsh(
        ["auth", "login", "-e", sim.base_url, "-u", "demo", "-w", "demo"], cwd=home / "work"
    )
    assert login.returncode == 0, login.stdout
    sim_control(sim, "devices", {"devices": [{"name": "Kitchen-Thermostat"}]})
    t = Terminal(f"{sys.executable} -m imptsh --no-rc", home / "work", home, toolbar=True)
    try:
        # the toolbar names the account once the fill has begun; no "loading" once it is done
        t.wait_for(r"imptsh> *\n(?:.*\n)* demo @ 127\.0\.0\.1:\d+ \(simulator\)$")
        t.send("device info --device Kitch", "Tab")
        t.wait_for(r"imptsh> device info --device Kitchen-Thermostat\n")
        t.send("Enter")
        t.wait_for(r"\n  name: +Kitchen-Thermostat\n(?:.*\n)*IMPT COMMAND SUCCEEDS\n")
    finally:
        t.close()


def test_the_toolbar_shows_the_login_and_project_and_goes_when_asked(home):
    t = Terminal(f"{sys.executable} -m imptsh --sim --no-rc", home / "work", home, toolbar=True)
    try:
        port = t.wait_for(r"simulator at http://127\.0\.0\.1:(\d+)/v5").group(1)
        t.wait_for(rf"\n demo @ 127\.0\.0\.1:{port} \(simulator\)$")
        t.send("mkdir p; cd p; project create --product P --create-product --name Dev", "Enter")
        t.wait_for(
            rf"imptsh Dev> *\n(?:.*\n)* demo @ 127\.0\.0\.1:{port} \(simulator\) \| project: Dev$"
        )
        t.send("set toolbar false", "Enter")
        t.wait_for(r"toolbar ─> False\nimptsh Dev>$")
        t.send("set toolbar true", "Enter")
        t.wait_for(r"\| project: Dev$")
        subprocess.run([*t.tmux, "resize-window", "-t", t.name, "-x", "30", "-y", "20"], check=True)
        t.send("pwd", "Enter")
        t.wait_for(r"/p\nimptsh Dev>$")  # too narrow: the prompt is the last line again
    finally:
        t.close()


def without_the_vm(tmp_path: Path) -> str:
    """A command line running `imptsh` with every installed package but the Squirrel VM's:
    their site-packages entries are linked into a directory of their own, minus the VM."""
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    farm = tmp_path / "site-without-vm"
    farm.mkdir()
    for entry in site.iterdir():
        if "squirrel" not in entry.name.lower() and not entry.name.endswith(".pth"):
            (farm / entry.name).symlink_to(entry)
    repo = Path(__file__).resolve().parents[2]
    code = (
        f"import sys; sys.path[:0] = [{str(repo)!r}, {str(farm)!r}]; "
        "from imptsh.cli import main; sys.exit(main(['--sim', '--no-rc']))"
    )
    return f'{sys.executable} -I -S -c "{code}"'


def test_the_sim_banner_says_when_device_code_is_not_executed(home: Path, tmp_path: Path):
    t = Terminal(without_the_vm(tmp_path), home / "work", home)
    try:
        # the simulator starts once the first prompt is shown; its note comes above the prompt
        t.wait_for(r"Note: Device and agent code is not executed(.*\n)*imptsh>$")
        assert (
            "Note: Device and agent code is not executed (the Squirrel VM is not installed: "
            "pip install 'imptsh[squirrel]' (package squirrel-lang-sq305)); simulated devices "
            'only repeat the string literals of their code\'s top-level server.log("...") calls.'
        ) in t.screen().replace("\n", " ")
    finally:
        t.close()


def test_the_sim_banner_says_nothing_of_the_kind_when_code_runs(term):
    from imptsh.sim import squirrel

    if not squirrel.available():
        pytest.skip(squirrel.unavailable_reason() or "no Squirrel VM")
    t = term("--sim --no-rc")
    t.wait_for(r"Connected to the bundled impCentral simulator.*\n(.*\n)*imptsh>$")
    t.send("account info", "Enter")  # waits for the simulator to have started
    t.wait_for(r"IMPT COMMAND SUCCEEDS\nimptsh>$")
    assert "not executed" not in t.screen()
