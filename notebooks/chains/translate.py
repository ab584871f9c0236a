"""A reusable translation chain, kept in a module so notebooks and apps can share it.

``build_translator(model)`` returns ``prompt | model | StrOutputParser()`` as one named step:
it takes ``{"text": ..., "language": ...}`` (or just ``{"text": ...}`` when the language is
fixed) and returns the translation as a string. The model is a parameter, so the same chain
runs on the local model, a hosted one, or a fake in tests.

Example:
    >>> from chainkit import init_chat_model
    >>> translate = build_translator(init_chat_model(temperature=0, max_tokens=48))
    >>> translate.invoke({"text": "Good morning", "language": "French"})  # doctest: +SKIP
    'Bonjour'
"""

from __future__ import annotations

from typing import Any

from chainkit import ChatPromptTemplate, Runnable, StrOutputParser

PROMPT = ChatPromptTemplate.from_messages([
    ("system", "You translate English to {language}. Reply with the translation only."),
    ("human", "{text}"),
])


def build_translator(
    model: Runnable[Any, Any], language: str | None = None
) -> Runnable[dict[str, Any], str]:
    """The translation chain on ``model``; ``language`` fixes the target language.

    Args:
        model: Any chat model (or runnable taking a prompt value).
        language: The target language; ``None`` reads it from the input's ``"language"``.
    """
    prompt = PROMPT.partial(language=language) if language else PROMPT
    name = f"translate_to_{language.lower()}" if language else "translate"
    return prompt.pipe(model, StrOutputParser(), name=name)
