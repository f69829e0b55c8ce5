"""Is the process that claims a piece of work still alive? (training jobs, version folders)

A claim records the process id and the host it runs on. On the same host the answer
is certain: the process exists, is not a zombie, and was started no later than the
claim (a process id reused by a later process does not count). On another host it
cannot be asked; callers fall back on how long the claim has been silent.
"""

from __future__ import annotations

import datetime as dt
import socket

import psutil

__all__ = ["HOST", "process_alive", "utc"]

#: This machine's name, as claims record it.
HOST = socket.gethostname()[:255]


def utc(value: dt.datetime) -> dt.datetime:
    """``value`` as an aware UTC time (the store hands back naive UTC on SQLite)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def process_alive(
    pid: int | None, host: str | None, since: dt.datetime | None = None
) -> bool | None:
    """Whether process ``pid`` on ``host`` is alive; None when that cannot be told here
    (another host, or no process id recorded).

    Args:
        pid: the claimed process id.
        host: the host the claim was made on.
        since: when the process recorded its claim (it existed then); a process started
            after it is a stranger that reused the id.
    """
    if pid is None or host != HOST:
        return None
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        started = dt.datetime.fromtimestamp(proc.create_time(), dt.UTC)
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:  # another user's process: it exists
        return True
    return since is None or started <= utc(since) + dt.timedelta(seconds=2)
