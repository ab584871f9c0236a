"""The viewer's JSON API and page: listing, filtering, a trace's runs, feedback, datasets,
experiments; errors as JSON; writes only as JSON from the page's origin; loopback hosts only."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from chainkit.tracing.client import Client
from chainkit.tracing.store.records import ExperimentResult
from chainkit.viewer import create_app

XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'


@pytest.fixture
def http(db: Path) -> TestClient:
    return TestClient(create_app(db), base_url="http://127.0.0.1:8765")


def test_page_and_static_files_with_a_strict_policy(http: TestClient) -> None:
    page = http.get("/")
    assert page.status_code == 200 and "<title>chainkit traces</title>" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert http.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in http.get("/static/app.js").text  # content goes in as text only
    assert http.get("/static/app.css").status_code == 200


def test_trace_list_filters_and_detail(http: TestClient) -> None:
    traces = http.get("/api/traces").json()
    assert [t["name"] for t in traces] == ["divide", "RunnableSequence"]
    seq = traces[1]
    assert seq["total_tokens"] is not None and seq["status"] == "success"
    assert "<img src=x" in seq["inputs"]  # a text preview; the page renders it as text
    assert [t["name"] for t in http.get("/api/traces?status=error").json()] == ["divide"]
    assert [t["name"] for t in http.get("/api/traces?q=pwned").json()] == ["RunnableSequence"]
    # a trace matches when any of its runs does (here: the model's output)
    assert [t["name"] for t in http.get("/api/traces?q=hello").json()] == ["RunnableSequence"]
    assert http.get("/api/traces?project=nope").json() == []
    assert http.get("/api/projects").json()[0]["project"] == "web"
    detail = http.get(f"/api/traces/{seq['trace_id']}").json()
    assert [r["run_type"] for r in detail["runs"]] == ["chain", "prompt", "chat_model", "parser"]
    assert detail["runs"][0]["inputs"] == {"x": XSS}
    assert detail["feedback"] == [] and "cost" in detail


def test_errors_are_json(http: TestClient) -> None:
    missing = http.get("/api/traces/nope")
    assert missing.status_code == 404 and "no trace with id 'nope'" in missing.json()["error"]
    bad = http.get("/api/traces?limit=abc")
    assert bad.status_code == 400 and bad.json()["error"] == "limit must be an integer, got 'abc'"
    assert http.get("/api/traces?status=weird").status_code == 400
    assert http.get("/api/experiments/compare").status_code == 400


def test_feedback_and_dataset_writes(http: TestClient, db: Path) -> None:
    root = http.get("/api/traces?status=success").json()[0]
    res = http.post("/api/feedback", json={"run_id": root["id"], "score": 1, "comment": "nice"})
    assert res.status_code == 201, res.text
    assert res.json()["source"] == "viewer" and res.json()["key"] == "user_score"
    [fb] = Client(db).list_feedback(run_ids=[root["id"]])
    assert (fb.score, fb.comment) == (1.0, "nice")
    assert http.get("/api/traces").json()[1]["feedback"] == {"count": 1, "mean_score": 1.0}
    bad = http.post("/api/feedback", json={"run_id": "ghost", "score": 1})
    assert bad.status_code == 404 and "ghost" in bad.json()["error"]
    assert http.post("/api/feedback", json={"run_id": root["id"], "x": 1}).status_code == 400
    added = http.post("/api/datasets/add-runs", json={"dataset": "from-ui",
                                                      "run_ids": [root["id"]]})
    assert added.status_code == 201 and added.json()["dataset"]["example_count"] == 1
    assert [d["name"] for d in http.get("/api/datasets").json()] == ["from-ui"]
    [example] = http.get("/api/datasets/from-ui/examples").json()
    assert example["source_run_id"] == root["id"]


def test_writes_need_json_from_the_same_origin(http: TestClient) -> None:
    root = http.get("/api/traces").json()[0]
    form = http.post("/api/feedback", data={"run_id": root["id"]})
    assert form.status_code == 403 and "application/json" in form.json()["error"]
    cross = http.post("/api/feedback", json={"run_id": root["id"]},
                      headers={"origin": "http://evil.example"})
    assert cross.status_code == 403 and "cross-origin" in cross.json()["error"]
    same = http.post("/api/feedback", json={"run_id": root["id"], "score": 0},
                     headers={"origin": "http://127.0.0.1:8765"})
    assert same.status_code == 201


def test_foreign_host_names_are_refused(db: Path) -> None:
    rebinding = TestClient(create_app(db), base_url="http://attacker.example")
    assert rebinding.get("/api/traces").status_code == 400


def test_experiments_compare(http: TestClient, db: Path) -> None:
    client = Client(db)
    client.create_dataset("qa")
    ex = client.create_example({"q": 1}, "a", dataset="qa")
    exp = client.create_experiment("e1", "qa")
    client.add_experiment_results(exp, [ExperimentResult(exp.id, ex.id, None, "a", None, 1.0,
                                                         {"exact_match": 1.0})])
    [listed] = http.get("/api/experiments").json()
    assert listed["name"] == "e1"
    cmp = http.get(f"/api/experiments/compare?ids={exp.id}").json()
    assert cmp["summary"] == {exp.id: {"exact_match": 1.0}}
    assert cmp["rows"][0]["example"]["inputs"] == {"q": 1}
