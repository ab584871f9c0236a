"""What `compile()` reports: problems (errors) and warnings, each naming the steps involved.

```
ValueError
 └── ChainValidationError      compile() found one or more problems; .problems lists them all
UserWarning
 └── ChainWarning              compile() found something slow but correct (a buffered stream)
```

Every `Problem` has a ``rule`` (a short stable id to match on), the ``steps`` it concerns (as
the message names them: ``step 2 ChatPromptTemplate``, ``node answer``) and a ``message`` that
says what is wrong and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RULES", "ChainValidationError", "ChainWarning", "Problem"]

#: Every rule a problem or warning may carry, with what it checks.
RULES: dict[str, str] = {
    "missing_variable": "a step needs a dict key (a prompt variable, a picked key) that no "
    "upstream step provides",
    "type_mismatch": "a step cannot accept what the step before it produces",
    "cycle": "the graph has a cycle",
    "unreachable": "a node cannot be reached from an entry node",
    "no_path_to_finish": "a node's output never reaches the finish node",
    "duplicate_name": "two nodes have the same name",
    "unknown_node": "an edge, entry or finish names a node that does not exist",
    "no_entry": "the graph has no entry node",
    "no_finish": "the graph has no (single) finish node",
    "entry_has_input": "an entry node also has incoming edges",
    "ambiguous_input": "a node has more than one un-keyed incoming edge",
    "duplicate_key": "two edges into one node use the same key",
    "buffering": "a step buffers a stream that later steps could have streamed (a warning)",
}


@dataclass(frozen=True)
class Problem:
    """One finding of `compile()`.

    Attributes:
        rule: Which check found it, one of `RULES` (e.g. ``"missing_variable"``).
        steps: The steps or nodes involved, as the message names them
            (``("step 2 ChatPromptTemplate", "step 1 RunnableParallel")``).
        message: What is wrong, naming the steps, followed by how to fix it.

    Example:
        >>> problem = error.problems[0]
        >>> problem.rule, problem.steps
        ('missing_variable', ('step 2 ChatPromptTemplate', 'step 1 RunnableParallel'))
    """

    rule: str
    steps: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return self.message


class ChainValidationError(ValueError):
    """`compile()` found problems; ``problems`` lists every one (not just the first).

    Example:
        >>> try:
        ...     (RunnableParallel(question=RunnablePassthrough()) | prompt).compile()
        ... except ChainValidationError as error:
        ...     print(error.problems[0].message)
        step 2 `ChatPromptTemplate` needs `context`; step 1 `RunnableParallel` provides ...
    """

    def __init__(self, problems: list[Problem], what: str = "chain") -> None:
        self.problems = list(problems)
        lines = [f"{what} failed validation with {len(self.problems)} problem(s):"]
        lines += [f"  {i}. [{p.rule}] {p.message}" for i, p in enumerate(self.problems, 1)]
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[type[ChainValidationError], tuple[list[Problem]]]:
        return (type(self), (self.problems,))


class ChainWarning(UserWarning):
    """Issued by `compile()` for something that works but is slower than it could be."""
