"""Rich notebook display of messages, conversations and `LLMResult`: readable and escaped."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from chainkit.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    ChatMessageChunk,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    ToolMessageChunk,
)
from chainkit.models.fake import FakeListChatModel
from chainkit.models.outputs import ChatGeneration, LLMResult
from chainkit.notebook import conversation_html, llm_result_html, message_html
from chainkit.prompts import ChatPromptTemplate, ChatPromptValue

ROOT = Path(__file__).resolve().parents[3]
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


class _Tags(HTMLParser):
    """Collects the tags and the visible text of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Tags:
    p = _Tags()
    p.feed(html)
    p.close()
    return p


def html_text(html: str) -> str:
    return "".join(parse(html).text)


def assert_inert(html: str) -> None:
    """No markup from the data survived: no script or img tag, no event handler attribute."""
    tags = parse(html).tags
    assert "script" not in tags and "img" not in tags, tags
    assert "onerror=" not in html.replace("onerror=alert", "")  # only as escaped text
    assert "<script" not in html and "<img" not in html


# ---- messages -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("message", "label"),
    [
        (HumanMessage("hi"), "Human"),
        (AIMessage("hi"), "AI"),
        (AIMessageChunk("hi"), "AI"),
        (SystemMessage("hi"), "System"),
        (ToolMessage("hi", tool_call_id="call_1"), "Tool · call call_1"),
        (FunctionMessage("hi", name="lookup"), "Function · lookup"),
        (ChatMessage("hi", role="critic"), "critic"),
        (ChatMessageChunk("hi", role="judge"), "judge"),
        (ToolMessageChunk("hi", tool_call_id="c9"), "Tool · call c9"),
        (HumanMessage("hi", name="ada"), "Human · ada"),
    ],
)
def test_a_message_is_a_bubble_labelled_with_its_role(message: BaseMessage, label: str) -> None:
    html = message._repr_html_()  # type: ignore[operator]
    assert html == message_html(message)
    text = parse(html).text
    assert text[0] == label
    assert "hi" in text


def test_message_content_is_escaped() -> None:
    for message in (HumanMessage(EVIL), AIMessage(EVIL, name=EVIL), ChatMessage(EVIL, role=EVIL)):
        html = message_html(message)
        assert_inert(html)
        assert "&lt;script&gt;" in html
        assert EVIL in "".join(parse(html).text)  # shown as text, verbatim


def test_list_content_shows_text_and_names_other_blocks() -> None:
    message = HumanMessage(
        ["look:", {"type": "text", "text": "a cat"}, {"type": "image_url", "image_url": "x"}]
    )
    text = "".join(parse(message_html(message)).text)
    assert "look:" in text and "a cat" in text and "[image_url]" in text


def test_ai_bubble_shows_tool_calls_usage_and_finish_reason() -> None:
    message = AIMessage(
        "",
        tool_calls=[{"name": "search", "args": {"q": EVIL}, "id": "c1"}],
        response_metadata={"finish_reason": "tool_calls"},
        usage_metadata={"input_tokens": 12, "output_tokens": 5, "total_tokens": 17},
    )
    html = message_html(message)
    assert_inert(html)
    text = "".join(parse(html).text)
    assert 'search({"q": "<script>' in text
    assert "finish: tool_calls" in text and "12 in · 5 out" in text


def test_invalid_tool_calls_are_listed() -> None:
    message = AIMessage(
        "", invalid_tool_calls=[{"name": "f", "args": "{oops", "id": "c", "error": "bad json"}]
    )
    assert "f: invalid call (bad json)" in "".join(parse(message_html(message)).text)


# ---- conversations --------------------------------------------------------------------------
def test_a_chat_prompt_value_shows_the_conversation_in_order() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Be brief."), ("placeholder", "{history}"), ("human", "{q}")]
    )
    value = prompt.invoke(
        {"history": [HumanMessage("1+1?"), AIMessage("2")], "q": "and 2+2?"}
    )
    assert isinstance(value, ChatPromptValue)
    html = value._repr_html_()
    assert html == conversation_html(value.messages)
    text = parse(html).text
    labels = [t for t in text if t in ("System", "Human", "AI")]
    assert labels == ["System", "Human", "AI", "Human"]
    assert [t for t in text if t in ("Be brief.", "1+1?", "2", "and 2+2?")] == [
        "Be brief.", "1+1?", "2", "and 2+2?"
    ]
    # human on the right, AI on the left, system centred
    assert html.index("align-self:center") < html.index("align-self:flex-end")
    assert "align-self:flex-start" in html


