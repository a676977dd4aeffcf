"""Model backends against a real OpenAI-compatible HTTP server: streaming, plain, errors, timeouts, baselines."""

from __future__ import annotations

import importlib.util
import socket
from collections.abc import Iterator

import pytest
from ianvs.chat_server import ChatServer, Rule, Script

from ianvs_export.backend import (
    FailingBackend,
    OpenAIBackend,
    OracleBackend,
    Request,
    RetrievalBackend,
    make_backend,
    timed,
)
from ianvs_export.bm25 import BM25Index
from ianvs_export.candidate import Candidate
from ianvs_export.errors import BackendError

REQUEST = Request(system="Be brief.", x="Explain: why does it hang?", query="why does it hang?", reference="ref")


def _candidate(base_url: str, **settings: object) -> Candidate:
    return Candidate.model_validate(
        {"name": "local", "backend": "openai", "base_url": base_url, "model": "m", **settings}
    )


@pytest.fixture
def server() -> Iterator[ChatServer]:
    script = Script(
        {
            "m": [
                Rule(match="hang", reply="The socket is never closed, so the process waits.", chunk_delay_s=0.05),
                Rule(match="boom", status=500),
                Rule(match="slow", reply="late", delay_s=5.0),
            ]
        }
    )
    with ChatServer(script) as running:
        yield running


def test_streaming_answer_with_time_to_first_token(server: ChatServer) -> None:
    backend = OpenAIBackend(_candidate(server.base_url, stream=True), api_key=None)
    answer = timed(backend, REQUEST)
    assert answer.status == "ok"
    assert answer.text == "The socket is never closed, so the process waits."
    assert answer.output_tokens == 9  # the usage block of the last chunk
    assert answer.ttft_s is not None and 0 < answer.ttft_s < answer.latency_s  # chunks arrive 50 ms apart
    assert server.requests[-1]["stream"] is True


def test_plain_answer_and_pinned_decoding(server: ChatServer) -> None:
    candidate = _candidate(server.base_url, stream=False, max_tokens=77, seed=3, api_key_env="LOCAL_KEY")
    backend = OpenAIBackend(candidate, api_key="s3cret")
    answer = timed(backend, REQUEST)
    assert answer.status == "ok"
    assert answer.text.startswith("The socket is never closed")
    assert answer.ttft_s == answer.latency_s  # without streaming the first token comes with the whole answer
    body = server.requests[-1]
    assert body["stream"] is False
    assert body["temperature"] == 0.0
    assert body["max_tokens"] == 77
    assert body["seed"] == 3
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Explain: why does it hang?"},
    ]
    assert server.authorizations[-1] == "Bearer s3cret"


def test_http_error_is_a_failed_answer(server: ChatServer) -> None:
    for stream in (True, False):
        backend = OpenAIBackend(_candidate(server.base_url, stream=stream), api_key=None)
        answer = timed(backend, Request(system="", x="boom", query="boom"))
        assert answer.status == "error"
        assert "HTTP 500" in answer.error


def test_a_slow_server_is_a_timeout(server: ChatServer) -> None:
    for stream in (True, False):
        backend = OpenAIBackend(_candidate(server.base_url, stream=stream, timeout_s=0.3), api_key=None)
        answer = timed(backend, Request(system="", x="slow", query="slow"))
        assert answer.status == "timeout"
        assert answer.latency_s < 5.0


def test_a_closed_port_is_an_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = OpenAIBackend(_candidate(f"http://127.0.0.1:{port}/v1"), api_key=None)
    answer = timed(backend, REQUEST)
    assert answer.status == "error"
    assert "ConnectError" in answer.error


def test_api_key_comes_from_the_named_environment_variable(server: ChatServer) -> None:
    candidate = _candidate(server.base_url, stream=False, api_key_env="SMARTCO_TEST_KEY")
    backend = make_backend(candidate, [], [], {"SMARTCO_TEST_KEY": "from-env"})
    assert timed(backend, REQUEST).status == "ok"
    assert server.authorizations[-1] == "Bearer from-env"
    no_key = make_backend(candidate, [], [], {})
    assert timed(no_key, REQUEST).status == "ok"
    assert server.authorizations[-1] is None


def test_oracle_echoes_the_reference() -> None:
    assert timed(OracleBackend(), REQUEST).text == "ref"


def test_retrieval_answers_with_the_closest_train_response() -> None:
    backend = RetrievalBackend(
        ["def read_lines(path): open the file", "def merge_dicts(a, b): update a copy", "parse a version string"],
        ["Read a file into lines.", "Merge two dicts.", "Parse 1.2.3."],
    )
    assert timed(backend, Request(system="", x="", query="def merge(a, b): dict update")).text == "Merge two dicts."
    assert timed(backend, Request(system="", x="", query="zzz qqq")).text == ""  # no shared term: no answer


def test_bm25_scores_by_hand() -> None:
    index = BM25Index(["apple banana", "apple", "cherry"])
    # "banana" is only in document 0; "apple" in 0 and 1 with document 1 shorter: a query on apple prefers 1
    assert index.best("banana") == 0
    assert index.best("apple") == 1
    assert index.best("durian") is None


def test_failing_backend_records_its_reason() -> None:
    answer = timed(FailingBackend("candidate 'x' is not in models.yaml"), REQUEST)
    assert answer.status == "error"
    assert "not in models.yaml" in answer.error


def test_transformers_backend_without_the_extra_says_how_to_install_it() -> None:
    if importlib.util.find_spec("transformers") is not None:
        pytest.skip("transformers is installed here: the missing-extra message cannot be shown")
    with pytest.raises(BackendError, match=r"smartco\[transformers\]"):
        make_backend(Candidate(name="hf", backend="transformers", model="gpt2"), [], [], {})
