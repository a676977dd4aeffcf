"""Model backends behind one call: OpenAI-compatible HTTP, BM25 retrieval, oracle, and local transformers."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx
import orjson

from ianvs_export.bm25 import BM25Index
from ianvs_export.candidate import Candidate
from ianvs_export.errors import BackendError, BackendTimeout

logger = logging.getLogger(__name__)

AnswerStatus = Literal["ok", "error", "timeout"]


@dataclass(frozen=True)
class Request:
    """What a backend is asked: the system prompt, Ianvs's x (prompt + query), and the raw query."""

    system: str
    x: str
    query: str
    reference: str = ""  # only the oracle reads it


@dataclass
class Answer:
    text: str = ""
    status: AnswerStatus = "ok"
    error: str = ""
    latency_s: float = 0.0
    ttft_s: float | None = None
    output_tokens: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    def generate(self, request: Request) -> Answer: ...

    def close(self) -> None: ...


def timed(backend: Backend, request: Request) -> Answer:
    """Call a backend; any failure becomes a failed Answer (status error/timeout), never an exception."""
    started = time.perf_counter()
    try:
        answer = backend.generate(request)
    except BackendTimeout as err:
        answer = Answer(status="timeout", error=str(err)[:300])
    except Exception as err:  # a candidate must never break the job: record it and go on
        logger.info("backend failed on a sample: %s", type(err).__name__)
        answer = Answer(status="error", error=f"{type(err).__name__}: {err}"[:300])
    answer.latency_s = time.perf_counter() - started
    if answer.ttft_s is None and answer.status == "ok":
        answer.ttft_s = answer.latency_s  # without streaming the first token is visible with the whole answer
    return answer


class OracleBackend:
    """Echoes the reference: the sanity upper bound of every similarity metric."""

    def generate(self, request: Request) -> Answer:
        return Answer(text=request.reference, output_tokens=len(request.reference.split()))

    def close(self) -> None:
        return None


class RetrievalBackend:
    """Answers with the train-split response whose query is closest under BM25: no model, the floor."""

    def __init__(self, queries: Sequence[str], responses: Sequence[str]) -> None:
        self.responses = list(responses)
        self.index = BM25Index(queries)

    def generate(self, request: Request) -> Answer:
        best = self.index.best(request.query)
        text = "" if best is None else self.responses[best]
        return Answer(text=text, output_tokens=len(text.split()))

    def close(self) -> None:
        return None


class OpenAIBackend:
    """POST {base_url}/chat/completions (llama.cpp server, Ollama, vLLM, ...), streaming for time to first token."""

    def __init__(self, candidate: Candidate, api_key: str | None) -> None:
        self.candidate = candidate
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        base = (candidate.base_url or "").rstrip("/")
        self.client = httpx.Client(base_url=base, headers=headers, timeout=candidate.timeout_s)

    def _body(self, request: Request) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.candidate.model,
            "messages": [{"role": "system", "content": request.system}, {"role": "user", "content": request.x}],
            "temperature": self.candidate.temperature,
            "max_tokens": self.candidate.max_tokens,
            "stream": self.candidate.stream,
        }
        if self.candidate.seed is not None:
            body["seed"] = self.candidate.seed
        if self.candidate.stream:
            body["stream_options"] = {"include_usage": True}  # exact token counts in the last chunk
        return body

    def generate(self, request: Request) -> Answer:
        try:
            if self.candidate.stream:
                return self._stream(self._body(request))
            return self._plain(self._body(request))
        except httpx.TimeoutException as err:
            raise BackendTimeout(f"no answer within {self.candidate.timeout_s:g} s") from err
        except httpx.HTTPError as err:
            raise BackendError(f"{type(err).__name__}: {err}") from err

    def _plain(self, body: dict[str, Any]) -> Answer:
        response = self.client.post("/chat/completions", json=body)
        _check_status(response)
        data = response.json()
        text = data["choices"][0]["message"].get("content") or ""
        usage = data.get("usage") or {}
        return Answer(text=text, output_tokens=int(usage.get("completion_tokens") or len(text.split())))

    def _stream(self, body: dict[str, Any]) -> Answer:
        started = time.perf_counter()
        deadline = started + self.candidate.timeout_s
        parts: list[str] = []
        ttft: float | None = None
        chunks, usage_tokens = 0, 0
        with self.client.stream("POST", "/chat/completions", json=body) as response:
            if response.status_code >= 400:
                response.read()
                _check_status(response)
            for line in response.iter_lines():
                if time.perf_counter() > deadline:
                    raise BackendTimeout(f"stream exceeded {self.candidate.timeout_s:g} s")
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                event = orjson.loads(payload)
                usage_tokens = int((event.get("usage") or {}).get("completion_tokens") or usage_tokens)
                for choice in event.get("choices") or []:
                    piece = (choice.get("delta") or {}).get("content") or ""
                    if piece:
                        if ttft is None:
                            ttft = time.perf_counter() - started
                        parts.append(piece)
                        chunks += 1
        # Servers send about one token per chunk; the usage block, when sent, is exact.
        return Answer(text="".join(parts), ttft_s=ttft, output_tokens=usage_tokens or chunks)

    def close(self) -> None:
        self.client.close()


def _check_status(response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise BackendError(f"HTTP {response.status_code}: {response.text[:200]}")


class TransformersBackend:
    """A local Hugging Face model (optional extra `smartco[transformers]`), greedy decoding."""

    def __init__(self, candidate: Candidate) -> None:
        try:
            from transformers import pipeline  # type: ignore[import-not-found,unused-ignore]
        except ImportError as err:
            raise BackendError("the transformers backend needs `pip install smartco[transformers]`") from err
        self.candidate = candidate
        self.pipe = pipeline("text-generation", model=candidate.model)

    def generate(self, request: Request) -> Answer:
        outputs = self.pipe(
            request.x, max_new_tokens=self.candidate.max_tokens, do_sample=False, return_full_text=False
        )
        text = str(outputs[0]["generated_text"])
        return Answer(text=text, output_tokens=len(self.pipe.tokenizer(text)["input_ids"]))

    def close(self) -> None:
        return None


def make_backend(
    candidate: Candidate, train_queries: Sequence[str], train_responses: Sequence[str], environ: Mapping[str, str]
) -> Backend:
    """The backend of a candidate (the retrieval index is built here: Ianvs's `train`); keys come from environ."""
    if candidate.backend == "oracle":
        return OracleBackend()
    if candidate.backend == "retrieval":
        return RetrievalBackend(train_queries, train_responses)
    if candidate.backend == "openai":
        api_key = environ.get(candidate.api_key_env) if candidate.api_key_env else None
        return OpenAIBackend(candidate, api_key)
    return TransformersBackend(candidate)


class FailingBackend:
    """Stands in for a backend that could not be built: every sample is recorded as failed with the reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def generate(self, request: Request) -> Answer:
        raise BackendError(self.reason)

    def close(self) -> None:
        return None
