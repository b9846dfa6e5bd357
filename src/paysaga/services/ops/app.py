"""The operators' API (`/ops/v1/...`): login, fleet health, dead letters and their replay,
reconciliation cases, the audit log. Every route but login needs an operator's token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from uuid import UUID

import structlog
from confluent_kafka import KafkaException
from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.responses import JSONResponse

from paysaga.contracts.ops import SagaTimeline
from paysaga.contracts.values import MAX_BIGINT, MAX_STUCK_AGE_SECONDS, IsoDateTime
from paysaga.platform.cursors import CURSOR_DESCRIPTION, CURSOR_PATTERN
from paysaga.platform.db import Database
from paysaga.platform.http import ReadinessCheck, create_app, overloaded, problem_response
from paysaga.platform.idempotency_key import key_parameter
from paysaga.platform.passwords import HashingBusy, PasswordHashing
from paysaga.platform.problems import Problem, problems
from paysaga.platform.webapp import WebApp, mount_webapp
from paysaga.services.ops import handlers, metrics, repository
from paysaga.services.ops.auth import CurrentOperator, OperatorTokens, current_operator
from paysaga.services.ops.cases import ReconciliationCases
from paysaga.services.ops.customer_tokens import CustomerTokens
from paysaga.services.ops.dead_letters import DeadLetters
from paysaga.services.ops.domain import (
    ID_CURSOR_PATTERN,
    MAX_POSITIONS_CURSOR,
    POSITIONS_CURSOR_PATTERN,
    TOPIC_NAMES,
    DeadLetterFilter,
    InvalidCursor,
    UnknownTopic,
    dead_letter_topics,
    decode_id_cursor,
    encode_id_cursor,
)
from paysaga.services.ops.fleet import FleetView
from paysaga.services.ops.idempotency import run_once
from paysaga.services.ops.peers import Peer
from paysaga.services.ops.reconciling import Reconciler
from paysaga.services.ops.saga import SagaView
from paysaga.services.ops.schemas import (
    AuditEntryView,
    AuditPage,
    CaseEvidence,
    CaseList,
    CaseView,
    DeadLetterPage,
    DifferenceCasePage,
    DifferenceCaseView,
    Fleet,
    LoginRequest,
    LoginResponse,
    OperatorView,
    PaymentPage,
    ReconciliationRunList,
    ReconciliationRunView,
    RecordCoordinates,
    ReplayPage,
    ReplayRequest,
    ReplayResponse,
    ReplayView,
    ResolveRequest,
    StuckPayments,
)
from paysaga.services.ops.stuck import StuckView
from paysaga.services.ops.throttle import LoginThrottle

log = structlog.get_logger("paysaga.ops")

PREFIX = "/ops/v1"
CASES = f"{PREFIX}/reconciliation-cases"
CASES_TAG = "reconciliation cases"


@dataclass(frozen=True)
class OpsDeps:
    db: Database
    tokens: OperatorTokens
    hashing: PasswordHashing
    throttle: LoginThrottle
    fleet: FleetView
    dead_letters: DeadLetters
    cases: ReconciliationCases
    saga: SagaView
    payment: Peer
    stuck: StuckView
    customer_tokens: CustomerTokens
    reconciler: Reconciler


Operator = Depends(current_operator)
# Every route but login needs an operator's token: none (401), or a customer's (403).
OPERATOR_ONLY = ((401, "unauthorized"), (403, "not-an-operator"))
NEXT_PAGE = "The `nextCursor` of the previous page"
TOPICS: dict[str, Any] = {"enum": list(TOPIC_NAMES)}
# A replay: its Idempotency-Key (ops.idempotency), its selection, a record replayed before.
REPLAY_PROBLEMS = (
    (400, "idempotency-key-missing"),
    (400, "idempotency-key-invalid"),
    (409, "request-in-progress"),
    (422, "idempotency-conflict"),
    (404, "not-found"),
    (409, "already-replayed"),
    (422, "unknown-topic"),
)
CaseId = Annotated[int, Path(alias="caseId", ge=1, le=MAX_BIGINT, description="The case's id")]
# Declared (required) by `openapi_extra`: optional here, so that a missing key gets its own 400.
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", include_in_schema=False)]


def build_app(deps: OpsDeps, readiness: dict[str, ReadinessCheck], console: WebApp | None = None) -> FastAPI:
    """The operators' API; with `console`, the operator console on every other GET path."""
    app = create_app(
        title="PaySaga Ops",
        description="The operators' API: fleet health (consumer lag, outbox backlogs, service health), dead "
        "letters and their replay, reconciliation cases, the audit log. Operators log in with their own "
        "accounts; every route but login needs their token. Errors are RFC 9457 problems.",
        readiness=readiness,
    )
    app.state.operator_tokens = deps.tokens  # for `auth.current_operator`
    app.state.db = deps.db
    app.state.customer_tokens = deps.customer_tokens  # a customer's token: 403, not 401

    @app.exception_handler(HashingBusy)
    async def _busy(request: Request, exc: HashingBusy) -> JSONResponse:
        return problem_response(overloaded("Too many logins in progress; retry later."), request)

    @app.exception_handler(KafkaException)
    async def _kafka(request: Request, exc: KafkaException) -> JSONResponse:
        log.warning("ops.kafka_failed", path=request.url.path, error=str(exc))
        return problem_response(kafka_unavailable(), request)

    # Routes directly on the app (no APIRouter): FastAPI then lists them in `app.routes`, where the
    # composition-root tests check that each needs an operator.
    for add_routes in (_auth, _fleet, _payments, _dead_letters, _cases, _reconciliation, _difference_cases, _audit):
        add_routes(app, deps)
    if console is not None:
        mount_webapp(app, console)  # last: the API's routes come first
    return app


