"""Message templates: one chat message each, or a placeholder for a list of messages.

`SystemMessagePromptTemplate`, `HumanMessagePromptTemplate`, `AIMessagePromptTemplate` and
`ChatMessagePromptTemplate` (any role) each render one message from a string template, or
from a list of content blocks (text and images). `MessagesPlaceholder` inserts a list of
messages supplied at call time (chat history). They are the parts a `ChatPromptTemplate` is
made of, and can also be formatted on their own.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Union

from typing_extensions import Self

from chainkit.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    convert_to_messages,
    get_msg_title_repr,
)
from chainkit.prompts._content import ContentBlockTemplate
from chainkit.prompts.errors import PromptVariableError
from chainkit.prompts.formatting import PromptTemplateFormat
from chainkit.prompts.string import PromptTemplate, highlight

if TYPE_CHECKING:
    from chainkit.prompts.chat import ChatPromptTemplate

_MISSING: Any = object()


class BaseMessagePromptTemplate:
    """A part of a chat prompt that renders to zero or more messages.

    Subclasses implement `input_variables`, `_format_into` (append the messages for values
    a `ChatPromptTemplate` has already checked) and `pretty_repr`.

    Example:
        >>> template = HumanMessagePromptTemplate.from_template("hi {name}")
        >>> template.format_messages(name="Ada")
        [HumanMessage(content='hi Ada')]
    """

    __slots__ = ()

    @property
    def input_variables(self) -> list[str]:
        """The variables a call must supply, sorted."""
        raise NotImplementedError

    def _format_into(self, values: Mapping[str, Any], out: list[BaseMessage]) -> None:
        raise NotImplementedError

    def _check(self, kwargs: Mapping[str, Any]) -> None:
        required = self.input_variables
        if not kwargs.keys() >= set(required):
            raise PromptVariableError(
                set(required) - kwargs.keys(), required, kwargs, type(self).__name__
            )

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """Render to a list of messages.

        Raises:
            PromptVariableError: A required variable is missing (a ``KeyError``).
        """
        self._check(kwargs)
        out: list[BaseMessage] = []
        self._format_into(kwargs, out)
        return out

    async def aformat_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """Async `format_messages` (runs inline: formatting is pure CPU work)."""
        return self.format_messages(**kwargs)

    def pretty_repr(self, html: bool = False) -> str:
        """A title bar and the template, variables shown as ``{name}``."""
        raise NotImplementedError

    def pretty_print(self) -> None:
        """Print `pretty_repr` (highlighted when Python runs interactively)."""
        print(self.pretty_repr(html=hasattr(sys, "ps2")))

    def __add__(self, other: Any) -> ChatPromptTemplate:
        """``template + other`` starts a `ChatPromptTemplate` with this template first."""
        # chat.py builds on this module, so it is imported when first needed.
        from chainkit.prompts.chat import ChatPromptTemplate

        combined: ChatPromptTemplate = ChatPromptTemplate([self]) + other
        return combined


class BaseStringMessagePromptTemplate(BaseMessagePromptTemplate):
    """A template for one message of class ``_message_class``.

    ``prompt`` is a `PromptTemplate` (string content) or a list of `ContentBlockTemplate`
    (list content: text and images).
    """

    _message_class: ClassVar[type[BaseMessage]]

    __slots__ = ("_fields", "_make", "_render", "_required", "_text", "additional_kwargs", "prompt")

    prompt: Union[PromptTemplate, list[ContentBlockTemplate]]
    additional_kwargs: dict[str, Any]

    def __init__(
        self,
        prompt: Union[PromptTemplate, Sequence[ContentBlockTemplate]],
        *,
        additional_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(prompt, PromptTemplate):
            self.prompt = prompt
            self._text: PromptTemplate | None = prompt
            variables = prompt.input_variables
        elif isinstance(prompt, (list, tuple)) and all(
            isinstance(p, ContentBlockTemplate) for p in prompt
        ):
            self.prompt = list(prompt)
            self._text = None
            variables = sorted({v for block in prompt for v in block.variables})
        else:
            raise TypeError(
                f"{type(self).__name__} prompt must be a PromptTemplate or a list of "
                f"ContentBlockTemplate, got {type(prompt).__name__}: {prompt!r:.80}; "
                f"use {type(self).__name__}.from_template(text) to build one from a string"
            )
        self.additional_kwargs = dict(additional_kwargs or {})
        self._required = variables
        # Constructor arguments besides content, fixed at construction.
        self._fields: dict[str, Any] = self._message_fields()
        # The two calls that make the message, chosen once: content, then the message.
        self._render: Callable[[Mapping[str, Any]], Any]
        if self._text is None:
            self._render = self._render_blocks
        elif self._text.partial_variables:
            self._render = self._text._render
        else:
            self._render = self._text._compiled.render
        self._make: Callable[[Any], BaseMessage] = (
            functools.partial(self._message_class, **self._fields)
            if self._fields
            else self._message_class
        )

    def _message_fields(self) -> dict[str, Any]:
        return {"additional_kwargs": self.additional_kwargs} if self.additional_kwargs else {}

    @classmethod
    def from_template(
        cls,
        template: Union[str, Sequence[Union[str, Mapping[str, Any]]]],
        template_format: PromptTemplateFormat = "f-string",
        *,
        partial_variables: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Self:
        """Build from template text, or from a list of content blocks (strings are text
        blocks, ``{"image_url": "..."}`` image blocks; strings inside are templates).

        Example:
            >>> SystemMessagePromptTemplate.from_template("You are {role}.").format(role="terse")
            SystemMessage(content='You are terse.')
        """
        if isinstance(template, str):
            prompt: Union[PromptTemplate, list[ContentBlockTemplate]] = (
                PromptTemplate.from_template(
                    template, template_format=template_format, partial_variables=partial_variables
                )
            )
        elif isinstance(template, (list, tuple)):
            if partial_variables:
                raise ValueError(
                    "partial_variables are not supported for list content; call .partial() on "
                    "the ChatPromptTemplate instead"
                )
            prompt = [ContentBlockTemplate(block, template_format) for block in template]
        else:
            raise TypeError(
                f"{cls.__name__}.from_template needs a str or a list of content blocks, got "
                f"{type(template).__name__}: {template!r:.80}"
            )
        return cls(prompt, **kwargs)

    @property
    def input_variables(self) -> list[str]:
        """The template's variables (its partials excluded), sorted."""
        return list(self._required)

    def _render_blocks(self, values: Mapping[str, Any]) -> list[Any]:
        return [block.render(values) for block in self.prompt]  # type: ignore[union-attr]

    def _format_into(self, values: Mapping[str, Any], out: list[BaseMessage]) -> None:
        out.append(self._make(self._render(values)))

    def format(self, **kwargs: Any) -> BaseMessage:
        """Render the message.

        Raises:
            PromptVariableError: A variable is missing (a ``KeyError``).
        """
        self._check(kwargs)
        return self._make(self._render(kwargs))

    async def aformat(self, **kwargs: Any) -> BaseMessage:
        """Async `format` (runs inline)."""
        return self.format(**kwargs)

    def pretty_repr(self, html: bool = False) -> str:
        title = type(self).__name__.replace("MessagePromptTemplate", " Message")
        body = (
            self._text.pretty_repr(html=html)
            if self._text is not None
            else "\n\n".join(_block_repr(block, html) for block in self.prompt)  # type: ignore[union-attr]
        )
        return f"{get_msg_title_repr(title, bold=html)}\n\n{body}"

    def __repr__(self) -> str:
        fields = [f"prompt={self.prompt!r}", f"additional_kwargs={self.additional_kwargs!r}"]
        fields += [
            f"{k}={v!r}" for k, v in self._message_fields().items() if k != "additional_kwargs"
        ]
        return f"{type(self).__name__}({', '.join(fields)})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, BaseStringMessagePromptTemplate)
        return self.prompt == other.prompt and self._fields == other._fields

    def __hash__(self) -> int:
        key = self.prompt if isinstance(self.prompt, PromptTemplate) else len(self.prompt)
        return hash((type(self), key))


