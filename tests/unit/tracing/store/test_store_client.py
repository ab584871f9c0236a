"""`Client`: runs, feedback, datasets, examples and experiments round-trip through the file;
errors name the missing id or dataset."""

from __future__ import annotations

import contextlib
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from chainkit.runnables import RunnableLambda
from chainkit.tracing._enable import tracing
from chainkit.tracing.client import Client, NotFoundError
from chainkit.tracing.store.records import ExperimentResult


@pytest.fixture
def client(db_path: Path, chain_factory: Any) -> Client:
    chain = chain_factory()
    with tracing(project="alpha", db_path=db_path):
        chain.invoke({"x": "one"})
        chain.invoke({"x": "two"}, {"run_name": "named"})
    with tracing(project="beta", db_path=db_path), contextlib.suppress(ZeroDivisionError):
        RunnableLambda(lambda x: 1 / 0, name="divide").invoke(1)
    return Client(db_path)


def test_list_runs_filters(client: Client) -> None:
    roots = client.list_runs(is_root=True)
    assert [r.name for r in roots] == ["divide", "named", "RunnableSequence"]  # newest first
    assert [r.name for r in client.list_runs(project="alpha", is_root=True)] == [
        "named", "RunnableSequence"
    ]
    assert [r.name for r in client.list_runs(error=True)] == ["divide"]
    assert len(client.list_runs(project="alpha")) == 8
    assert len(client.list_runs(project="alpha", limit=3)) == 3
    assert [r.name for r in client.list_runs(name="named")] == ["named"]
    assert len(client.list_runs(run_type="chat_model")) == 2
    assert [r.inputs for r in client.list_runs(search="two", is_root=True)] == [{"x": "two"}]
    assert client.list_runs(start_time=datetime.now(timezone.utc)) == []
    assert len(client.list_runs(start_time=time.time() - 60)) == 9
    assert len(client.list_runs(is_root=False)) == 6
    with pytest.raises(ValueError, match="limit must be a positive int, got 0"):
        client.list_runs(limit=0)


def test_read_run_and_trace(client: Client) -> None:
    root = client.list_runs(name="named")[0]
    assert client.read_run(root.id) == root
    trace = client.read_trace(root.trace_id)
    assert [r.name for r in trace] == [
        "named", "ChatPromptTemplate", "GenericFakeChatModel", "StrOutputParser"
    ]
    assert all(r.parent_run_id == root.id for r in trace[1:])
    d = root.to_dict()
    assert d["latency_ms"] == root.latency_ms and isinstance(d["start_time"], str)
    with pytest.raises(NotFoundError, match="no run with id 'nope'"):
        client.read_run("nope")
    with pytest.raises(NotFoundError, match="no trace with id 'nope'"):
        client.read_trace("nope")
    assert [p["project"] for p in client.list_projects()] == ["beta", "alpha"]


def test_feedback_round_trip(client: Client) -> None:
    run = client.list_runs(name="named")[0]
    fb = client.create_feedback(run.id, "correctness", score=True, comment="right")
    client.create_feedback(run.id, "label", value={"tag": "greeting"})
    other = client.list_runs(name="divide")[0]
    client.create_feedback(other.id, "correctness", score=0)
    assert fb.score == 1.0 and fb.source == "api"
    assert [(f.key, f.score, f.value) for f in client.list_feedback(run_ids=[run.id])] == [
        ("correctness", 1.0, None), ("label", None, {"tag": "greeting"})
    ]
    assert [f.run_id for f in client.list_feedback(key="correctness")] == [run.id, other.id]
    assert client.list_feedback(run_ids=[]) == []
    with pytest.raises(NotFoundError, match="no run with id 'missing'"):
        client.create_feedback("missing", "k", score=1)
    with pytest.raises(ValueError, match="score must be a finite number"):
        client.create_feedback(run.id, "k", score=float("inf"))
    with pytest.raises(ValueError, match="feedback key must be a non-empty string"):
        client.create_feedback(run.id, "", score=1)
    with pytest.raises(ValueError, match=r"source must be one of \['api', 'viewer', 'evaluator'\]"):
        client.create_feedback(run.id, "k", source="web")


