"""The saga view's fan-out (services/ops/saga.py) with fake services: what does not answer is named
in `unavailable` and the notes, never an error; an unknown payment is a 404 only when Payment and
the DWH both answered and neither knows it."""

from __future__ import annotations

from typing import Any, cast

import orjson
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from paysaga.platform.http_client import HttpResponse, HttpTransportError
from paysaga.platform.problems import Problem
from paysaga.services.ops.kafka_clients import OpsKafka
from paysaga.services.ops.peers import Peers
from paysaga.services.ops.saga import HISTORIES, SagaView, trace_url

PAYMENT = "7f0c3b1e-0000-4000-8000-000000000001"
AT = "2026-01-01T12:00:00+00:00"


def _answer(body: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(status, CIMultiDictProxy(CIMultiDict()), orjson.dumps(body))


class FakePeer:
    def __init__(self, name: str, routes: dict[str, Any], down: bool) -> None:
        self.name, self.routes, self.down = name, routes, down

    async def send(self, method: str, path: str, **kwargs: Any) -> HttpResponse:
        if self.down:
            raise HttpTransportError("connection refused")
        for prefix, body in self.routes.items():
            if path.startswith(prefix):
                return _answer(body)
        return _answer({"detail": "no route"}, 404)


class FakePeers:
    def __init__(self, peers: dict[str, FakePeer]) -> None:
        self._peers = peers

    def __contains__(self, name: object) -> bool:
        return name in self._peers

    def __getitem__(self, name: str) -> FakePeer:
        return self._peers[name]


class DownKafka:
    def cluster_view(self, **kwargs: Any) -> Any:
        raise TimeoutError("no broker")


def history(service: str, *, known: bool) -> dict[str, Any]:
    steps = [{"at": AT, "service": service, "kind": "reservation", "summary": "reserved 1.00 RUB"}] if known else []
    state = {"status": "RESERVED", "final": False} if known and service == "wallet" else None
    return {"paymentId": PAYMENT, "service": service, "steps": steps, "state": state}


def view(*, down: set[str], known: bool = True) -> SagaView:
    peers = {
        s: FakePeer(s, {f"/v1/payments/{PAYMENT}/history": history(s, known=known and s == "wallet")}, s in down)
        for s in HISTORIES
    }
    peers["payment"].routes["/v1/payments"] = {"items": [], "nextCursor": None}
    records = {"paymentId": PAYMENT, "providerTxnIds": [], "records": []}
    peers["dwh"] = FakePeer("dwh", {f"/v1/payments/{PAYMENT}/records": records}, "dwh" in down)
    return SagaView(
        cast(Peers, FakePeers(peers)), cast(OpsKafka, DownKafka()), timeout=1, zipkin_url="http://zipkin:9411"
    )


async def test_a_service_that_does_not_answer_is_a_note() -> None:
    timeline = await view(down={"query", "notification"}).timeline(PAYMENT)
    assert set(timeline.unavailable) == {"query", "notification", "kafka"}
    assert timeline.unavailable["query"].startswith("no answer")
    assert any(n.startswith("Query did not answer") for n in timeline.notes)
    assert [e.kind for e in timeline.entries] == ["reservation"]
    assert timeline.waiting is not None and timeline.waiting.startswith("waiting for PaymentInitiated to reach Kafka")
    assert (timeline.trace_id, timeline.trace_url) == (None, None)


async def test_an_unknown_payment_is_a_404_only_when_payment_and_the_dwh_say_so() -> None:
    with pytest.raises(Problem) as raised:
        await view(down=set(), known=False).timeline(PAYMENT)
    assert raised.value.status == 404
    unsure = await view(down={"dwh"}, known=False).timeline(PAYMENT)
    assert (unsure.status, set(unsure.unavailable)) == ("UNKNOWN", {"dwh", "kafka"})


def test_the_trace_link() -> None:
    assert trace_url("http://127.0.0.1:9411/", "abc") == "http://127.0.0.1:9411/zipkin/traces/abc"
    assert trace_url("", "abc") is None and trace_url("http://z", None) is None
