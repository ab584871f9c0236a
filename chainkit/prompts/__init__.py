"""Prompt templates: turn a dict of variables into a prompt value for a model.

- `PromptTemplate`: one string (`StringPromptValue`), f-string or sandboxed jinja2.
- `ChatPromptTemplate`: a list of messages (`ChatPromptValue`), built from ``(role,
  template)`` tuples, messages, message templates and `MessagesPlaceholder`.

f-string templates accept only plain ``{name}`` fields, so a template cannot read
attributes of the values it formats; jinja2 (imported only when used) always runs in a
sandbox. A missing variable raises `PromptVariableError`, a ``KeyError`` that names every
missing variable.

Example:
    >>> from chainkit.prompts import ChatPromptTemplate
    >>> prompt = ChatPromptTemplate.from_messages(
    ...     [("system", "You are {role}."), ("human", "{question}")])
    >>> prompt.invoke({"role": "a poet", "question": "Why is the sky blue?"}).to_messages()
    [SystemMessage(content='You are a poet.'), HumanMessage(content='Why is the sky blue?')]
"""

from chainkit.prompts.chat import ChatPromptTemplate
from chainkit.prompts.errors import PromptVariableError
from chainkit.prompts.message import (
    AIMessagePromptTemplate,
    ChatMessagePromptTemplate,
    HumanMessagePromptTemplate,
    MessagesPlaceholder,
    SystemMessagePromptTemplate,
)
from chainkit.prompts.string import PromptTemplate
from chainkit.prompts.values import ChatPromptValue, PromptValue, StringPromptValue

__all__ = [
    "AIMessagePromptTemplate",
    "ChatMessagePromptTemplate",
    "ChatPromptTemplate",
    "ChatPromptValue",
    "HumanMessagePromptTemplate",
    "MessagesPlaceholder",
    "PromptTemplate",
    "PromptValue",
    "PromptVariableError",
    "StringPromptValue",
    "SystemMessagePromptTemplate",
]
