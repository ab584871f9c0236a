"""The error a prompt raises when an input variable is missing.

``PromptVariableError`` subclasses ``KeyError`` (what LangChain raises, so existing
``except KeyError`` code keeps working) but reads like a sentence instead of a quoted key.
"""

from __future__ import annotations

from collections.abc import Iterable


class PromptVariableError(KeyError):
    """A prompt was formatted without one or more of its required variables.

    The message names every missing variable, every variable the template expects, the
    variables that were supplied, and the template.

    Attributes:
        missing: The missing variable names, sorted.
        expected: The template's required input variables, sorted.
        got: The names that were supplied, sorted.
        template_name: The template's name, e.g. ``"ChatPromptTemplate"``.

    Example:
        >>> from chainkit.prompts import ChatPromptTemplate
        >>> prompt = ChatPromptTemplate.from_messages([("human", "{context}\\n{question}")])
        >>> try:
        ...     prompt.invoke({"question": "why?"})
        ... except PromptVariableError as error:
        ...     print(error)
        missing variable(s) ['context'] for ChatPromptTemplate with input_variables ['context', 'question']; got ['question']. Pass them in the input dict or with .partial().
    """  # noqa: E501

    def __init__(
        self,
        missing: Iterable[str],
        expected: Iterable[str],
        got: Iterable[str],
        template_name: str,
    ) -> None:
        self.missing = sorted(missing)
        self.expected = sorted(expected)
        self.got = sorted(str(key) for key in got)
        self.template_name = template_name
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The full explanation (``str(error)``)."""
        return (
            f"missing variable(s) {self.missing} for {self.template_name} with input_variables "
            f"{self.expected}; got {self.got}. Pass them in the input dict or with .partial()."
        )

    def __str__(self) -> str:
        # KeyError.__str__ would show the repr of the message, quotes and escapes included.
        return self.message

    def __reduce__(
        self,
    ) -> tuple[type[PromptVariableError], tuple[list[str], list[str], list[str], str]]:
        # Rebuild from the four fields (copy, multiprocessing), not from the message.
        return (type(self), (self.missing, self.expected, self.got, self.template_name))
