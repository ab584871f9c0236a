"""Tokens per second: `ChatLlamaCpp.stream` against llama-cpp-python called directly.

Both sides stream the same conversation with the same settings (temperature 0 and a fixed
seed, so both generate the same tokens; same context size and thread count) from the bundled
SmolLM2 model, and both evaluate the whole prompt on every call, as ChatLlamaCpp does so
that temperature-0 replies are reproducible. The direct side runs in a child process, as a
script using llama-cpp-python alone would: llama.cpp computes with OpenMP, and two threads of
one process that both compute slow each other down, so sharing a process would measure that
instead of chainkit (both points: see `chainkit.models._llamacpp_engine`). Runs are
interleaved (direct, chainkit, direct, ...) so drift in machine load hits both alike; the
medians are printed as a markdown table row. Target: ratio >= 0.97.

Usage:
    python benchmarks/bench_llamacpp_tokens.py           # 5 reps of 128 tokens
    python benchmarks/bench_llamacpp_tokens.py --quick   # 2 reps of 24 tokens
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from typing import Any

SYSTEM = "You are a helpful assistant."
QUESTION = "Write a short story about a lighthouse keeper who finds a message in a bottle."
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]


def direct_worker(config: dict[str, Any]) -> None:
    """The child process: load the model, then stream once per line read from stdin."""
    import llama_cpp

    llama = llama_cpp.Llama(
        model_path=config["model_path"], n_ctx=config["n_ctx"], n_threads=config["n_threads"],
        verbose=False,
    )
    print("ready", flush=True)
    for _ in sys.stdin:
        start = time.perf_counter()
        llama.reset()  # evaluate the whole prompt, as ChatLlamaCpp does for reproducibility
        text = "".join(
            chunk["choices"][0]["delta"].get("content") or ""
            for chunk in llama.create_chat_completion(
                messages=MESSAGES, stream=True, **config["params"]
            )
        )
        print(json.dumps({"seconds": time.perf_counter() - start, "text": text}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny run (2 reps, 24 tokens)")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 5)")
    parser.add_argument("--max-tokens", type=int, default=None, help="tokens per run (default 128)")
    parser.add_argument("--direct-worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.direct_worker:
        direct_worker(json.loads(args.direct_worker))
        return
    reps = args.reps or (2 if args.quick else 5)
    max_tokens = args.max_tokens or (24 if args.quick else 128)

    from chainkit.messages import convert_to_messages
    from chainkit.models.llamacpp import ChatLlamaCpp

    model = ChatLlamaCpp(temperature=0, max_tokens=max_tokens, seed=42).load()
    n_threads = model._engine_key()[2]
    params = {
        "temperature": 0, "max_tokens": max_tokens, "top_p": model.top_p, "top_k": model.top_k,
        "repeat_penalty": model.repeat_penalty, "seed": 42,
    }
    config = {"model_path": str(model.model_file), "n_ctx": model.n_ctx, "n_threads": n_threads,
              "params": params}
    child = subprocess.Popen(
        [sys.executable, __file__, "--direct-worker", json.dumps(config)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    if child.stdout.readline().strip() != "ready":
        raise SystemExit("the direct llama-cpp-python worker failed to start")
    messages = convert_to_messages(MESSAGES)

    def run_direct() -> tuple[float, str]:
        child.stdin.write("run\n")  # type: ignore[union-attr]
        child.stdin.flush()  # type: ignore[union-attr]
        reply = json.loads(child.stdout.readline())  # type: ignore[union-attr]
        return reply["seconds"], reply["text"]

    def run_chainkit() -> tuple[float, str, int]:
        start = time.perf_counter()
        parts, tokens = [], 0
        for chunk in model.stream(messages):
            parts.append(str(chunk.content))
            if chunk.usage_metadata:
                tokens = chunk.usage_metadata["output_tokens"]
        return time.perf_counter() - start, "".join(parts), tokens

    try:
        run_direct(), run_chainkit()  # warm up both: first-call allocations, prompt caches
        direct_s: list[float] = []
        chainkit_s: list[float] = []
        tokens = 0
        for _ in range(reps):
            seconds, direct_text = run_direct()
            direct_s.append(seconds)
            seconds, text, tokens = run_chainkit()
            chainkit_s.append(seconds)
            if text != direct_text:
                raise SystemExit(
                    f"outputs differ:\n direct:   {direct_text!r}\n chainkit: {text!r}"
                )
    finally:
        child.stdin.close()
        child.wait(timeout=30)
    direct_tps = tokens / statistics.median(direct_s)
    chainkit_tps = tokens / statistics.median(chainkit_s)
    print(f"model {model.model_name}, {n_threads} threads, {reps} reps interleaved, medians")
    print("| benchmark | tokens | llama-cpp-python tok/s | ChatLlamaCpp.stream tok/s | ratio |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| stream, temperature 0 | {tokens} | {direct_tps:.1f} | {chainkit_tps:.1f} "
        f"| {chainkit_tps / direct_tps:.3f} |"
    )


if __name__ == "__main__":
    main()
