"""Which worker has been running one handler for how long, without a message per handler.

A shared memory file holds one 8-byte slot per worker process: the ``CLOCK_MONOTONIC`` time (ns)
at which its current handler started, or 0 while it waits for events. Workers write their slot
around every call into the VM; the runner's watchdog reads all slots a few times a second.
``CLOCK_MONOTONIC`` is one clock for every process on the machine, so the ages compare.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
import time

SLOTS = 65536
_SLOT = struct.Struct("=q")


class BusyTable:
    """The runner's side: owns the shared file, hands out slots, reads ages."""

    def __init__(self, slots: int = SLOTS) -> None:
        self.fd = os.memfd_create("imptsh-sim-busy", 0)
        os.ftruncate(self.fd, slots * _SLOT.size)
        self._map = mmap.mmap(self.fd, slots * _SLOT.size)
        self._free = list(range(slots - 1, -1, -1))
        self._lock = threading.Lock()
        self.slots = slots

    def allocate(self) -> int:
        with self._lock:
            if not self._free:
                raise RuntimeError(f"more than {self.slots} Squirrel worker processes")
            slot = self._free.pop()
        _SLOT.pack_into(self._map, slot * _SLOT.size, 0)
        return slot

    def release(self, slot: int) -> None:
        _SLOT.pack_into(self._map, slot * _SLOT.size, 0)
        with self._lock:
            self._free.append(slot)

    def busy_for(self, slot: int) -> float:
        """Seconds the slot's worker has been inside one handler (0 when it is idle)."""
        (started,) = _SLOT.unpack_from(self._map, slot * _SLOT.size)
        if not started:
            return 0.0
        return max(0.0, (time.monotonic_ns() - started) / 1e9)

    def close(self) -> None:
        self._map.close()
        os.close(self.fd)


class BusySlot:
    """A worker's side: marks the start and end of each call into the VM."""

    def __init__(self, shared: mmap.mmap, slot: int) -> None:
        self._map = shared
        self._offset = slot * _SLOT.size

    def enter(self) -> None:
        _SLOT.pack_into(self._map, self._offset, time.monotonic_ns())

    def leave(self) -> None:
        _SLOT.pack_into(self._map, self._offset, 0)


def map_shared(fd: int, slots: int = SLOTS) -> mmap.mmap:
    return mmap.mmap(fd, slots * _SLOT.size)
