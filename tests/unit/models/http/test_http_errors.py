"""The typed error tree: classes by status, retryability, readable secret-free messages."""

from __future__ import annotations

import pytest

import chainkit.models.http as http
from chainkit.models.http import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamInterruptedError,
    UnprocessableEntityError,
)
from chainkit.models.http._describe import safe_url, scrub, server_message, status_error
from chainkit.models.http.errors import status_error_class


def test_exported_names_exactly():
    assert set(http.__all__) == {
        "APIConnectionError", "APIError", "APIResponseValidationError", "APIStatusError",
        "APITimeoutError", "AuthenticationError", "BadRequestError", "ConflictError",
        "ErrorResponse", "EventDecoder", "HTTPTransport", "InternalServerError",
        "NotFoundError", "PermissionDeniedError", "RateLimitError", "RetryPolicy",
        "SSEDecoder", "SSEEvent", "ServerErrorEvent", "StreamInterruptedError",
        "UnprocessableEntityError", "retry_after",
    }
    for name in http.__all__:
        assert getattr(http, name) is not None


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (400, BadRequestError, False),
        (401, AuthenticationError, False),
        (403, PermissionDeniedError, False),
        (404, NotFoundError, False),
        (408, APIStatusError, True),
        (409, ConflictError, True),
        (413, APIStatusError, False),
        (422, UnprocessableEntityError, False),
        (429, RateLimitError, True),
        (500, InternalServerError, True),
        (502, InternalServerError, True),
        (503, InternalServerError, True),
        (529, InternalServerError, True),
    ],
)
def test_status_classes_and_retryability(status, cls, retryable):
    assert status_error_class(status) is cls
    error = status_error("OpenAI", "POST", "https://x/v1/chat/completions", status, {}, "")
    assert type(error) is cls
    assert error.is_retryable is retryable
    assert isinstance(error, APIStatusError)
    assert isinstance(error, APIError)


def test_tree():
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(StreamInterruptedError, APIConnectionError)
    assert issubclass(APIConnectionError, APIError)
    assert issubclass(APIResponseValidationError, APIError)
    assert APIConnectionError("x").is_retryable and APITimeoutError("x").is_retryable
    assert not StreamInterruptedError("x").is_retryable
    assert not APIResponseValidationError("x").is_retryable
    # The module docstring draws every class.
    doc = http.errors.__doc__ or ""
    for name in http.errors.__all__:
        if name[0].isupper() and name != "ErrorResponse":
            assert name in doc, name


def test_message_names_provider_method_url_status_and_server_message():
    error = status_error(
        "OpenAI", "POST", "https://api.openai.com/v1/chat/completions", 429,
        {"x-request-id": "req_123", "retry-after": "1"},
        '{"error": {"message": "Rate limit reached for gpt-4o-mini", "type": "tokens"}}',
    )
    assert str(error) == (
        "OpenAI API error 429 Too Many Requests for POST "
        "https://api.openai.com/v1/chat/completions: tokens: Rate limit reached for "
        "gpt-4o-mini (request id req_123)"
    )
    assert error.status_code == 429
    assert error.request_id == "req_123"
    assert error.body == {"error": {"message": "Rate limit reached for gpt-4o-mini",
                                    "type": "tokens"}}
    assert error.response is not None
    assert error.response.status_code == 429
    assert error.response.headers["retry-after"] == "1"
    assert error.response.json()["error"]["type"] == "tokens"
    assert repr(error.response) == "<ErrorResponse [429]>"
    assert repr(error).startswith("RateLimitError('OpenAI API error 429")


def test_anthropic_overloaded_body_and_529():
    error = status_error(
        "Anthropic", "POST", "https://api.anthropic.com/v1/messages", 529,
        {"request-id": "req_9"},
        '{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}',
    )
    assert str(error) == (
        "Anthropic API error 529 Overloaded for POST https://api.anthropic.com/v1/messages: "
        "overloaded_error: Overloaded (request id req_9)"
    )
    assert isinstance(error, InternalServerError) and error.is_retryable


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": "model not loaded"}, "model not loaded"),
        ({"detail": "Not Found"}, "Not Found"),
        ({"error": {"message": "bad", "code": "invalid_value"}}, "invalid_value: bad"),
        ("plain text", "plain text"),
        ("x" * 600, "x" * 500 + "..."),
    ],
)
def test_server_message_shapes(body, expected):
    assert server_message(body) == expected


def test_secrets_are_scrubbed_from_the_server_text():
    key = "sk-canary-0123456789"
    error = status_error(
        "OpenAI", "POST", "https://api.openai.com/v1/chat/completions", 401, {},
        f'{{"error": {{"message": "Incorrect API key provided: {key}"}}}}', [key],
    )
    for text in (str(error), repr(error), repr(error.args), str(error.body), error.response.text):
        assert key not in text
    assert "Incorrect API key provided: ***" in str(error)


def test_secrets_are_scrubbed_from_response_headers():
    key = "sk-canary-0123456789"
    error = status_error("OpenAI", "POST", "http://h/v1", 401, {"X-Echo": f"Bearer {key}"},
                         "", [key])
    assert error.response.headers == {"x-echo": "Bearer ***"}


def test_safe_url_drops_user_info_query_and_fragment():
    assert safe_url("https://user:pw@host.example:8443/v1/x?key=secret#frag") == (
        "https://host.example:8443/v1/x"
    )
    assert safe_url("http://[::1]:8080/v1") == "http://[::1]:8080/v1"
    assert scrub("a sk-1 b sk-1", ["sk-1", ""]) == "a *** b ***"


def test_empty_error_body_still_reads_well():
    error = status_error("OpenAI", "POST", "http://h/v1/chat/completions", 502, {}, "")
    assert str(error) == "OpenAI API error 502 Bad Gateway for POST http://h/v1/chat/completions"
    assert error.response.text == ""
    assert error.body == ""


def test_stream_interrupted_keeps_partial_text():
    error = StreamInterruptedError("cut", partial_text="Once upon")
    assert error.partial_text == "Once upon"
    assert isinstance(error, APIConnectionError)