def test_datasets_and_examples_round_trip(client: Client) -> None:
    ds = client.create_dataset("qa", description="questions")
    assert (ds.name, ds.description, ds.example_count) == ("qa", "questions", 0)
    ex = client.create_example({"x": "hi"}, {"output": "hello"}, dataset="qa")
    roots = client.list_runs(project="alpha", is_root=True)
    added = client.add_runs_to_dataset([r.id for r in roots], "qa")
    assert [e.source_run_id for e in added] == [r.id for r in roots]
    assert added[0].outputs == roots[0].outputs == "hello world"
    examples = client.list_examples("qa")
    assert [e.id for e in examples] == [ex.id, *(e.id for e in added)]
    assert client.read_dataset(ds.id).example_count == 3
    assert [d.name for d in client.list_datasets()] == ["qa"]
    assert client.list_examples(ds) == examples
    made = client.add_runs_to_dataset([roots[0].id], "fresh", create=True)
    assert client.read_dataset("fresh").example_count == len(made) == 1


def test_dataset_errors_name_the_dataset(client: Client) -> None:
    client.create_dataset("qa")
    with pytest.raises(ValueError, match="dataset 'qa' already exists"):
        client.create_dataset("qa")
    with pytest.raises(NotFoundError, match="no dataset 'nope'; datasets: 'qa'"):
        client.list_examples("nope")
    with pytest.raises(NotFoundError, match="no dataset 'nope'"):
        client.create_example({"x": 1}, dataset="nope")
    with pytest.raises(NotFoundError, match="no run with id 'ghost'"):
        client.add_runs_to_dataset(["ghost"], "qa")
    with pytest.raises(ValueError, match="dataset name must be a non-empty string"):
        client.create_dataset("")
    with pytest.raises(ValueError, match="got 2 inputs but 1 outputs"):
        client.create_examples([1, 2], [1], dataset="qa")


def test_experiments_round_trip_and_compare(client: Client) -> None:
    client.create_dataset("qa")
    e1, e2 = (client.create_example({"x": i}, i, dataset="qa") for i in range(2))
    a = client.create_experiment("exp-a", "qa", metadata={"model": "m1"})
    b = client.create_experiment("exp-b", "qa")
    client.add_experiment_results(a, [
        ExperimentResult(a.id, e1.id, None, 0, None, 1.0, {"exact_match": 1.0}),
        ExperimentResult(a.id, e2.id, None, 5, None, 1.0, {"exact_match": 0.0}),
    ])
    client.add_experiment_results("exp-b", [
        ExperimentResult(b.id, e1.id, None, 0, None, 2.0, {"exact_match": 1.0}),
    ])
    assert [e.name for e in client.list_experiments("qa")] == ["exp-b", "exp-a"]
    assert client.read_experiment("exp-a").metadata == {"model": "m1"}
    cmp = client.compare_experiments(["exp-a", "exp-b"])
    assert cmp["summary"] == {a.id: {"exact_match": 0.5}, b.id: {"exact_match": 1.0}}
    assert [r["example_id"] for r in cmp["rows"]] == [e1.id, e2.id]
    assert set(cmp["rows"][0]["results"]) == {a.id, b.id}
    with pytest.raises(ValueError, match="experiment 'exp-a' already exists"):
        client.create_experiment("exp-a", "qa")
    with pytest.raises(NotFoundError, match="no experiment 'zzz'; experiments: 'exp-b', 'exp-a'"):
        client.read_experiment("zzz")


def test_client_sees_runs_still_queued(db_path: Path) -> None:
    with tracing(project="p", db_path=db_path) as store:
        assert store is not None
        RunnableLambda(lambda x: x, name="fresh").invoke(1)
        # no explicit flush: the client flushes the process's store before reading
        assert [r.name for r in Client(db_path).list_runs()] == ["fresh"]
