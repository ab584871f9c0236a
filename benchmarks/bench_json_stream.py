"""Streaming JSON parse cost against input size: JsonOutputParser fed a JSON document in
7-character chunks, for two sizes. Linear means the cost per character stays flat as the
document grows (the parser keeps its scan state between chunks instead of re-parsing)."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from _lib import emit


def document(n_items: int) -> str:
    return json.dumps({"items": [{"id": i, "name": f"item {i}", "ok": i % 2 == 0}
                                 for i in range(n_items)]})


def time_stream(parser: Any, text: str, reps: int) -> dict[str, float]:
    chunks = [text[i:i + 7] for i in range(0, len(text), 7)]
    per: list[float] = []
    last = None
    for _ in range(reps):
        t0 = time.perf_counter()
        for value in parser.transform(iter(chunks)):
            last = value
        per.append((time.perf_counter() - t0) / len(text))
    assert last == json.loads(text), "streamed value differs from the whole document"
    per.sort()
    return {"median": per[len(per) // 2], "min": per[0], "max": per[-1]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    quick = ap.parse_args().quick
    # langchain-core re-parses the whole text per chunk (quadratic): keep its side in seconds.
    sizes = (20, 80) if quick else (40, 320)
    reps = 2 if quick else 3
    from chainkit.parsers import JsonOutputParser

    parsers: dict[str, Any] = {"chainkit": JsonOutputParser()}
    try:
        from langchain_core.output_parsers import JsonOutputParser as LCJson

        parsers["langchain-core"] = LCJson()
    except ImportError:
        pass
    per_size: dict[int, dict[str, dict[str, float]]] = {}
    for n in sizes:
        text = document(n)
        per_size[n] = {name: time_stream(p, text, reps) for name, p in parsers.items()}
        emit(f"JSON streaming parse, {len(text)} chars in 7-char chunks", "µs/char",
             per_size[n], scale=1e6)
    small, large = sizes
    growth = {name: per_size[large][name]["median"] / per_size[small][name]["median"]
              for name in parsers}
    print("# cost per char, large/small document (1.0 = linear): "
          + ", ".join(f"{k} {v:.2f}" for k, v in growth.items()))


if __name__ == "__main__":
    main()