def kafka_unavailable() -> Problem:
    return Problem(
        503,
        "kafka-unavailable",
        "Kafka unavailable",
        "Kafka did not answer in time; retry.",
        headers={"Retry-After": "2"},
    )


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _auth(app: FastAPI, deps: OpsDeps) -> None:
    @app.post(
        f"{PREFIX}/auth/login",
        tags=["operators"],
        response_model=LoginResponse,
        responses=problems((401, "invalid-credentials"), (429, "too-many-requests")),
    )
    async def login(body: LoginRequest, request: Request) -> LoginResponse:
        """An operator logs in with their own account (`paysaga operator create` makes one)."""
        await deps.throttle.before_login(_address(request), body.email)
        operator_id = await handlers.authenticate(deps.db, deps.hashing, body.email, body.password)
        if operator_id is None:
            await deps.throttle.failed(body.email)
            log.warning("ops.login_failed")
            raise Problem(401, "invalid-credentials", "Invalid credentials", "The email or password is wrong.")
        await deps.throttle.succeeded(body.email)
        log.info("ops.logged_in", operator_id=str(operator_id))
        return LoginResponse(access_token=deps.tokens.issue(operator_id), expires_in=deps.tokens.ttl_seconds)

    @app.get(
        f"{PREFIX}/me",
        tags=["operators"],
        response_model=OperatorView,
        responses=problems(*OPERATOR_ONLY),
        dependencies=[Operator],
    )
    async def me(operator: CurrentOperator) -> OperatorView:
        """The operator the token belongs to."""
        return OperatorView(operator_id=str(operator.operator_id), email=operator.email)


def _fleet(app: FastAPI, deps: OpsDeps) -> None:
    @app.get(
        f"{PREFIX}/fleet",
        tags=["fleet"],
        response_model=Fleet,
        responses=problems(*OPERATOR_ONLY),
        dependencies=[Operator],
    )
    async def fleet() -> Fleet:
        """Every service's health and outbox backlog, every consumer group's lag per partition, the
        dead-letter topics' sizes: one call, fanned out with short timeouts; what does not answer
        is shown as down."""
        return await deps.fleet.snapshot()


