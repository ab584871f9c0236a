"""`ChatPromptTemplate`: a list of message templates that renders to `ChatPromptValue`.

Built with `ChatPromptTemplate.from_messages` from the shapes LangChain accepts:
``(role, template)`` tuples, plain strings (human templates), message objects (kept as they
are), message templates, `MessagesPlaceholder` and ``{"role": ..., "content": ...}`` dicts.
Everything is converted and checked at construction, and each part is reduced to one bound
method, so a call is: merge partials (if any), one set comparison for missing variables, one
method call per part, one `ChatPromptValue`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Union, overload

from chainkit.messages import AnyMessage, BaseMessage, get_buffer_string
from chainkit.prompts.base import BasePromptTemplate
from chainkit.prompts.formatting import TEMPLATE_FORMATS, PromptTemplateFormat
from chainkit.prompts.message import (
    AIMessagePromptTemplate,
    BaseMessagePromptTemplate,
    BaseStringMessagePromptTemplate,
    ChatMessagePromptTemplate,
    HumanMessagePromptTemplate,
    MessagesPlaceholder,
    SystemMessagePromptTemplate,
)
from chainkit.prompts.string import PromptTemplate
from chainkit.prompts.values import ChatPromptValue

MessageLike = Union[BaseMessagePromptTemplate, BaseMessage, "ChatPromptTemplate"]
"""A converted part of a chat prompt."""

MessageLikeRepresentation = Union[
    MessageLike,
    tuple[Union[str, type], Union[str, Sequence[Any]]],
    str,
    dict[str, Any],
]
"""What `ChatPromptTemplate.from_messages` accepts for one message."""

_ROLE_TEMPLATES: dict[str, type[BaseStringMessagePromptTemplate]] = {
    "human": HumanMessagePromptTemplate,
    "user": HumanMessagePromptTemplate,
    "ai": AIMessagePromptTemplate,
    "assistant": AIMessagePromptTemplate,
    "system": SystemMessagePromptTemplate,
    "developer": SystemMessagePromptTemplate,
}
_KNOWN_ROLES = [*_ROLE_TEMPLATES, "placeholder"]
# Roles whose messages need more than text (a tool call id, a function name).
_OBJECT_ONLY_ROLES = {"tool": "ToolMessage", "function": "FunctionMessage"}
_SHAPES = (
    "expected a (role, template) tuple, a str, a message, a message template, a "
    "MessagesPlaceholder, a ChatPromptTemplate or a {'role': ..., 'content': ...} dict"
)

_Step = Callable[[Mapping[str, Any], list[BaseMessage]], None]


class ChatPromptTemplate(BasePromptTemplate[ChatPromptValue]):
    """A prompt for chat models: message templates rendered to a `ChatPromptValue`.

    ``invoke`` takes a dict of variables; when the template has exactly one input variable it
    also takes the bare value. A missing variable raises `PromptVariableError`; extra
    variables are ignored.

    Args:
        messages: The parts, in any shape `from_messages` accepts.
        template_format: ``"f-string"`` or ``"jinja2"``, for parts given as text.
        input_variables: Optional; if given it must match the variables found.
        partial_variables: Variables filled in ahead of time.
        input_types: Types of non-string variables, for the input schema.

    Example:
        >>> prompt = ChatPromptTemplate.from_messages([
        ...     ("system", "You are {role}."),
        ...     ("placeholder", "{history}"),
        ...     ("human", "{question}"),
        ... ])
        >>> prompt.input_variables, prompt.optional_variables
        (['question', 'role'], ['history'])
        >>> prompt.invoke({"role": "terse", "question": "Why?"})
        ChatPromptValue(messages=[SystemMessage(content='You are terse.'), HumanMessage(content='Why?')])
    """  # noqa: E501

    __slots__ = ("_messages", "_steps", "_template_format")

    def __init__(
        self,
        messages: Sequence[MessageLikeRepresentation],
        *,
        template_format: PromptTemplateFormat = "f-string",
        input_variables: Sequence[str] | None = None,
        partial_variables: Mapping[str, Any] | None = None,
        input_types: Mapping[str, Any] | None = None,
    ) -> None:
        if template_format not in TEMPLATE_FORMATS:
            raise ValueError(
                f"unknown template_format {template_format!r}; valid formats: "
                f"{list(TEMPLATE_FORMATS)}"
            )
        if isinstance(messages, (str, BaseMessage)) or not isinstance(messages, Sequence):
            raise TypeError(
                f"ChatPromptTemplate needs a list of messages, got {type(messages).__name__}: "
                f"{messages!r:.80}; wrap a single message in a list"
            )
        items = [_convert(m, i, template_format) for i, m in enumerate(messages)]
        self._messages = tuple(items)
        self._template_format = template_format
        variables: set[str] = set()
        optional: set[str] = set()
        partials = dict(partial_variables or {})
        types = dict(input_types or {})
        for item in items:
            if isinstance(item, MessagesPlaceholder):
                types.setdefault(item.variable_name, list[AnyMessage])
                if not item.optional:
                    variables.add(item.variable_name)
                else:
                    # LangChain's convention: an optional placeholder defaults to [].
                    partials.setdefault(item.variable_name, [])
                    optional.add(item.variable_name)
            elif isinstance(item, ChatPromptTemplate):
                variables.update(item.input_variables)
                optional.update(item.optional_variables)
                types = {**item.input_types, **types}
            elif isinstance(item, BaseMessagePromptTemplate):
                variables.update(item.input_variables)
        if input_variables is not None:
            _check_declared(input_variables, variables, partials)
        self._init_variables(variables, optional, partials, types)
        self._steps = tuple(_step(item) for item in items)

    @property
    def messages(self) -> tuple[MessageLike, ...]:
        """The converted parts: messages, message templates, placeholders, nested prompts.

        A tuple: a template is immutable (its rendering plan is built once); combine with
        ``+`` or `partial` to get a new one.
        """
        return self._messages

    @property
    def template_format(self) -> PromptTemplateFormat:
        """The format that text parts were compiled with."""
        return self._template_format

    def append(self, message: MessageLikeRepresentation) -> None:
        """Not supported: templates are immutable. Use ``prompt + [message]`` instead.

        Raises:
            TypeError: Always, with the replacement to use.
        """
        raise TypeError(
            "ChatPromptTemplate is immutable; use `prompt = prompt + [message]`, which returns "
            "a new template"
        )

    def extend(self, messages: Sequence[MessageLikeRepresentation]) -> None:
        """Not supported: templates are immutable. Use ``prompt + messages`` instead.

        Raises:
            TypeError: Always, with the replacement to use.
        """
        raise TypeError(
            "ChatPromptTemplate is immutable; use `prompt = prompt + list(messages)`, which "
            "returns a new template"
        )

    @classmethod
    def from_messages(
        cls,
        messages: Sequence[MessageLikeRepresentation],
        template_format: PromptTemplateFormat = "f-string",
    ) -> ChatPromptTemplate:
        """Build from message representations.

        Accepted shapes: ``(role, template)`` with role ``system``, ``human``/``user``,
        ``ai``/``assistant``, ``developer``, ``placeholder`` (``("placeholder", "{history}")``
        is an optional `MessagesPlaceholder`) or any other role (a `ChatMessage`); a plain
        string (a human template); a message (kept as it is); a message template or
        `MessagesPlaceholder`; a nested `ChatPromptTemplate`; a ``{"role", "content"}`` dict.

        Raises:
            TypeError: A message has an unsupported type (its position is named).
            ValueError: A message has the right type but a bad shape or template.

        Example:
            >>> from chainkit.messages import SystemMessage
            >>> prompt = ChatPromptTemplate.from_messages(
            ...     [SystemMessage("Be brief."), "{question}"])
            >>> prompt.format_messages(question="Why?")
            [SystemMessage(content='Be brief.'), HumanMessage(content='Why?')]
        """
        return cls(messages, template_format=template_format)

    @classmethod
    def from_template(cls, template: str, **kwargs: Any) -> ChatPromptTemplate:
        """A chat prompt of one human message template.

        Example:
            >>> ChatPromptTemplate.from_template("Tell me about {topic}").format_messages(
            ...     topic="owls")
            [HumanMessage(content='Tell me about owls')]
        """
        prompt = PromptTemplate.from_template(template, **kwargs)
        return cls([HumanMessagePromptTemplate(prompt)])

    # ---- formatting -------------------------------------------------------------------
    def _render_messages(self, values: Mapping[str, Any]) -> list[BaseMessage]:
        out: list[BaseMessage] = []
        for step in self._steps:
            step(values, out)
        return out

    def _format_into(self, values: Mapping[str, Any], out: list[BaseMessage]) -> None:
        """Render as a part of an enclosing chat prompt (values checked by the caller)."""
        if self.partial_variables:
            values = self._merge_partial_and_user_variables(values)
        for step in self._steps:
            step(values, out)

    def _format_values(self, values: dict[str, Any]) -> ChatPromptValue:
        return ChatPromptValue(self._render_messages(values))

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """Render to a list of messages.

        Raises:
            PromptVariableError: A variable is missing (a ``KeyError``).
        """
        return self._render_messages(self._values(kwargs))

    async def aformat_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """Async `format_messages` (runs inline)."""
        return self.format_messages(**kwargs)

    def format(self, **kwargs: Any) -> str:
        """Render to a ``Role: text`` transcript (see `ChatPromptValue.to_string`)."""
        return get_buffer_string(self.format_messages(**kwargs))

    def _rebuild(self, partial_variables: dict[str, Any]) -> ChatPromptTemplate:
        return ChatPromptTemplate(
            self.messages,
            template_format=self.template_format,
            partial_variables=partial_variables,
            input_types=self.input_types,
        )

    def partial(self, **kwargs: Any) -> ChatPromptTemplate:
        """A copy with some variables filled in (values or zero-argument callables).

        Example:
            >>> prompt = ChatPromptTemplate.from_messages([("system", "You are {name}."),
            ...                                            ("human", "{q}")])
            >>> prompt.partial(name="R2D2").format_messages(q="hi")
            [SystemMessage(content='You are R2D2.'), HumanMessage(content='hi')]
        """
        return self._rebuild({**self.partial_variables, **kwargs})

    # ---- composition ------------------------------------------------------------------
    def __add__(self, other: Any) -> ChatPromptTemplate:
        """Append messages: another chat prompt's, one message or template, a list of
        message representations, or a string (a human template). Partials carry over."""
        if isinstance(other, ChatPromptTemplate):
            extra: list[Any] = list(other.messages)
            partials = {**self.partial_variables, **other.partial_variables}
        elif isinstance(other, (BaseMessagePromptTemplate, BaseMessage)):
            extra, partials = [other], dict(self.partial_variables)
        elif isinstance(other, (list, tuple)):
            extra, partials = list(other), dict(self.partial_variables)
        elif isinstance(other, str):
            extra, partials = (
                [HumanMessagePromptTemplate.from_template(other)],
                dict(self.partial_variables),
            )
        else:
            return NotImplemented
        return ChatPromptTemplate(
            [*self.messages, *extra],
            template_format=self.template_format,
            partial_variables=partials,
            input_types=self.input_types,
        )

    @overload
    def __getitem__(self, index: int) -> MessageLike: ...
    @overload
    def __getitem__(self, index: slice) -> ChatPromptTemplate: ...
    def __getitem__(self, index: Union[int, slice]) -> Union[MessageLike, ChatPromptTemplate]:
        """One part by position, or a new `ChatPromptTemplate` of a slice of the parts."""
        if isinstance(index, slice):
            return ChatPromptTemplate(
                self.messages[index],
                template_format=self.template_format,
                partial_variables=self.partial_variables,
            )
        return self.messages[index]

    def __len__(self) -> int:
        return len(self.messages)

    def __iter__(self) -> Iterator[MessageLike]:
        return iter(self.messages)

    def __bool__(self) -> bool:
        # A prompt with no messages is still a step; `if step:` must not drop it.
        return True

    # ---- schema and display -----------------------------------------------------------
    @property
    def OutputType(self) -> Any:
        return ChatPromptValue

    def pretty_repr(self, html: bool = False) -> str:
        """Each part with a title bar, variables shown as ``{name}``.

        Example:
            >>> print(ChatPromptTemplate.from_messages([("human", "{q}")]).pretty_repr())
            ================================ Human Message =================================
            <BLANKLINE>
            {q}
        """
        return "\n\n".join(item.pretty_repr(html=html) for item in self.messages)

    def __repr__(self) -> str:
        fields = [*self._repr_fields(), f"messages={list(self.messages)!r}"]
        return f"ChatPromptTemplate({', '.join(fields)})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, ChatPromptTemplate)
        return (
            self.messages == other.messages
            and self.partial_variables == other.partial_variables
            and self.input_types == other.input_types
        )

    def __hash__(self) -> int:
        return hash((type(self), len(self.messages), tuple(self.input_variables)))


# ---- conversion of message representations -----------------------------------------------
def _convert(message: Any, index: int, template_format: PromptTemplateFormat) -> MessageLike:
    where = f"ChatPromptTemplate message {index}"
    if isinstance(message, (BaseMessagePromptTemplate, BaseMessage, ChatPromptTemplate)):
        return message
    if isinstance(message, str):
        return HumanMessagePromptTemplate.from_template(message, template_format)
    if isinstance(message, Mapping):
        if set(message) != {"role", "content"}:
            raise ValueError(
                f"{where}: a dict must have exactly the keys 'role' and 'content', got "
                f"{sorted(map(str, message))}: {message!r:.80}"
            )
        message = (message["role"], message["content"])
    if isinstance(message, (tuple, list)):
        if len(message) != 2:
            raise ValueError(
                f"{where}: expected a (role, template) pair, got a {len(message)}-"
                f"{type(message).__name__} {message!r:.80}"
            )
        role, template = message
        is_template_class = isinstance(role, type) and issubclass(
            role, BaseStringMessagePromptTemplate
        )
        if not isinstance(role, str) and not is_template_class:
            raise TypeError(
                f"{where}: the role of a (role, template) pair must be a str such as 'human' or "
                f"a message template class, got {type(role).__name__}: {role!r:.80}"
            )
        if not isinstance(template, (str, list, tuple)):
            raise TypeError(
                f"{where}: the template of a (role, template) pair must be a str or a list of "
                f"content blocks, got {type(template).__name__}: {template!r:.80}"
            )
        if isinstance(role, str):
            return _from_role(role, template, where, template_format)
        if role is ChatMessagePromptTemplate:
            raise TypeError(f"{where}: for a custom role write (role_name, template)")
        return role.from_template(template, template_format)  # type: ignore[no-any-return]
    raise TypeError(f"{where}: cannot use {type(message).__name__} {message!r:.80}; {_SHAPES}")


def _from_role(
    role: str, template: Any, where: str, template_format: PromptTemplateFormat
) -> BaseMessagePromptTemplate:
    name = role.lower()
    if name == "placeholder":
        return _placeholder(template, where)
    cls = _ROLE_TEMPLATES.get(name)
    if cls is not None:
        if name == "developer":
            # As chainkit.messages does: a system message that OpenAI sends as "developer".
            extra = {"additional_kwargs": {"__openai_role__": "developer"}}
            return cls.from_template(template, template_format, **extra)
        return cls.from_template(template, template_format)
    if name in _OBJECT_ONLY_ROLES:
        raise ValueError(
            f"{where}: role {role!r} needs more than text; pass a {_OBJECT_ONLY_ROLES[name]} "
            "object or use a MessagesPlaceholder"
        )
    # Any other role makes a ChatMessage, but a near miss of a known role is a typo.
    close = difflib.get_close_matches(name, _KNOWN_ROLES, n=1, cutoff=0.8)
    if close:
        raise ValueError(
            f"{where}: unknown role {role!r}; did you mean {close[0]!r}? Known roles: "
            f"{_KNOWN_ROLES}. For a custom role use "
            "ChatMessagePromptTemplate.from_template(template, role=...)"
        )
    return ChatMessagePromptTemplate.from_template(template, template_format, role=role)


def _placeholder(template: Any, where: str) -> MessagesPlaceholder:
    optional = True
    if isinstance(template, (list, tuple)):
        if len(template) != 2 or not isinstance(template[1], bool):
            raise ValueError(
                f"{where}: a placeholder is ('placeholder', '{{name}}') or ('placeholder', "
                f"['{{name}}', optional]), got {template!r:.80}"
            )
        template, optional = template
    if (
        not isinstance(template, str)
        or len(template) < 3
        or template[0] != "{"
        or template[-1] != "}"
        or not template[1:-1].isidentifier()
    ):
        raise ValueError(
            f"{where}: a placeholder template must be a variable name in braces such as "
            f"'{{history}}', got {template!r:.80}"
        )
    return MessagesPlaceholder(template[1:-1], optional=optional)


def _step(item: MessageLike) -> _Step:
    """The one call that renders ``item`` into the output list."""
    if isinstance(item, BaseMessage):

        def literal(values: Mapping[str, Any], out: list[BaseMessage]) -> None:
            out.append(item)

        return literal
    return item._format_into


def _check_declared(declared: Sequence[str], found: set[str], partials: Mapping[str, Any]) -> None:
    if isinstance(declared, str):
        raise TypeError(f"input_variables must be a list of names, got a str: {declared!r}")
    declared_set = set(declared) - partials.keys()
    found_set = found - partials.keys()
    if declared_set != found_set:
        raise ValueError(
            f"ChatPromptTemplate input_variables {sorted(declared_set)} do not match the "
            f"variables of its messages {sorted(found_set)}. Leave input_variables out to infer "
            "them."
        )


__all__ = ["ChatPromptTemplate", "MessageLike", "MessageLikeRepresentation"]
