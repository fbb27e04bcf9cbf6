"""The package imports without the optional VM and says why the runner is unavailable."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from imptsh.sim import squirrel

REPO = Path(__file__).resolve().parents[3]

WITHOUT_SITE_PACKAGES = """
import sys
sys.path.insert(0, sys.argv[1])
import imptsh.sim.squirrel as runner_package
print(runner_package.available())
print(runner_package.unavailable_reason())
try:
    runner_package.SquirrelRunner()
except RuntimeError as exc:
    print("refused:", exc)
"""


def test_import_without_the_vm_package_does_not_fail() -> None:
    # -I -S: no user or site packages, so squirrel-lang-sq305 is not importable.
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", WITHOUT_SITE_PACKAGES, str(REPO)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    reason = "the Squirrel VM is not installed: pip install 'imptsh[squirrel]' (package squirrel-lang-sq305)"
    assert result.stdout.splitlines() == ["False", reason, f"refused: {reason}"]


def test_available_says_whether_the_vm_is_installed() -> None:
    installed = importlib.util.find_spec("_squirrel") is not None
    assert squirrel.available() == installed
    assert (squirrel.unavailable_reason() is None) == installed
