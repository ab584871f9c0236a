"""HTML for notebook display: messages as role-labelled bubbles, `LLMResult` as a table.

The values layer (`BaseMessage`, `ChatPromptValue`, `LLMResult`) defines ``_repr_html_`` as a
one-line call into this module, imported inside the method, so the values never import the
notebook layer at module level and this module loads only when a notebook first shows one.

Every piece of text that comes from a message, a model or a user (content, names, roles, tool
arguments, metadata keys and values) is HTML-escaped: model output cannot inject markup or
script into the notebook. Styles are inline, with explicit text colours, so the bubbles read
the same in light and dark notebook themes and in exported HTML.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from chainkit.messages import AIMessage, BaseMessage, ChatMessage, ToolMessage
from chainkit.models.outputs import LLMResult

__all__ = ["conversation_html", "llm_result_html", "message_html"]

# role -> (label, background, border/label colour, alignment in the conversation)
_ROLES: dict[str, tuple[str, str, str, str]] = {
    "human": ("Human", "#eef4ff", "#1d4ed8", "flex-end"),
    "ai": ("AI", "#f0fdf4", "#047857", "flex-start"),
    "system": ("System", "#fff7ed", "#c2410c", "center"),
    "tool": ("Tool", "#fefce8", "#a16207", "flex-start"),
    "function": ("Function", "#fefce8", "#a16207", "flex-start"),
    "chat": ("Chat", "#f5f3ff", "#6d28d9", "flex-start"),
}
_OTHER_ROLE = ("Message", "#f9fafb", "#4b5563", "flex-start")

_FONT = "font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px"
_MUTED = "font-size:11px;color:#6b7280"
_CELL = "text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid #e5e7eb"


def _e(value: Any) -> str:
    """``value`` as escaped HTML text (quotes too, so it is safe inside attributes)."""
    return escape(value if isinstance(value, str) else str(value), quote=True)


def _role(message: BaseMessage) -> str:
    # Chunks are typed like "AIMessageChunk"; full messages like "ai".
    kind = message.type
    if kind.endswith("MessageChunk"):
        kind = kind[: -len("MessageChunk")].lower()
    return kind


def _content_text(message: BaseMessage) -> str:
    """The content as text; non-text blocks (images, audio, ...) appear as ``[type]``."""
    content = message.content
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        else:
            parts.append(f"[{block.get('type', 'block')}]")
    return "\n".join(parts)


def _label(message: BaseMessage) -> tuple[str, str, str, str]:
    label, background, colour, align = _ROLES.get(_role(message), _OTHER_ROLE)
    if isinstance(message, ChatMessage) and message.role:  # a free-form role names itself
        label = message.role
    extras = []
    if message.name:
        extras.append(message.name)
    if isinstance(message, ToolMessage) and message.tool_call_id:
        extras.append(f"call {message.tool_call_id}")
    text = " · ".join([label, *extras])
    return text, background, colour, align


def _tool_calls_html(message: BaseMessage) -> str:
    if not isinstance(message, AIMessage):
        return ""
    rows = [
        f"{_e(call.get('name', ''))}({_e(_json(call.get('args', {})))})"
        for call in message.tool_calls
    ]
    rows += [
        f"{_e(call.get('name') or '?')}: invalid call ({_e(call.get('error') or '')})"
        for call in message.invalid_tool_calls
    ]
    return "".join(
        f'<div style="margin-top:4px"><code style="color:#111827;background:#ffffff80;'
        f'padding:1px 4px;border-radius:4px">&#128295; {row}</code></div>'
        for row in rows
    )


def _json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


def _footer(message: BaseMessage) -> str:
    notes: list[str] = []
    finish = message.response_metadata.get("finish_reason")
    if finish:
        notes.append(f"finish: {finish}")
    usage = message.usage_metadata if isinstance(message, AIMessage) else None
    if usage:
        notes.append(
            f"tokens: {usage.get('input_tokens', 0)} in · {usage.get('output_tokens', 0)} out"
        )
    if not notes:
        return ""
    return f'<div style="{_MUTED};margin-top:4px">{_e(" · ".join(notes))}</div>'


def _bubble(message: BaseMessage) -> str:
    label, background, colour, align = _label(message)
    side = "right" if align == "flex-end" else "left"  # the accent faces the conversation
    text = _content_text(message)
    body = (
        f'<div style="white-space:pre-wrap;word-break:break-word">{_e(text)}</div>'
        if text or not isinstance(message, AIMessage) or not message.tool_calls
        else ""
    )
    return (
        f'<div style="align-self:{align};max-width:85%;background:{background};color:#111827;'
        f'border:1px solid {colour}40;border-{side}:3px solid {colour};border-radius:8px;'
        f'padding:6px 10px">'
        f'<div style="font-size:11px;font-weight:600;color:{colour};margin-bottom:2px">'
        f"{_e(label)}</div>{body}{_tool_calls_html(message)}{_footer(message)}</div>"
    )


def _column(bubbles: Iterable[str]) -> str:
    inner = "".join(bubbles)
    return (
        f'<div style="display:flex;flex-direction:column;gap:6px;max-width:760px;{_FONT}">'
        f"{inner}</div>"
    )


def message_html(message: BaseMessage) -> str:
    """One message as a role-labelled bubble.

    Args:
        message: Any message or message chunk.

    Example:
        >>> from chainkit.messages import HumanMessage
        >>> "&lt;b&gt;" in message_html(HumanMessage("<b>hi</b>"))
        True
    """
    return _column([_bubble(message)])


def conversation_html(messages: Sequence[BaseMessage]) -> str:
    """A conversation as bubbles: human on the right, AI on the left, system centred.

    Example:
        >>> from chainkit.messages import AIMessage, HumanMessage
        >>> html = conversation_html([HumanMessage("hi"), AIMessage("hello")])
        >>> html.count("border-radius:8px")
        2
    """
    if not messages:
        return f'<div style="{_FONT};{_MUTED}">(no messages)</div>'
    return _column(_bubble(m) for m in messages)


def _finish_reason(generation: Any) -> str:
    info = generation.generation_info or {}
    reason = info.get("finish_reason")
    message = getattr(generation, "message", None)
    if reason is None and message is not None:
        reason = message.response_metadata.get("finish_reason")
    return "" if reason is None else str(reason)


def _row_usage(generation: Any) -> str:
    usage = getattr(getattr(generation, "message", None), "usage_metadata", None)
    if not usage:
        return ""
    return f"{usage.get('input_tokens', 0)} / {usage.get('output_tokens', 0)}"


def _usage_line(llm_output: Mapping[str, Any] | None) -> str:
    if not llm_output:
        return ""
    notes: list[str] = []
    usage = llm_output.get("token_usage")
    if isinstance(usage, Mapping) and usage:
        notes.append("token usage: " + " · ".join(f"{k} {v}" for k, v in usage.items()))
    notes += [f"{k}: {v}" for k, v in llm_output.items() if k != "token_usage"]
    return "".join(f'<div style="{_MUTED};margin-top:2px">{_e(n)}</div>' for n in notes)


def llm_result_html(result: LLMResult) -> str:
    """An `LLMResult` as a table: one row per generation, with finish reasons and token usage.

    Example:
        >>> from chainkit.messages import AIMessage
        >>> from chainkit.models.outputs import ChatGeneration
        >>> result = LLMResult(generations=[[ChatGeneration(message=AIMessage("hi"))]],
        ...                    llm_output={"token_usage": {"total_tokens": 7}})
        >>> "total_tokens 7" in llm_result_html(result)
        True
    """
    several = any(len(candidates) > 1 for candidates in result.generations)
    heads = ["prompt", *(["candidate"] if several else []), "text", "finish reason",
             "tokens in / out"]
    rows: list[str] = []
    for p, candidates in enumerate(result.generations):
        for c, generation in enumerate(candidates):
            cells = [str(p), *([str(c)] if several else [])]
            text = f'<td style="{_CELL};white-space:pre-wrap;word-break:break-word">'
            text += f"{_e(generation.text)}</td>"
            rows.append(
                "<tr>"
                + "".join(f'<td style="{_CELL}">{_e(v)}</td>' for v in cells)
                + text
                + f'<td style="{_CELL}">{_e(_finish_reason(generation))}</td>'
                + f'<td style="{_CELL};white-space:nowrap">{_e(_row_usage(generation))}</td>'
                + "</tr>"
            )
    header = "".join(f'<th style="{_CELL};font-weight:600">{h}</th>' for h in heads)
    n = len(result.generations)
    title = f"LLMResult · {n} prompt{'s' if n != 1 else ''}"
    return (
        f'<div style="{_FONT};color:inherit;max-width:900px">'
        f'<div style="font-weight:600;margin-bottom:4px">{_e(title)}</div>'
        f'<table style="border-collapse:collapse;width:100%;font-size:inherit">'
        f"<thead><tr>{header}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{_usage_line(result.llm_output)}</div>"
    )
