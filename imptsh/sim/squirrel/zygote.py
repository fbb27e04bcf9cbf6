"""Starting worker processes quickly and safely: a single-threaded fork server.

The simulator is multi-threaded, so it must not ``fork()`` itself. Instead it starts this small
process once (``python -m imptsh.sim.squirrel.zygote``); the zygote imports the Squirrel VM and
the worker code, then forks one worker per request (well under a millisecond each, against
several for ``multiprocessing``'s forkserver, which also pickles and re-imports per process).

Protocol (runner side in ``Zygote``):
- control socket (SOCK_SEQPACKET): the runner sends ``{"kind", "slot"}`` with the worker's end
  of a socket pair attached; the zygote forks and answers ``{"pid"}`` with a pidfd attached,
  through which the runner can kill the worker without ever hitting a recycled pid.
- exit socket (stream): the zygote reaps its children and writes ``"<pid> <wait status>"``
  lines, so the runner can say why a worker ended.
- when the runner goes away (control socket closed) the zygote kills its workers and exits;
  workers die with the zygote (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import ctypes
import gc
import json
import mmap
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PR_SET_PDEATHSIG = 1
# Runs the zygote without importing the simulator (imptsh.sim's __init__ starts with the HTTP
# server): every worker is a fork of the zygote, so what it imports is what each worker carries.
_BOOTSTRAP = """
import sys, types, imptsh
sim = types.ModuleType("imptsh.sim")
sim.__path__ = [imptsh.__path__[0] + "/sim"]
sys.modules["imptsh.sim"] = sim
from imptsh.sim.squirrel.zygote import main
main(sys.argv[1:])
"""
SPAWN_TIMEOUT = 5.0
READY_TIMEOUT = 30.0


@dataclass
class Worker:
    """A forked worker as the runner sees it."""

    pid: int
    pidfd: int
    sock: socket.socket

    def kill(self) -> None:
        """SIGKILL through the pidfd (a no-op once the worker is gone)."""
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except (ProcessLookupError, OSError):
            pass

    def release(self) -> None:
        try:
            os.close(self.pidfd)
        except OSError:
            pass
        self.pidfd = -1


class ZygoteError(RuntimeError):
    """The fork server could not be started or did not answer."""


class _ServerGone(Exception):
    """The fork server's socket failed: it died or hangs."""


class Zygote:
    """The runner's handle on the fork server: thread-safe ``spawn``, ``close``."""

    def __init__(
        self,
        busy_fd: int,
        memory_limit: int,
        on_launch: Callable[[socket.socket, int], None],
    ) -> None:
        """``on_launch(exits_socket, generation)`` is called (under the zygote's lock) each time
        a zygote starts; workers of earlier generations are gone by then."""
        self._busy_fd = busy_fd
        self._memory_limit = memory_limit
        self._on_launch = on_launch
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._ctl: socket.socket | None = None
        self.generation = 0

    def _launch(self) -> None:
        ctl_parent, ctl_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        exits_parent, exits_child = socket.socketpair()
        fds = (ctl_child.fileno(), exits_child.fileno(), self._busy_fd)
        command = [sys.executable, "-c", _BOOTSTRAP]
        command += [str(fd) for fd in fds] + [str(self._memory_limit)]
        package_root = str(Path(__file__).resolve().parents[3])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        self._proc = subprocess.Popen(
            command,
            env=env,
            pass_fds=fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            close_fds=True,
        )
        ctl_child.close()
        exits_child.close()
        ctl_parent.settimeout(READY_TIMEOUT)
        try:
            ready = ctl_parent.recv(64)
        except OSError as exc:
            ready = b""
            reason = str(exc)
        else:
            reason = "it exited"
        if ready != b"ready":
            self._proc.kill()
            self._proc.wait()
            ctl_parent.close()
            exits_parent.close()
            raise ZygoteError(f"the Squirrel worker server did not start ({reason})")
        ctl_parent.settimeout(SPAWN_TIMEOUT)
        self._ctl = ctl_parent
        self.generation += 1
        self._on_launch(exits_parent, self.generation)

    def start(self) -> None:
        with self._lock:
            if self._ctl is None:
                self._launch()

    def spawn(self, kind: str, slot: int) -> Worker:
        """Fork a worker of ``kind`` ("host" or "compiler") using busy-table ``slot``."""
        return self.spawn_many([(kind, slot)])[0]

    def spawn_many(self, requests: list[tuple[str, int]]) -> list[Worker]:
        """Fork one worker per ``(kind, slot)``; all requests are sent before the first answer
        is read, so a busy machine schedules the zygote once rather than once per worker.

        A zygote that has gone away is replaced once, transparently."""
        with self._lock:
            try:
                return self._spawn_once(requests)
            except _ServerGone:
                self._discard()
            try:
                return self._spawn_once(requests)
            except _ServerGone as exc:
                self._discard()
                raise ZygoteError(f"could not start a Squirrel worker: {exc}") from exc

    def _spawn_once(self, requests: list[tuple[str, int]]) -> list[Worker]:
        if self._ctl is None:
            self._launch()
        assert self._ctl is not None
        pairs = [socket.socketpair() for _ in requests]
        workers: list[Worker] = []
        errors: list[str] = []
        try:
            try:
                for (kind, slot), (_, theirs) in zip(requests, pairs, strict=True):
                    request = json.dumps({"kind": kind, "slot": slot}).encode()
                    socket.send_fds(self._ctl, [request], [theirs.fileno()])
                for _, theirs in pairs:
                    theirs.close()
                for ours, _ in pairs:
                    reply, fds, _, _ = socket.recv_fds(self._ctl, 1024, 1)
                    if not reply:
                        raise _ServerGone("the worker server went away")
                    answer = json.loads(reply)
                    if "error" in answer or not fds:
                        errors.append(str(answer.get("error", "no process")))
                        ours.close()
                    else:
                        workers.append(Worker(answer["pid"], fds[0], ours))
            except OSError as exc:
                raise _ServerGone(str(exc) or type(exc).__name__) from exc
            if errors:
                raise ZygoteError(f"could not start a Squirrel worker: {errors[0]}")
            return workers
        except BaseException:
            for worker in workers:
                worker.kill()
                worker.release()
            for ours, theirs in pairs:
                ours.close()
                theirs.close()
            raise

    def _discard(self) -> None:
        if self._ctl is not None:
            self._ctl.close()
        self._ctl = None
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def close(self) -> None:
        with self._lock:
            if self._ctl is not None:
                self._ctl.close()
                self._ctl = None
            if self._proc is not None:
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
                self._proc = None


