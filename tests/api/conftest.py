"""vcrpy set-up for the client tests: cassettes in `cassettes/`, recorded from the bundled
simulator with `IMPTSH_RECORD=1 pytest tests/api`, every secret scrubbed before it is
written. Replays need no server."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import vcr

from imptsh.api.secrets import SECRET_FIELDS

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
RECORDING = os.environ.get("IMPTSH_RECORD") == "1"
PLACEHOLDER = "SCRUBBED"
REPLAY_ENDPOINT = "http://sim.replay/v5"
_LOGIN_KEY_PATH = re.compile(r"(/login_keys/)[^/?#\"\s]+")  # links repeat the secret id


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: PLACEHOLDER if k in SECRET_FIELDS and isinstance(v, str) else _scrub(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _scrub_json_bytes(raw: bytes | str | None) -> bytes | str | None:
    if not raw:
        return raw
    try:
        doc = json.loads(raw)
    except ValueError:
        return raw
    doc = _scrub(doc)
    if isinstance(doc, dict):
        data = doc.get("data")
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and item.get("type") == "login_key":
                item["id"] = "LOGIN-KEY-" + PLACEHOLDER  # a login key's id is the secret
    text = _LOGIN_KEY_PATH.sub(rf"\1LOGIN-KEY-{PLACEHOLDER}", json.dumps(doc, sort_keys=True))
    return text.encode() if isinstance(raw, bytes) else text


def before_record_request(request: Any) -> Any:
    if "/_sim/" in request.path:
        return None  # control-plane set-up is not part of the exchange under test
    request.body = _scrub_json_bytes(request.body)
    if "/login_keys/" in request.uri:
        head, _, _ = request.uri.partition("/login_keys/")
        request.uri = f"{head}/login_keys/LOGIN-KEY-{PLACEHOLDER}"
    return request


def before_record_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response.get("body", {})
    body["string"] = _scrub_json_bytes(body.get("string"))
    return response


def scrubbed_body(r1: Any, r2: Any) -> None:
    """Bodies match when they are equal once secrets are scrubbed and keys sorted."""
    assert _scrub_json_bytes(r1.body or b"") in (
        _scrub_json_bytes(r2.body or b""),
        _scrub_json_bytes(r2.body or ""),
    ) or (not r1.body and not r2.body)


def make_vcr() -> vcr.VCR:
    recorder = vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="all" if RECORDING else "none",
        match_on=["method", "path", "query", "scrubbed_body"],
        filter_headers=[
            ("Authorization", f"Bearer {PLACEHOLDER}"),
            ("X-Electricimp-Password", PLACEHOLDER),
            ("X-Electricimp-OTP-Token", PLACEHOLDER),
            ("X-Electricimp-Key", PLACEHOLDER),
        ],
        before_record_request=before_record_request,
        before_record_response=before_record_response,
        decode_compressed_response=True,
    )
    recorder.register_matcher("scrubbed_body", scrubbed_body)
    return recorder


@pytest.fixture
def cassette(request: pytest.FixtureRequest) -> Iterator[Any]:
    with make_vcr().use_cassette(f"{request.node.name}.yaml", allow_playback_repeats=False) as c:
        yield c


@pytest.fixture
def endpoint(request: pytest.FixtureRequest) -> str:
    """The live simulator when recording, a name nothing resolves when replaying."""
    if RECORDING:
        sim = request.getfixturevalue("sim")
        return sim.base_url
    return REPLAY_ENDPOINT
