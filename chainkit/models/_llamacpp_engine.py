"""The in-process llama.cpp engine behind `ChatLlamaCpp`.

This module imports ``llama_cpp`` at the top, so it is itself imported only when a local model
is first used. It holds three things:

- `load_engine`: one loaded model per ``(path, n_ctx, n_threads, model_kwargs)`` per process.
  Many threads asking at once load it once; sampling settings and the seed are per call, so
  every `ChatLlamaCpp` over the same file shares one copy of the weights.
- `Engine`: the loaded model and the one worker thread that runs every generation on it. A
  llama.cpp context holds one sequence at a time, so generations (a whole stream included)
  run one after another, whichever threads or event loops ask for them.
- Exact token accounting for streams: `_CountingLlama` records the prompt length and every
  sampled token of a generation. Streamed text chunks do not map one-to-one to tokens (a
  multi-byte character or a held-back stop-sequence prefix spans several), so counting chunks
  would be wrong; counting what the sampler produced gives the same usage as the non-streamed
  call, which reports ``len(prompt_tokens)`` and the sampled tokens without the end token.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import llama_cpp
from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar

__all__ = [
    "Engine", "StreamEnd", "cached_engines", "clear_engines", "drop_engine", "load_engine",
]

T = TypeVar("T")


class _CountingLlama(llama_cpp.Llama):
    """`llama_cpp.Llama` that remembers the prompt length and the tokens of its last generation.

    Every completion, streamed or not, samples through `generate`; wrapping it is the one place
    that sees each token exactly once. The engine runs one generation at a time, on one thread,
    so "the last generation" is well defined.
    """

    last_prompt_tokens: int = 0
    last_sampled: Sequence[int] = ()

    def generate(  # type: ignore[override]  # same parameters, passed through
        self, tokens: Sequence[int], *args: Any, **kwargs: Any
    ) -> Iterator[int]:
        self.last_prompt_tokens = len(tokens)
        sampled: list[int] = []
        self.last_sampled = sampled
        inner = super().generate(tokens, *args, **kwargs)
        try:
            for token in inner:
                sampled.append(token)
                yield token
        finally:
            inner.close()


@dataclass(frozen=True)
class StreamEnd:
    """The last item of `Engine.stream`: why generation stopped and the exact token counts."""

    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


class Engine:
    """One loaded model and the one thread that runs it.

    Every generation runs on the engine's own worker thread, one job at a time: that is what
    serialises access to the llama.cpp context, and it keeps llama.cpp fast. llama.cpp computes
    with OpenMP, and libgomp keeps a team of compute threads for every thread that has called
    it, for as long as that thread lives. Once a process holds more OpenMP threads than CPUs,
    libgomp stops spin-waiting between parallel regions, and llama.cpp runs several per token:
    on two cores, generations alternating between two threads ran at ~40 tokens/s against ~90
    from a single thread (and a ``batch`` over a lock, from pool threads, three times slower
    than the same calls in a loop). With one worker, the callers' threads never compute.

    A stream is one job from its first token to its last: it is generated at full speed into
    a queue (a slow consumer delays nobody), and stops at the next token once its consumer
    closes it.

    Attributes:
        path: The gguf file.
        model_name: The file name without its ``.gguf`` suffix.
        load_seconds: How long loading took.
    """

    def __init__(self, path: Path, llama_kwargs: Mapping[str, Any]) -> None:
        """Start the worker thread and load the model on it.

        Raises:
            Exception: Whatever llama.cpp raised for a file it could not load.
        """
        self.path = path
        self.model_name = path.name.removesuffix(".gguf")
        self.generations = 0
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._closed = False
        self._abandoned = False  # interpreter exit: skip queued work, end streams now
        self._worker = threading.Thread(
            target=self._work, name=f"chainkit-llamacpp-{self.model_name}", daemon=True
        )
        self._worker.start()
        start = time.perf_counter()
        # Loaded on the worker too, so no other thread ever starts an OpenMP team for it.
        # Typed loosely: llama_cpp's TypedDicts for messages and chunks are narrower than the
        # OpenAI-shaped dicts chainkit passes and reads.
        try:
            kwargs = {"model_path": str(path), "verbose": False, **llama_kwargs}
            self.llama: Any = self._run(lambda: _CountingLlama(**kwargs))
        except BaseException:
            self.close()
            raise
        self.load_seconds = time.perf_counter() - start

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            if not self._abandoned:
                job()  # each job reports its own errors to its caller

    def _submit(self, job: Callable[[], None]) -> None:
        if self._closed:
            raise RuntimeError(
                f"the {self.model_name} engine was closed (clear_engines); call the model "
                "again to load it anew"
            )
        self._jobs.put(job)

    @property
    def closed(self) -> bool:
        """Whether `close` was called (the model must be loaded anew to be used again)."""
        return self._closed

    def close(self) -> None:
        """Stop the worker thread after the jobs already queued."""
        self._closed = True
        self._jobs.put(None)

    def abandon(self, timeout: float) -> None:
        """Stop the worker as soon as possible and wait up to ``timeout`` seconds for it."""
        self._abandoned = True
        self.close()
        self._worker.join(timeout)

    def _run(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the worker thread and return its result (or raise its error)."""
        future: Future[T] = Future()

        def job() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        self._submit(job)
        return future.result()

    def complete(self, messages: list[dict[str, Any]], params: Mapping[str, Any]) -> dict[str, Any]:
        """One chat completion (OpenAI-shaped dict with ``choices`` and ``usage``)."""
        return self._run(self._completion(messages, params))

    async def acomplete(
        self, messages: list[dict[str, Any]], params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Async `complete`: awaits the worker without holding a thread of the loop's pool
        (many waiting calls would otherwise fill the pool that ``asyncio.to_thread`` shares)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        generate = self._completion(messages, params)

        def job() -> None:
            try:
                result = generate()
            except BaseException as exc:
                _call_soon(loop, _settle, future, None, exc)
            else:
                _call_soon(loop, _settle, future, result, None)

        self._submit(job)
        return await future

    def _completion(
        self, messages: list[dict[str, Any]], params: Mapping[str, Any]
    ) -> Callable[[], dict[str, Any]]:
        params = _with_grammar(params)

        def generate() -> dict[str, Any]:
            self._begin()
            result: dict[str, Any] = self.llama.create_chat_completion(messages=messages, **params)
            return result

        return generate

    def stream(
        self, messages: list[dict[str, Any]], params: Mapping[str, Any]
    ) -> Generator[str | list[dict[str, Any]] | StreamEnd, None, None]:
        """Yield text deltas (str) and tool call deltas (OpenAI-style lists) as they are
        sampled, then one `StreamEnd`. Generation starts at the first ``next()``."""
        params = _with_grammar(params)
        out: queue.SimpleQueue[tuple[int, Any]] = queue.SimpleQueue()
        cancelled = threading.Event()

        def job() -> None:
            try:
                if not cancelled.is_set():
                    self._begin()
                    self._stream_into(out, cancelled, messages, params)
            except BaseException as exc:
                out.put((_ERROR, exc))
            else:
                out.put((_DONE, None))

        self._submit(job)
        try:
            while True:
                kind, value = out.get()
                if kind == _ITEM:
                    yield value
                elif kind == _ERROR:
                    raise value
                else:
                    return
        finally:
            cancelled.set()

    def _begin(self) -> None:
        self.generations += 1
        # Evaluate every prompt whole. llama-cpp-python would reuse the cached prefix of the
        # previous prompt and evaluate only the rest, but a token evaluated alone gets slightly
        # different numbers than the same token evaluated in a batch, enough to change a
        # temperature-0 reply now and then (5 of 24 prompts differed between the first and
        # second call). Reproducible replies cost one prompt evaluation per call.
        self.llama.reset()

    def _stream_into(
        self,
        out: queue.SimpleQueue[tuple[int, Any]],
        cancelled: threading.Event,
        messages: list[dict[str, Any]],
        params: Mapping[str, Any],
    ) -> None:
        finish_reason = "stop"
        chunks = self.llama.create_chat_completion(messages=messages, stream=True, **params)
        try:
            for chunk in chunks:
                choice = chunk["choices"][0]
                delta = choice["delta"]
                text = delta.get("content")
                if text:
                    out.put((_ITEM, text))
                elif delta.get("tool_calls"):
                    out.put((_ITEM, delta["tool_calls"]))
                if choice["finish_reason"] is not None:
                    finish_reason = choice["finish_reason"]
                if cancelled.is_set() or self._abandoned:
                    return
        finally:
            chunks.close()
        out.put((_ITEM, StreamEnd(finish_reason, *self._last_usage())))

    def _last_usage(self) -> tuple[int, int]:
        llama = self.llama
        sampled = llama.last_sampled
        completion = len(sampled)
        # The end-of-generation token is sampled but is not part of the completion.
        if completion and llama_cpp.llama_vocab_is_eog(llama._model.vocab, sampled[-1]):
            completion -= 1
        return llama.last_prompt_tokens, completion


_ITEM, _DONE, _ERROR = 0, 1, 2


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any) -> None:
    # RuntimeError: the loop has closed, so nobody waits for this result any more.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(fn, *args)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the awaiting task was cancelled
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _with_grammar(params: Mapping[str, Any]) -> Mapping[str, Any]:
    """Swap a JSON ``response_format`` for a cached grammar (building one costs milliseconds)."""
    fmt = params.get("response_format")
    if not fmt or fmt.get("type") != "json_object":
        return params
    schema = fmt.get("schema")
    # Not sort_keys: property order is the order the grammar makes the model write them in.
    key = None if schema is None else json.dumps(schema)
    out = {k: v for k, v in params.items() if k != "response_format"}
    out["grammar"] = _grammar(key)
    return out


