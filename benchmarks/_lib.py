"""One scenario, two libraries: chainkit and langchain-core expose the same public names, so each
scenario is written once against a `Lib` namespace and run for both in the same process.

Also: the timing helpers every scenario shares (warm-up, repetitions, median and min-max).
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass
class Lib:
    """The public names a scenario needs, from one library."""

    name: str
    ChatPromptTemplate: Any
    StrOutputParser: Any
    AIMessage: Any
    AIMessageChunk: Any
    BaseChatModel: Any
    ChatResult: Any
    ChatGeneration: Any
    ChatGenerationChunk: Any


def chainkit_lib() -> Lib:
    from chainkit.messages import AIMessage, AIMessageChunk
    from chainkit.models.base import BaseChatModel
    from chainkit.models.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
    from chainkit.parsers import StrOutputParser
    from chainkit.prompts import ChatPromptTemplate

    return Lib("chainkit", ChatPromptTemplate, StrOutputParser, AIMessage, AIMessageChunk,
               BaseChatModel, ChatResult, ChatGeneration, ChatGenerationChunk)


def langchain_lib() -> Lib | None:
    try:
        from langchain_core.language_models import BaseChatModel
        from langchain_core.messages import AIMessage, AIMessageChunk
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
        from langchain_core.prompts import ChatPromptTemplate
    except ImportError:
        return None
    return Lib("langchain-core", ChatPromptTemplate, StrOutputParser, AIMessage, AIMessageChunk,
               BaseChatModel, ChatResult, ChatGeneration, ChatGenerationChunk)


def libs() -> list[Lib]:
    out = [chainkit_lib()]
    lc = langchain_lib()
    if lc is not None:
        out.append(lc)
    return out


def fake_model_class(lib: Lib, n_chunks: int = 500) -> type:
    """The issue's "minimal user-written subclass": builds a new message per call, native async,
    streams ``n_chunks`` chunks. The same source for both libraries."""

    class FakeModel(lib.BaseChatModel):  # type: ignore[misc, name-defined]
        @property
        def _llm_type(self) -> str:
            return "bench-fake"

        def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> Any:
            return lib.ChatResult(generations=[lib.ChatGeneration(message=lib.AIMessage(content="hello world"))])

        async def _agenerate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> Any:
            return lib.ChatResult(generations=[lib.ChatGeneration(message=lib.AIMessage(content="hello world"))])

        def _stream(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> Iterator[Any]:
            for _ in range(n_chunks):
                chunk = lib.ChatGenerationChunk(message=lib.AIMessageChunk(content="tok "))
                if run_manager is not None:
                    run_manager.on_llm_new_token("tok ", chunk=chunk)
                yield chunk

        async def _astream(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> AsyncIterator[Any]:
            for _ in range(n_chunks):
                chunk = lib.ChatGenerationChunk(message=lib.AIMessageChunk(content="tok "))
                if run_manager is not None:
                    await run_manager.on_llm_new_token("tok ", chunk=chunk)
                yield chunk

    return FakeModel


def build_chain(lib: Lib, n_chunks: int = 500) -> Any:
    prompt = lib.ChatPromptTemplate.from_messages(
        [("system", "You are a helpful assistant named {name}."), ("human", "{question}")]
    )
    return prompt | fake_model_class(lib, n_chunks)() | lib.StrOutputParser()


INPUT = {"name": "Bench", "question": "What is 2 + 2?"}


def time_per_call(
    fn: Callable[[], Any], *, calls: int, reps: int, after: Callable[[], Any] | None = None
) -> dict[str, float]:
    """Median/min/max seconds per call over ``reps`` repetitions of ``calls`` calls;
    ``after`` runs inside each repetition's timing, once its calls are done (e.g. a flush)."""
    fn()  # warm-up
    if after is not None:
        after()
    per: list[float] = []
    for _ in range(reps):
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        if after is not None:
            after()
        per.append((time.perf_counter() - t0) / calls)
    return {"median": statistics.median(per), "min": min(per), "max": max(per)}


def emit(
    scenario: str, unit: str, results: dict[str, dict[str, float]], note: str = "", scale: float = 1.0
) -> None:
    """Print one JSON line that `run.py` collects into RESULTS.md (values times ``scale``)."""
    scaled = {lib: {k: v * scale for k, v in r.items()} for lib, r in results.items()}
    print(json.dumps({"scenario": scenario, "unit": unit, "results": scaled, "note": note}))
    sys.stdout.flush()