def _payments(app: FastAPI, deps: OpsDeps) -> None:
    @app.get(
        f"{PREFIX}/payments/{{paymentId}}/saga",
        tags=["payments"],
        response_model=SagaTimeline,
        responses=problems(*OPERATOR_ONLY, (404, "not-found")),
        dependencies=[Operator],
    )
    async def saga(payment_id: Annotated[UUID, Path(alias="paymentId")]) -> SagaTimeline:
        """Where is the payment and what is it waiting for: every record of it on every topic, when each
        consumer group applied it (or its lag), every service's steps, in causal order, with the link to
        its trace. A service that does not answer is named in `unavailable` (and `notes`)."""
        return await deps.saga.timeline(str(payment_id))

    @app.get(
        f"{PREFIX}/payments",
        tags=["payments"],
        response_model=PaymentPage,
        responses=problems(*OPERATOR_ONLY),
        dependencies=[Operator],
    )
    async def search(
        payment_id: Annotated[UUID | None, Query(alias="paymentId")] = None,
        user_id: Annotated[UUID | None, Query(alias="userId")] = None,
        provider_txn_id: Annotated[str | None, Query(alias="providerTxnId", max_length=200)] = None,
        status: Literal["RECEIVED", "CHECKED", "SUBMITTED", "COMPLETED", "FAILED"] | None = None,
        error_code: Annotated[str | None, Query(alias="errorCode", max_length=100)] = None,
        created_from: Annotated[IsoDateTime | None, Query(alias="createdFrom", description="inclusive")] = None,
        created_to: Annotated[IsoDateTime | None, Query(alias="createdTo", description="exclusive")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN, description=CURSOR_DESCRIPTION)] = None,
    ) -> PaymentPage:
        """Search payments (every given filter must match), newest first, paged (Payment's)."""
        given = {
            "paymentId": payment_id,
            "userId": user_id,
            "providerTxnId": provider_txn_id,
            "status": status,
            "errorCode": error_code,
            "createdFrom": created_from.isoformat() if created_from else None,
            "createdTo": created_to.isoformat() if created_to else None,
            "limit": limit,
            "cursor": cursor,
        }
        params = {k: str(v) for k, v in given.items() if v is not None}
        response = await deps.payment.request("GET", "/v1/payments", params=params)
        return PaymentPage.model_validate(response.json())

    @app.get(
        f"{PREFIX}/stuck-payments",
        tags=["payments"],
        response_model=StuckPayments,
        responses=problems(*OPERATOR_ONLY),
        dependencies=[Operator],
    )
    async def stuck(
        older_than_seconds: Annotated[float, Query(alias="olderThanSeconds", gt=0, le=MAX_STUCK_AGE_SECONDS)] = 300,
        samples: Annotated[int, Query(ge=0, le=100)] = 5,
    ) -> StuckPayments:
        """Payments not final this long after they were initiated, grouped by where they stopped: Payment's
        own, and the money Wallet still holds for a payment Payment never accepted (its PaymentInitiated
        dead-lettered) or has ended (Wallet has not applied the end)."""
        return await deps.stuck.stuck(older_than_seconds=older_than_seconds, samples=samples)


