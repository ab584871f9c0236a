"""`PydanticOutputParser`: a model's JSON answer validated into a pydantic model.

Streaming follows LangChain's partial mode: each time the partial JSON changes *and* validates
as the model (required fields present, types right), the validated model is yielded. A
truncated string field validates too, so a partial model can look complete; the last model of
a stream is the full document, validated strictly (a validation error is raised then).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from chainkit.models.outputs import Generation
from chainkit.parsers.base import StreamDecoder
from chainkit.parsers.exceptions import OutputParserException, preview
from chainkit.parsers.json import JsonOutputParser, JsonStreamDecoder, _partial_or_none
from chainkit.parsers.partial_json import NOTHING

if TYPE_CHECKING:
    from chainkit.messages import BaseMessage
    from chainkit.runnables.config import RunnableConfig

__all__ = ["PydanticOutputParser"]

M = TypeVar("M", bound=BaseModel)

_PYDANTIC_FORMAT_INSTRUCTIONS = """The output should be formatted as a JSON instance that conforms to the JSON schema below.

As an example, for the schema {{"properties": {{"foo": {{"title": "Foo", "description": "a list of strings", "type": "array", "items": {{"type": "string"}}}}}}, "required": ["foo"]}}
the object {{"foo": ["bar", "baz"]}} is a well-formatted instance of the schema. The object {{"properties": {{"foo": ["bar", "baz"]}}}} is not well-formatted.

Here is the output schema:
```
{schema}
```"""  # noqa: E501  (LangChain's wording, so prompts port unchanged)


class PydanticOutputParser(JsonOutputParser, Generic[M]):
    """Parse a model's JSON answer and validate it as ``pydantic_object``.

    Args:
        pydantic_object: The pydantic model to validate into.

    Example:
        >>> from pydantic import BaseModel
        >>> class Joke(BaseModel):
        ...     setup: str
        ...     punchline: str
        >>> parser = PydanticOutputParser(pydantic_object=Joke)
        >>> parser.invoke('{"setup": "Why?", "punchline": "Because."}')
        Joke(setup='Why?', punchline='Because.')
    """

    pydantic_object: type[M]
    _parse_result_delegates = True

    def __init__(self, *, pydantic_object: type[M]) -> None:
        if pydantic_object is None:
            raise TypeError("PydanticOutputParser needs a pydantic_object (a BaseModel subclass)")
        super().__init__(pydantic_object=pydantic_object)

    if TYPE_CHECKING:  # typed results for callers; the implementations are inherited

        def invoke(
            self, input: str | BaseMessage, config: RunnableConfig | None = None, **kwargs: Any
        ) -> M: ...

        async def ainvoke(
            self, input: str | BaseMessage, config: RunnableConfig | None = None, **kwargs: Any
        ) -> M: ...

    def parse(self, text: str) -> M:
        """Parse the JSON document in ``text`` and validate it.

        Raises:
            OutputParserException: ``text`` holds no valid JSON document, or the document
                does not validate; the message names the failing fields.
        """
        return self._validate(super().parse(text), text)

    def parse_result(self, result: Sequence[Generation], *, partial: bool = False) -> M | None:
        """Parse the first generation; with ``partial=True`` return the model so far or None."""
        if not partial:
            return self.parse(result[0].text)
        value = _partial_or_none(result[0].text)
        if value is None:
            return None
        try:
            return self.pydantic_object.model_validate(value)
        except ValidationError:
            return None

    def _validate(self, value: Any, text: str) -> M:
        try:
            return self.pydantic_object.model_validate(value)
        except ValidationError as exc:
            raise self._validation_error(exc, value, text) from exc

    def _validation_error(
        self, exc: ValidationError, value: Any, text: str
    ) -> OutputParserException:
        problems = "; ".join(_describe(error) for error in exc.errors())
        name = self.pydantic_object.__name__
        count = exc.error_count()
        dumped = json.dumps(value, ensure_ascii=False)
        return OutputParserException(
            f"Failed to parse {name} from completion {preview(dumped)}. Got "
            f"{count} validation error{'s' if count != 1 else ''}: {problems}",
            observation=problems,
            llm_output=text,
        )

    def get_format_instructions(self) -> str:
        """LangChain's instructions, with the model's JSON schema (no top-level title/type)."""
        return _PYDANTIC_FORMAT_INSTRUCTIONS.format(schema=self._schema())

    def _decoder(self) -> StreamDecoder[M]:
        return _PydanticStreamDecoder(self)

    @property
    def _type(self) -> str:
        return "pydantic"

    @property
    def OutputType(self) -> type[M]:
        return self.pydantic_object


def _describe(error: Any) -> str:
    """``"items.0.price: Input should be a valid number (got 'cheap')"``."""
    where = ".".join(str(part) for part in error["loc"]) or "(root)"
    text = f"{where}: {error['msg']}"
    if error["type"] != "missing":
        text += f" (got {error['input']!r:.60})"
    return text


class _PydanticStreamDecoder(StreamDecoder[M]):
    """Partial JSON values that validate as the model; the full document strictly at the end."""

    __slots__ = ("_final", "_json", "_last", "_parser")

    def __init__(self, parser: PydanticOutputParser[M]) -> None:
        self._parser = parser
        self._json = JsonStreamDecoder()
        self._last: Any = NOTHING
        self._final = False

    def feed(self, text: str) -> list[M]:
        values = self._json.feed(text)
        if self._json.done:
            return self._finish()
        if not values:
            return []
        try:
            model = self._parser.pydantic_object.model_validate(values[-1])
        except ValidationError:
            return []
        return self._emit(model)

    def flush(self) -> list[M]:
        self._json.flush()  # raises OutputParserException for bad or truncated JSON
        return self._finish()

    def _finish(self) -> list[M]:
        if self._final:
            return []
        self._final = True
        model = self._parser._validate(self._json.result, self._json.text)
        return self._emit(model)

    def _emit(self, model: M) -> list[M]:
        if model == self._last:
            return []
        self._last = model
        return [model]
