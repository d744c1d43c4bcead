"""Fuzzing the gateway from its own OpenAPI document (Schemathesis) over a real server.

A gateway runs under uvicorn on loopback, in front of the fake upstreams, on SQLite and on
PostgreSQL. Schemathesis generates chat requests from ``daulat.gateway.openapi`` — valid
ones and invalid ones (every constraint of the document broken in turn) — plus the
reproductions of issue 12's findings, and every answer must:

* never be a 5xx (the fake upstreams are healthy: a 5xx is the gateway's own failure);
* conform to the document: a documented status, content type, headers and body schema;
  invalid requests refused with a 4xx in OpenAI's error shape; a stream made of
  ``chat.completion.chunk`` events ending in ``data: [DONE]``;
* leave one audit record per ``/v1/`` request (its ``x-request-id``);

and afterwards the audit chain verifies and the store's metered tokens equal the sum of
the ``usage`` the answers reported. The number of generated requests is bounded
(``DAULAT_FUZZ_CASES`` per mode and store, default 25) so the suite stays fast; raise it
for a longer hunt. Failures are collected (not shrunk) and reported together.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import httpx
import jsonschema
import pytest
import requests
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup

from daulat.gateway.audit import verify_chain
from daulat.gateway.openapi import openapi_document
from daulat.gateway.requests import ChatRequest
from daulat.store import Store
from tests.gateway.conftest import Fakes, Gateway, start_gateway, upstream_cfg

CASES = int(os.environ.get("DAULAT_FUZZ_CASES", "25"))
CHAT = "/v1/chat/completions"
MODEL = "assistant"
MAX_BODY = 65_536  # limits.max_body_bytes of the fuzzed gateway
# Statuses that refuse an invalid request (OpenAI answers 400; 413/415 for size and type).
REFUSALS = [400, 413, 415, 422]
# Generated requests carry this; the real key of each gateway replaces it when sent.
PLACEHOLDER_AUTH = {"authorization": "Bearer dk-placeholder", "api-key": "dk-placeholder"}

CONFIG = schemathesis.Config.from_dict({
    "checks": {
        "enabled": False,
        "not_a_server_error": {"enabled": True},
        "status_code_conformance": {"enabled": True},
        "content_type_conformance": {"enabled": True},
        "response_headers_conformance": {"enabled": True},
        "response_schema_conformance": {"enabled": True},
        "negative_data_rejection": {"enabled": True, "expected-statuses": REFUSALS},
    },
})


def _validator(name: str) -> jsonschema.Draft202012Validator:
    """A validator for one component of the document (its ``$ref``s resolved in place)."""
    doc = openapi_document()
    return jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": doc["components"]})


CHUNK = _validator("ChatCompletionChunk")
ERROR = _validator("Error")
REQUEST = _validator("ChatCompletionRequest")


@dataclass
class Tally:
    """What one fuzz run sent and saw, for the final checks and the report."""

    requests: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)  # of /v1/ requests
    prompt_tokens: int = 0
    completion_tokens: int = 0
    answered: dict[str, int] = field(default_factory=lambda: {"plain": 0, "stream": 0})

    def seen(self, status: int) -> None:
        self.requests += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1

    def fail(self, what: str, resp: Any, problem: str) -> None:
        body = resp.content[:200] if resp is not None else b""
        status = resp.status_code if resp is not None else "no answer"
        self.failures.append(f"* {problem}\n    {what}\n    -> {status} {body!r}")


@pytest.fixture(params=["sqlite", "postgresql"])
def fuzz_gateway(request: pytest.FixtureRequest, fakes: Fakes) -> Iterator[Gateway]:
    store: Store = request.getfixturevalue(
        "sqlite_store" if request.param == "sqlite" else "pg_store")
    gw = start_gateway(store, {"upstreams": upstream_cfg(fakes, ["jkt", "bth"]),
                               "limits": {"max_body_bytes": MAX_BODY}})
    yield gw
    gw.server.stop()


def _describe(method: str, path: str, body: Any, headers: dict[str, str] | None = None) -> str:
    text = body if isinstance(body, (str, bytes)) else json.dumps(body, ensure_ascii=True)
    ctype = (headers or {}).get("content-type", "")
    return f"{method} {path} {ctype} {text[:240]!r}"


def _check_stream(resp: Any, tally: Tally, what: str, want_usage: bool) -> None:
    """An SSE answer: chunk events, usage last when asked, then ``data: [DONE]``."""
    text = resp.content.decode("utf-8", "replace")
    events = [ln[len("data: "):] for ln in text.split("\n") if ln.startswith("data: ")]
    if not events or events[-1] != "[DONE]":
        last = events[-1][:200] if events else "nothing"
        tally.fail(what, resp, f"stream does not end with data: [DONE] (last event: {last})")
        return
    usage = None
    for ev in events[:-1]:
        try:
            chunk = json.loads(ev)
        except ValueError:
            tally.fail(what, resp, f"stream event is not JSON: {ev[:120]!r}")
            return
        problems = [e.message for e in CHUNK.iter_errors(chunk)]
        if problems:
            tally.fail(what, resp, f"stream event is not a chat.completion.chunk: {problems[:2]}")
            return
        if chunk.get("usage"):
            usage = chunk["usage"]
    if want_usage:
        if usage is None:
            tally.fail(what, resp, "stream_options.include_usage was set but no usage came")
            return
        tally.prompt_tokens += usage["prompt_tokens"]
        tally.completion_tokens += usage["completion_tokens"]


def _header(resp: Any, name: str) -> str:
    """A header of an httpx or a schemathesis response (whose values are lists)."""
    value = resp.headers.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value or "")


def _json(resp: Any) -> Any:
    return json.loads(resp.content)


def _own_checks(resp: Any, tally: Tally, what: str, path: str, body: Any) -> None:
    """What the document alone cannot say: audit ids, errors' shape, streams, usage."""
    if path.startswith("/v1/"):
        rid = _header(resp, "x-request-id")
        if not rid:
            tally.fail(what, resp, "no x-request-id header (every /v1/ request is audited)")
        else:
            tally.request_ids.append(rid)
    ctype = _header(resp, "content-type")
    if resp.status_code >= 400:
        try:
            problems = [e.message for e in ERROR.iter_errors(_json(resp))]
        except ValueError:
            problems = ["not JSON"]
        if problems:
            tally.fail(what, resp, f"error is not in OpenAI's shape: {problems[:2]}")
        return
    if path != CHAT or resp.status_code != 200:
        return
    stream = isinstance(body, dict) and body.get("stream") is True
    if stream != ctype.startswith("text/event-stream"):
        tally.fail(what, resp, f"stream={stream} answered with content-type {ctype!r}")
        return
    tally.answered["stream" if stream else "plain"] += 1
    if stream:
        want = bool((body.get("stream_options") or {}).get("include_usage"))
        _check_stream(resp, tally, what, want)
    else:
        usage = _json(resp)["usage"]
        tally.prompt_tokens += usage["prompt_tokens"]
        tally.completion_tokens += usage["completion_tokens"]


