"""jinja2 templates, always rendered in a hardened sandbox.

Imported only when a jinja2 template is built, so ``import chainkit.prompts`` never imports
jinja2.

The environment is jinja2's `ImmutableSandboxedEnvironment` (no ``_private`` or internal
attributes, no mutation of lists and dicts), with ``StrictUndefined`` so a misspelt variable
is an error rather than an empty string, plus limits against templates that try to exhaust
memory or time:

- ``range()`` yields at most ``MAX_RANGE`` items per call and ``MAX_RANGE_TOTAL`` per render
  (so nested loops over ranges stop too);
- ``*`` and ``**`` refuse results that would be huge (``'a' * 10**9``, ``9 ** 9 ** 9``), and
  ``%``, ``str.format`` and the width-taking filters and string methods refuse widths over
  ``MAX_FORMAT_WIDTH``;
- every way to build a string or list from others refuses a result over
  ``MAX_OUTPUT_CHARS`` items: ``+``, ``~``, ``%``, ``str.format``, ``join`` (filter and
  method), ``sum``, ``replace``, so doubling a variable with ``{% set %}`` stops early too;
- the output stops at ``MAX_OUTPUT_CHARS``.

These limits are best effort, so treat jinja2 templates from untrusted sources with care,
and prefer f-strings for those: an f-string template cannot run code at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from string import Formatter
from typing import Any

from jinja2 import StrictUndefined, meta, nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.filters import FILTERS
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import pass_environment, pass_eval_context

from chainkit.prompts.formatting import MAX_FORMAT_WIDTH, format_spec_problem

#: Most items one ``range()`` call may produce.
MAX_RANGE = 100_000
#: Most ``range()`` items one render may produce, over all calls.
MAX_RANGE_TOTAL = 1_000_000
#: Most characters a render may produce (1 MiB).
MAX_OUTPUT_CHARS = 1 << 20
#: Largest integer (in bits) that ``*`` and ``**`` may produce.
MAX_INT_BITS = 100_000

_range_budget: ContextVar[list[int] | None] = ContextVar("chainkit_jinja_range", default=None)


class TemplateLimitError(SecurityError, ValueError):
    """A jinja2 template hit one of the sandbox's size limits.

    Both a jinja2 `SecurityError` and a `ValueError`, so either ``except`` catches it.
    """


def _limited_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise TemplateLimitError(
            f"range{args} has {len(rng)} items; a template may iterate at most {MAX_RANGE} "
            "per range()"
        )
    budget = _range_budget.get()
    if budget is not None:
        budget[0] -= len(rng)
        if budget[0] < 0:
            raise TemplateLimitError(
                f"the template iterated over more than {MAX_RANGE_TOTAL} range() items in "
                "one render"
            )
    return rng


def _check_width(width: Any, what: str) -> None:
    if isinstance(width, int) and width > MAX_FORMAT_WIDTH:
        raise TemplateLimitError(f"{what} width {width} is over the limit {MAX_FORMAT_WIDTH}")
    if isinstance(width, str) and len(width) > MAX_FORMAT_WIDTH:
        raise TemplateLimitError(
            f"{what} indent string of {len(width)} chars is over the limit {MAX_FORMAT_WIDTH}"
        )


def _check_spec(spec: Any, what: str) -> None:
    if isinstance(spec, str):
        problem = format_spec_problem(spec)
        if problem is not None:
            raise TemplateLimitError(f"{what} {spec!r:.80}: {problem}")


def _check_size(size: int, what: str) -> None:
    if size > MAX_OUTPUT_CHARS:
        raise TemplateLimitError(
            f"{what} would build {size} items/chars, over the limit {MAX_OUTPUT_CHARS}"
        )


def _check_replace(s: Any, old: Any, new: Any, count: Any = None) -> None:
    if isinstance(s, str) and isinstance(old, str) and isinstance(new, str):
        hits = s.count(old) if old else len(s) + 1
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        _check_size(len(s) + hits * max(len(new) - len(old), 0), "replace()")


def _filter_center(value: Any, width: int = 80) -> str:
    _check_width(width, "center")
    return str(FILTERS["center"](value, width))


def _filter_indent(s: str, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    _check_width(width, "indent")
    pad = width if isinstance(width, int) else len(width)
    _check_size(len(str(s)) + (str(s).count("\n") + 1) * pad, "indent")
    return str(FILTERS["indent"](s, width, first, blank))


def _filter_format(value: str, *args: Any, **kwargs: Any) -> str:
    if isinstance(value, str):
        _check_spec(value.replace("{", "").replace("}", ""), "format filter")
    return str(FILTERS["format"](value, *args, **kwargs))


def _filter_batch(value: Any, linecount: int, fill_with: Any = None) -> Any:
    if isinstance(linecount, int) and linecount > MAX_RANGE:
        raise TemplateLimitError(f"batch size {linecount} is over the limit {MAX_RANGE}")
    return FILTERS["batch"](value, linecount, fill_with)


def _filter_slice(value: Any, slices: int, fill_with: Any = None) -> Any:
    if isinstance(slices, int) and slices > MAX_RANGE:
        raise TemplateLimitError(f"slice count {slices} is over the limit {MAX_RANGE}")
    return FILTERS["slice"](value, slices, fill_with)


@pass_eval_context
def _filter_join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> Any:
    items = list(value)
    _check_join(d, items if attribute is None else [], "join")
    out = FILTERS["join"](eval_ctx, items, d, attribute)
    _check_size(len(out), "join")
    return out


def _check_join(sep: Any, items: list[Any], what: str) -> None:
    sizes = [len(x) if isinstance(x, str) else 0 for x in items]
    _check_size(sum(sizes) + len(str(sep)) * max(len(items) - 1, 0), what)


@pass_environment
def _filter_sum(environment: Any, iterable: Any, attribute: Any = None, start: Any = 0) -> Any:
    items = list(iterable)
    if _is_seq(start) and attribute is None:
        _check_size(len(start) + sum(len(x) for x in items if _is_seq(x)), "sum")
    return FILTERS["sum"](environment, items, attribute, start)


@pass_eval_context
def _filter_replace(eval_ctx: Any, s: Any, old: Any, new: Any, count: Any = None) -> Any:
    _check_replace(s, old, new, count)
    return FILTERS["replace"](eval_ctx, s, old, new, count)


_FILTER_OVERRIDES: dict[str, Callable[..., Any]] = {
    "batch": _filter_batch,
    "center": _filter_center,
    "format": _filter_format,
    "indent": _filter_indent,
    "join": _filter_join,
    "replace": _filter_replace,
    "slice": _filter_slice,
    "sum": _filter_sum,
}
# str methods whose first argument is a width.
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


def _is_seq(value: Any) -> bool:
    return isinstance(value, (str, bytes, list, tuple))


class _LimitedCodeGenerator(CodeGenerator):
    """Compiles ``~`` to `_Sandbox.limited_concat`: jinja2's sandbox cannot intercept it."""

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.limited_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _Sandbox(ImmutableSandboxedEnvironment):
    """jinja2's immutable sandbox plus chainkit's size limits (see the module docstring)."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = _LimitedCodeGenerator

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False)
        self.globals["range"] = _limited_range
        # lipsum(n) writes n paragraphs; nothing in a prompt needs it.
        self.globals.pop("lipsum", None)
        self.filters.update(_FILTER_OVERRIDES)

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "*":
            if _is_seq(left) and isinstance(right, int):
                _check_size(len(left) * right, "'*'")
            elif _is_seq(right) and isinstance(left, int):
                _check_size(len(right) * left, "'*'")
            elif (
                isinstance(left, int)
                and isinstance(right, int)
                and left.bit_length() + right.bit_length() > MAX_INT_BITS
            ):
                raise TemplateLimitError(f"'*' result over {MAX_INT_BITS} bits")
        elif operator_ == "**":
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and right > 0
                and abs(left) > 1
                and right * left.bit_length() > MAX_INT_BITS
            ):
                raise TemplateLimitError(f"'**' result over {MAX_INT_BITS} bits")
        elif operator_ == "+":
            if _is_seq(left) and _is_seq(right):
                _check_size(len(left) + len(right), "'+'")
        elif operator_ == "%" and isinstance(left, str):
            # A %-format string: "{" is literal text there, only widths matter.
            _check_spec(left.replace("{", "").replace("}", ""), "'%' formatting")
            args = right if isinstance(right, tuple) else (right,)
            _check_size(len(left) + sum(len(str(a)) for a in args), "'%' formatting")
        return super().call_binop(context, operator_, left, right)

    def limited_concat(self, parts: tuple[Any, ...]) -> str:
        """``a ~ b``: jinja2's own ``str_join``, refusing a result over the size limit."""
        texts = [str(part) for part in parts]
        _check_size(sum(map(len, texts)), "'~'")
        return "".join(texts)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            name = getattr(__obj, "__name__", "")
            if name in _WIDTH_METHODS and args:
                _check_width(args[0], f"str.{name}")
            elif name == "replace" and len(args) >= 2:
                _check_replace(owner, args[0], args[1], args[2] if len(args) > 2 else None)
            elif name == "join" and args:
                args = (list(args[0]), *args[1:])
                _check_join(owner, args[0], "str.join")
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapper = super().wrap_str_format(value)
        if wrapper is not None:
            # str.format runs in jinja2's sandboxed formatter (no private attributes); also
            # refuse huge or nested widths in its specs, as f-string templates do.
            fields = 0
            for _, field, spec, _ in _parse_format(value.__self__):
                if field is not None:
                    fields += 1
                    if spec:
                        _check_spec(spec, f"str.format field {{{field}}} spec")
            return _size_checked_format(wrapper, value.__self__, fields)
        return wrapper


