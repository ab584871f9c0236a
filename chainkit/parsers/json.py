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
computed from the part being written: ``O(N)`` in total too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from itertools import islice
from typing import Any

from pydantic import BaseModel

from chainkit.models.outputs import Generation
from chainkit.parsers.base import BaseTransformOutputParser, StreamDecoder
from chainkit.parsers.exceptions import OutputParserException, position, preview
from chainkit.parsers.partial_json import MAX_DEPTH, NOTHING, Container, PartialJsonDecoder

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


def json_patch(prev: Any, new: Any) -> list[dict[str, Any]]:
    """RFC 6902 operations that turn ``prev`` into ``new`` (``prev=None``: replace the root).

    Values shared between ``prev`` and ``new`` (as successive stream snapshots share finished
    values) are skipped without being compared.

    Example:
        >>> json_patch({"a": "x"}, {"a": "xy", "b": [1]})
        [{'op': 'replace', 'path': '/a', 'value': 'xy'}, {'op': 'add', 'path': '/b', 'value': [1]}]
    """
    if prev is None:
        return [{"op": "replace", "path": "", "value": new}]
    ops: list[dict[str, Any]] = []
    _diff(prev, new, "", ops)
    return ops


def _diff(prev: Any, new: Any, path: str, ops: list[dict[str, Any]]) -> None:
    if prev is new:
        return
    if type(prev) is dict and type(new) is dict:
        for key in prev:
            if key not in new:
                ops.append({"op": "remove", "path": f"{path}/{_escape(key)}"})
        for key, value in new.items():
            sub = f"{path}/{_escape(key)}"
            if key in prev:
                _diff(prev[key], value, sub, ops)
            else:
                ops.append({"op": "add", "path": sub, "value": value})
    elif type(prev) is list and type(new) is list:
        common = min(len(prev), len(new))
        start = 0
        # Successive snapshots share their finished items: skip an equal prefix at C speed
        # (identity short-circuits each comparison) instead of visiting every item.
        if common > 1 and prev[: common - 1] == new[: common - 1]:
            start = common - 1
        for i in range(start, common):
            _diff(prev[i], new[i], f"{path}/{i}", ops)
        for i in range(common, len(new)):
            ops.append({"op": "add", "path": f"{path}/{i}", "value": new[i]})
        for i in range(len(prev) - 1, common - 1, -1):
            ops.append({"op": "remove", "path": f"{path}/{i}"})
    elif type(prev) is not type(new) or prev != new:
        ops.append({"op": "replace", "path": path, "value": new})


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


