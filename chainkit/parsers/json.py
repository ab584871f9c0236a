"""`JsonOutputParser`: a JSON object or array out of a model's answer, whole or streamed.

Models wrap JSON in prose and Markdown fences. The parser reads the document that starts at
the first ``{`` or ``[`` and ignores text around it (fences included); when that fails and the
answer has a fenced block, the block is tried too. A bare JSON scalar (``42``, ``"yes"``) is
accepted when the answer holds no ``{`` or ``[`` at all.

Streaming yields the whole value parsed so far each time it changes, then ends with exactly
what ``invoke`` would return for the full text, or raises what ``invoke`` would raise: a stream
cut off mid-document ends with an `OutputParserException` after its partial values (LangChain
silently stops instead), and a piece in which the text stops being JSON yields nothing new.
Successive values share their finished parts (treat them as read-only), and a large document
yields a value every few pieces rather than on every change, so streaming stays ``O(N)`` (see
`chainkit.parsers.partial_json`). With ``diff=True`` every change yields JSON-patch operations,
computed from the part being written: ``O(N)`` in total too
(see `chainkit.parsers._json_patch`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from chainkit.models.outputs import Generation
from chainkit.parsers._json_patch import PatchStream, json_patch
from chainkit.parsers.base import BaseTransformOutputParser, StreamDecoder
from chainkit.parsers.exceptions import OutputParserException, position, preview
from chainkit.parsers.partial_json import MAX_DEPTH, NOTHING, PartialJsonDecoder

__all__ = ["JsonOutputParser", "json_patch", "loads_json_output"]

JSON_FORMAT_INSTRUCTIONS = """STRICT OUTPUT FORMAT:
- Return only the JSON value that conforms to the schema. Do not include any additional text, explanations, headings, or separators.
- Do not wrap the JSON in Markdown or code fences (no ``` or ```json).
- Do not prepend or append any text (e.g., do not write "Here is the JSON:").
- The response must be a single top-level JSON value exactly as required by the schema (object/array/etc.), with no trailing commas or comments.

The output should be formatted as a JSON instance that conforms to the JSON schema below.

As an example, for the schema {{"properties": {{"foo": {{"title": "Foo", "description": "a list of strings", "type": "array", "items": {{"type": "string"}}}}}}, "required": ["foo"]}} the object {{"foo": ["bar", "baz"]}} is a well-formatted instance of the schema. The object {{"properties": {{"foo": ["bar", "baz"]}}}} is not well-formatted.

