"""The Python functions behind the imp API, bound into each VM as ``__imp_<name>``.

The Squirrel prelude wraps them into ``server``, ``imp``, ``agent``/``device``, ``http``... and
removes them from the root table. They never raise for anything the application can do: failures
come back as an error string (or a ``[false, message]`` literal) that the prelude throws as a
Squirrel error, so that ``try``/``catch`` in the application sees them.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import time
import urllib.parse
from typing import TYPE_CHECKING, Any

from .values import (
    NotCopyable,
    from_python,
    json_decode,
    json_encode,
    log_text,
    squirrel_type,
    to_literal,
    to_transit,
)

if TYPE_CHECKING:
    from .host import CodeHost

SWVERSION = "cd1c6bb - release-43.14 - Mon Mar 18 10:21:52 2024 - production (simulated)"
MAX_SLEEP = 60.0


def _wrap32(value: int) -> int:
    return ((value + 2**31) % 2**32) - 2**31


def _result(ok: bool, value: Any) -> str:
    return "[" + ("true" if ok else "false") + "," + to_literal(value) + "]"


class Natives:
    """Natives for one VM of one host."""

    COMMON = "config log error time date wakeup cancel send idle unhandled restart".split()
    DEVICE = "sleep sleepfor millis micros factory".split()
    AGENT = (
        "respond outbound jsonencode jsondecode urlencode urldecode base64encode base64decode "
        "save load"
    ).split()

    def __init__(self, host: CodeHost) -> None:
        self.host = host

    def bind(self, vm: Any) -> None:
        names = self.COMMON + (self.DEVICE if self.host.side == "device" else self.AGENT)
        for name in names:
            vm.bindfunc("__imp_" + name, getattr(self, "n_" + name))

    # --- common ---------------------------------------------------------------------------
    def n_config(self) -> str:
        config = self.host.config
        fields = from_python(
            {
                "source": self.host.source_name,
                "device_id": config.get("device_id", ""),
                "mac": config.get("mac", "").replace(":", "").lower(),
                "agent_id": config.get("agent_id", ""),
                "agent_url": config.get("agent_url", ""),
                "dg_type": config.get("dg_type", ""),
                "factory": bool(config.get("factory")),
                "wakereason": self.host.wakereason,
                "device_connected": self.host.device_connected,
                "swversion": SWVERSION,
            }
        )
        fields["t"].append(["configparams", config.get("configparams") or from_python({})])
        fields["t"].append(["nv", self.host.nv])
        return to_literal(fields)

    def n_log(self, kind: str, text: str, converted: bool) -> None:
        self.host.log(kind, log_text(text) if converted else text)

    def n_error(self, message: str, frames: Any) -> None:
        located = [(str(func), int(line)) for func, line in to_transit(frames)]
        self.host.error = (message, located)

    def n_time(self) -> int:
        return int(self.host.clock.now())

    def n_date(self, timestamp: Any) -> str:
        now = self.host.clock.now()
        if isinstance(timestamp, int | float) and not isinstance(timestamp, bool):
            seconds, usec = int(timestamp), 0
        else:
            seconds = int(now)
            usec = int((now - seconds) * 1e6) if self.host.side == "agent" else 0
        tm = time.gmtime(seconds)
        table = {
            "sec": tm.tm_sec,
            "min": tm.tm_min,
            "hour": tm.tm_hour,
            "day": tm.tm_mday,
            "month": tm.tm_mon - 1,
            "year": tm.tm_year,
            "wday": (tm.tm_wday + 1) % 7,
            "yday": tm.tm_yday - 1,
            "time": seconds,
            "usec": usec,
        }
        return to_literal(from_python(table))

    def n_wakeup(self, seconds: float, handle: int) -> None:
        host = self.host
        due = host.clock.now() + max(0.0, seconds)
        host.timers[handle] = due
        heapq.heappush(host.heap, (due, next(host.order), handle))

    def n_cancel(self, handle: int) -> None:
        self.host.timers.pop(handle, None)

    def n_send(self, name: str, data: Any) -> str | None:
        try:
            copied = to_transit(data)
        except NotCopyable as exc:
            return f"message '{name}' cannot be sent: {exc}"
        self.host.emit({"t": "send", "name": name, "data": copied})
        return None

    def n_idle(self, pending: bool) -> None:
        self.host.idle_pending = bool(pending)

    def n_unhandled(self, registered: bool) -> None:
        self.host.unhandled_set = bool(registered)

    def n_restart(self) -> None:
        self.host.control = "restart"

    # --- device ---------------------------------------------------------------------------
    def n_sleep(self, seconds: float) -> None:
        host = self.host
        host.busy.leave()
        try:
            time.sleep(host.clock.wall(min(seconds, MAX_SLEEP)))
        finally:
            host.busy.enter()

    def n_sleepfor(self, seconds: float) -> None:
        self.host.control = "sleep"
        self.host.sleep_seconds = max(0.0, seconds)

    def n_millis(self) -> int:
        return _wrap32(int((self.host.clock.now() - self.host.booted) * 1000))

    def n_micros(self) -> int:
        return _wrap32(int((self.host.clock.now() - self.host.booted) * 1_000_000))

    def n_factory(self, event: str, data: Any) -> int:
        host = self.host
        host.factory_seq += 1
        host.emit(
            {"t": "factory", "id": host.factory_seq, "event": event, "data": to_transit(data)}
        )
        return host.factory_seq

    # --- agent ----------------------------------------------------------------------------
    def n_respond(self, request_id: int, status: int, headers: Any, body: str) -> None:
        host = self.host
        if request_id not in host.open_requests:
            return
        host.open_requests.discard(request_id)
        header_map = {str(k): str(v) for k, v in (to_transit(headers)["t"] or [])}
        host.emit(
            {"t": "http", "id": request_id, "status": status, "headers": header_map, "body": body}
        )

    def n_outbound(self, method: str, url: str) -> str:
        body = f"the imp simulator has no internet access: {method} {url} was not sent"
        return to_literal(from_python({"statuscode": 0, "headers": {}, "body": body}))

    def n_jsonencode(self, value: Any, compact: Any) -> str:
        try:
            return _result(True, json_encode(to_transit(value), bool(compact)))
        except NotCopyable as exc:
            return _result(False, f"http.jsonencode(): {exc}")

    def n_jsondecode(self, text: str) -> str:
        try:
            return _result(True, json_decode(text))
        except ValueError as exc:
            return _result(False, f"http.jsondecode(): not valid JSON ({exc})")

    def n_urlencode(self, table: Any) -> str:
        if squirrel_type(table) != "table":
            return _result(False, f"http.urlencode() needs a table, not {squirrel_type(table)}")
        try:
            pairs = [(_text(k), _text(v)) for k, v in to_transit(table)["t"]]
        except NotCopyable as exc:
            return _result(False, f"http.urlencode(): {exc}")
        return _result(True, urllib.parse.urlencode(pairs))

    def n_urldecode(self, text: str) -> str:
        return to_literal(from_python(dict(urllib.parse.parse_qsl(text, keep_blank_values=True))))

    def n_base64encode(self, text: str) -> str:
        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    def n_base64decode(self, text: str) -> str:
        try:
            decoded = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            return _result(False, f"http.base64decode(): {exc}")
        return _result(True, decoded)

    def n_save(self, data: Any) -> str | None:
        if squirrel_type(data) != "table":
            return f"server.save() needs a table, not {squirrel_type(data)}"
        try:
            copied = to_transit(data)
        except NotCopyable as exc:
            return f"server.save(): {exc}"
        self.host.config["saved"] = copied
        self.host.emit({"t": "save", "data": copied})
        return None

    def n_load(self) -> str:
        return to_literal(self.host.config.get("saved") or from_python({}))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float):
        return format(value, ".7g")
    if isinstance(value, list | dict):
        raise NotCopyable("values must be strings or numbers")
    return str(value)