def _failure(exc: BaseException) -> str:
    """A schemathesis failure in one line: its title and what it says was wrong."""
    title = getattr(exc, "title", "") or type(exc).__name__
    message = " ".join(str(getattr(exc, "message", "") or exc).split())
    return f"{title}: {message[:300]}"


def _run_case(case: schemathesis.Case, gw: Gateway, tally: Tally, auth: dict[str, str]) -> None:
    what = _describe(case.method, case.path, case.body)
    try:
        resp = case.call(base_url=gw.url, headers=auth, timeout=20)
    except requests.RequestException as exc:
        tally.seen(0)
        tally.fail(what, None, f"connection failed: {exc!r}")
        return
    tally.seen(resp.status_code)
    try:
        case.validate_response(resp, headers=auth)
    except FailureGroup as group:
        for f in group.exceptions:
            tally.fail(what, resp, _failure(f))
    except AssertionError as exc:  # a single schemathesis Failure
        tally.fail(what, resp, _failure(exc))
    _own_checks(resp, tally, what, case.path, case.body)


@lru_cache(maxsize=1)
def _generated() -> tuple[schemathesis.Case, ...]:
    """The generated requests, valid then invalid; generated once and replayed against
    each store (generation costs more than sending)."""
    schema = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG)
    op = schema[CHAT]["POST"]
    cases: list[schemathesis.Case] = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        _collect(op, mode, cases)
    return tuple(cases)


