"""When to retry a failed API call, and how long to wait first: decided here, once.

The sync and async transports are two small loops that ask `RetryPolicy.delay` after each
failed attempt: a number means "sleep that long, then try again", ``None`` means "raise".

The rules:

- Only errors marked ``is_retryable`` are retried: connection errors, timeouts, 408, 409,
  429 and 5xx. A stream that already delivered content is never retried (the transport
  raises `StreamInterruptedError`, which is not retryable).
- At most ``max_retries`` retries (so ``max_retries + 1`` attempts).
- The server's ``retry-after-ms`` (milliseconds) or ``Retry-After`` (seconds, or an HTTP
  date) wins when present. A wait longer than ``max_retry_after`` (60 s by default) fails
  fast: the error is raised at once with a note giving the requested wait, because a
  server asking for minutes is reporting an exhausted quota, not a blip, and a call should
  not hang silently that long.
- Otherwise exponential backoff: ``backoff_base * 2**attempt``, at most ``backoff_max``,
  minus up to 25 % jitter so that many clients failing together do not retry together.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping

from chainkit.models.http.errors import APIError, APIStatusError


class RetryPolicy:
    """How many retries, and the backoff between them.

    Args:
        max_retries: Retries after the first attempt (0 disables retrying).
        backoff_base: Wait before the first retry, in seconds, when the server gives none.
        backoff_max: Upper bound of the exponential backoff, in seconds.
        max_retry_after: The longest server-requested wait honoured; longer fails fast.

    Example:
        >>> policy = RetryPolicy(max_retries=2, backoff_base=0.5)
        >>> policy.delay(0, RateLimitError("slow down", status_code=429))  # doctest: +SKIP
        0.43
    """

    __slots__ = ("backoff_base", "backoff_max", "max_retries", "max_retry_after")

    def __init__(
        self,
        max_retries: int = 2,
        *,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        max_retry_after: float = 60.0,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries!r}")
        if backoff_base < 0 or backoff_max < 0 or max_retry_after < 0:
            raise ValueError(
                "backoff_base, backoff_max and max_retry_after must be >= 0, got "
                f"{backoff_base!r}, {backoff_max!r}, {max_retry_after!r}"
            )
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after

    def delay(self, attempt: int, error: APIError) -> float | None:
        """Seconds to wait before retrying after ``error`` on attempt ``attempt`` (0-based),
        or ``None`` to raise ``error`` now."""
        if attempt >= self.max_retries or not error.is_retryable:
            return None
        if isinstance(error, APIStatusError) and error.response is not None:
            asked = retry_after(error.response.headers)
            if asked is not None:
                if asked > self.max_retry_after:
                    _note(
                        error,
                        f"Not retried: the server asked to wait {asked:.0f} s, more than "
                        f"max_retry_after={self.max_retry_after:g} s.",
                    )
                    return None
                return asked
        wait = min(self.backoff_base * 2.0**attempt, self.backoff_max)
        return wait * (1.0 - 0.25 * random.random())

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(max_retries={self.max_retries}, backoff_base={self.backoff_base}, "
            f"backoff_max={self.backoff_max}, max_retry_after={self.max_retry_after})"
        )


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The wait a server asks for, in seconds: ``retry-after-ms``, then ``Retry-After`` as
    seconds or as an HTTP date; ``None`` if absent or unreadable. Keys must be lower-case.

    Example:
        >>> retry_after({"retry-after": "2"})
        2.0
        >>> retry_after({"retry-after-ms": "250"})
        0.25
    """
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return max(float(value) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def _note(error: BaseException, note: str) -> None:
    # ``add_note`` is Python 3.11+; on 3.10 the note is stored where 3.11 would keep it.
    notes: list[str] = list(getattr(error, "__notes__", ()))
    notes.append(note)
    error.__notes__ = notes  # type: ignore[attr-defined]