def _block_repr(block: ContentBlockTemplate, html: bool) -> str:
    dummies = {name: "{" + name + "}" for name in block.variables}
    rendered = block.render(dummies)
    if isinstance(rendered, dict) and rendered.get("type") == "text":
        return str(rendered.get("text", ""))
    return repr(rendered)


class SystemMessagePromptTemplate(BaseStringMessagePromptTemplate):
    """A template for a `SystemMessage`.

    Example:
        >>> SystemMessagePromptTemplate.from_template("You are {role}.").format(role="a poet")
        SystemMessage(content='You are a poet.')
    """

    _message_class = SystemMessage
    __slots__ = ()


class HumanMessagePromptTemplate(BaseStringMessagePromptTemplate):
    """A template for a `HumanMessage` (text, or a list of text and image blocks).

    Example:
        >>> HumanMessagePromptTemplate.from_template("{question}").format(question="Why?")
        HumanMessage(content='Why?')
        >>> HumanMessagePromptTemplate.from_template(
        ...     ["Describe:", {"image_url": "{url}"}]).format(url="https://x/y.png").content
        [{'type': 'text', 'text': 'Describe:'}, {'type': 'image_url', 'image_url': {'url': 'https://x/y.png'}}]
    """

    _message_class = HumanMessage
    __slots__ = ()


class AIMessagePromptTemplate(BaseStringMessagePromptTemplate):
    """A template for an `AIMessage` (e.g. a few-shot example answer).

    Example:
        >>> AIMessagePromptTemplate.from_template("The answer is {x}.").format(x=4)
        AIMessage(content='The answer is 4.')
    """

    _message_class = AIMessage
    __slots__ = ()