@lru_cache(maxsize=64)
def _grammar(schema_json: str | None) -> LlamaGrammar:
    if schema_json is None:
        return LlamaGrammar.from_string(JSON_GBNF, verbose=False)
    return LlamaGrammar.from_json_schema(schema_json, verbose=False)


# ---- the per-process cache -------------------------------------------------------------------
_engines: dict[tuple[Any, ...], Engine] = {}
_engines_lock = threading.Lock()
_loading: dict[tuple[Any, ...], threading.Lock] = {}


def load_engine(
    path: Path, n_ctx: int, n_threads: int, model_kwargs: Mapping[str, Any]
) -> Engine:
    """The loaded model for these settings, loading it on first use (once, even under races)."""
    key = (str(path), n_ctx, n_threads, _freeze(model_kwargs))
    engine = _engines.get(key)
    if engine is not None:
        return engine
    with _engines_lock:
        engine = _engines.get(key)
        if engine is not None:
            return engine
        key_lock = _loading.setdefault(key, threading.Lock())
    # Load outside the global lock: another file may load concurrently.
    with key_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = Engine(path, {"n_ctx": n_ctx, "n_threads": n_threads, **model_kwargs})
            with _engines_lock:
                _engines[key] = engine
                _loading.pop(key, None)
    return engine


def cached_engines() -> list[Engine]:
    """The models loaded in this process."""
    with _engines_lock:
        return list(_engines.values())


def drop_engine(engine: Engine) -> None:
    """Forget one loaded model and stop its worker thread."""
    with _engines_lock:
        for key in [k for k, e in _engines.items() if e is engine]:
            del _engines[key]
    engine.close()


def clear_engines() -> None:
    """Forget every loaded model and stop its worker thread (the memory is freed once no model
    object refers to it; such a model loads anew on its next call)."""
    with _engines_lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.close()


@atexit.register
def _abandon_engines() -> None:
    # Runs before modules are torn down: a worker still inside llama.cpp when the model is
    # freed under it would crash the exiting process.
    for engine in cached_engines():
        engine.abandon(timeout=5.0)


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value
