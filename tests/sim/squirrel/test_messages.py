"""Device <-> agent messages, the agent URL, and the agent's http and JSON helpers."""

from __future__ import annotations

import json

from .conftest import Recorder, code, requires_vm

pytestmark = requires_vm


def test_device_agent_device_round_trip(runner, recorder: Recorder) -> None:
    device = """
    agent.on("pong", function(n) { server.log("pong " + n); });
    agent.send("ping", 1);
    """
    agent = """
    device.on("ping", function(n) {
        server.log("ping " + n);
        device.send("pong", n + 1);
    });
    """
    runner.start(code(device=device, agent=agent))
    recorder.wait_line("dev1", "pong 2")
    assert recorder.typed("dev1") == [("agent.log", "ping 1"), ("server.log", "pong 2")]


def test_message_data_is_deep_copied_with_its_types(runner, recorder: Recorder) -> None:
    device = """
    local data = {name = "imp", count = 3, ratio = 0.25, on = true, off = false, none = null,
                  list = [1, "two", [3]], nested = {deep = {er = "est"}}, [7] = "seven"};
    agent.send("data", data);
    data.name = "changed after sending";
    """
    agent = """
    device.on("data", function(d) {
        server.log(d.name + " " + typeof d.count + " " + d.ratio + " " + typeof d.on + " " + d.off);
        server.log((d.none == null) + " " + d.list[1] + " " + d.list[2][0] + " " + d.nested.deep.er);
        server.log(d[7] + " " + (7 in d) + " " + ("7" in d));
    });
    """
    runner.start(code(device=device, agent=agent))
    recorder.wait_for(lambda: len(recorder.of("dev1")) == 3)
    assert recorder.of("dev1") == [
        "imp integer 0.25 bool false",
        "true two 3 est",
        "seven true false",
    ]


def test_values_that_cannot_be_copied_are_refused_catchably(runner, recorder: Recorder) -> None:
    device = """
    try { agent.send("f", function() {}); } catch (e) { server.log(e); }
    """
    runner.start(code(device=device))
    recorder.wait_for(lambda: recorder.of("dev1"))
    assert recorder.of("dev1") == [
        "message 'f' cannot be sent: values of type 'function' cannot be copied"
    ]


def test_agent_request_reaches_the_request_handler(runner, recorder: Recorder) -> None:
    agent = """
    http.onrequest(function(request, response) {
        response.header("X-Seen", request.headers["x-custom"]);
        response.send(201, http.jsonencode({
            method = request.method, path = request.path, a = request.query.a, body = request.body
        }, {compact = true}));
    });
    """
    runner.start(code(agent=agent))
    status, headers, body = runner.agent_request(
        "agent-dev1", "post", "/some/path", "a=1&b=2", {"X-Custom": "yes"}, b"hello"
    )
    assert status == 201
    assert headers["x-seen"] == "yes"
    assert json.loads(body) == {"method": "POST", "path": "/some/path", "a": "1", "body": "hello"}


def test_agent_without_handler_and_unknown_agent_answer_404(runner, recorder: Recorder) -> None:
    runner.start(code(agent='server.log("no handler here");'))
    recorder.wait_line("dev1", "no handler here")
    assert runner.agent_request("agent-dev1", "GET", "/", "", {}, b"")[0] == 404
    assert runner.agent_request("agent-nobody", "GET", "/", "", {}, b"")[0] == 404


def test_agent_answers_later_with_data_from_the_device(runner, recorder: Recorder) -> None:
    device = 'agent.on("read", function(_) { agent.send("reading", 21.5); });'
    agent = """
    local waiting = [];
    device.on("reading", function(value) {
        foreach (response in waiting) response.send(200, "temperature " + value);
        waiting.clear();
    });
    http.onrequest(function(request, response) {
        waiting.push(response);
        device.send("read", null);
    });
    """
    runner.start(code(device=device, agent=agent))
    status, _, body = runner.agent_request("agent-dev1", "GET", "/", "", {}, b"")
    assert (status, body) == (200, b"temperature 21.5")


def test_a_request_the_agent_never_answers_times_out(make_runner, recorder: Recorder) -> None:
    runner = make_runner(request_timeout=0.5)
    runner.start(
        code(agent='http.onrequest(function(request, response) { server.log("ignored"); });')
    )
    status, _, body = runner.agent_request("agent-dev1", "GET", "/", "", {}, b"")
    assert status == 504
    assert b"did not answer within 0.5 s" in body


def test_outbound_http_answers_the_no_internet_error(runner, recorder: Recorder) -> None:
    agent = """
    local response = http.get("https://api.example.com/data").sendsync();
    server.log(response.statuscode + " " + response.body);
    http.post("https://api.example.com/up", {}, "x").sendasync(function(r) {
        server.log("async " + r.statuscode);
    });
    """
    runner.start(code(agent=agent))
    recorder.wait_line("dev1", "async")
    assert recorder.of("dev1") == [
        "0 the imp simulator has no internet access: GET https://api.example.com/data was not sent",
        "async 0",
    ]


def test_json_and_url_helpers(runner, recorder: Recorder) -> None:
    agent = """
    server.log(http.jsonencode({a = [1, 2.5, "x", null, true]}));
    local d = http.jsondecode("{\\"k\\": [1, 2.5, false], \\"s\\": \\"t\\"}");
    server.log(d.k[0] + " " + d.k[1] + " " + d.k[2] + " " + d.s);
    server.log(http.urlencode({q = "a b"}) + " " + http.urldecode("x=1+2&y=%21").y);
    try { http.jsondecode("{oops"); } catch (e) { server.log("refused"); }
    server.log(http.agenturl());
    """
    runner.start(code(agent=agent))
    recorder.wait_for(lambda: len(recorder.of("dev1")) == 5)
    assert recorder.of("dev1") == [
        '{ "a": [ 1, 2.5, "x", null, true ] }',
        "1 2.5 false t",
        "q=a+b !",
        "refused",
        "https://agent.electricimp.com/agent-dev1",
    ]


def test_agent_sees_the_device_connect_and_server_save_survives_a_restart(
    runner, recorder: Recorder
) -> None:
    agent = """
    device.onconnect(function() { server.log("device connected " + device.isconnected()); });
    server.log("stored " + ("n" in server.load() ? server.load().n : "nothing"));
    server.save({n = 1});
    """
    runner.start(code(agent=agent))
    recorder.wait_line("dev1", "device connected")
    runner.start(code(agent=agent))
    recorder.wait_for(lambda: len(recorder.of("dev1")) == 4)
    assert recorder.of("dev1") == [
        "stored nothing",
        "device connected true",
        "stored 1",
        "device connected true",
    ]
