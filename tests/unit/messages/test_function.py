"""FunctionMessage and its chunk."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chainkit.messages import FunctionMessage, FunctionMessageChunk


def test_function_message_needs_a_name() -> None:
    message = FunctionMessage("21", name="temp")
    assert (message.type, message.name) == ("function", "temp")
    assert repr(message) == "FunctionMessage(content='21', name='temp')"
    with pytest.raises(ValidationError, match="name"):
        FunctionMessage("21")


def test_function_chunks_merge_only_with_the_same_name() -> None:
    total = FunctionMessageChunk("a", name="f") + FunctionMessageChunk("b", name="f")
    assert total == FunctionMessageChunk("ab", name="f")
    with pytest.raises(TypeError, match=r"FunctionMessageChunk\(name='f'\) and "
                                        r"FunctionMessageChunk\(name='g'\)"):
        FunctionMessageChunk("a", name="f") + FunctionMessageChunk("b", name="g")