def _dead_letters(app: FastAPI, deps: OpsDeps) -> None:
    @app.get(
        f"{PREFIX}/dead-letters",
        tags=["dead letters"],
        response_model=DeadLetterPage,
        responses=problems(*OPERATOR_ONLY, (400, "invalid-cursor"), (422, "unknown-topic")),
        dependencies=[Operator],
    )
    async def dead_letters(
        topic: str | None = Query(
            None, description="The original topic (or its .dlq); all when omitted", json_schema_extra=TOPICS
        ),
        group: str | None = Query(None, description="Only records this consumer group dead-lettered"),
        reason: str | None = Query(None, description="Only this dlq_reason"),
        ce_type: str | None = Query(None, alias="ceType", description="Only this event type"),
        key: str | None = Query(None, description="Only records with this key (e.g. a paymentId)"),
        limit: int = Query(50, ge=1, le=200),
        cursor: str | None = Query(
            None,
            max_length=MAX_POSITIONS_CURSOR,
            pattern=POSITIONS_CURSOR_PATTERN,
            description=NEXT_PAGE,
        ),
    ) -> DeadLetterPage:
        """The records of the dead-letter topics with their reason headers, read from Kafka in
        offset order per partition; paged by a cursor of the next offsets."""
        try:
            return await deps.dead_letters.page(
                topic=topic,
                selection=DeadLetterFilter(group=group, reason=reason, ce_type=ce_type, key=key),
                limit=limit,
                cursor=cursor,
            )
        except UnknownTopic as exc:
            raise Problem(422, "unknown-topic", "Unknown topic", str(exc)) from exc
        except InvalidCursor as exc:
            raise Problem(400, "invalid-cursor", "Invalid cursor", str(exc)) from exc
        except TimeoutError as exc:
            raise kafka_unavailable() from exc

    @app.post(
        f"{PREFIX}/dead-letters/replay",
        tags=["dead letters"],
        response_model=ReplayResponse,
        responses=problems(*OPERATOR_ONLY, *REPLAY_PROBLEMS),
        openapi_extra={"parameters": [key_parameter()]},
        dependencies=[Operator],
    )
    async def replay(
        body: ReplayRequest, operator: CurrentOperator, idempotency_key: IdempotencyKey = None
    ) -> JSONResponse:
        """Re-publish one dead-letter record (`record`) or every record of a topic matching a filter
        (`filter`) to its original topic, with its original key and headers. The inboxes make it
        safe: the groups that applied the event drop it, the one that failed applies it. A record
        replayed before is refused (409; skipped by a filter) unless `force`. Idempotent on the
        `Idempotency-Key`."""
        request_body = body.model_dump(mode="json", by_alias=True)

        async def call(key: str) -> tuple[int, dict[str, Any]]:
            target = (
                f"{body.record.topic}[{body.record.partition}]@{body.record.offset}"
                if body.record
                else f"{body.filter.topic if body.filter else ''} (filter)"
            )
            async with handlers.audited(
                deps.db,
                operator_id=operator.operator_id,
                actor=operator.email,
                action="dead-letters.replay",
                target=target,
                summary=request_body,
            ) as entry:
                try:
                    result = await deps.dead_letters.replay(body, operator_id=operator.operator_id, request_key=key)
                except UnknownTopic as exc:
                    raise Problem(422, "unknown-topic", "Unknown topic", str(exc)) from exc
                except TimeoutError as exc:
                    raise kafka_unavailable() from exc
                entry.detail = (
                    f"replayed {result.replayed}, failed {result.failed}, already replayed {result.already_replayed}"
                )
            return 200, result.model_dump(mode="json", by_alias=True)

        answer = await run_once(deps.db, operator.operator_id, idempotency_key, request_body, call)
        return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)

    @app.get(
        f"{PREFIX}/replays",
        tags=["dead letters"],
        response_model=ReplayPage,
        responses=problems(*OPERATOR_ONLY, (400, "invalid-cursor"), (422, "unknown-topic")),
        dependencies=[Operator],
    )
    async def replays(
        topic: str | None = Query(None, description="The original topic (or its .dlq)", json_schema_extra=TOPICS),
        ce_id: str | None = Query(None, alias="ceId"),
        operator_id: Annotated[UUID | None, Query(alias="operatorId")] = None,
        limit: int = Query(50, ge=1, le=200),
        cursor: str | None = Query(None, pattern=ID_CURSOR_PATTERN, description=NEXT_PAGE),
    ) -> ReplayPage:
        """Every replay of a dead letter (who, when, which record, the result), newest first."""
        try:
            dlq_topic = dead_letter_topics(topic)[0] if topic else None
        except UnknownTopic as exc:
            raise Problem(422, "unknown-topic", "Unknown topic", str(exc)) from exc
        before = _before(cursor)
        async with deps.db.connection() as conn:
            rows = await repository.list_replays(
                conn, dlq_topic=dlq_topic, ce_id=ce_id, operator_id=operator_id, before=before, limit=limit
            )
        items = [_replay_view(row) for row in rows]
        return ReplayPage(items=items, next_cursor=encode_id_cursor([i.replay_id for i in items], limit))


def _replay_view(row: Any) -> ReplayView:
    return ReplayView.model_validate(
        {
            **row,
            "operator_id": str(row["operator_id"]),
            "key": row["record_key"],
            "dead_letter": RecordCoordinates(
                topic=row["dlq_topic"], partition=row["dlq_partition"], offset=row["dlq_offset"]
            ),
        }
    )