Here is the output schema (shown in a code block for readability only — do not include any backticks or Markdown in your output):
```
{schema}
```"""  # noqa: E501  (LangChain's wording, so prompts port unchanged)

_START = re.compile(r"[{\[]")
_FENCE = re.compile(r"```[^\n`]*\n?(.*?)(?:```|\Z)", re.S)
_DEPTH_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.S)
_INCOMPLETE = "the JSON ends before it is complete (was the output cut off?)"


class _Constant(Exception):
    pass


def _refuse_constant(name: str) -> Any:
    raise _Constant(name)


_DECODER = json.JSONDecoder(strict=False, parse_constant=_refuse_constant)


class _Bad(Exception):
    def __init__(self, reason: str, pos: int) -> None:
        self.reason, self.pos = reason, pos


def loads_json_output(text: str) -> Any:
    """The JSON value in a model's answer (see the module docstring for where it is found).

    Raises:
        OutputParserException: No valid JSON document was found; the message says what was
            expected and shows where the text went wrong.

    Example:
        >>> loads_json_output('Sure! ```json\\n{"a": [1, 2]}\\n```')
        {'a': [1, 2]}
    """
    start = _START.search(text)
    if start is None:
        return _scalar(text)
    try:
        return _decode_at(text, start.start())
    except _Bad as bad:
        value = _from_fence(text, start.start())
        if value is not NOTHING:
            return value
        raise _error(text, bad.reason, bad.pos) from None


def _decode_at(text: str, start: int) -> Any:
    if text.count("{", start) + text.count("[", start) > MAX_DEPTH:
        _check_depth(text, start)
    try:
        return _DECODER.raw_decode(text, start)[0]
    except json.JSONDecodeError as exc:
        end = len(text.rstrip())
        if exc.pos >= end or exc.msg.startswith("Unterminated"):
            raise _Bad(_INCOMPLETE, end) from None
        raise _Bad(exc.msg[:1].lower() + exc.msg[1:], exc.pos) from None
    except _Constant as exc:
        name = exc.args[0]
        pos = text.find(name, start)
        raise _Bad(f"{name} is not valid JSON (use null or a number)", pos) from None
    except RecursionError:
        raise _Bad(f"nesting deeper than {MAX_DEPTH} levels", start) from None
    except ValueError as exc:  # an integer too long for int()
        reason = str(exc).split(";")[0]
        raise _Bad(reason[:1].lower() + reason[1:], start) from None


def _check_depth(text: str, start: int) -> None:
    """Refuse deep nesting before the C decoder recurses into it (only for large documents)."""
    depth = 0
    for m in _DEPTH_TOKENS.finditer(text, start):
        token = m.group()
        if token == "{" or token == "[":
            depth += 1
            if depth > MAX_DEPTH:
                raise _Bad(f"nesting deeper than {MAX_DEPTH} levels", m.start())
        elif token == "}" or token == "]":
            depth -= 1
            if depth <= 0:
                return


def _from_fence(text: str, failed_at: int) -> Any:
    """The document in the first fenced block, when it starts elsewhere than ``failed_at``."""
    fence = _FENCE.search(text)
    if fence is None:
        return NOTHING
    start = _START.search(text, fence.start(1), fence.end(1))
    if start is None or start.start() == failed_at:
        return NOTHING
    try:
        return _decode_at(text[: fence.end(1)], start.start())
    except _Bad:
        return NOTHING


def _scalar(text: str) -> Any:
    fence = _FENCE.search(text)
    body = (fence.group(1) if fence else text).strip()
    try:
        return _DECODER.decode(body)
    except (ValueError, _Constant):
        pass
    first = len(text) - len(text.lstrip())
    raise _error(text, "expected a JSON object or array", first if first < len(text) else 0)


def _error(text: str, reason: str, pos: int) -> OutputParserException:
    return OutputParserException(
        f"Invalid JSON output: {reason}; got {preview(text, pos)} (error at {position(text, pos)})",
        observation=reason,
        llm_output=text,
    )


def _partial_or_none(text: str) -> Any:
    """LangChain's ``partial=True`` parse: the value so far, or ``None``."""
    decoder = PartialJsonDecoder(find_start=True, previews=False)
    decoder.feed(text)
    value = decoder.value()
    return None if value is NOTHING or decoder.failed else value