class _PatchStream:
    """JSON-patch operations from the value last shown to a `PartialJsonDecoder`'s value now.

    The document only grows while it streams: only the item last shown in each open container
    can have changed, and items after it are new. So the operations come from the path being
    written, without building the value or comparing it with the last one: ``O(changes)``.
    A piece that repeats a key (the last value wins, in the first one's place) is the
    exception: its value is built and compared, ``O(N)``.
    """

    __slots__ = ("_chain", "_done", "_keys", "_lens", "_replaced", "_scalar")

    def __init__(self) -> None:
        self._chain: list[Container] = []  # the containers that were open, outermost first
        self._lens: list[int] = []  # how many finished items each one held
        self._keys: list[str] = []  # per object, the key of the item being written
        self._scalar: Any = NOTHING  # the unfinished scalar shown in the innermost one
        # The decoder's replaced values already in the operations: (its list, how many).
        self._replaced: tuple[list[Any], int] = ([], 0)
        self._done = False

    def shown(self, decoder: PartialJsonDecoder) -> Any:
        """The last value the operations built (`NOTHING` before the first)."""
        if not self._chain:
            return NOTHING
        if self._done:
            return self._chain[0]
        # Containers only grew since, except for values replaced under a repeated key in
        # the last piece: put back the ones shown.
        replaced: list[tuple[dict[str, Any], str, Any]] = decoder.replaced
        if replaced is self._replaced[0]:
            replaced = replaced[self._replaced[1] :]
        child = self._scalar
        for depth in range(len(self._chain) - 1, -1, -1):
            container, n = self._chain[depth], self._lens[depth]
            if isinstance(container, list):
                items = container[:n]
                if child is not NOTHING:
                    items.append(child)
                child = items
                continue
            fields = dict(islice(container.items(), n))
            for obj, key, old in reversed(replaced):
                if obj is container and key in fields:
                    fields[key] = old
            if child is not NOTHING:
                fields[self._keys[depth]] = child
            child = fields
        return child

    def update(self, decoder: PartialJsonDecoder) -> list[dict[str, Any]]:
        """The operations for what changed since the last call (``[]``: nothing)."""
        if self._done or decoder.failed:
            return []
        if decoder.done:
            stack: list[Container] = []
            keys: list[str] = []
            pending: Any = NOTHING
        else:
            stack, keys, pending = decoder.frontier()
        ops: list[dict[str, Any]]
        if not self._chain:
            value = decoder.value()
            if value is NOTHING:
                return []
            ops = [{"op": "replace", "path": "", "value": value}]
            if decoder.done:
                self._chain = [value]
        elif not decoder.append_only and (
            decoder.replaced or _repeats_a_key(stack, keys, pending)
        ):
            ops = json_patch(self.shown(decoder), decoder.value())
        else:
            ops = []
            self._walk(0, "", stack, keys, pending, decoder, ops)
        if decoder.done:
            self._done = True
        else:
            self._chain = stack.copy()
            self._lens = [len(container) for container in stack]
            self._keys = keys.copy()
            self._scalar = pending
            self._replaced = (decoder.replaced, len(decoder.replaced))
        return ops

    def _walk(
        self, depth: int, path: str, stack: list[Container], keys: list[str], pending: Any,
        decoder: PartialJsonDecoder, ops: list[dict[str, Any]],
    ) -> None:
        container, n = self._chain[depth], self._lens[depth]
        innermost = depth == len(self._chain) - 1
        start = n
        if not innermost or self._scalar is not NOTHING:
            # The item after the n finished ones was shown unfinished: it may have changed.
            key = self._keys[depth]
            sub = f"{path}/{n}" if isinstance(container, list) else f"{path}/{_escape(key)}"
            finished = len(container) > n
            if not innermost:
                self._walk(depth + 1, sub, stack, keys, pending, decoder, ops)
            else:
                if not finished:
                    now = pending
                elif isinstance(container, list):
                    now = container[n]
                else:
                    now = container[key]
                if type(now) is not type(self._scalar) or now != self._scalar:
                    ops.append({"op": "replace", "path": sub, "value": now})
            if not finished:
                return  # still being written: nothing after it yet
            start = n + 1
        size = len(container)
        if isinstance(container, list):  # items finished since
            for i in range(start, size):
                ops.append({"op": "add", "path": f"{path}/{i}", "value": container[i]})
        elif size > start:
            for key in reversed(list(islice(reversed(container), size - start))):
                sub = f"{path}/{_escape(key)}"
                ops.append({"op": "add", "path": sub, "value": container[key]})
        if depth < len(stack) and stack[depth] is container:  # still open: a new item?
            child = decoder.open_value(depth + 1) if depth + 1 < len(stack) else pending
            if child is not NOTHING:
                slot = str(size) if isinstance(container, list) else _escape(keys[depth])
                ops.append({"op": "add", "path": f"{path}/{slot}", "value": child})


def _repeats_a_key(stack: list[Container], keys: list[str], pending: Any) -> bool:
    """An unfinished value is being written under a key its object already holds."""
    last = len(stack) - 1
    return any(
        isinstance(container, dict)
        and (depth < last or pending is not NOTHING)
        and keys[depth] in container
        for depth, container in enumerate(stack)
    )


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
        self._patches = _PatchStream() if diff and previews else None
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
