"""`--log` of `build run`, `dg restart` and `device restart`: whether the restarted devices'
log task starts. The log machinery (`commands.log`, `imptsh.logs`) loads only when `--log`
is given: a restart without it never needs it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..invocation import Invocation


class _NotFollowing:
    """What `following` yields without `--log`: starting does nothing."""

    def start(self, devices: list[dict[str, Any]]) -> None:
        pass


@contextmanager
def following(inv: Invocation, wanted: bool) -> Iterator[Any]:
    """`with following(inv, inv.args.log) as follow:` ... `follow.start(devices)` before
    the restart; with `--log` the task runs when the block ends, and is dropped if the
    block fails (see `commands.log.Follow`)."""
    if not wanted:
        yield _NotFollowing()
        return
    from .log import following as following_logs

    with following_logs(inv, wanted) as follow:
        yield follow
