"""Where every line a command prints goes, in impt's four output modes.

impt sorts output into RESULT, INFO, DIALOG and ERROR classes (see the README); the mode
decides which classes are shown and how RESULT objects are rendered."""

from __future__ import annotations

import json
import os
import re
import sys
from typing import IO, Any

from ..api.client import Exchange
from ..api.secrets import HIDDEN, mask_body, mask_headers, mask_login_keys
from ..highlight import highlight_json
from .progress import Progress, ProgressLine
from .render import dumps_json, escape_controls, format_json, format_text

MODES = ("minimal", "json", "debug")
SUCCEEDS = "IMPT COMMAND SUCCEEDS"
FAILS = "IMPT COMMAND FAILS"


def color_wanted(stream: IO[str], env: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Colour only on a terminal, never with NO_COLOR, never on a dumb terminal."""
    if "NO_COLOR" in env:
        return False
    if env.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Output:
    def __init__(self, mode: str | None = None, stream: IO[str] | None = None, color: bool = False):
        self.mode = mode or "default"
        self.stream = stream if stream is not None else sys.stdout
        self.color = color and self.mode in ("default", "debug")
        self.json_color = color and self.mode == "json"
        self.printed_result = False
        self._progress_line: ProgressLine | None = None

    @property
    def shows_info(self) -> bool:
        return self.mode in ("default", "debug")

    @property
    def is_json(self) -> bool:
        return self.mode == "json"

    @property
    def text_mode(self) -> bool:
        return self.mode != "json"

    def write(self, text: str) -> None:
        """`text` as it is: rendered results, which escape what came from the server."""
        line = self._progress_line
        if line is not None:
            line.hide()
        self.stream.write(text + "\n")
        if line is not None:
            line.redraw()
        self.stream.flush()

    def progress(self, label: str, total: int, *, counted: bool = True) -> Progress:
        """A progress indicator for `total` items (`Deleting 3/120...`; just `label...`
        when they go in one request, not `counted`), shown only on a terminal and only for
        more than one item."""
        shown = total > 1
        if shown and self._progress_line is None and _is_terminal(self.stream):
            self._progress_line = ProgressLine(self.stream)
        return Progress(self._progress_line if shown else None, label, total if counted else None)

    def info(self, *lines: str) -> None:
        if self.shows_info:
            for line in lines:
                self.write(escape_controls(line))

    def dialog(self, *lines: str) -> None:
        for line in lines:
            self.write(escape_controls(line))

    def result(self, obj: Any) -> None:
        """A RESULT object: the entity block or list impt would print."""
        self.printed_result = True
        if self.is_json:
            self.write(self._json(format_json(obj)))
            return
        text = format_text(obj, minimal=self.mode == "minimal", color=self.color)
        if text:
            self.write(text)

    def blocks(self, obj: Any) -> None:
        """Entity blocks shown inside INFO/DIALOG text (summaries, candidates)."""
        if self.is_json:
            return
        text = format_text(obj, minimal=self.mode == "minimal", color=self.color)
        if text:
            self.write(text)

    def warnings(self, messages: list[str]) -> None:
        """Corrupted-relationship warnings: `Error:` lines in text modes, nothing in json."""
        if self.text_mode:
            for message in messages:
                self.write(f"Error: {escape_controls(message)}")

    def error(self, message: str) -> None:
        if self.is_json:
            self.write(self._json(dumps_json({"Error": message})))
        else:
            self.write(f"Error: {escape_controls(message)}")

    def succeeded(self) -> None:
        if self.is_json and not self.printed_result:
            self.write("{}")
        self.info(SUCCEEDS)

    def _json(self, text: str) -> str:
        return highlight_json(text) if self.json_color else text

    def failed(self) -> None:
        self.info(FAILS)

    def canceled(self) -> None:
        if self.is_json:
            self.write("{}")
        self.info("Operation is canceled.")

    # -- debug ---------------------------------------------------------------------------

    def exchange(self, ex: Exchange) -> None:
        """impt's `-z debug` transcript of one HTTP round trip, secrets hidden."""
        if self.mode != "debug":
            return
        request = {
            "url": _mask_url(ex.url),
            "method": ex.method,
            "headers": mask_headers(ex.headers),
            "json": True,
            "qs": ex.params,
            "body": mask_body(ex.body),
        }
        self.write("Doing the request with options:")
        self.write(_mask_url(dumps_json(request)))
        self.write("")
        self.write(f"Response code: {ex.status}")
        self.write(f"Response headers: {json.dumps(ex.response_headers or {}, indent=2)}")
        body = mask_login_keys(mask_body(ex.response_body), ex.url)
        # A login key's id is the secret: also where links and references repeat it.
        self.write(f"Response body: {_mask_url(dumps_json(body))}")


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


_LOGIN_KEY_IN_URL = re.compile(r"(/login_keys/)[^/?#\"\s]+")


def _mask_url(text: str) -> str:
    """`text` with the id in every `/login_keys/<id>` path hidden."""
    return _LOGIN_KEY_IN_URL.sub(lambda m: m.group(1) + HIDDEN, text)
