"""One log task on its own: once it has ended, a line already on its way to it (handed
over by the stream's reader just before) is not shown."""

from __future__ import annotations

import io

from imptsh.logs import LineStyle, LogLine, StreamSink
from imptsh.logs.task import STOPPED, LogTask


def test_an_ended_task_shows_no_line_handed_to_it_afterwards() -> None:
    out = io.StringIO()
    sink = StreamSink(out)
    task = LogTask(1, LineStyle(), lambda: sink)
    line = LogLine("0123456789abcdef", "2026-01-01T00:00:00.000Z", "server.log", "hi")
    task.deliver([line])
    assert out.getvalue() == "[0123456789abcdef] 2026-01-01T00:00:00.000Z [server.log] hi\n"
    assert task.end(STOPPED, "stopped") and not task.end(STOPPED, "again")
    task.deliver([line])
    assert out.getvalue().count("\n") == 1
    assert task.state == STOPPED and task.ended.is_set()
