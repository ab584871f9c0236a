"""The Runnable protocol and its combinators: sequence, parallel, lambda, passthrough, branch,
retry, fallbacks and binding."""

from chainkit.runnables.base import Runnable, coerce_to_runnable
from chainkit.runnables.config import RunnableConfig
from chainkit.runnables.lambda_ import RunnableLambda
from chainkit.runnables.parallel import RunnableParallel
from chainkit.runnables.sequence import RunnableSequence

__all__ = [
    "Runnable",
    "RunnableConfig",
    "RunnableLambda",
    "RunnableParallel",
    "RunnableSequence",
    "coerce_to_runnable",
]
