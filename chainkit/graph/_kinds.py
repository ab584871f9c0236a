"""What kind of step a runnable is, and what its declared input and output look like.

Each kind of step gets a small declared type: what it *accepts* and what it *produces*, as a
set of classes (`Shape`), or ``None`` for "unknown" — unknown never produces an error, so an
unusual step can cause no false alarm. Prompts accept a dict (any single value when they have
exactly one variable) and produce a `PromptValue`; chat models accept a PromptValue, a string
or messages and produce an `AIMessage`; parsers accept a string or a message; lambdas declare
what their type hints say.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any, Union

from chainkit.messages import AIMessage, BaseMessage
from chainkit.prompts.values import PromptValue
from chainkit.runnables.base import Runnable
from chainkit.runnables.binding import RunnableBinding
from chainkit.runnables.branch import RunnableBranch
from chainkit.runnables.fallbacks import RunnableWithFallbacks
from chainkit.runnables.lambda_ import RunnableLambda
from chainkit.runnables.parallel import RunnableParallel
from chainkit.runnables.passthrough import RunnableAssign, RunnablePassthrough, RunnablePick
from chainkit.runnables.retry import RunnableRetry
from chainkit.runnables.sequence import RunnableSequence

Shape = Union[frozenset[type], None]
"""The classes a value may be an instance of; ``None`` means unknown (anything goes)."""

DICT: Shape = frozenset({dict})
_MAPPING: Shape = frozenset({Mapping})
_MODEL_INPUT: Shape = frozenset({PromptValue, str, BaseMessage, list, tuple, Mapping})
_PARSER_INPUT: Shape = frozenset({str, BaseMessage})

_CLASS_KINDS: tuple[tuple[type, str], ...] = (
    (RunnableSequence, "sequence"),
    (RunnableParallel, "parallel"),
    (RunnableAssign, "assign"),
    (RunnablePassthrough, "passthrough"),
    (RunnablePick, "pick"),
    (RunnableLambda, "lambda"),
    (RunnableBranch, "branch"),
    (RunnableWithFallbacks, "fallbacks"),
    (RunnableRetry, "retry"),
    (RunnableBinding, "binding"),
)


def kind_of(r: Runnable[Any, Any]) -> str:
    """A short name for what ``r`` is: ``"prompt"``, ``"chat_model"``, ``"parser"``,
    ``"sequence"``, ``"parallel"``, ``"lambda"``, ... (else its ``run_type``)."""
    for cls, kind in _CLASS_KINDS:
        if isinstance(r, cls):
            return kind
    inner = getattr(r, "_graph_kind", None)  # CompiledChain says what it is
    if isinstance(inner, str):
        return inner
    return str(r.run_type)


def inner_of(r: Runnable[Any, Any]) -> Runnable[Any, Any] | None:
    """The runnable a transparent wrapper (binding, retry, compiled ``|`` chain) runs."""
    inner = getattr(r, "bound", None)
    if isinstance(r, (RunnableBinding, RunnableRetry)) and isinstance(inner, Runnable):
        return inner
    chain = getattr(r, "_graph_inner", None)
    return chain if isinstance(chain, Runnable) else None


def required_keys(r: Runnable[Any, Any], kind: str) -> tuple[str, ...]:
    """Dict keys the step reads from its input: a prompt's variables, a picked key."""
    if kind == "prompt":
        return tuple(getattr(r, "input_variables", ()) or ())
    if kind == "pick" and isinstance(r, RunnablePick) and isinstance(r.keys, str):
        return (r.keys,)
    return ()


def accepts(r: Runnable[Any, Any], kind: str) -> Shape:
    """What the step can take as input (``None``: anything, or unknown)."""
    if kind == "prompt":
        variables = getattr(r, "input_variables", None)
        if variables is not None and len(variables) == 1:
            return None  # a bare value is wrapped under the one variable
        return _MAPPING
    if kind in ("chat_model", "llm"):
        return _MODEL_INPUT
    if kind == "parser":
        return _PARSER_INPUT
    if kind in ("assign", "pick"):
        return _MAPPING
    if kind in ("lambda", "chain", "tool", "retriever"):
        return shape_of(_safe(lambda: r.InputType))
    return None


def produces(r: Runnable[Any, Any], kind: str) -> tuple[Shape, frozenset[str] | None]:
    """What the step outputs, and the dict keys it is known to output (``None``: unknown)."""
    if kind == "prompt":
        return frozenset({PromptValue}), None
    if kind == "chat_model":
        return frozenset({AIMessage}), None
    if kind == "llm":
        return frozenset({str}), None
    if kind == "parallel" and isinstance(r, RunnableParallel):
        return DICT, frozenset(r.steps)
    hint = _safe(lambda: r.OutputType)
    return shape_of(hint), typed_dict_keys(hint)


def _safe(get: Any) -> Any:
    # A user's odd annotation must not break compile(): unknown instead.
    try:
        return get()
    except Exception:
        return Any


# ---- type hints -> shapes --------------------------------------------------------------------
def shape_of(hint: Any) -> Shape:
    """The classes a type hint allows, or ``None`` when it allows anything (or is unclear)."""
    if hint is Any or hint is object or hint is None or isinstance(hint, typing.TypeVar):
        return None
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        return shape_of(typing.get_args(hint)[0])
    if origin is Union or (origin is None and isinstance(hint, types.UnionType)):
        out: set[type] = set()
        for arg in typing.get_args(hint):
            part = frozenset({type(None)}) if arg is type(None) else shape_of(arg)
            if part is None:
                return None
            out |= part
        return frozenset(out)
    if origin is not None:
        return frozenset({origin}) if isinstance(origin, type) else None
    if _is_typed_dict(hint):
        return DICT
    if isinstance(hint, type):
        return frozenset({hint})
    return None


def _is_typed_dict(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, dict) and hasattr(hint, "__total__")


def typed_dict_keys(hint: Any) -> frozenset[str] | None:
    """The required keys of a TypedDict hint (the keys a lambda annotated with it returns)."""
    if _is_typed_dict(hint):
        return frozenset(getattr(hint, "__required_keys__", ()))
    return None


def compatible(produced: Shape, accepted: Shape) -> bool:
    """Whether some value of ``produced`` could be acceptable (unknown on either side: yes)."""
    if produced is None or accepted is None:
        return True
    return any(_related(p, a) for p in produced for a in accepted)


def _related(a: type, b: type) -> bool:
    try:
        return issubclass(a, b) or issubclass(b, a)
    except TypeError:
        return True  # not a real class (a Protocol with members, ...): do not guess


def may_be_dict(shape: Shape) -> bool:
    """Whether values of ``shape`` may be dicts (so dict keys matter)."""
    return compatible(shape, _MAPPING)


def only_dicts(shape: Shape) -> bool:
    """Whether every value of ``shape`` is a dict (so a prompt reads keys, not one value)."""
    return shape is not None and all(_subclass(s, Mapping) for s in shape)


def _subclass(a: type, b: type) -> bool:
    try:
        return issubclass(a, b)
    except TypeError:
        return False


def describe(shape: Shape) -> str:
    """``str | BaseMessage`` for a shape; ``Any`` for unknown."""
    if shape is None:
        return "Any"
    names = {"Mapping": "dict", "NoneType": "None"}
    return " | ".join(sorted({names.get(t.__name__, t.__name__) for t in shape}))
