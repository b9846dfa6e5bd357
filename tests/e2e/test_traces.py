"""One payment is one trace in Zipkin (SPEC §9): every hop, HTTP, gRPC and Kafka, parented right.

The platform exports to the session's real Zipkin (tests/e2e/conftest.py); the trace is read back from
Zipkin's API (`GET /api/v2/trace/{traceId}`), found from the trace id the BFF answered with.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from paysaga.contracts.topics import PAYMENT_EVENTS
from paysaga.devstack.zipkin import ZipkinServer
from tests.support import zipkin as zipkin_api
from tests.support.infra import Infra
from tests.support.kafka import read_topic
from tests.support.platform import RunningPlatform
from tests.support.saga import new_account, register

pytestmark = pytest.mark.e2e

CHECK = "paysaga.antifraud.v1.AntiFraud/Check"

Span = zipkin_api.Span


@pytest.fixture
def client(platform: RunningPlatform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url("bff"), timeout=10) as c:
        yield c


def service(span: Span) -> str:
    return str(span.get("localEndpoint", {}).get("serviceName", ""))


def tags(span: Span) -> dict[str, str]:
    return dict(span.get("tags", {}))


def find(spans: list[Span], svc: str, name: str, kind: str | None = None, event: str | None = None) -> list[Span]:
    """The spans of `svc` named `name` (Zipkin lower-cases names), of `kind`, about an `event` type."""
    return [
        s
        for s in spans
        if service(s) == svc
        and s["name"] == name.lower()
        and s.get("kind") == kind
        and (event is None or tags(s).get("cloudevents.event_type") == event)
    ]


def one(spans: list[Span], svc: str, name: str, kind: str | None = None, event: str | None = None) -> Span:
    found = find(spans, svc, name, kind, event)
    assert len(found) == 1, f"{len(found)} {kind} spans {name!r} of {svc} ({event}); trace: {summary(spans)}"
    return found[0]


def summary(spans: list[Span]) -> list[str]:
    return sorted(f"{service(s)}:{s.get('kind')}:{s['name']}" for s in spans)


def orphans(spans: list[Span]) -> list[Span]:
    ids = {s["id"] for s in spans}
    return [s for s in spans if s.get("parentId") and s["parentId"] not in ids]


def processed(spans: list[Span], svc: str, event_type: str) -> list[Span]:
    return find(spans, svc, f"process {PAYMENT_EVENTS}", "CONSUMER", event_type)


def complete(spans: list[Span]) -> bool:
    """Everything a completed payment leads to has arrived, and no span waits for its parent."""
    return (
        len(processed(spans, "query", "PaymentCompleted")) == 1
        and len(processed(spans, "wallet", "PaymentCompleted")) == 1
        and bool(find(spans, "callback", "send callback-events", "PRODUCER"))
        and bool(find(spans, "antifraud", CHECK, "SERVER"))
        and not orphans(spans)
    )


class Trace:
    """A trace's spans, by id, with their parents."""

    def __init__(self, spans: list[Span]) -> None:
        self.spans = spans
        self.by_id = {s["id"]: s for s in spans}

    def parent(self, span: Span) -> Span:
        return self.by_id[span["parentId"]]

    def children(self, of: Span, svc: str, name: str, kind: str | None = None) -> list[Span]:
        return [s for s in find(self.spans, svc, name, kind) if s.get("parentId") == of["id"]]


def test_one_payment_is_one_trace_from_the_bff_to_the_read_model(
    client: httpx.Client, zipkin: ZipkinServer, infra: Infra, platform: RunningPlatform
) -> None:
    zipkin_api.wait_healthy(zipkin.url)
    customer = register(client, top_up=1_000_000)
    response = customer.pay(250_00, new_account())
    assert response.status_code == 202, response.text
    payment_id = response.json()["paymentId"]
    trace_id = response.headers["x-trace-id"]  # how a payment's trace is found (also in the BFF's log line)
    assert customer.wait_final(payment_id)["status"] == "COMPLETED"

    spans = zipkin_api.wait_for_trace(zipkin.url, trace_id, complete)

    assert {s["traceId"] for s in spans} == {trace_id}
    assert {"bff", "wallet", "payment", "antifraud", "provider_sim", "callback", "query"} <= {service(s) for s in spans}
    # One root, the BFF's request; every other span's parent is in the trace.
    roots = [s for s in spans if not s.get("parentId")]
    assert [(service(s), s["name"], s.get("kind")) for s in roots] == [("bff", "post /api/v1/payments", "SERVER")]
    assert {k: tags(roots[0])[k] for k in ("http.request.method", "http.route", "http.response.status_code")} == {
        "http.request.method": "POST",
        "http.route": "/api/v1/payments",
        "http.response.status_code": "202",
    }
    trace = Trace(spans)
    check_reservation(trace, roots[0])
    check_consumers(trace)
    check_worker(trace)
    check_callback(trace)
    # Found from the payment alone: its records' headers, Payment's ops view, Zipkin's search by key.
    records = [r for r in read_topic(infra.kafka, PAYMENT_EVENTS) if r.key == payment_id]
    assert {r.headers["traceparent"].split("-")[1] for r in records} == {trace_id}
    assert (
        httpx.get(f"{platform.url('payment')}/v1/payments/{payment_id}", auth=platform.auth("payment")).json()[
            "traceId"
        ]
        == trace_id
    )
    found = httpx.get(
        f"{zipkin.url}/api/v2/traces", params={"annotationQuery": f"messaging.kafka.message.key={payment_id}"}
    ).json()
    assert [t[0]["traceId"] for t in found] == [trace_id]


