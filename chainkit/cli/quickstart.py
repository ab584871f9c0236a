"""``chainkit quickstart``: LangChain's chat-model quickstart, run live on the local model.

Each section prints a heading, the code it runs, and what came back: messages in and a message
out, the callable form, ``batch``, ``generate`` with token usage, streaming, a
``prompt | model | parser`` chain and ``astream_log``. Temperature 0, a fixed seed and short
answers keep it deterministic and well under a minute on two cores.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pprint import pformat
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from chainkit.models.base import BaseChatModel

__all__ = ["SECTIONS", "run"]

SECTIONS = (
    "1. Messages in, a message out: invoke",
    "2. The callable form: model([...])",
    "3. Many conversations at once: batch",
    "4. generate: an LLMResult with token usage",
    "5. Streaming, token by token",
    "6. A chain: prompt | model | parser",
    "7. Watching a run: astream_log",
)
"""The section headings, in order."""

SYSTEM = "You are a helpful assistant that translates English to French."
SENTENCE = "Translate this sentence from English to French. I love programming."
SENTENCE_2 = "Translate this sentence from English to French. I love artificial intelligence."
_LOG_PATCHES_SHOWN = 4


def run(
    spec: str | None = None, *, max_tokens: int = 64, seed: int = 42, out: TextIO | None = None
) -> int:
    """Run the quickstart on ``init_chat_model(spec)``; return the exit code."""
    out = out or sys.stdout
    try:
        _Quickstart(out).run(spec, max_tokens=max_tokens, seed=seed)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        out.flush()
        print(f"\nchainkit quickstart failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


class _Quickstart:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.started = 0.0

    def say(self, text: str = "", end: str = "\n") -> None:
        self.out.write(text + end)
        self.out.flush()

    def section(self, index: int) -> None:
        self.say()
        self.say(f"=== {SECTIONS[index]} ===")
        self.started = time.perf_counter()

    def code(self, text: str) -> None:
        lines = text.strip("\n").splitlines()
        self.say("\n".join((">>> " if i == 0 else "... ") + line for i, line in enumerate(lines)))

    def took(self) -> None:
        self.say(f"({time.perf_counter() - self.started:.2f} s)")

    def run(self, spec: str | None, *, max_tokens: int, seed: int) -> None:
        from chainkit.messages import HumanMessage, SystemMessage

        model = self.load(spec, max_tokens=max_tokens, seed=seed)
        translate = [SystemMessage(SYSTEM), HumanMessage(SENTENCE)]
        translate_2 = [SystemMessage(SYSTEM), HumanMessage(SENTENCE_2)]

        self.section(0)
        self.code(
            'model.invoke([SystemMessage("You are a helpful assistant that translates English '
            'to French."),\n'
            '              HumanMessage("Translate this sentence from English to French. '
            'I love programming.")])'
        )
        self.say(repr(model.invoke(translate)))
        self.took()

        self.section(1)
        self.code(f"model([HumanMessage({SENTENCE!r})])")
        self.say(repr(model([HumanMessage(SENTENCE)])))
        self.took()

        self.section(2)
        self.code(
            f"system = SystemMessage({SYSTEM!r})\n"
            f"human_1 = HumanMessage({SENTENCE!r})\n"
            f"human_2 = HumanMessage({SENTENCE_2!r})\n"
            "model.batch([[system, human_1], [system, human_2]])"
        )
        for reply in model.batch([translate, translate_2]):
            self.say(repr(reply))
        self.took()

        self.section(3)
        self.code("result = model.generate([[system, human_1], [system, human_2]])\nresult")
        result = model.generate([translate, translate_2])
        self.say(repr(result))
        self.code("result.llm_output")
        self.say(pformat(result.llm_output, width=60, sort_dicts=False))
        self.took()

        self.section(4)
        self.code(
            "for chunk in model.stream([system, human_1]):\n"
            "    print(chunk.content, end='', flush=True)"
        )
        for chunk in model.stream(translate):
            self.say(str(chunk.content), end="")
        self.say()
        self.took()

        self.section(5)
        self.chain(model)
        self.took()

        self.section(6)
        self.astream_log(model)
        self.took()

    def load(self, spec: str | None, *, max_tokens: int, seed: int) -> BaseChatModel:
        from chainkit.models.init import ENV_VAR, init_chat_model
        from chainkit.models.llamacpp import ChatLlamaCpp

        effective = spec or os.environ.get(ENV_VAR, "").strip() or "local"
        kwargs: dict[str, Any] = {"temperature": 0, "max_tokens": max_tokens}
        if effective.split(":", 1)[0].strip().lower() in ("local", "llamacpp"):
            kwargs["seed"] = seed
        model = init_chat_model(spec, **kwargs)
        self.say(f"chainkit quickstart: chat models on {effective!r}")
        self.code(f"model = init_chat_model({spec!r}, " + ", ".join(
            f"{k}={v!r}" for k, v in kwargs.items()) + ")")
        if isinstance(model, ChatLlamaCpp):
            megabytes = model.model_file.stat().st_size / 1e6
            self.say(f"Loading {_display_name(model.model_name)} ({megabytes:.0f} MB)...", end="")
            start = time.perf_counter()
            model.load()
            self.say(f" done in {time.perf_counter() - start:.2f} s")
        else:
            self.say(repr(model))
        return model

    def chain(self, model: BaseChatModel) -> None:
        from chainkit.parsers import StrOutputParser
        from chainkit.prompts import ChatPromptTemplate

        self.code(
            "prompt = ChatPromptTemplate.from_messages([\n"
            '    ("system", "You are a helpful assistant that translates {input_language} to '
            '{output_language}."),\n'
            '    ("human", "{text}"),\n'
            "])\n"
            "chain = prompt | model | StrOutputParser()\n"
            'chain.invoke({"input_language": "English", "output_language": "French", '
            '"text": "I love programming."})'
        )
        prompt = ChatPromptTemplate.from_messages([
            ("system", "You are a helpful assistant that translates {input_language} to "
                       "{output_language}."),
            ("human", "{text}"),
        ])
        chain = prompt | model | StrOutputParser()
        answer = chain.invoke(
            {"input_language": "English", "output_language": "French",
             "text": "I love programming."}
        )
        self.say(repr(answer))

    def astream_log(self, model: BaseChatModel) -> None:
        from chainkit.runnables._sync import run_coroutine_sync

        if importlib.util.find_spec("chainkit.tracing.log") is None:
            self.say("(skipped: this chainkit has no chainkit.tracing.log)")
            return
        self.code(
            'async for patch in model.astream_log("Translate to French: I love programming."):\n'
            "    print(patch)"
        )

        async def collect() -> list[Any]:
            return [p async for p in model.astream_log("Translate to French: I love programming.")]

        patches = run_coroutine_sync(collect())
        for patch in patches[:_LOG_PATCHES_SHOWN]:
            self.say(repr(patch))
        hidden = len(patches) - _LOG_PATCHES_SHOWN - 1
        if hidden > 0:
            self.say(f"... {hidden} more patches ...")
        if len(patches) > _LOG_PATCHES_SHOWN:
            self.say(repr(patches[-1]))


def _display_name(model_name: str) -> str:
    """``"SmolLM2-135M-Instruct.Q4_1"`` -> ``"SmolLM2-135M-Instruct"``: drop a quantisation tag."""
    stem, dot, tag = model_name.rpartition(".")
    if dot and tag[:1].upper() in ("Q", "F", "I", "B") and any(c.isdigit() for c in tag):
        return stem
    return model_name
