"""`batch_with_progress` / `abatch_with_progress`: batch results in order, with a bar."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from chainkit.notebook import ProgressBar, abatch_with_progress, batch_with_progress
from chainkit.runnables import RunnableLambda


def double(x: int) -> int:
    return 2 * x


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError(f"bad input {x}")
    return x


def test_results_come_back_in_input_order_with_a_text_bar(
    no_notebook: None, capsys: pytest.CaptureFixture[str]
) -> None:
    gate = threading.Event()

    def slow_first(x: int) -> int:
        if x == 0:
            gate.wait(5)  # finishes last
        elif x == 3:
            gate.set()
        return x * 10

    out = batch_with_progress(RunnableLambda(slow_first, name="tens"), range(4))
    assert out == [0, 10, 20, 30]
    printed = capsys.readouterr().out
    frames = printed.rstrip("\n").split("\r")[1:]
    # the empty bar, one frame per finished input, and the final frame (with the total time)
    assert len(frames) == 6
    assert frames[0].startswith("tens [" + "·" * 24 + "] 0/4")
    assert frames[-1].startswith("tens [" + "█" * 24 + "] 4/4")
    assert printed.endswith("\n")


def test_max_concurrency_and_kwargs_pass_through(no_notebook: None) -> None:
    running, peak = 0, 0
    lock = threading.Lock()

    def tracked(x: int, suffix: str = "") -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        threading.Event().wait(0.01)
        with lock:
            running -= 1
        return f"{x}{suffix}"

    out = batch_with_progress(
        RunnableLambda(tracked).bind(suffix="!"), [1, 2, 3, 4], {"max_concurrency": 2}
    )
    assert out == ["1!", "2!", "3!", "4!"] and peak <= 2


def test_return_exceptions_counts_failures(
    no_notebook: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = batch_with_progress(RunnableLambda(fail_on_three), [1, 2, 3], return_exceptions=True)
    assert out[:2] == [1, 2] and isinstance(out[2], ValueError)
    assert "3/3 (1 failed)" in capsys.readouterr().out.split("\r")[-1]


def test_an_error_stops_the_batch_names_it_and_raises_itself(
    no_notebook: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValueError, match="bad input 3"):
        batch_with_progress(RunnableLambda(fail_on_three), [3], description="check")
    last = capsys.readouterr().out.split("\r")[-1]
    assert last.startswith("check [") and "stopped: ValueError" in last


def test_no_inputs(no_notebook: None) -> None:
    assert batch_with_progress(RunnableLambda(double), []) == []


def test_notebook_bar_is_an_html_progress_element(notebook: Any) -> None:
    out = batch_with_progress(RunnableLambda(double), [1, 2, 3], description="<b>x</b>")
    assert out == [2, 4, 6]
    html = notebook.html
    assert '<progress value="3" max="3"' in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>" not in html
    assert "3/3" in notebook.text


def test_notebook_bar_turns_red_on_failure(notebook: Any) -> None:
    batch_with_progress(RunnableLambda(fail_on_three), [3], return_exceptions=True)
    assert "#b91c1c" in notebook.html and "(1 failed)" in notebook.html


def test_progress_bar_checks_its_total() -> None:
    with pytest.raises(ValueError, match="total must be an int >= 0, got -1"):
        ProgressBar(-1)
    with pytest.raises(ValueError, match="got True"):
        ProgressBar(True)


async def test_abatch_with_progress(
    no_notebook: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async def slow_double(x: int) -> int:
        await asyncio.sleep(0.01 * (3 - x))
        return 2 * x

    out = await abatch_with_progress(RunnableLambda(slow_double), [0, 1, 2])
    assert out == [0, 2, 4]
    assert "3/3" in capsys.readouterr().out.split("\r")[-1]


async def test_abatch_with_progress_raises_the_original_error(notebook: Any) -> None:
    async def boom(x: Any) -> Any:
        raise KeyError(x)

    with pytest.raises(KeyError):
        await abatch_with_progress(RunnableLambda(boom), [1, 2])
    assert "stopped: KeyError" in notebook.html


async def test_sync_batch_with_progress_inside_a_running_loop(notebook: Any) -> None:
    async def triple(x: int) -> int:
        await asyncio.sleep(0)
        return 3 * x

    assert batch_with_progress(RunnableLambda(triple), [1, 2]) == [3, 6]
    assert "2/2" in notebook.text
