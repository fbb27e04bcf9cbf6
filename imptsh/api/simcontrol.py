"""The control plane (`/_sim/`) of imptsh's bundled simulator, as a client sees it: what only
a simulator can do (blink up new devices with a fixture, an end user's BlinkUp, the webhook
deliveries it recorded). It is found next to the simulator's API endpoint
(`http://HOST:PORT/v5` → `http://HOST:PORT/_sim`) and answers only on this machine."""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from .client import Client
from .errors import ConnectionFailedError, NotFoundError, UnexpectedResponseError

Resource = dict[str, Any]


class NotASimulatorError(Exception):
    """The session's endpoint is not a simulator whose control plane answers here."""


def control_url(endpoint: str) -> str:
    """The control plane next to an API endpoint on this machine; NotASimulatorError for an
    endpoint elsewhere (the simulator serves its control plane to loopback clients only)."""
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    try:
        local = host == "localhost" or ip_address(host).is_loopback
    except ValueError:
        local = False
    if not local:
        raise NotASimulatorError(
            f"this session talks to {endpoint}, not to a simulator on this machine"
        )
    path = parts.path.rstrip("/")
    path = path[: -len("/v5")] if path.endswith("/v5") else path
    return urlunsplit((parts.scheme, parts.netloc, f"{path}/_sim", "", ""))


class SimControl:
    """Requests to a simulator's control plane (no token: it trusts loopback clients)."""

    def __init__(self, api: Client):
        self.endpoint = api.endpoint
        self.client = Client(control_url(api.endpoint), session=api.session, retry=api.retry)
        self.client.observer = api.observer

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        try:
            answer = self.client.request(method, path, body=body, auth=False)
        except ConnectionFailedError as exc:
            raise NotASimulatorError(f"{self.endpoint} does not answer ({exc.cause})") from None
        except UnexpectedResponseError:
            raise NotASimulatorError(f"{self.endpoint} has no simulator control plane") from None
        except NotFoundError as exc:
            if any(e.get("code") == "NF002" for e in exc.errors) or not exc.errors:
                raise NotASimulatorError(
                    f"{self.endpoint} has no simulator control plane"
                ) from None
            raise
        if not isinstance(answer, dict):
            raise NotASimulatorError(f"{self.endpoint} has no simulator control plane")
        return answer

    def status(self) -> Resource:
        """What the simulator says of itself (`simulator`, `runner`, `speed`); asking is how
        a session finds out that it talks to one."""
        return dict(self._request("GET", "/status").get("meta") or {})

    def present_devices(self, fixture_id: str, count: int) -> tuple[list[Resource], Resource]:
        """`count` new devices in front of the fixture: (the devices, the answer's meta:
        `fixture`, `dut_target`, `waiting`)."""
        answer = self._request("POST", "/factory/blinkup", {"fixture": fixture_id, "count": count})
        return list(answer.get("data") or []), dict(answer.get("meta") or {})

    def end_user_blinkup(self, device_id: str) -> Resource:
        """An end user's BlinkUp of a production device; the device as it is now."""
        answer = self._request("POST", f"/devices/{quote(device_id, safe='')}/blinkup", {})
        return dict(answer.get("data") or {})

    def webhook_deliveries(self) -> list[Resource]:
        """Every webhook delivery the simulator recorded, oldest first."""
        answer = self._request("GET", "/webhooks/deliveries")
        return list(answer.get("data") or [])