def _collect(op: Any, mode: GenerationMode, cases: list[schemathesis.Case]) -> None:
    """Generate ``CASES`` requests of ``mode`` into ``cases``."""

    @settings(max_examples=CASES, deadline=None, database=None, derandomize=True,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy(mode, headers=PLACEHOLDER_AUTH),
           keep_model=st.integers(0, 9))
    def collect(case: schemathesis.Case, keep_model: int) -> None:
        body = case.body
        if isinstance(body, dict) and isinstance(body.get("model"), str) and body["model"]:
            # Most requests name the served model, so they get past routing to the
            # upstream (an invalid request must be refused before that, by validation).
            if keep_model != 9 or mode is GenerationMode.NEGATIVE:
                body["model"] = MODEL
            if mode is GenerationMode.POSITIVE and len(cases) % 3 == 0:
                body["stream"] = True  # a third of the valid requests stream (and the rest
                # as generated)
            if mode is GenerationMode.POSITIVE and body.get("stream") is True:
                # so that every answer reports the usage it is metered for
                body["stream_options"] = {"include_usage": True}
        cases.append(case)

    collect()


def _fuzz(gw: Gateway, tally: Tally) -> None:
    key = gw.keys["kominfo"]
    auth = {"authorization": f"Bearer {key}", "api-key": key}
    for case in _generated():
        case.headers = {**(case.headers or {}), **auth}
        _run_case(case, gw, tally, auth)


def _raw(gw: Gateway, tally: Tally, method: str, path: str, content: bytes | Any = b"",
         headers: dict[str, str] | None = None, auth: bool = True,
         expect: range = range(200, 500)) -> httpx.Response | None:
    """A hand-made request (the issue's reproductions); checked like the generated ones."""
    hdrs = {"content-type": "application/json", **(headers or {})}
    if auth:
        hdrs["authorization"] = f"Bearer {gw.keys['kominfo']}"
    shown = content if isinstance(content, (bytes, str)) else b"<streamed body>"
    what = _describe(method, path, shown[:120], hdrs)
    try:
        resp = httpx.request(method, gw.url + path, content=content, headers=hdrs, timeout=20)
    except httpx.HTTPError as exc:
        tally.seen(0)
        tally.fail(what, None, f"connection failed: {exc!r}")
        return None
    tally.seen(resp.status_code)
    if resp.status_code not in expect:
        tally.fail(what, resp, f"expected a status in {expect.start}..{expect.stop - 1}")
    try:
        body = json.loads(content) if isinstance(content, (bytes, str)) and content else None
    except (ValueError, RecursionError):
        body = None
    _own_checks(resp, tally, what, path, body)
    return resp


def _reproductions(gw: Gateway, tally: Tally) -> None:
    """Issue 12's findings as requests: each must end in a conformant, audited answer."""
    ok = range(200, 300)
    refused = range(400, 500)
    chat = {"model": MODEL, "messages": [{"role": "user", "content": "hi\u0000there"}]}
    for stream in (False, True):  # NUL byte (PostgreSQL rejected it: plain 500, no audit)
        _raw(gw, tally, "POST", CHAT, json.dumps({**chat, "stream": stream,
                                                  "stream_options": {"include_usage": True}}
                                                 if stream else chat).encode(),
             expect=range(200, 500))
    lone = b'{"model":"assistant","messages":[{"role":"user","content":"a\\ud800b"}]}'
    _raw(gw, tally, "POST", CHAT, lone, expect=range(200, 500))  # lone surrogate
    _raw(gw, tally, "POST", CHAT, b"[" * 100_000, expect=refused)  # deeply nested JSON
    _raw(gw, tally, "POST", CHAT, b"{not json", expect=refused)
    _raw(gw, tally, "GET", CHAT, expect=range(405, 406))
    _raw(gw, tally, "POST", "/v1/no-such-endpoint", b"{}", expect=range(404, 405))
    _raw(gw, tally, "POST", CHAT, json.dumps({**chat, "model": "no-such-model"}).encode(),
         expect=range(404, 405))  # model_not_found
    _raw(gw, tally, "POST", CHAT, json.dumps(chat).encode(),
         headers={"content-type": "text/plain"}, expect=refused)
    for bad in ({"content": 5}, {"content": "hi", "max_tokens": -5},
                {"content": "hi", "max_tokens": "lots"}, {"content": "hi", "temperature": 99}):
        extra = {k: v for k, v in bad.items() if k != "content"}
        body = {"model": MODEL, "messages": [{"role": "user", "content": bad["content"]}],
                **extra}
        for _ in range(3):  # three of these once opened the breaker for the whole country
            _raw(gw, tally, "POST", CHAT, json.dumps(body).encode(), expect=refused)
    _raw(gw, tally, "POST", CHAT, json.dumps({"model": MODEL, "messages": [
        {"role": "user", "content": "still served after the bad requests?"}]}).encode(),
        expect=ok)

    def chunked() -> Iterator[bytes]:  # over the limit, without a content-length
        yield b'{"model":"assistant","messages":[{"role":"user","content":"'
        for _ in range(64):
            yield b"x" * 8192
        yield b'"}]}'

    _raw(gw, tally, "POST", CHAT, chunked(), expect=range(413, 414))
    _raw(gw, tally, "POST", CHAT, json.dumps(chat).encode(), auth=False,
         expect=range(401, 402))
    for path in ("/v1/models", "/healthz", "/readyz", "/metrics", "/openapi.json"):
        _raw(gw, tally, "GET", path, expect=ok)