def test_conversation_content_is_escaped_and_empty_is_said() -> None:
    assert_inert(ChatPromptValue([HumanMessage(EVIL), AIMessage(EVIL)])._repr_html_())
    assert "(no messages)" in conversation_html([])


# ---- LLMResult ------------------------------------------------------------------------------
def _gen(text: str, finish: str, tokens: tuple[int, int]) -> ChatGeneration:
    usage = {"input_tokens": tokens[0], "output_tokens": tokens[1],
             "total_tokens": sum(tokens)}
    return ChatGeneration(
        message=AIMessage(text, usage_metadata=usage), generation_info={"finish_reason": finish}
    )


class _Table(HTMLParser):
    """The body rows of a table, as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self.in_body = True
        elif self.in_body and tag == "tr":
            self.rows.append([])
        elif self.in_body and tag == "td":
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self.in_body = False

    def handle_data(self, data: str) -> None:
        if self.in_body and self.rows and self.rows[-1]:
            self.rows[-1][-1] += data


def _rows(html: str) -> list[list[str]]:
    table = _Table()
    table.feed(html)
    return table.rows


def test_llm_result_is_a_table_with_finish_reasons_and_usage() -> None:
    result = LLMResult(
        generations=[[_gen("J'adore programmer.", "stop", (20, 6))],
                     [_gen("Bonjour", "length", (18, 48))]],
        llm_output={"token_usage": {"prompt_tokens": 38, "completion_tokens": 54,
                                    "total_tokens": 92}, "model_name": "smol"},
    )
    html = result._repr_html_()
    assert html == llm_result_html(result)
    tags = parse(html)
    assert "table" in tags.tags and tags.tags.count("tr") == 3  # header + 2 rows
    text = "".join(tags.text)
    assert "LLMResult · 2 prompts" in text
    assert "prompt_tokens 38 · completion_tokens 54 · total_tokens 92" in text
    assert "model_name: smol" in text
    assert _rows(html) == [
        ["0", "J'adore programmer.", "stop", "20 / 6"],
        ["1", "Bonjour", "length", "18 / 48"],
    ]


def test_llm_result_with_several_candidates_numbers_them() -> None:
    result = LLMResult(generations=[[_gen("a", "stop", (1, 1)), _gen("b", "stop", (1, 1))]])
    assert "candidate" in html_text(llm_result_html(result))
    assert [r[:3] for r in _rows(llm_result_html(result))] == [["0", "0", "a"], ["0", "1", "b"]]


def test_llm_result_escapes_text_metadata_and_usage_keys() -> None:
    result = LLMResult(
        generations=[[ChatGeneration(message=AIMessage(EVIL),
                                     generation_info={"finish_reason": EVIL})]],
        llm_output={"token_usage": {EVIL: 1}, EVIL: EVIL},
    )
    html = llm_result_html(result)
    assert_inert(html)
    assert EVIL in html_text(html)


def test_finish_reason_falls_back_to_the_message_metadata() -> None:
    message = AIMessage("x", response_metadata={"finish_reason": "length"})
    result = LLMResult(generations=[[ChatGeneration(message=message)]])
    assert _rows(llm_result_html(result)) == [["0", "x", "length", ""]]


def test_generate_result_from_a_model_displays() -> None:
    # the quickstart's `chat.generate([...])`
    result = FakeListChatModel(responses=["un", "deux"]).generate([["one"], ["two"]])
    text = html_text(result._repr_html_())
    assert "un" in text and "deux" in text and "token usage:" in text


async def test_async_generate_result_displays_the_same() -> None:
    result = await FakeListChatModel(responses=["un"]).agenerate([["one"]])
    assert _rows(result._repr_html_())[0][:3] == ["0", "un", "stop"]


# ---- wiring ---------------------------------------------------------------------------------
def test_ipython_picks_the_html_repr() -> None:
    formatters = pytest.importorskip("IPython.core.formatters")
    fmt = formatters.DisplayFormatter()
    data, _ = fmt.format(HumanMessage("hi <b>"))
    assert "&lt;b&gt;" in data["text/html"]
    assert data["text/plain"] == "HumanMessage(content='hi <b>')"
    data, _ = fmt.format(LLMResult(generations=[[_gen("x", "stop", (1, 1))]]))
    assert data["text/plain"].startswith("LLMResult(") and "<table" in data["text/html"]


def test_the_values_layer_does_not_import_the_notebook_layer() -> None:
    code = (
        "import sys, chainkit.messages, chainkit.prompts.values, chainkit.models.outputs;"
        "print('chainkit.notebook' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "False"
