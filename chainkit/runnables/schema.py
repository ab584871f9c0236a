"""Pydantic models describing what a runnable takes and returns (``get_input_schema``).

Imported lazily by `Runnable.get_input_schema`, so ``import chainkit`` does not build models. A
schema is a pydantic `RootModel` named e.g. ``RunnableLambdaInput`` whose root is the
runnable's ``InputType``; a pydantic model type is its own schema. Models are cached by
``(name, type)``, so asking twice returns the same class.
"""

from __future__ import annotations

import threading
from typing import Any

from pydantic import BaseModel, RootModel, create_model

_cache: dict[tuple[str, Any], type[BaseModel]] = {}
_lock = threading.Lock()


def schema_for(name: str, type_: Any) -> type[BaseModel]:
    """A pydantic model named ``name`` validating values of ``type_``.

    Example:
        >>> schema_for("AgeInput", int).model_json_schema()
        {'title': 'AgeInput', 'type': 'integer'}
    """
    if isinstance(type_, type) and issubclass(type_, BaseModel):
        return type_
    try:
        key = (name, type_)
        hash(key)
    except TypeError:  # an unhashable annotation (rare): build without caching
        return _build(name, type_)
    with _lock:
        model = _cache.get(key)
        if model is None:
            model = _cache[key] = _build(name, type_)
    return model


def _build(name: str, type_: Any) -> type[BaseModel]:
    model: type[BaseModel] = create_model(name, __base__=RootModel[type_])
    return model
