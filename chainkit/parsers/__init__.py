"""Output parsers: turn a model's message (or text) into a string, JSON, a pydantic model or a
list, whole or while it streams.

Every parser is a `Runnable` (``prompt | model | parser``) that accepts a string or a message.
Streaming parsers are driven by push decoders (``feed(text)`` / ``flush()``), so each parser's
streaming logic exists once, shared by the sync and async stream loops in `base`.

Example:
    >>> from chainkit.parsers import JsonOutputParser
    >>> JsonOutputParser().invoke('```json\\n{"ok": true}\\n```')
    {'ok': True}
"""

from chainkit.parsers.base import BaseOutputParser, BaseTransformOutputParser
from chainkit.parsers.exceptions import OutputParserException
from chainkit.parsers.json import JsonOutputParser
from chainkit.parsers.list import CommaSeparatedListOutputParser
from chainkit.parsers.partial_json import parse_partial_json
from chainkit.parsers.pydantic import PydanticOutputParser
from chainkit.parsers.string import StrOutputParser

__all__ = [
    "BaseOutputParser",
    "BaseTransformOutputParser",
    "CommaSeparatedListOutputParser",
    "JsonOutputParser",
    "OutputParserException",
    "PydanticOutputParser",
    "StrOutputParser",
    "parse_partial_json",
]