def _size_checked_format(
    wrapper: Callable[..., str], template: str, fields: int
) -> Callable[..., str]:
    """``wrapper`` (a sandboxed ``str.format``), refusing results over the size limit: each
    field is counted as long as the longest argument (a field may repeat one: ``{0}{0}``)."""

    def limited(*args: Any, **kwargs: Any) -> str:
        values = [*args, *kwargs.values()]
        if len(args) == 1 and not kwargs and isinstance(args[0], Mapping):  # format_map
            values += list(args[0].values())
        longest = max((len(str(v)) for v in values), default=0)
        _check_size(len(template) + fields * longest, "str.format")
        return wrapper(*args, **kwargs)

    return limited


def _parse_format(text: str) -> list[tuple[str, str | None, str | None, str | None]]:
    try:
        return list(Formatter().parse(text))
    except ValueError:
        return []


_ENV: _Sandbox | None = None


def _env() -> _Sandbox:
    global _ENV
    if _ENV is None:
        _ENV = _Sandbox()
    return _ENV


class Jinja2Template:
    """A jinja2 template compiled once in chainkit's sandbox.

    Example:
        >>> t = Jinja2Template("{% for x in items %}{{ x }};{% endfor %} by {{ who }}")
        >>> t.variables
        ('items', 'who')
        >>> t.render({"items": [1, 2], "who": "Ada"})
        '1;2; by Ada'
    """

    __slots__ = ("_compiled", "template", "variables")

    def __init__(self, template: str) -> None:
        if not isinstance(template, str):
            raise TypeError(
                f"a jinja2 template must be a str, got {type(template).__name__}: {template!r:.80}"
            )
        env = _env()
        try:
            ast = env.parse(template)
        except TemplateSyntaxError as error:
            raise ValueError(
                f"invalid jinja2 template {template!r:.200}: {error.message} (line {error.lineno})"
            ) from None
        self.template = template
        self.variables: tuple[str, ...] = tuple(
            sorted(meta.find_undeclared_variables(ast) - env.globals.keys())
        )
        self._compiled = env.from_string(ast)

    def __repr__(self) -> str:
        return f"Jinja2Template({self.template!r})"

    def render(self, values: Mapping[str, Any]) -> str:
        """Render in the sandbox, stopping at ``MAX_OUTPUT_CHARS`` characters.

        Raises:
            jinja2.exceptions.SecurityError: The template touched something unsafe
                (``__class__``, ``_private`` attributes, mutation) or hit a limit
                (`TemplateLimitError`, also a `ValueError`).
            jinja2.exceptions.UndefinedError: The template read an undefined name.
        """
        token = _range_budget.set([MAX_RANGE_TOTAL])
        try:
            parts: list[str] = []
            size = 0
            for chunk in self._compiled.generate(values):
                size += len(chunk)
                if size > MAX_OUTPUT_CHARS:
                    raise TemplateLimitError(
                        f"the rendered template is over the limit of {MAX_OUTPUT_CHARS} chars"
                    )
                parts.append(chunk)
            return "".join(parts)
        finally:
            _range_budget.reset(token)


__all__ = ["MAX_OUTPUT_CHARS", "MAX_RANGE", "Jinja2Template", "TemplateLimitError"]
