"""`stream_display` / `astream_display`: live output in a notebook, printed text elsewhere."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from chainkit.messages import AIMessageChunk
from chainkit.models.fake import FakeListChatModel, FakeListChatModelError
from chainkit.notebook import StreamView, astream_display, stream_display
from chainkit.parsers import JsonOutputParser, StrOutputParser
from chainkit.prompts import ChatPromptTemplate
from chainkit.runnables import RunnableLambda


def words(_: Any) -> Iterator[str]:
    yield from ["Hello", ", ", "<b>world</b>"]


def chain(reply: str = "Bonjour le monde") -> Any:
    prompt = ChatPromptTemplate.from_messages([("human", "Translate: {text}")])
    return prompt | FakeListChatModel(responses=[reply]) | StrOutputParser()


# ---- outside a notebook: printed ---------------------------------------------------------------
def test_prints_tokens_as_they_come_and_returns_the_text(
    no_notebook: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert stream_display(chain(), {"text": "Hello world"}) == "Bonjour le monde"
    assert capsys.readouterr().out == "Bonjour le monde\n"


def test_each_chunk_is_written_once_as_it_arrives(no_notebook: None) -> None:
    written: list[str] = []
    view = StreamView(write=written.append)
    for chunk in words(None):
        view.add(chunk)
        assert "".join(written).endswith(chunk)  # shown before the next chunk is read
    assert view.close() == "Hello, <b>world</b>"
    assert written == ["Hello", ", ", "<b>world</b>", "\n"]


def test_a_model_stream_returns_the_aggregated_message(
    no_notebook: None, capsys: pytest.CaptureFixture[str]
) -> None:
    final = stream_display(FakeListChatModel(responses=["abc"]), "hi")
    assert isinstance(final, AIMessageChunk) and final.content == "abc"
    assert final.usage_metadata is not None  # the last chunk's usage is kept
    assert capsys.readouterr().out == "abc\n"


def test_partial_json_prints_the_final_object(
    no_notebook: None, capsys: pytest.CaptureFixture[str]
) -> None:
    model = FakeListChatModel(responses=['{"name": "Ada", "langs": ["en", "fr"]}'])
    final = stream_display(model | JsonOutputParser(), "who?")
    assert final == {"name": "Ada", "langs": ["en", "fr"]}
    assert capsys.readouterr().out == "{'name': 'Ada', 'langs': ['en', 'fr']}\n"


def test_an_empty_stream_returns_none(
    no_notebook: None, capsys: pytest.CaptureFixture[str]
) -> None:
    def nothing(_: Any) -> Iterator[str]:
        yield from ()

    assert stream_display(RunnableLambda(nothing), 1) is None
    assert capsys.readouterr().out == "\n"


def test_kwargs_and_config_reach_the_stream(no_notebook: None) -> None:
    seen: list[Any] = []

    def echo(x: str, config: dict[str, Any], suffix: str = "") -> str:
        seen.append(config.get("tags"))
        return x + suffix

    assert stream_display(RunnableLambda(echo), "x", {"tags": ["t"]}, suffix="!") == "x!"
    assert seen == [["t"]]


# ---- in a notebook: one output area, updated in place ---------------------------------------
def test_notebook_shows_one_area_updated_per_token(notebook: Any) -> None:
    final = stream_display(RunnableLambda(words), None, interval=0)
    assert final == "Hello, <b>world</b>"
    [handle] = notebook.handles
    assert handle.updates == 3  # displayed on the 1st chunk, updated on 2 more and at the end
    assert notebook.text == "Hello, <b>world</b>"
    assert "&lt;b&gt;world&lt;/b&gt;" in notebook.html and "<b>" not in notebook.html
    assert "&#9612;" not in notebook.html  # the cursor is gone at the end


def test_notebook_updates_are_throttled_but_the_last_is_shown(notebook: Any) -> None:
    final = stream_display(chain("x" * 200), {"text": "t"}, interval=60)
    [handle] = notebook.handles
    assert handle.updates == 1  # only the final update after the first display
    assert notebook.text == final == "x" * 200


def test_while_streaming_the_area_shows_a_cursor(notebook: Any) -> None:
    view = StreamView(interval=0)
    view.add("par")
    assert notebook.text == "par" and "&#9612;" in notebook.html
    view.close()
    assert "&#9612;" not in notebook.html


def test_an_error_keeps_the_partial_output_and_raises_itself(notebook: Any) -> None:
    model = FakeListChatModel(responses=["abcdef"], error_on_chunk_number=3)
    with pytest.raises(FakeListChatModelError):
        stream_display(model, "hi", interval=0)
    assert notebook.text == "abc"
    assert "&#9612;" not in notebook.html


def test_nothing_is_printed_in_a_notebook(
    notebook: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stream_display(chain(), {"text": "t"})
    assert capsys.readouterr().out == ""


# ---- async, and sync inside a running loop (a notebook cell) -----------------------------------
async def test_astream_display_matches_stream_display(
    no_notebook: None, capsys: pytest.CaptureFixture[str]
) -> None:
    final = await astream_display(chain(), {"text": "Hello world"})
    assert final == "Bonjour le monde"
    assert capsys.readouterr().out == "Bonjour le monde\n"


async def test_astream_display_in_a_notebook(notebook: Any) -> None:
    async def agen(_: AsyncIterator[Any]) -> AsyncIterator[str]:
        for token in ("a", "b"):
            await asyncio.sleep(0)
            yield token

    assert await astream_display(RunnableLambda(agen), None, interval=0) == "ab"
    assert notebook.text == "ab"


async def test_astream_display_raises_the_original_error(notebook: Any) -> None:
    model = FakeListChatModel(responses=["abcdef"], error_on_chunk_number=2)
    with pytest.raises(FakeListChatModelError):
        await astream_display(model, "hi", interval=0)
    assert notebook.text == "ab"


async def test_sync_stream_display_works_inside_a_running_loop(notebook: Any) -> None:
    async def shout(x: str) -> str:
        await asyncio.sleep(0)
        return x.upper()

    final = stream_display(chain("bonjour") | shout, {"text": "hello"}, interval=0)
    assert final == "BONJOUR" and notebook.text == "BONJOUR"
