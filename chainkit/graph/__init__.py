"""The structure of chains: a networkx graph view, whole-chain validation, compiled plans,
the `ChainGraph` builder for DAGs, and drawings (Mermaid, ASCII, SVG, PNG).

``runnable.get_graph()`` returns a `Graph`; ``runnable.compile()`` checks the whole chain before
any call and returns a `CompiledChain` or raises `ChainValidationError` listing every problem.

Example:
    >>> chain = RunnableParallel(question=RunnablePassthrough()) | prompt | model
    >>> chain.compile()
    Traceback (most recent call last):
    ...
    chainkit.graph.errors.ChainValidationError: chain `RunnableSequence` failed validation ...
      1. [missing_variable] step 2 `ChatPromptTemplate` needs `context`; step 1 ...
"""

from chainkit.graph.builder import ChainGraph
from chainkit.graph.compiled import CompiledChain, Plan, compile_graph, compile_runnable
from chainkit.graph.errors import RULES, ChainValidationError, ChainWarning, Problem
from chainkit.graph.view import END, START, Edge, Graph, Node, graph_of

__all__ = [
    "END",
    "RULES",
    "START",
    "ChainGraph",
    "ChainValidationError",
    "ChainWarning",
    "CompiledChain",
    "Edge",
    "Graph",
    "Node",
    "Plan",
    "Problem",
    "compile_graph",
    "compile_runnable",
    "graph_of",
]