def _audited_ids(store: Store) -> list[str]:
    with store.engine.begin() as conn:
        return [r[0] for r in conn.execute(sa.text("SELECT request_id FROM daulat_audit"))]


def test_the_document_and_the_gateways_request_model_agree() -> None:
    """Every generated body, valid or not, is judged alike by the published schema and by
    the pydantic model the gateway validates with (so neither drifts from the other)."""
    differ = []
    for case in _generated():
        if not isinstance(case.body, dict):
            continue
        by_doc = not any(True for _ in REQUEST.iter_errors(case.body))
        try:
            ChatRequest.model_validate(case.body)
            by_model = True
        except ValidationError as exc:
            by_model, why = False, exc.errors()[0]
        if by_doc != by_model:
            reason = "" if by_model else f" ({why['loc']}: {why['msg']})"
            differ.append(f"document {'accepts' if by_doc else 'refuses'}, model "
                          f"{'accepts' if by_model else 'refuses'}{reason}: "
                          f"{json.dumps(case.body, ensure_ascii=True)[:300]}")
    assert len(_generated()) >= 2 * CASES - 5
    assert not differ, f"{len(differ)} disagreements:\n" + "\n".join(differ[:10])


def test_the_gateway_publishes_its_openapi_document(gateway: Gateway) -> None:
    resp = httpx.get(gateway.url + "/openapi.json", timeout=10)
    assert resp.status_code == 200, resp.text[:300]
    assert resp.json() == openapi_document()


def test_fuzzed_requests_are_answered_conformantly_and_audited(
        fuzz_gateway: Gateway, capsys: pytest.CaptureFixture[str]) -> None:
    gw = fuzz_gateway
    tally = Tally()
    _fuzz(gw, tally)
    _reproductions(gw, tally)

    report = verify_chain(gw.store.engine)
    audited = _audited_ids(gw.store)
    usage = gw.store.usage(tenant="kominfo")
    metered = (sum(r["prompt_tokens"] for r in usage), sum(r["completion_tokens"] for r in usage))
    with capsys.disabled():
        print(f"\nfuzz [{gw.store.engine.dialect.name}]: {tally.requests} requests, "
              f"statuses {dict(sorted(tally.by_status.items()))}, answered {tally.answered}, "
              f"{len(tally.failures)} failures")

    problems = list(tally.failures)
    # not vacuous: valid requests reached the upstream, streamed and not
    if tally.answered["plain"] < CASES // 5 or tally.answered["stream"] < 1:
        problems.append(f"too few answered chat requests to mean anything: {tally.answered}")
    fivexx = sum(n for s, n in tally.by_status.items() if s >= 500)
    if fivexx:
        problems.append(f"{fivexx} answers were 5xx")
    if not report.ok:
        problems.append(f"audit chain does not verify: {report.problems[:3]}")
    missing = sorted(set(tally.request_ids) - set(audited))
    if missing:
        problems.append(f"{len(missing)} /v1/ requests have no audit record, e.g. {missing[:3]}")
    stray = sorted(set(audited) - set(tally.request_ids))
    if stray:
        problems.append(f"{len(stray)} audit records match no request sent, e.g. {stray[:3]}")
    if len(audited) != len(set(audited)):
        problems.append(f"{len(audited) - len(set(audited))} request ids are audited twice")
    reported = (tally.prompt_tokens, tally.completion_tokens)
    if metered != reported:
        problems.append(f"metered (prompt, completion) tokens {metered} != reported {reported}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])
