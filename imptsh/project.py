"""The `.impt.project` file of the current directory."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import read_text, write_atomically

PROJECT_FILE_NAME = ".impt.project"


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
        write_atomically(self.path, json.dumps(self.data, indent=2), mode=0o644)


def project_path(cwd: Path) -> Path:
    return Path(cwd) / PROJECT_FILE_NAME


def load_project(cwd: Path) -> ProjectFile | None:
    """The project of `cwd`, None when there is none; a broken file raises."""
    path = project_path(cwd)
    try:
        raw = read_text(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ProjectFileError(f"File error: {path}: {exc.strerror or exc}.") from None
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not data.get("deviceGroupId"):
        raise ProjectFileError("Project File is corrupted.")
    return ProjectFile(path, data)
