"""What a chat model call produces: generations, chat results and the batch-level `LLMResult`.

These are LangChain's result shapes (same names, fields and ``type`` tags), as pydantic values:

- `Generation` / `GenerationChunk`: one candidate text.
- `ChatGeneration` / `ChatGenerationChunk`: one candidate message; ``text`` is derived from it.
- `ChatResult`: what a provider's ``_generate`` returns for one prompt.
- `LLMResult`: what ``generate`` returns for many prompts, with the combined ``llm_output``
  (token usage, model name) and one `RunInfo` per prompt.

Reprs show only fields that differ from their defaults and never the ``type`` tag, so a result
prints like the chat-model quickstart:
``LLMResult(generations=[[ChatGeneration(text='hi', generation_info={'finish_reason': 'stop'},
message=AIMessage(content='hi'))]], llm_output={...}, run=[RunInfo(run_id=UUID('...'))])``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from copy import deepcopy
from typing import Annotated, Any, Literal, Union
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, TypeAdapter, field_validator

from chainkit.messages import AnyMessage, BaseMessage, BaseMessageChunk, merge_dicts

__all__ = [
    "AnyChatGeneration",
    "ChatGeneration",
    "ChatGenerationChunk",
    "ChatResult",
    "Generation",
    "GenerationChunk",
    "LLMResult",
    "RunInfo",
]


class _Result(BaseModel):
    """Shared repr: non-default fields only, never the ``type`` tag."""

    # Build each class's schema on first use, not at import.
    model_config = ConfigDict(defer_build=True)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        fields = type(self).model_fields
        for name, value in self.__dict__.items():
            field = fields.get(name)
            if name == "type" or field is None or not field.repr:
                continue
            if field.is_required() or value != field.get_default(call_default_factory=True):
                yield name, value


class Generation(_Result):
    """One candidate output of a text model.

    Example:
        >>> Generation(text="hello", generation_info={"finish_reason": "stop"})
        Generation(text='hello', generation_info={'finish_reason': 'stop'})
    """

    text: str
    """The generated text."""

    generation_info: Union[dict[str, Any], None] = None
    """Provider details for this candidate: ``finish_reason``, ``logprobs`` and the like."""

    type: Literal["Generation"] = "Generation"
    """The type tag, used when results are serialised."""


class GenerationChunk(Generation):
    """A streamed piece of a `Generation`; ``+`` joins pieces.

    Example:
        >>> GenerationChunk(text="Hel") + GenerationChunk(text="lo")
        GenerationChunk(text='Hello')
    """

    type: Literal["GenerationChunk"] = "GenerationChunk"  # type: ignore[assignment]
    """The type tag, used when results are serialised."""

    def __add__(self, other: GenerationChunk) -> GenerationChunk:
        if not isinstance(other, GenerationChunk):
            return NotImplemented
        return GenerationChunk(
            text=self.text + other.text,
            generation_info=_merge_info(self.generation_info, other.generation_info),
        )


class ChatGeneration(Generation):
    """One candidate output of a chat model: a message, plus its ``text`` for convenience.

    ``text`` is always derived from ``message`` (its text content); a ``text`` passed in is
    ignored, as in LangChain.

    Example:
        >>> from chainkit.messages import AIMessage
        >>> ChatGeneration(message=AIMessage("hi"), generation_info={"finish_reason": "stop"})
        ChatGeneration(text='hi', generation_info={'finish_reason': 'stop'}, message=AIMessage(content='hi'))
    """  # noqa: E501

    text: str = ""
    """The message's text content (derived; do not set)."""

    message: SerializeAsAny[BaseMessage]
    """The generated message."""

    type: Literal["ChatGeneration"] = "ChatGeneration"  # type: ignore[assignment]
    """The type tag, used when results are serialised."""

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        # Derived here rather than in a model validator: one attribute store, no extra pass.
        self.__dict__["text"] = self.message.text

    @field_validator("message", mode="before")
    @classmethod
    def _message_from_dict(cls, value: Any) -> Any:
        # A dumped result reads back with each message's own class, picked by its type tag.
        if isinstance(value, dict):
            return _any_message().validate_python(value)
        return value


