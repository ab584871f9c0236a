"""Templates for list (multimodal) message content, e.g. text plus an image URL.

``("human", [{"type": "text", "text": "{question}"}, {"image_url": "{url}"}])`` becomes a
message whose content is a list of blocks. As in LangChain, every string inside a block is a
template: a bare string is a text block, ``{"image_url": "..."}`` an image block whose URL is
a template, any other dict is formatted value by value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chainkit.prompts.formatting import CompiledTemplate, PromptTemplateFormat
from chainkit.prompts.string import cached_template


class ContentBlockTemplate:
    """One block of list content; strings anywhere inside it are templates.

    Example:
        >>> block = ContentBlockTemplate({"image_url": "data:image/png;base64,{data}"})
        >>> block.render({"data": "AAAA"})
        {'type': 'image_url', 'image_url': {'url': 'data:image/png;base64,AAAA'}}
    """

    __slots__ = ("_node", "source", "variables")

    def __init__(
        self, block: str | Mapping[str, Any], template_format: PromptTemplateFormat = "f-string"
    ) -> None:
        self.source = block
        if isinstance(block, str):
            block = {"type": "text", "text": block}
        elif isinstance(block, Mapping):
            block = dict(block)
            if "image_url" in block and set(block) <= {"type", "image_url"}:
                url = block["image_url"]
                block = {
                    "type": "image_url",
                    "image_url": {"url": url} if isinstance(url, str) else url,
                }
        else:
            raise TypeError(
                f"a content block must be a str or a dict, got {type(block).__name__}: "
                f"{block!r:.80}"
            )
        found: set[str] = set()
        self._node = _compile(block, template_format, found)
        self.variables = tuple(sorted(found))

    def render(self, values: Mapping[str, Any]) -> Any:
        """The block with every template filled."""
        return _render(self._node, values)

    def __repr__(self) -> str:
        return f"ContentBlockTemplate({self.source!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ContentBlockTemplate):
            return NotImplemented
        return self.source == other.source

    def __hash__(self) -> int:
        return hash(repr(self.source))


class _Compiled:
    """A string inside a block that has variables (literal strings stay plain)."""

    __slots__ = ("template",)

    def __init__(self, template: CompiledTemplate) -> None:
        self.template = template


def _compile(value: Any, template_format: PromptTemplateFormat, found: set[str]) -> Any:
    if isinstance(value, str):
        compiled = cached_template(value, template_format)
        if not compiled.variables:
            return value
        found.update(compiled.variables)
        return _Compiled(compiled)
    if isinstance(value, Mapping):
        return {k: _compile(v, template_format, found) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_compile(v, template_format, found) for v in value]
    return value


def _render(node: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(node, _Compiled):
        return node.template.render(values)
    if isinstance(node, dict):
        return {k: _render(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_render(v, values) for v in node]
    return node


__all__ = ["ContentBlockTemplate"]
