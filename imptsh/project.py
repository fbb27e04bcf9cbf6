"""The `.impt.project` file of the current directory (commands.md §7) and the source files
a Project links."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import read_text, write_atomically

PROJECT_FILE_NAME = ".impt.project"
DEFAULT_DEVICE_FILE = "device.nut"
DEFAULT_AGENT_FILE = "agent.nut"


class ProjectFileError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class ProjectFile:
    path: Path
    data: dict[str, Any]

    @property
    def device_group_id(self) -> str:
        return str(self.data["deviceGroupId"])

    @property
    def device_file(self) -> str | None:
        return self.data.get("deviceFile") or None

    @property
    def agent_file(self) -> str | None:
        return self.data.get("agentFile") or None

    def save(self) -> None:
        """Writes the file atomically: 2-space JSON, no trailing newline (impt's layout)."""
        write_atomically(self.path, json.dumps(self.data, indent=2), mode=0o644)


def project_path(cwd: Path) -> Path:
    return Path(cwd) / PROJECT_FILE_NAME


def new_project(cwd: Path, dg_id: str, device_file: str, agent_file: str) -> ProjectFile:
    """A Project for `dg_id` (not saved yet); keys in impt's order."""
    data = {"deviceGroupId": dg_id, "deviceFile": device_file, "agentFile": agent_file}
    return ProjectFile(project_path(cwd), data)


def project_file_present(cwd: Path) -> bool:
    """Whether something is in the Project file's place (a broken file counts)."""
    path = project_path(cwd)
    return path.exists() or path.is_symlink()


def check_project_file_writable(cwd: Path) -> None:
    """Fails before anything is created when the Project file could not be written."""
    path = project_path(cwd)
    if path.is_dir():
        raise ProjectFileError(_directory_message(path))


def load_project(cwd: Path) -> ProjectFile | None:
    """The project of `cwd`, None when there is none; a broken file raises."""
    path = project_path(cwd)
    if path.is_dir():
        raise ProjectFileError(_directory_message(path))
    try:
        raw = read_text(path)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ProjectFileError(f"File error: {path}: {reason}.") from None
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not _well_formed(data):
        raise ProjectFileError("Project File is corrupted.")
    return ProjectFile(path, data)


def _well_formed(data: Any) -> bool:
    """A JSON object naming a Device Group by a non-empty string; file names, when present,
    are strings (a foreign file shaped otherwise is corrupted for impt's commands)."""
    if not isinstance(data, dict):
        return False
    dg_id = data.get("deviceGroupId")
    if not isinstance(dg_id, str) or not dg_id.strip():
        return False
    return all(isinstance(data.get(key, ""), str) for key in ("deviceFile", "agentFile"))


def _directory_message(path: Path) -> str:
    return f"File error: {path}: is a directory, not a Project File."


def source_file_problem(name: str, cwd: Path) -> str | None:
    """Why the source file `name` (relative to `cwd`) could not be created or used, if it
    could not: impt's `File error: <name>: <reason>.`"""
    path = Path(cwd) / name
    if path.exists() and not path.is_file():
        return f"File error: {name}: is a directory, not a source file."
    if not path.exists() and not path.parent.is_dir():
        return f'File error: {name}: directory "{Path(name).parent}" does not exist.'
    return None


def create_source_file(name: str, cwd: Path) -> bool:
    """Creates `name` empty unless something is there already; True when it was created.
    An existing file is never truncated, even one that appeared a moment ago."""
    try:
        with open(Path(cwd) / name, "x", encoding="utf-8"):
            pass
    except FileExistsError:
        return False
    return True
