"""RetryPolicy: which errors are retried, and how long to wait first."""

from __future__ import annotations

import email.utils
import time

import pytest

from chainkit.models.http import (
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    ErrorResponse,
    InternalServerError,
    RateLimitError,
    RetryPolicy,
    StreamInterruptedError,
    retry_after,
)


def rate_limited(headers: dict[str, str] | None = None) -> RateLimitError:
    return RateLimitError(
        "slow down", status_code=429, response=ErrorResponse(429, headers or {}, "")
    )


def test_retryable_errors_get_a_delay_until_max_retries():
    policy = RetryPolicy(max_retries=2, backoff_base=0.5, backoff_max=8)
    for error in (
        APIConnectionError("reset"),
        APITimeoutError("slow"),
        InternalServerError("boom", status_code=503),
        rate_limited(),
    ):
        assert policy.delay(0, error) is not None
        assert policy.delay(1, error) is not None
        assert policy.delay(2, error) is None


def test_non_retryable_errors_are_raised_at_once():
    policy = RetryPolicy()
    assert policy.delay(0, BadRequestError("bad", status_code=400)) is None
    assert policy.delay(0, StreamInterruptedError("cut", partial_text="Hel")) is None


def test_exponential_backoff_with_jitter_and_cap():
    policy = RetryPolicy(max_retries=10, backoff_base=1.0, backoff_max=4.0)
    error = APIConnectionError("reset")
    for attempt, full in ((0, 1.0), (1, 2.0), (2, 4.0), (5, 4.0)):
        for _ in range(20):
            delay = policy.delay(attempt, error)
            assert delay is not None
            assert 0.75 * full <= delay <= full


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "1"}, 1.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_header_forms(headers, expected):
    assert retry_after(headers) == expected


def test_retry_after_as_http_date():
    now = time.time()
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after({"retry-after": header}, now=now) == pytest.approx(30, abs=1)
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert retry_after({"retry-after": past}, now=now) == 0.0


def test_server_retry_after_wins_over_backoff():
    policy = RetryPolicy(backoff_base=5.0)
    assert policy.delay(0, rate_limited({"retry-after": "0"})) == 0.0
    assert policy.delay(0, rate_limited({"retry-after": "1"})) == 1.0


def test_retry_after_above_the_cap_fails_fast_with_a_note():
    policy = RetryPolicy(max_retry_after=60)
    error = rate_limited({"retry-after": "3600"})
    assert policy.delay(0, error) is None
    assert "asked to wait 3600 s" in error.__notes__[0]
    assert "max_retry_after=60" in error.__notes__[0]


def test_invalid_settings_name_the_value():
    with pytest.raises(ValueError, match="max_retries must be >= 0, got -1"):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError, match=r"-0.5"):
        RetryPolicy(backoff_base=-0.5)


def test_repr():
    assert repr(RetryPolicy(1, backoff_base=0.1)) == (
        "RetryPolicy(max_retries=1, backoff_base=0.1, backoff_max=8.0, max_retry_after=60.0)"
    )