class ChatGenerationChunk(ChatGeneration):
    """A streamed piece of a `ChatGeneration`; ``+`` merges messages and ``generation_info``.

    Example:
        >>> from chainkit.messages import AIMessageChunk
        >>> a = ChatGenerationChunk(message=AIMessageChunk("Hel"))
        >>> (a + ChatGenerationChunk(message=AIMessageChunk("lo"),
        ...                          generation_info={"finish_reason": "stop"})).text
        'Hello'
    """

    message: SerializeAsAny[BaseMessageChunk]
    """The streamed message piece."""

    type: Literal["ChatGenerationChunk"] = "ChatGenerationChunk"  # type: ignore[assignment]
    """The type tag, used when results are serialised."""

    def __add__(
        self, other: ChatGenerationChunk | list[ChatGenerationChunk]
    ) -> ChatGenerationChunk:
        others = [other] if isinstance(other, ChatGenerationChunk) else other
        if not isinstance(others, list) or not all(
            isinstance(o, ChatGenerationChunk) for o in others
        ):
            return NotImplemented
        info = self.generation_info
        for o in others:
            info = _merge_info(info, o.generation_info)
        return ChatGenerationChunk(
            message=self.message + [o.message for o in others], generation_info=info
        )


@functools.cache
def _any_message() -> TypeAdapter[BaseMessage]:
    # Only reading dumped results back needs it: built on first use (~20 ms), not at import.
    return TypeAdapter(AnyMessage)


def _merge_info(
    left: dict[str, Any] | None, right: dict[str, Any] | None
) -> dict[str, Any] | None:
    if left is None or right is None:
        return left if right is None else right
    return merge_dicts(left, right)


AnyChatGeneration = Annotated[
    Union[ChatGeneration, ChatGenerationChunk], Field(discriminator="type")
]
"""A chat generation or chunk, told apart by its ``type`` tag when read back from dicts.

Every member has ``.message``, so ``result.generations[0][0].message`` type-checks."""


class ChatResult(_Result):
    """What a chat model provider returns for one prompt (``BaseChatModel._generate``).

    Example:
        >>> from chainkit.messages import AIMessage
        >>> ChatResult(generations=[ChatGeneration(message=AIMessage("hi"))],
        ...            llm_output={"model_name": "fake"})
        ChatResult(generations=[ChatGeneration(text='hi', message=AIMessage(content='hi'))], llm_output={'model_name': 'fake'})
    """  # noqa: E501

    generations: list[ChatGeneration]
    """The candidates (usually one)."""

    llm_output: Union[dict[str, Any], None] = None
    """Provider output for the whole call: ``token_usage``, ``model_name``, ..."""


class RunInfo(_Result):
    """Identifies the run that produced one prompt's generations.

    Example:
        >>> RunInfo(run_id=UUID("077917a9-026c-47c4-b308-77b37c3a3bfa"))
        RunInfo(run_id=UUID('077917a9-026c-47c4-b308-77b37c3a3bfa'))
    """

    run_id: UUID
    """The run id (the traced run's id when the call was observed)."""


class LLMResult(_Result):
    """The result of ``generate``: one list of candidates per prompt, plus call-level output.

    Equality compares ``generations`` and ``llm_output`` and ignores ``run``.

    Example:
        >>> from chainkit.messages import AIMessage
        >>> result = LLMResult(generations=[[ChatGeneration(message=AIMessage("a"))],
        ...                                 [ChatGeneration(message=AIMessage("b"))]],
        ...                    llm_output={"token_usage": {"total_tokens": 3}})
        >>> [r.generations[0][0].text for r in result.flatten()]
        ['a', 'b']
    """

    generations: list[list[AnyChatGeneration]]
    """For each prompt, its candidate generations."""

    llm_output: Union[dict[str, Any], None] = None
    """Provider output combined over all prompts (e.g. summed ``token_usage``, ``model_name``)."""

    run: Union[list[RunInfo], None] = None
    """One `RunInfo` per prompt."""

    type: Literal["LLMResult"] = "LLMResult"
    """The type tag, used when results are serialised."""

    def flatten(self) -> list[LLMResult]:
        """Split into one `LLMResult` per prompt.

        Token usage is kept only on the first, so summing the parts does not count it twice.
        """
        results: list[LLMResult] = []
        for i, candidates in enumerate(self.generations):
            llm_output = self.llm_output
            if i > 0 and llm_output is not None:
                llm_output = deepcopy(llm_output)
                llm_output["token_usage"] = {}
            results.append(LLMResult(generations=[candidates], llm_output=llm_output))
        return results

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LLMResult):
            return NotImplemented
        return self.generations == other.generations and self.llm_output == other.llm_output

    __hash__ = None  # type: ignore[assignment]

    def _repr_html_(self) -> str:
        """Notebook display: a table of generations, finish reasons and token usage."""
        from chainkit.notebook.display import llm_result_html  # the notebook layer loads on use

        return llm_result_html(self)
