"""`RunnableConfig`: the per-call options every runnable accepts, and how they pass to children.

The hot path never copies a config: when nobody observes the call, a child receives its
parent's config object unchanged (or ``None``). Only the observed path (see
`chainkit.tracing.context`) builds per-child configs with step tags and the parent run.
"""

from __future__ import annotations

from typing import Any, TypedDict, cast
from uuid import UUID

from chainkit.tracing.context import ParentRun


class RunnableConfig(TypedDict, total=False):
    """Options for one call of a runnable, LangChain's names and meaning.

    Example:
        >>> chain.invoke({"topic": "owls"}, {"tags": ["demo"], "max_concurrency": 4})
    """

    tags: list[str]
    """Tags for this call and every child call."""
    metadata: dict[str, Any]
    """Metadata for this call and every child call."""
    callbacks: Any
    """Listeners (LangChain-style handlers or chainkit listeners); internally, the parent run."""
    run_name: str
    """Name of this call's run (not inherited by children)."""
    run_id: UUID
    """Id of this call's run (not inherited by children)."""
    max_concurrency: int | None
    """Upper bound on parallel calls made by batch and parallel steps."""
    recursion_limit: int
    """How deep runnables returned from lambdas may nest (default 25)."""
    configurable: dict[str, Any]
    """Values for configurable fields, passed through untouched."""


CONFIG_KEYS = frozenset(RunnableConfig.__annotations__)
DEFAULT_RECURSION_LIMIT = 25


def check_config(config: object) -> RunnableConfig | None:
    """Validate a user-supplied config once, at the public boundary; return it typed."""
    if config is None:
        return None
    if not isinstance(config, dict):
        raise TypeError(
            f"config must be a dict (RunnableConfig) or None, got {type(config).__name__}: "
            f"{config!r:.80}"
        )
    unknown = config.keys() - CONFIG_KEYS
    if unknown:
        raise ValueError(
            f"unknown config key(s) {sorted(unknown)}; valid keys: {sorted(CONFIG_KEYS)}"
        )
    for key, value in config.items():
        check = _VALUE_CHECKS.get(key)
        if check is not None and not check[0](value):
            raise check[2](
                f"config {key} must be {check[1]}, got {type(value).__name__}: {value!r:.80}"
            )
    return config  # type: ignore[return-value]


def _is_str_list(value: object) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(t, str) for t in value)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


# Keys whose values chainkit reads: a wrong value fails here, naming the key, rather than
# deep inside a call ("'int' object is not iterable"). callbacks takes many shapes.
# Limits raise ValueError (as batch always has), the others TypeError.
_VALUE_CHECKS: dict[str, tuple[Any, str, type[Exception]]] = {
    "tags": (_is_str_list, "a list of str", TypeError),
    "metadata": (lambda v: isinstance(v, dict), "a dict", TypeError),
    "configurable": (lambda v: isinstance(v, dict), "a dict", TypeError),
    "run_name": (lambda v: isinstance(v, str), "a str", TypeError),
    "run_id": (lambda v: isinstance(v, UUID), "a UUID", TypeError),
    "max_concurrency": (
        lambda v: v is None or _is_count(v), "a positive int or None", ValueError
    ),
    "recursion_limit": (_is_count, "a positive int", ValueError),
}


def merge_configs(*configs: RunnableConfig | None) -> RunnableConfig:
    """Merge configs left to right: tags concatenate (no duplicates), metadata and configurable
    merge, lists of callbacks concatenate, every other key is replaced by the later config."""
    out: dict[str, Any] = {}
    for cfg in configs:
        if not cfg:
            continue
        for key, value in cast(dict[str, Any], cfg).items():
            if key == "tags":
                tags: list[str] = out.get("tags", [])
                out["tags"] = [*tags, *(t for t in value if t not in tags)]
            elif key in ("metadata", "configurable"):
                out[key] = {**out.get(key, {}), **value}
            elif key == "callbacks" and out.get("callbacks"):
                out[key] = _merge_callbacks(out[key], value)
            else:
                out[key] = value
    return out  # type: ignore[return-value]


def _merge_callbacks(before: Any, after: Any) -> Any:
    """Lists concatenate; handlers bound to a step inside a traced call join its parent run
    for that step's subtree (`ParentRun.handlers`); otherwise the later value wins."""
    if isinstance(after, ParentRun) and _is_list(before):
        return after.with_handlers(before)
    if isinstance(before, ParentRun) and _is_list(after):
        return before.with_handlers(after)
    if _is_list(before) and _is_list(after):
        return [*before, *after]
    return after


def _is_list(value: object) -> bool:
    return isinstance(value, (list, tuple))


def config_list(
    config: RunnableConfig | list[RunnableConfig] | None, n: int
) -> list[RunnableConfig | None]:
    """Expand a batch config into one config per input; a list must have exactly ``n`` items."""
    if isinstance(config, list):
        if len(config) != n:
            raise ValueError(
                f"batch got {n} inputs but {len(config)} configs; pass one config or one per input"
            )
        return [check_config(c) for c in config]
    cfg = check_config(config)
    if cfg is not None and n > 1 and "run_id" in cfg:
        # A run id names exactly one run: keep it for the first input only.
        rest = cast(RunnableConfig, {k: v for k, v in cfg.items() if k != "run_id"})
        return [cfg, *([rest] * (n - 1))]
    return [cfg] * n
