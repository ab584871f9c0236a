"""The trace viewer in a real headless browser (Debian's chromium, driven by Selenium through
/usr/bin/chromedriver; nothing is downloaded).

Starts the viewer on a free loopback port over a temporary database holding a few traces,
loads the page, opens a trace, checks that HTML in trace content stays text, leaves feedback
and adds the trace to a dataset through the page, and checks both landed in the database.

Needs ``apt-get install -y chromium chromium-driver`` and ``pip install selenium``; without them
the test is skipped, unless ``$CI`` is set, where it fails instead.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chainkit.evaluation import evaluate, exact_match
from chainkit.messages import AIMessage
from chainkit.models.fake import GenericFakeChatModel
from chainkit.parsers import StrOutputParser
from chainkit.prompts import ChatPromptTemplate
from chainkit.runnables import RunnableLambda
from chainkit.tracing import _enable
from chainkit.tracing._enable import tracing
from chainkit.tracing.client import Client

CHROMIUM = os.environ.get("CHAINKIT_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHAINKIT_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1400,1000",
)
XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "pip install selenium"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).exists() or shutil.which(path)):
            return f"{path} missing: apt-get install -y chromium chromium-driver"
    return None


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("viewer") / "traces.db"
    _enable._shutdown()
    model = GenericFakeChatModel(messages=itertools.cycle([AIMessage("hello world")]))
    chain = ChatPromptTemplate.from_messages([("human", "hi {x}")]) | model | StrOutputParser()
    with tracing(project="web", db_path=path):
        chain.invoke({"x": XSS})
        chain.invoke({"x": "second"}, {"run_name": "greeter"})
        with pytest.raises(ZeroDivisionError):
            RunnableLambda(lambda x: 1 / 0, name="divide").invoke(2)
    client = Client(path)
    client.create_dataset("capitals")
    client.create_example({"country": "France"}, "Paris", dataset="capitals")
    for name, answer in (("exp-paris", "Paris"), ("exp-lyon", "Lyon")):
        evaluate(RunnableLambda(lambda x, a=answer: a), "capitals", [exact_match],
                 client=client, experiment_name=name, print_summary=False)
    yield path
    _enable._shutdown()


@pytest.fixture(scope="module")
def server(db: Path) -> Iterator[str]:
    import uvicorn

    from chainkit.viewer import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(db), log_level="warning"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        assert time.monotonic() < deadline, "the viewer did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run in CI: {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="chainkit-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait(driver: Any, condition: Any, what: str, timeout: float = 10.0) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition, message=f"timed out waiting for {what}")


def test_open_a_trace_leave_feedback_add_to_dataset(browser: Any, server: str, db: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(server)
    _wait(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"),
          "the trace list")
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.trace-row")) == 5  # + 2 experiments
    Select(browser.find_element(By.ID, "filter-project")).select_by_value("web")
    browser.find_element(By.ID, "filter-apply").click()
    _wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr.trace-row")) == 3,
          "the project filter")
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.trace-row")
    assert [r.find_elements(By.TAG_NAME, "td")[1].text.split("\n")[0] for r in rows] == [
        "divide", "greeter", "RunnableSequence"
    ]
    assert "error" in rows[0].text

    # search narrows the list (server-side, across every run of a trace)
    box = browser.find_element(By.ID, "filter-q")
    box.send_keys("pwned")
    browser.find_element(By.ID, "filter-apply").click()
    _wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr.trace-row")) == 1,
          "the search to apply")
    browser.find_element(By.CSS_SELECTOR, "tr.trace-row").click()

    # the run tree with its waterfall
    _wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".run-row")) == 4, "run tree")
    tree = browser.find_elements(By.CSS_SELECTOR, ".run-row")
    assert [t.text.split()[:2] for t in tree] == [
        ["RunnableSequence", "chain"], ["ChatPromptTemplate", "prompt"],
        ["GenericFakeChatModel", "chat_model"], ["StrOutputParser", "parser"],
    ]
    assert len(browser.find_elements(By.CSS_SELECTOR, ".bar.model")) == 1
    summary = browser.find_element(By.ID, "trace-summary").text
    assert "Framework overhead" in summary and "python 3." in summary

    # trace content is shown as text: the injected markup is visible, and inert
    assert "<script>window.__pwned=1</script>" in browser.find_element(By.ID, "run-detail").text
    tree[1].click()  # the prompt: its output messages are rendered as messages
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#run-detail .message.human"),
          "the prompt's messages")
    message = browser.find_element(By.CSS_SELECTOR, "#run-detail .message.human .content")
    assert message.text == "hi " + XSS
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.find_elements(By.CSS_SELECTOR, "#run-detail img, #run-detail script") == []

    # a model run shows its messages readably, with usage
    tree[2].click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#run-detail .message.ai"),
          "the model's reply")
    assert "hello world" in browser.find_element(By.CSS_SELECTOR, ".message.ai").text
    assert "Tokens" in browser.find_element(By.ID, "run-detail").text

    # feedback on the root run, with a comment
    browser.find_elements(By.CSS_SELECTOR, ".run-row")[0].click()
    browser.find_element(By.ID, "feedback-comment").send_keys("great answer")
    browser.find_element(By.ID, "feedback-up").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#feedback-list li"),
          "the feedback to show")
    assert "great answer" in browser.find_element(By.ID, "feedback-list").text

    # add the trace to a new dataset
    browser.find_element(By.ID, "dataset-name").send_keys("golden")
    browser.find_element(By.ID, "add-to-dataset").click()
    _wait(browser, lambda d: "Added to dataset" in d.find_element(By.ID, "status-msg").text,
          "the dataset confirmation")

    client = Client(db)
    root = client.list_runs(search="pwned", is_root=True)[0]
    [fb] = client.list_feedback(run_ids=[root.id])
    assert (fb.key, fb.score, fb.comment, fb.source) == ("user_score", 1.0, "great answer",
                                                          "viewer")
    [example] = client.list_examples("golden")
    assert example.source_run_id == root.id and example.outputs == "hello world"

    # the experiments tab lists the new dataset, and compares two experiments side by side
    browser.find_element(By.ID, "tab-experiments").click()
    _wait(browser, lambda d: "golden" in d.find_element(By.ID, "dataset-list").text,
          "the dataset list")
    assert not browser.find_element(By.ID, "view-traces").is_displayed()
    # the experiment list loads separately from the dataset list: wait for it too
    _wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".exp-pick")) >= 2,
          "the experiment list")
    for box in browser.find_elements(By.CSS_SELECTOR, ".exp-pick"):
        box.click()
    browser.find_element(By.ID, "compare").click()
    table = _wait(browser, lambda d: d.find_elements(By.ID, "comparison-table"), "comparison")
    text = table[0].text
    assert "exp-paris" in text and "exp-lyon" in text
    assert "exact_match: 1.000" in text and "exact_match: 0.000" in text
