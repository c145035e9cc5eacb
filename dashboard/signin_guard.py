"""Failed sign-ins slow down, then lock out: per client and for the whole server.

One ``SignInGuard`` is shared by every session of the dashboard process. Each
failed sign-in from a client (its address) doubles the wait before that
client's next attempt is checked (from ``delay_s``, at most ``max_delay_s``);
after ``max_failures`` failures the client is locked out for ``lockout_s``
seconds, the right secret included. Failures from all clients together also
slow every attempt once there are more than ``global_free`` in the last minute,
so that guessing from many addresses does not go at full speed either. A
success clears the client's count. Every failed and successful sign-in is
logged (``anomaly_gan.signin``), with the client and the name given.

Settings come from the environment (``anomaly-gan dashboard`` sets them):
``ANOMALY_GAN_SIGNIN_MAX_FAILURES`` (default 5), ``ANOMALY_GAN_SIGNIN_LOCKOUT_MINUTES``
(15) and ``ANOMALY_GAN_SIGNIN_DELAY_S`` (1).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger("anomaly_gan.signin")
if not logger.handlers:  # Streamlit leaves the root logger at WARNING
    _handler = logging.StreamHandler(sys.stderr)
    _handler.setFormatter(
        logging.Formatter("%(asctime)s anomaly-gan sign-in: %(message)s")
    )
    logger.addHandler(_handler)
    logger.setLevel(logging.INFO)

_WINDOW_S = 60.0


@dataclass
class SignInGuard:
    """Rate limits and lockouts for the shared-secret sign-in (see the module)."""

    max_failures: int = 5
    lockout_s: float = 900.0
    delay_s: float = 1.0
    max_delay_s: float = 30.0
    global_free: int = 20
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, int] = field(default_factory=dict)
    _locked_until: dict[str, float] = field(default_factory=dict)
    _recent: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_env(cls) -> SignInGuard:
        """Build the guard from the dashboard's environment settings."""
        return cls(
            max_failures=max(
                1, int(os.environ.get("ANOMALY_GAN_SIGNIN_MAX_FAILURES", "5"))
            ),
            lockout_s=60.0
            * float(os.environ.get("ANOMALY_GAN_SIGNIN_LOCKOUT_MINUTES", "15")),
            delay_s=float(os.environ.get("ANOMALY_GAN_SIGNIN_DELAY_S", "1")),
        )

    def locked_for(self, client: str) -> float:
        """Seconds the client is still locked out (0: it may try)."""
        with self._lock:
            until = self._locked_until.get(client, 0.0)
            left = until - self.clock()
            if left <= 0 and client in self._locked_until:
                del self._locked_until[client]
                self._failures.pop(client, None)
            return max(0.0, left)

    def delay(self, client: str) -> float:
        """Seconds to wait before this client's attempt is checked."""
        with self._lock:
            now = self.clock()
            while self._recent and now - self._recent[0] > _WINDOW_S:
                self._recent.popleft()
            failures = self._failures.get(client, 0)
            own = 0.0 if failures == 0 else self.delay_s * 2 ** (failures - 1)
            crowd = self.delay_s * (len(self._recent) // max(1, self.global_free))
            return min(self.max_delay_s, own + crowd)

    def failed(self, client: str, name: str) -> None:
        """Count a failed sign-in; lock the client out at ``max_failures``."""
        with self._lock:
            now = self.clock()
            count = self._failures.get(client, 0) + 1
            self._failures[client] = count
            self._recent.append(now)
            locked = count >= self.max_failures
            if locked:
                self._locked_until[client] = now + self.lockout_s
        logger.warning(
            "failed for name %r from %s (%d in a row)%s",
            name,
            client,
            count,
            f"; locked out for {self.lockout_s / 60:g} minutes" if locked else "",
        )

    def succeeded(self, client: str, name: str) -> None:
        """Clear the client's failures and log the sign-in."""
        with self._lock:
            self._failures.pop(client, None)
        logger.info("signed in as %r from %s", name, client)


_shared: SignInGuard | None = None
_shared_lock = threading.Lock()


def shared_guard() -> SignInGuard:
    """The guard of this server process, shared by every session."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SignInGuard.from_env()
        return _shared