def check_reservation(trace: Trace, root: Span) -> None:
    """BFF → Wallet: a client span in the BFF, Wallet's server span under it, the relay's send of
    PaymentInitiated under that."""
    (reserve,) = trace.children(root, "bff", "post", "CLIENT")
    (wallet,) = [s for s in trace.spans if service(s) == "wallet" and s.get("kind") == "SERVER"]
    assert trace.parent(wallet) is reserve
    initiated = one(trace.spans, "wallet", f"send {PAYMENT_EVENTS}", "PRODUCER", "PaymentInitiated")
    assert tags(initiated)["messaging.system"] == "kafka"
    assert tags(initiated)["messaging.destination.name"] == PAYMENT_EVENTS
    assert trace.parent(initiated) is wallet


def check_consumers(trace: Trace) -> None:
    """Every consumer's processing is a child of the send of the record it processed."""
    consumers = [s for s in trace.spans if s.get("kind") == "CONSUMER"]
    assert len(consumers) >= 6, summary(trace.spans)
    for span in consumers:
        sent = trace.parent(span)
        assert sent.get("kind") == "PRODUCER", f"{service(span)}:{span['name']} under {sent['name']}"
        assert tags(sent)["messaging.message.id"] == tags(span)["messaging.message.id"]
        assert tags(span)["messaging.consumer.group.name"]
    assert len(processed(trace.spans, "query", "PaymentInitiated")) == 1


def check_worker(trace: Trace) -> None:
    """Payment's worker continues from its consumer: the gRPC Check to Anti-Fraud, the provider call
    (each retried if the machine is slow: every try is in the trace, the one that answered has the
    server's span under it)."""
    received = one(trace.spans, "payment", f"process {PAYMENT_EVENTS}", "CONSUMER", "PaymentInitiated")
    steps = {s["id"] for s in trace.children(received, "payment", "advance payment")}
    assert steps, summary(trace.spans)
    checks = find(trace.spans, "payment", CHECK, "CLIENT")
    assert checks and all(c["parentId"] in steps for c in checks)
    assert all(tags(c)["rpc.system.name"] == "grpc" for c in checks)
    (allowed,) = [c for c in checks if tags(c)["rpc.response.status_code"] == "OK"]
    (checked,) = trace.children(allowed, "antifraud", CHECK, "SERVER")
    assert tags(checked)["rpc.response.status_code"] == "OK"
    calls = [s for s in find(trace.spans, "payment", "post", "CLIENT") if s["parentId"] in steps]
    assert calls and all(tags(s)["url.full"].endswith("/v1/payouts") for s in calls)
    (accepted,) = [s for s in calls if tags(s).get("http.response.status_code") == "201"]
    assert len(trace.children(accepted, "provider_sim", "post /v1/payouts", "SERVER")) == 1


def check_callback(trace: Trace) -> None:
    """The provider's callback: its client span, Callback's server span, the event it publishes,
    Payment's processing of it, the PaymentCompleted that raised, and Query's projection of that."""
    callback = one(trace.spans, "callback", "post /v1/provider/callbacks", "SERVER")
    assert service(trace.parent(callback)) == "provider_sim" and trace.parent(callback).get("kind") == "CLIENT"
    published = one(trace.spans, "callback", "send callback-events", "PRODUCER")
    assert trace.parent(published) is callback
    applied = one(trace.spans, "payment", "process callback-events", "CONSUMER")
    assert trace.parent(applied) is published
    completed = one(trace.spans, "payment", f"send {PAYMENT_EVENTS}", "PRODUCER", "PaymentCompleted")
    assert trace.parent(completed) is applied
    (projected,) = processed(trace.spans, "query", "PaymentCompleted")
    assert trace.parent(projected) is completed