def _cases(app: FastAPI, deps: OpsDeps) -> None:
    @app.get(
        CASES,
        tags=[CASES_TAG],
        response_model=CaseList,
        responses=problems(*OPERATOR_ONLY),
        dependencies=[Operator],
    )
    async def cases(
        status: Literal["open", "resolved", "all"] = Query("open"),
        kind: Literal["LATE_SUCCESS", "CONFLICTING_CALLBACK", "UNCONFIRMED_FAILURE"] | None = Query(None),
        payment_id: Annotated[UUID | None, Query(alias="paymentId")] = None,
        limit: int = Query(100, ge=1, le=500),
    ) -> CaseList:
        """Provider outcomes that contradict a payment's final state, newest first (Payment's)."""
        return await deps.cases.list(status=status, kind=kind, payment_id=payment_id, limit=limit)

    @app.get(
        f"{CASES}/{{caseId}}",
        tags=[CASES_TAG],
        response_model=CaseEvidence,
        responses=problems(*OPERATOR_ONLY, (404, "not-found")),
        dependencies=[Operator],
    )
    async def case(case_id: CaseId) -> CaseEvidence:
        """One case with its evidence: the payment as Payment holds it."""
        return await deps.cases.get(case_id)

    @app.post(
        f"{CASES}/{{caseId}}/resolve",
        tags=[CASES_TAG],
        response_model=CaseView,
        responses=problems(*OPERATOR_ONLY, (404, "not-found"), (409, "case-already-resolved")),
        dependencies=[Operator],
    )
    async def resolve(case_id: CaseId, body: ResolveRequest, operator: CurrentOperator) -> CaseView:
        """Resolve an open case with a note (409 if it was resolved before); audited."""
        async with handlers.audited(
            deps.db,
            operator_id=operator.operator_id,
            actor=operator.email,
            action="reconciliation-case.resolve",
            target=f"case {case_id}",
            summary={"caseId": case_id, "note": body.note[:500]},
        ):
            return await deps.cases.resolve(case_id, operator_id=operator.operator_id, note=body.note)


def _run_view(row: Any) -> ReconciliationRunView:
    return ReconciliationRunView.model_validate(
        {**row, "operator_id": str(row["operator_id"]) if row["operator_id"] else None}
    )


def _reconciliation(app: FastAPI, deps: OpsDeps) -> None:
    runs = f"{PREFIX}/reconciliation/runs"

    @app.get(
        runs, tags=["reconciliation"], response_model=ReconciliationRunList, responses=problems(*OPERATOR_ONLY),
        dependencies=[Operator],
    )  # fmt: skip
    async def list_runs(limit: int = Query(20, ge=1, le=200)) -> ReconciliationRunList:
        """The last runs of the reconciliation job, newest first: their window and their findings (wallets
        vs Customer funds per currency; Payment's final states vs Wallet's settlements)."""
        async with deps.db.connection() as conn:
            rows = await repository.list_runs(conn, limit=limit)
        return ReconciliationRunList(items=[_run_view(r) for r in rows])

    @app.post(
        runs, tags=["reconciliation"], response_model=ReconciliationRunView, responses=problems(*OPERATOR_ONLY),
        dependencies=[Operator],
    )  # fmt: skip
    async def run_now(operator: CurrentOperator) -> ReconciliationRunView:
        """Run the reconciliation now (from where the last run stopped to a margin ago); audited. A run
        whose services did not answer is stored as `failed`, with why."""
        async with handlers.audited(
            deps.db,
            operator_id=operator.operator_id,
            actor=operator.email,
            action="reconciliation.run",
            target=None,
            summary={},
        ) as entry:
            view = _run_view(await deps.reconciler.run(trigger="operator", operator_id=operator.operator_id))
            entry.detail = f"run {view.run_id}: {view.status}"
        return view


def _before(cursor: str | None) -> int | None:
    """The id a page of a newest-first list starts below (its `cursor`); a 400 problem when malformed."""
    try:
        return decode_id_cursor(cursor)
    except InvalidCursor as exc:
        raise Problem(400, "invalid-cursor", "Invalid cursor", str(exc)) from exc


def _no_case(case_id: int) -> Problem:
    return Problem(404, "case-not-found", "No such case", f"The reconciliation job opened no case {case_id}.")


def _case_view(row: Any) -> DifferenceCaseView:
    return DifferenceCaseView.model_validate(
        {**row, "resolved_by": str(row["resolved_by"]) if row["resolved_by"] else None}
    )


DifferenceKind = Literal["FUNDS_MISMATCH", "STATUS_MISMATCH", "MISSING_IN_WALLET", "MISSING_IN_PAYMENT"]


