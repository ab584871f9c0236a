"""`init_chat_model`: one string picks the chat model, so code and config can switch providers.

Specs:

============================  ==========================================================
``"local"`` (the default)     `ChatLlamaCpp` on the bundled SmolLM2-135M-Instruct
``"llamacpp"``                the same
``"llamacpp:/path/m.gguf"``   `ChatLlamaCpp` on that gguf file
``"openai:<model>"``          `ChatOpenAI` (also any OpenAI-compatible server, see below)
``"openai:<model>@<url>"``    `ChatOpenAI` with ``base_url=<url>``
``"anthropic:<model>"``       `ChatAnthropic` (``"anthropic:<model>@<url>"`` sets ``base_url``)
============================  ==========================================================

With no spec, the ``CHAINKIT_MODEL`` environment variable is read, then ``"local"``: nothing
reaches the network unless asked. Provider modules are imported only for the spec that needs
them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chainkit.models.base import BaseChatModel

__all__ = ["DEFAULT_MODEL", "ENV_VAR", "PROVIDERS", "init_chat_model"]

ENV_VAR = "CHAINKIT_MODEL"
DEFAULT_MODEL = "local"
PROVIDERS = ("local", "llamacpp", "openai", "anthropic")
"""The provider names a spec may start with."""

# provider -> (module, class)
_CLASSES: dict[str, tuple[str, str]] = {
    "local": ("chainkit.models.llamacpp", "ChatLlamaCpp"),
    "llamacpp": ("chainkit.models.llamacpp", "ChatLlamaCpp"),
    "openai": ("chainkit.models.openai", "ChatOpenAI"),
    "anthropic": ("chainkit.models.anthropic", "ChatAnthropic"),
}
_EXAMPLES = (
    "'local', 'llamacpp:/path/model.gguf', 'openai:gpt-4o-mini', "
    "'anthropic:claude-3-5-haiku-latest'"
)


def init_chat_model(spec: str | None = None, **kwargs: Any) -> BaseChatModel:
    """Build a chat model from a ``"provider[:model][@base_url]"`` spec.

    Args:
        spec: Which model; ``None`` reads ``$CHAINKIT_MODEL``, else ``"local"``.
        **kwargs: Passed to the model class (``temperature``, ``max_tokens``, ``api_key``, ...).

    Returns:
        A `ChatLlamaCpp`, `ChatOpenAI` or `ChatAnthropic`.

    Raises:
        ValueError: The spec names an unknown provider or lacks a required model name.
        ImportError: The provider's module or its optional dependencies are not installed.

    Example:
        >>> model = init_chat_model("local", temperature=0, max_tokens=64)
        >>> remote = init_chat_model("openai:llama3@http://127.0.0.1:8080/v1", api_key="none")
    """
    if spec is None:
        spec = os.environ.get(ENV_VAR, "").strip() or DEFAULT_MODEL
        source = f" (from ${ENV_VAR})" if os.environ.get(ENV_VAR, "").strip() else ""
    else:
        source = ""
    if not isinstance(spec, str):
        raise TypeError(
            f"init_chat_model spec must be a str, got {type(spec).__name__}: {spec!r:.60}"
        )
    provider, _, rest = spec.strip().partition(":")
    provider = provider.strip().lower()
    rest = rest.strip()
    if provider not in _CLASSES:
        raise ValueError(
            f"unknown chat model provider {provider!r} in spec {spec!r}{source}; valid providers: "
            f"{', '.join(PROVIDERS)} (e.g. {_EXAMPLES})"
        )
    if provider in ("local", "llamacpp"):
        if provider == "local" and rest:
            raise ValueError(
                f"spec {spec!r}{source}: 'local' takes no model; use 'llamacpp:/path/model.gguf' "
                "for another gguf file"
            )
        if rest:
            if "model_path" in kwargs:
                raise ValueError(
                    f"spec {spec!r} names a model path and model_path= was passed too; pass one"
                )
            kwargs["model_path"] = rest
        return _model_class(provider, spec)(**kwargs)

    model, sep, base_url = rest.partition("@")
    model, base_url = model.strip(), base_url.strip()
    if not model:
        raise ValueError(
            f"spec {spec!r}{source} needs a model name, e.g. '{provider}:<model>' "
            f"or '{provider}:<model>@<base_url>'"
        )
    if sep and not base_url:
        raise ValueError(f"spec {spec!r}{source} has '@' but no base URL after it")
    if "model" in kwargs:
        raise ValueError(f"spec {spec!r} names a model and model= was passed too; pass one")
    if base_url:
        if "base_url" in kwargs:
            raise ValueError(
                f"spec {spec!r} names a base URL and base_url= was passed too; pass one"
            )
        kwargs["base_url"] = base_url
    return _model_class(provider, spec)(model=model, **kwargs)


def _model_class(provider: str, spec: str) -> Callable[..., BaseChatModel]:
    module_name, class_name = _CLASSES[provider]
    try:
        module = import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise  # the module exists but one of its own imports is missing: show that
        raise ImportError(
            f"init_chat_model({spec!r}) needs {module_name}.{class_name}, which this chainkit "
            f"installation does not include"
        ) from None
    cls: Callable[..., BaseChatModel] = getattr(module, class_name)
    return cls