# --- the zygote process ---------------------------------------------------------------------


def _serve(ctl: socket.socket, exits: socket.socket, busy_fd: int, memory_limit: int) -> None:
    import select

    from . import busy as busy_module
    from . import host

    shared = busy_module.map_shared(busy_fd)
    host.prelude("device")
    host.prelude("agent")
    gc.freeze()  # keep the collector from copying the shared pages into every worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: set[int] = set()
    zygote_pid = os.getpid()
    ctl.send(b"ready")

    def reap() -> None:
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            children.discard(pid)
            try:
                exits.sendall(f"{pid} {status}\n".encode())
            except OSError:
                pass

    while True:
        readable = select.select([ctl, wake_r], [], [])[0]
        if wake_r in readable:
            try:
                while os.read(wake_r, 512):
                    pass
            except BlockingIOError:
                pass
            reap()
        if ctl not in readable:
            continue
        request, fds, _, _ = socket.recv_fds(ctl, 1024, 4)
        if not request:
            break
        spec = json.loads(request)
        try:
            pid = os.fork()
        except OSError as exc:  # out of processes or memory: say so, keep serving
            for fd in fds:
                os.close(fd)
            ctl.send(json.dumps({"error": str(exc)}).encode())
            continue
        if pid == 0:
            worker_sock = socket.socket(fileno=fds[0])
            for fd in (ctl.fileno(), exits.fileno(), wake_r, wake_w):
                os.close(fd)
            _become_worker(spec, worker_sock, shared, memory_limit, zygote_pid)
        children.add(pid)
        pidfd = os.pidfd_open(pid)
        for fd in fds:
            os.close(fd)
        socket.send_fds(ctl, [json.dumps({"pid": pid}).encode()], [pidfd])
        os.close(pidfd)
        reap()
    for pid in children:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _become_worker(
    spec: dict[str, Any], sock: socket.socket, shared: mmap.mmap, memory_limit: int, parent: int
) -> None:
    from . import compiler, host
    from .busy import BusySlot

    status = 0
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the zygote died before the line above took effect
            return
        if memory_limit > 0:
            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)  # the VM prints timing noise on stdout when it is destroyed
        os.close(devnull)
        if spec["kind"] == "compiler":
            compiler.serve(sock)
        else:
            host.child_main(sock, BusySlot(shared, int(spec["slot"])))
    except BaseException:  # noqa: BLE001 - a worker must never return into the zygote's loop
        import traceback

        traceback.print_exc()
        status = 1
    finally:
        os._exit(status)


def main(argv: list[str]) -> None:
    ctl_fd, exits_fd, busy_fd, memory_limit = (int(arg) for arg in argv)
    ctl = socket.socket(fileno=ctl_fd)
    exits = socket.socket(fileno=exits_fd)
    _serve(ctl, exits, busy_fd, memory_limit)