def _difference_cases(app: FastAPI, deps: OpsDeps) -> None:
    cases = f"{PREFIX}/reconciliation/cases"

    @app.get(
        cases, tags=["reconciliation"], response_model=DifferenceCasePage,
        responses=problems(*OPERATOR_ONLY, (400, "invalid-cursor")), dependencies=[Operator],
    )  # fmt: skip
    async def list_cases(
        status: Literal["open", "resolved", "all"] = Query("open"),
        kind: Annotated[DifferenceKind | None, Query()] = None,
        subject: str | None = Query(None, max_length=64, description="A currency or a payment id"),
        limit: int = Query(50, ge=1, le=200),
        cursor: str | None = Query(None, pattern=ID_CURSOR_PATTERN, description=NEXT_PAGE),
    ) -> DifferenceCasePage:
        """The differences the reconciliation job found (wallets vs Customer funds, Payment's finals vs
        Wallet's settlements), one case each, newest first."""
        before = _before(cursor)
        async with deps.db.connection() as conn:
            rows = await repository.list_cases(
                conn, status=status, kind=kind, subject=subject, before=before, limit=limit
            )
        items = [_case_view(r) for r in rows]
        return DifferenceCasePage(items=items, next_cursor=encode_id_cursor([i.case_id for i in items], limit))

    @app.get(
        f"{cases}/{{caseId}}", tags=["reconciliation"], response_model=DifferenceCaseView,
        responses=problems(*OPERATOR_ONLY, (404, "case-not-found")), dependencies=[Operator],
    )  # fmt: skip
    async def get_case(case_id: CaseId) -> DifferenceCaseView:
        """One case with its evidence (the difference as the last run that saw it found it)."""
        async with deps.db.connection() as conn:
            row = await repository.get_case(conn, case_id)
        if row is None:
            raise _no_case(case_id)
        return _case_view(row)

    @app.post(
        f"{cases}/{{caseId}}/resolve", tags=["reconciliation"], response_model=DifferenceCaseView,
        responses=problems(*OPERATOR_ONLY, (404, "case-not-found"), (409, "case-resolved")),
        dependencies=[Operator],
    )  # fmt: skip
    async def resolve_case(case_id: CaseId, body: ResolveRequest, operator: CurrentOperator) -> DifferenceCaseView:
        """Resolve an open case with a note (409 if it was resolved before); audited. If a later run finds
        the same difference again, it opens a new case."""
        async with handlers.audited(
            deps.db,
            operator_id=operator.operator_id,
            actor=operator.email,
            action="reconciliation.case.resolve",
            target=f"difference case {case_id}",
            summary={"caseId": case_id, "note": body.note[:500]},
        ):
            async with deps.db.connection() as conn:
                row = await repository.resolve_case(conn, case_id, operator_id=operator.operator_id, note=body.note)
                if row is None:
                    if await repository.get_case(conn, case_id) is None:
                        raise _no_case(case_id)
                    raise Problem(409, "case-resolved", "Case already resolved", f"Case {case_id} was resolved before.")
                metrics.open_cases(await repository.count_open_cases(conn))
            return _case_view(row)


def _audit(app: FastAPI, deps: OpsDeps) -> None:
    @app.get(
        f"{PREFIX}/audit",
        tags=["audit"],
        response_model=AuditPage,
        responses=problems(*OPERATOR_ONLY, (400, "invalid-cursor")),
        dependencies=[Operator],
    )
    async def audit(
        operator_id: Annotated[UUID | None, Query(alias="operatorId")] = None,
        action: str | None = Query(None, max_length=100),
        limit: int = Query(50, ge=1, le=200),
        cursor: str | None = Query(None, pattern=ID_CURSOR_PATTERN, description=NEXT_PAGE),
    ) -> AuditPage:
        """Every mutating action (operator, when, what, the payload summarised, its outcome), newest first."""
        before = _before(cursor)
        async with deps.db.connection() as conn:
            rows = await repository.list_audit(conn, operator_id=operator_id, action=action, before=before, limit=limit)
        items = [
            AuditEntryView.model_validate(
                {**row, "operator_id": str(row["operator_id"]) if row["operator_id"] else None}
            )
            for row in rows
        ]
        return AuditPage(items=items, next_cursor=encode_id_cursor([i.audit_id for i in items], limit))
