"""At most one heavy file check per user at a time (数据管理 and the planning upload).

Reading and validating a large file takes seconds and hundreds of MB; a user clicking again, or
opening more tabs, must not start a second one beside it. `one_at_a_time(user)` is a per-user,
non-blocking lock in this process: the second caller gets an `InputError` with `BUSY` at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from gis.io import InputError

BUSY = "已有一个文件正在检查，请稍候"
_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


@contextmanager
def one_at_a_time(user: str) -> Iterator[None]:
    """Run the body as `user`'s only file check, or raise InputError(BUSY) when one is running."""
    if not user:
        raise ValueError("one_at_a_time needs a user name")
    with _GUARD:
        lock = _LOCKS.setdefault(user, threading.Lock())
    if not lock.acquire(blocking=False):
        raise InputError(f"{BUSY}。")
    try:
        yield
    finally:
        lock.release()