class ChatMessagePromptTemplate(BaseStringMessagePromptTemplate):
    """A template for a `ChatMessage` with any ``role``.

    Example:
        >>> ChatMessagePromptTemplate.from_template("May the {x} be with you", role="Jedi"
        ...                                         ).format(x="force")
        ChatMessage(content='May the force be with you', role='Jedi')
    """

    _message_class = ChatMessage
    __slots__ = ("role",)

    def __init__(
        self,
        prompt: Union[PromptTemplate, Sequence[ContentBlockTemplate]],
        *,
        role: str,
        additional_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(role, str) or not role:
            raise TypeError(f"ChatMessagePromptTemplate role must be a non-empty str, got {role!r}")
        self.role = role
        super().__init__(prompt, additional_kwargs=additional_kwargs)

    def _message_fields(self) -> dict[str, Any]:
        return {**super()._message_fields(), "role": self.role}


class MessagesPlaceholder(BaseMessagePromptTemplate):
    """A slot for a list of messages supplied at call time, such as chat history.

    The value may be a list of messages or message-likes (``("human", "hi")``, strings,
    ``{"role": ..., "content": ...}`` dicts), or a prompt value.

    Args:
        variable_name: The input variable that holds the messages.
        optional: If True the variable may be left out (no messages are inserted);
            otherwise leaving it out raises `PromptVariableError`.
        n_messages: Keep only the last ``n_messages`` messages.

    Example:
        >>> history = MessagesPlaceholder("history", n_messages=1)
        >>> history.format_messages(history=[("human", "hi"), ("ai", "Hello!")])
        [AIMessage(content='Hello!')]
        >>> MessagesPlaceholder("history", optional=True).format_messages()
        []
    """

    __slots__ = ("n_messages", "optional", "variable_name")

    def __init__(
        self, variable_name: str, *, optional: bool = False, n_messages: int | None = None
    ) -> None:
        if not isinstance(variable_name, str) or not variable_name:
            raise TypeError(
                f"MessagesPlaceholder variable_name must be a non-empty str, got {variable_name!r}"
            )
        if n_messages is not None and (
            not isinstance(n_messages, int) or isinstance(n_messages, bool) or n_messages < 1
        ):
            raise ValueError(
                f"MessagesPlaceholder n_messages must be a positive int or None, got {n_messages!r}"
            )
        self.variable_name = variable_name
        self.optional = bool(optional)
        self.n_messages = n_messages

    @property
    def input_variables(self) -> list[str]:
        """``[variable_name]``, or ``[]`` when optional."""
        return [] if self.optional else [self.variable_name]

    def _format_into(self, values: Mapping[str, Any], out: list[BaseMessage]) -> None:
        value = values.get(self.variable_name, _MISSING)
        if value is _MISSING or (value is None and self.optional):
            if self.optional:
                return
            raise PromptVariableError(
                [self.variable_name], [self.variable_name], values, "MessagesPlaceholder"
            )
        messages = self._convert(value)
        if self.n_messages:
            messages = messages[-self.n_messages :]
        out.extend(messages)

    def _convert(self, value: Any) -> list[BaseMessage]:
        if not isinstance(value, (list, tuple)) and not callable(
            getattr(value, "to_messages", None)
        ):
            raise ValueError(
                f"variable {self.variable_name!r} of MessagesPlaceholder should be a list of "
                f"messages, got {type(value).__name__}: {value!r:.80}"
            )
        try:
            return convert_to_messages(value)
        except (TypeError, ValueError) as error:
            raise type(error)(
                f"variable {self.variable_name!r} of MessagesPlaceholder: {error}"
            ) from error

    def pretty_repr(self, html: bool = False) -> str:
        var = "{" + self.variable_name + "}"
        if html:
            var = highlight(var)
        return f"{get_msg_title_repr('Messages Placeholder', bold=html)}\n\n{var}"

    def __repr__(self) -> str:
        fields = [f"variable_name={self.variable_name!r}"]
        if self.optional:
            fields.append("optional=True")
        if self.n_messages is not None:
            fields.append(f"n_messages={self.n_messages!r}")
        return f"MessagesPlaceholder({', '.join(fields)})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MessagesPlaceholder):
            return NotImplemented
        return (self.variable_name, self.optional, self.n_messages) == (
            other.variable_name,
            other.optional,
            other.n_messages,
        )

    def __hash__(self) -> int:
        return hash((MessagesPlaceholder, self.variable_name, self.optional, self.n_messages))


__all__ = [
    "AIMessagePromptTemplate",
    "BaseMessagePromptTemplate",
    "BaseStringMessagePromptTemplate",
    "ChatMessagePromptTemplate",
    "HumanMessagePromptTemplate",
    "MessagesPlaceholder",
    "SystemMessagePromptTemplate",
]
