"""`BaseOutputParser` and `BaseTransformOutputParser`: the two parser base classes.

A parser is a cheap, pure step (``run_type="parser"``, ``inline=True``): ``invoke`` and
``ainvoke`` both run ``parse`` inline. It accepts a string or a message (whose text it parses).

Streaming parsers supply a *push decoder* (see `StreamDecoder`): ``feed(text)`` takes the next
piece of text and returns the outputs it completes, ``flush()`` returns the rest at the end of
the stream. The two stream loops below (sync and async) are the only ones; every streaming parser
reuses them with its own decoder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, Union

from chainkit.messages import BaseMessage
from chainkit.models.outputs import ChatGeneration, Generation
from chainkit.runnables.base import Runnable
from chainkit.runnables.config import RunnableConfig

if TYPE_CHECKING:
    from chainkit.messages import PromptValueLike

__all__ = ["BaseOutputParser", "BaseTransformOutputParser", "StreamDecoder"]

T = TypeVar("T")


class StreamDecoder(Protocol[T]):
    """Turns a stream of text pieces into parser outputs, one piece at a time.

    A decoder keeps whatever state it needs between pieces, so feeding ``N`` characters costs
    ``O(N)`` in total however the text is split.
    """

    def feed(self, text: str) -> list[T]:
        """Take the next piece of text; return the outputs it completes (often none)."""
        ...

    def flush(self) -> list[T]:
        """The stream has ended: return the remaining outputs (or raise for bad output)."""
        ...


# Message classes seen so far: a set lookup is cheaper than pydantic's isinstance check.
_message_types: set[type] = set()


def text_of(value: object) -> str:
    """The text a parser reads from its input: a string itself, or a message's text.

    Raises:
        TypeError: ``value`` is neither a string nor a message.
    """
    if type(value) in _message_types:
        return value.text  # type: ignore[attr-defined, no-any-return]
    if isinstance(value, str):
        return value
    if isinstance(value, BaseMessage):
        _message_types.add(type(value))
        return value.text
    raise TypeError(
        f"an output parser takes a str or a message (AIMessage, AIMessageChunk, ...), "
        f"got {type(value).__name__}: {value!r:.80}"
    )


def _generation(value: object) -> Generation:
    if isinstance(value, BaseMessage):
        return ChatGeneration(message=value)
    return Generation(text=text_of(value))


class BaseOutputParser(Runnable[Union[str, BaseMessage], T]):
    """Turns model output (a string or a message) into a value; subclasses implement `parse`.

    Override `parse_result` instead when the parser needs the whole `ChatGeneration` (for
    example a message's tool calls); ``invoke`` then passes it one.

    Example:
        >>> from chainkit.parsers import BaseOutputParser, OutputParserException
        >>> class YesNo(BaseOutputParser[bool]):
        ...     def parse(self, text: str) -> bool:
        ...         answer = text.strip().lower()
        ...         if answer not in ("yes", "no"):
        ...             raise OutputParserException(
        ...                 f"expected 'yes' or 'no', got {text!r}", llm_output=text)
        ...         return answer == "yes"
        >>> YesNo().invoke(" Yes")
        True
    """

    run_type: ClassVar[str] = "parser"
    inline: ClassVar[bool] = True
    #: Set once per class: whether `invoke` must build a `Generation` for `parse_result`
    #: (a subclass overrides it), or may call `parse` directly.
    _parses_results: ClassVar[bool] = False
    #: A class sets this when its own `parse_result` only adds ``partial=True`` support.
    _parse_result_delegates: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "parse_result" in cls.__dict__:
            cls._parses_results = not cls.__dict__.get("_parse_result_delegates", False)

    def __init__(self, **fields: Any) -> None:
        """Set fields a subclass declares, as LangChain's (pydantic) parsers accept them.

        Raises:
            TypeError: A keyword is not a field of the class; the message lists the fields.
        """
        if fields:
            allowed = _declared_fields(type(self))
            for key, value in fields.items():
                if key not in allowed:
                    raise TypeError(
                        f"{type(self).__name__} got an unexpected keyword argument {key!r}; "
                        f"its fields are: {', '.join(sorted(allowed)) or '(none)'}"
                    )
                setattr(self, key, value)

    # ---- what a subclass implements ----------------------------------------------------
    def parse(self, text: str) -> T:
        """Parse one model output string.

        Raises:
            OutputParserException: ``text`` does not have the expected shape.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement parse()")

    def parse_result(self, result: Sequence[Generation], *, partial: bool = False) -> T:
        """Parse the first (most likely) of a model's candidate generations.

        Args:
            result: Candidate generations for one prompt.
            partial: The text may be an unfinished prefix (parsers that support partial
                output return their best value so far, or ``None``).
        """
        return self.parse(result[0].text)

    async def aparse_result(self, result: Sequence[Generation], *, partial: bool = False) -> T:
        """Async `parse_result`; parsing is pure CPU work, so it runs inline."""
        return self.parse_result(result, partial=partial)

    async def aparse(self, text: str) -> T:
        """Async `parse`; parsing is pure CPU work, so it runs inline."""
        return self.parse(text)

    def parse_with_prompt(self, completion: str, prompt: PromptValueLike) -> Any:
        """Parse ``completion``; ``prompt`` is there for parsers that retry or repair."""
        return self.parse(completion)

    def get_format_instructions(self) -> str:
        """Instructions for the prompt, telling the model how to format its answer."""
        raise NotImplementedError(f"{type(self).__name__} has no format instructions")

    @property
    def _type(self) -> str:
        raise NotImplementedError(f"{type(self).__name__} does not define _type")

    # ---- Runnable hooks ------------------------------------------------------------------
    def _call(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> T:
        if self._parses_results:
            return self.parse_result([_generation(input)])
        return self.parse(input if type(input) is str else text_of(input))

    @property
    def InputType(self) -> Any:
        return Union[str, BaseMessage]


def _declared_fields(cls: type) -> set[str]:
    """Public names annotated on ``cls`` and its bases below `BaseOutputParser`, plus ``name``."""
    fields = {"name"}
    for klass in cls.__mro__:
        if klass is BaseOutputParser:
            break
        for key, annotation in vars(klass).get("__annotations__", {}).items():
            if not key.startswith("_") and "ClassVar" not in str(annotation):
                fields.add(key)
    return fields


class BaseTransformOutputParser(BaseOutputParser[T]):
    """A parser that consumes a stream of text or message chunks as they arrive.

    A subclass returns a fresh `StreamDecoder` from ``_decoder()``; the default one parses
    each chunk on its own with `parse` (LangChain's behaviour for this class).

    Example:
        >>> from chainkit.parsers import StrOutputParser
        >>> list(StrOutputParser().transform(iter(["Hel", "lo"])))
        ['Hel', 'lo']
    """

    def _decoder(self) -> StreamDecoder[T]:
        return _PerChunkDecoder(self)

    def _transform(
        self, chunks: Iterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> Iterator[T]:
        decoder = self._decoder()
        for chunk in chunks:
            yield from decoder.feed(chunk if type(chunk) is str else text_of(chunk))
        yield from decoder.flush()

    async def _atransform(
        self, chunks: AsyncIterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[T]:
        decoder = self._decoder()
        async for chunk in chunks:
            for out in decoder.feed(chunk if type(chunk) is str else text_of(chunk)):
                yield out
        for out in decoder.flush():
            yield out


class _PerChunkDecoder(StreamDecoder[T]):
    """Each chunk parsed on its own."""

    __slots__ = ("_parse",)

    def __init__(self, parser: BaseOutputParser[T]) -> None:
        self._parse = parser.parse

    def feed(self, text: str) -> list[T]:
        return [self._parse(text)]

    def flush(self) -> list[T]:
        return []
