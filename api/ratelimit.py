"""Failed-authentication limits: per client address and per key prefix, with lockout.

Every wrong key (API ``Authorization: Bearer`` / ``X-API-Key``, console sign-in) counts
against the caller's address and against the presented key's public prefix. The
``auth_max_failures``-th failure within ``auth_failure_window_seconds`` locks that
address or prefix for ``auth_lockout_seconds`` (defaults: the 10th in 60 s locks for
5 min); that failure and everything the lock refuses get 429 with ``Retry-After`` (an
RFC 9457 problem from the API, the sign-in form with a notice from the console).
``recsvc_auth_failures_total{surface}`` and ``recsvc_auth_lockouts_total{scope}`` count
them on ``/metrics``.

* A locked *address* is refused before its key is even looked at.
* A locked *prefix* refuses only wrong keys: the right secret (256 random bits, which no
  one guesses) still signs in from any address, so nobody can lock a colleague out by
  failing with their key's prefix, which shows in listings and logs.
* Other addresses are never affected by one address's lockout.
* A request with no key at all is not a guess and is not counted.

The counts live in memory, one :class:`AuthLimiter` per process: with
``recsvc serve --workers N`` each worker counts on its own, so an attacker spread over
all workers gets up to N times the budget before every worker has locked them out.
The address is the TCP peer; behind a reverse proxy, run uvicorn with
``--proxy-headers`` / ``--forwarded-allow-ips`` so it is the real client.

No rate-limit library is used: ``limits`` (the usual choice) has no lockout period
and reads the wall clock itself, while this needs an injectable clock for its tests;
the sliding window below is a deque per key.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from starlette.requests import HTTPConnection

from recsvc.errors import TooManyRequests, Unauthorized

__all__ = ["AuthLimiter", "authenticate_limited"]

_PREFIX_LEN = 12
T = TypeVar("T")


class AuthLimiter:
    """Sliding-window failure counts and lockouts for string keys (``addr:…``,
    ``prefix:…``). Thread-safe; ``clock`` is injectable (seconds, monotonic).

    Example:
        >>> t = [0.0]; lim = AuthLimiter(failures=2, window=60, lockout=300, clock=lambda: t[0])
        >>> lim.failed("addr:x"), lim.failed("addr:x")
        (False, True)
        >>> lim.locked_for("addr:x"), lim.locked_for("addr:y")
        (300.0, 0.0)
        >>> t[0] = 300.0; lim.locked_for("addr:x")
        0.0
    """

    def __init__(
        self,
        *,
        failures: int,
        window: float,
        lockout: float,
        clock: Callable[[], float] = time.monotonic,
        max_tracked: int = 100_000,
        on_failure: Callable[[str], None] | None = None,
        on_lockout: Callable[[str], None] | None = None,
    ) -> None:
        self.failures = failures
        self.window = window
        self.lockout = lockout
        self.clock = clock
        self.max_tracked = max_tracked
        self.on_failure = on_failure
        self.on_lockout = on_lockout
        self._seen: dict[str, deque[float]] = {}
        self._locked: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.failures > 0

    def locked_for(self, key: str) -> float:
        """Seconds until ``key`` is unlocked (0 when it is not locked)."""
        with self._lock:
            until = self._locked.get(key)
            if until is None:
                return 0.0
            left = until - self.clock()
            if left <= 0:
                del self._locked[key]
                return 0.0
            return left

    def failed(self, key: str) -> bool:
        """Count one failure for ``key``; True when this one locks it."""
        if not self.enabled:
            return False
        with self._lock:
            now = self.clock()
            if len(self._seen) >= self.max_tracked:
                self._prune(now)
            seen = self._seen.setdefault(key, deque())
            seen.append(now)
            while seen and now - seen[0] >= self.window:
                seen.popleft()
            locks = len(seen) >= self.failures and self._locked.get(key, 0.0) <= now
            if locks:
                self._locked[key] = now + self.lockout
                seen.clear()
        if locks and self.on_lockout is not None:
            self.on_lockout(key.split(":", 1)[0])
        return locks

    def _prune(self, now: float) -> None:
        """Forget windows and lockouts that have run out (bounded memory)."""
        for key in [k for k, s in self._seen.items() if not s or now - s[-1] >= self.window]:
            del self._seen[key]
        for key in [k for k, until in self._locked.items() if until <= now]:
            del self._locked[key]
        if len(self._seen) >= self.max_tracked:  # a flood of fresh addresses
            self._seen.clear()


def _refuse(seconds: float) -> TooManyRequests:
    wait = max(1, math.ceil(seconds))
    return TooManyRequests(
        f"too many failed authentications; try again in {wait} s", retry_after=wait
    )


def authenticate_limited(
    limiter: AuthLimiter | None,
    conn: HTTPConnection,
    secret: str | None,
    verify: Callable[[str | None], T],
    *,
    surface: str,
) -> T:
    """``verify(secret)`` (``access.authenticate`` or ``access.open_session``), counting
    its failures per address and key prefix (see the module doc); ``surface`` (``api``,
    ``console``) labels the metric.

    Raises:
        TooManyRequests: the address is locked, or this failure's address or prefix is.
        Unauthorized: a wrong key that locks nothing yet.
    """
    if limiter is None or not limiter.enabled:
        return verify(secret)
    address = f"addr:{conn.client.host if conn.client else 'unknown'}"
    if wait := limiter.locked_for(address):
        raise _refuse(wait)
    try:
        return verify(secret)
    except Unauthorized:
        if not secret:
            raise
        if limiter.on_failure is not None:
            limiter.on_failure(surface)
        prefix = f"prefix:{secret[:_PREFIX_LEN]}"
        limiter.failed(address)
        limiter.failed(prefix)
        wait = max(limiter.locked_for(address), limiter.locked_for(prefix))
        if wait:
            raise _refuse(wait) from None
        raise
