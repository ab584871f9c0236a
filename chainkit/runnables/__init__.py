"""The Runnable protocol and its combinators: sequence, parallel, lambda, passthrough, branch,
retry, fallbacks and binding.

Every module here imports only the standard library and `chainkit.tracing.context`, so this
import stays cheap; pydantic schemas (`chainkit.runnables.schema`) load on first use.
"""

from chainkit.runnables._sync import run_coroutine_sync
from chainkit.runnables.base import Runnable, coerce_to_runnable
from chainkit.runnables.binding import RunnableBinding
from chainkit.runnables.branch import RunnableBranch
from chainkit.runnables.config import RunnableConfig
from chainkit.runnables.fallbacks import RunnableWithFallbacks
from chainkit.runnables.lambda_ import RunnableLambda, chain
from chainkit.runnables.parallel import RunnableParallel
from chainkit.runnables.passthrough import RunnableAssign, RunnablePassthrough, RunnablePick
from chainkit.runnables.retry import RunnableRetry
from chainkit.runnables.sequence import RunnableSequence

__all__ = [
    "Runnable",
    "RunnableAssign",
    "RunnableBinding",
    "RunnableBranch",
    "RunnableConfig",
    "RunnableLambda",
    "RunnableParallel",
    "RunnablePassthrough",
    "RunnablePick",
    "RunnableRetry",
    "RunnableSequence",
    "RunnableWithFallbacks",
    "chain",
    "coerce_to_runnable",
    "run_coroutine_sync",
]
