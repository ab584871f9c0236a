"""Token prices, for the cost column of the viewer and ``chainkit traces``.

USD per million tokens (input, output), list prices of common hosted models. A model matches
the longest known name it starts with (``gpt-4o-mini-2024-07-18`` -> ``gpt-4o-mini``); an
unknown model has no cost (None), and a local model costs nothing we could price. Add or
override prices with `set_price`.

Example:
    >>> cost("gpt-4o-mini", input_tokens=1000, output_tokens=500)
    0.00045
"""

from __future__ import annotations

__all__ = ["cost", "price_of", "set_price"]

_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o1-mini": (1.10, 4.40),
    "o1": (15.00, 60.00),
    "o3-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "o4-mini": (1.10, 4.40),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-3-haiku": (0.25, 1.25),
    "claude-3-opus": (15.00, 75.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-opus-4": (15.00, 75.00),
    "claude-haiku-4": (1.00, 5.00),
}


def set_price(model: str, input_per_million: float, output_per_million: float) -> None:
    """Price ``model`` (and every model whose name starts with it) in USD per million tokens.

    Raises:
        ValueError: A price is negative, or the name is empty.
    """
    if not model:
        raise ValueError("model must be a non-empty name")
    if input_per_million < 0 or output_per_million < 0:
        raise ValueError(
            f"prices must be >= 0, got input {input_per_million!r}, output {output_per_million!r}"
        )
    _PRICES[model] = (float(input_per_million), float(output_per_million))


def price_of(model: str | None) -> tuple[float, float] | None:
    """``(input, output)`` USD per million tokens for ``model``, or None if unknown."""
    if not model:
        return None
    name = model.rsplit("/", 1)[-1].lower()  # "openai/gpt-4o" -> "gpt-4o"
    best = max((k for k in _PRICES if name.startswith(k)), key=len, default=None)
    return _PRICES[best] if best is not None else None


def cost(model: str | None, input_tokens: int | None, output_tokens: int | None) -> float | None:
    """USD cost of one call, or None when the model's price is unknown."""
    price = price_of(model)
    if price is None or (input_tokens is None and output_tokens is None):
        return None
    return ((input_tokens or 0) * price[0] + (output_tokens or 0) * price[1]) / 1_000_000