class JsonStreamDecoder(StreamDecoder[Any]):
    """Partial values while the document streams in; the ``invoke`` result at the end.

    Args:
        diff: Yield JSON-patch operations against the previous value instead of values.
        previews: Yield partial values at all (off: only the final value).
    """

    __slots__ = ("_diff", "_last", "_parts", "_patches", "_previews", "_scanner", "result")

    def __init__(self, *, diff: bool = False, previews: bool = True) -> None:
        # Patches come from the decoder's state, not from comparing snapshots.
        self._scanner = PartialJsonDecoder(find_start=True, previews=previews and not diff)
        self._patches = PatchStream() if diff and previews else None
        self._diff = diff
        self._previews = previews
        self._parts: list[str] = []
        self._last: Any = NOTHING
        #: The complete document, once known (`NOTHING` before).
        self.result: Any = NOTHING

    @property
    def done(self) -> bool:
        """The document is complete (text after it is ignored)."""
        return self._scanner.done

    @property
    def text(self) -> str:
        """All text fed so far."""
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def feed(self, text: str) -> list[Any]:
        self._parts.append(text)
        scanner = self._scanner
        out = scanner.feed(text)
        if scanner.done and self.result is NOTHING:
            self.result = scanner.value()
            if not self._previews:
                return self._emit(self.result)
        if self._patches is not None:
            ops = self._patches.update(scanner)
            return [ops] if ops else []
        if out:
            self._last = out[0]
        return out

    def flush(self) -> list[Any]:
        if self._scanner.done:
            return []
        # Not a complete document: prose with a bracket in it, a fenced document after a
        # bracket, a bare scalar, or bad JSON. The full parse decides, or raises.
        value = loads_json_output(self.text)
        self.result = value
        if self._patches is not None:
            self._last = self._patches.shown(self._scanner)
        if value == self._last and type(value) is type(self._last):
            return []
        return self._emit(value)

    def _emit(self, value: Any) -> list[Any]:
        if self._diff:
            out = json_patch(None if self._last is NOTHING else self._last, value)
        else:
            out = value
        self._last = value
        return [out]


class JsonOutputParser(BaseTransformOutputParser[Any]):
    """Parse a model's answer as JSON; stream it as successive partial values.

    Args:
        pydantic_object: A pydantic model whose JSON schema goes into
            `get_format_instructions` (the output itself is not validated; use
            `PydanticOutputParser` for that).
        diff: When streaming, yield JSON-patch operations (``[{'op': 'add', ...}]``) from
            the previous value instead of whole values.

    Example:
        >>> parser = JsonOutputParser()
        >>> parser.invoke('Here you go:\\n```json\\n{"name": "Ada", "langs": ["en"]}\\n```')
        {'name': 'Ada', 'langs': ['en']}
        >>> list(parser.transform(iter(['{"name": "A', 'da"}'])))
        [{'name': 'A'}, {'name': 'Ada'}]
    """

    _parse_result_delegates = True

    def __init__(
        self, *, pydantic_object: type[BaseModel] | None = None, diff: bool = False
    ) -> None:
        if pydantic_object is not None and not (
            isinstance(pydantic_object, type) and issubclass(pydantic_object, BaseModel)
        ):
            raise TypeError(
                f"pydantic_object must be a pydantic BaseModel subclass (or None), "
                f"got {pydantic_object!r:.80}"
            )
        self.pydantic_object = pydantic_object
        self.diff = diff
        self._schema_text: str | None = None

    def __repr__(self) -> str:
        args = []
        if self.pydantic_object is not None:
            args.append(f"pydantic_object={self.pydantic_object.__name__}")
        if self.diff:
            args.append("diff=True")
        return f"{type(self).__name__}({', '.join(args)})"

    def parse(self, text: str) -> Any:
        """Parse the JSON document in ``text``.

        Raises:
            OutputParserException: ``text`` holds no valid JSON document.
        """
        return loads_json_output(text)

    def parse_result(self, result: Sequence[Generation], *, partial: bool = False) -> Any:
        """Parse the first generation; with ``partial=True`` return the value so far or None."""
        if partial:
            return _partial_or_none(result[0].text)
        return self.parse(result[0].text)

    def get_format_instructions(self) -> str:
        """``"Return a JSON object."``, or LangChain's instructions with the model's schema."""
        if self.pydantic_object is None:
            return "Return a JSON object."
        return JSON_FORMAT_INSTRUCTIONS.format(schema=self._schema())

    def _schema(self) -> str:
        if self._schema_text is None:
            assert self.pydantic_object is not None
            schema = self.pydantic_object.model_json_schema()
            schema.pop("title", None)
            schema.pop("type", None)
            self._schema_text = json.dumps(schema, ensure_ascii=False)
        return self._schema_text

    def _decoder(self) -> StreamDecoder[Any]:
        return JsonStreamDecoder(diff=self.diff)

    @property
    def _type(self) -> str:
        return "simple_json_output_parser"
