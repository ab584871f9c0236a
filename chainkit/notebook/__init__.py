"""Notebook helpers: live streaming output, batch progress bars and rich HTML reprs.

- `stream_display(chain, input)` / `astream_display`: show a stream as it arrives (in place in
  a notebook, printed elsewhere) and return the aggregated output.
- `batch_with_progress(chain, inputs)` / `abatch_with_progress`: ``batch`` with a progress bar.
- `message_html`, `conversation_html`, `llm_result_html`: the HTML behind the notebook display
  of messages, ``ChatPromptValue`` and ``LLMResult`` (their ``_repr_html_``). Chains and graphs
  draw themselves as SVG (see `chainkit.graph`).

Example:
    >>> from chainkit.notebook import stream_display
    >>> answer = stream_display(prompt | model | StrOutputParser(), {"topic": "owls"})
"""

from chainkit.notebook._live import in_notebook
from chainkit.notebook.display import conversation_html, llm_result_html, message_html
from chainkit.notebook.progress import ProgressBar, abatch_with_progress, batch_with_progress
from chainkit.notebook.stream import StreamView, astream_display, stream_display

__all__ = [
    "ProgressBar",
    "StreamView",
    "abatch_with_progress",
    "astream_display",
    "batch_with_progress",
    "conversation_html",
    "in_notebook",
    "llm_result_html",
    "message_html",
    "stream_display",
]
