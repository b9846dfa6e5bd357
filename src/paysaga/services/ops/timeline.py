"""The saga timeline of one payment (SPEC §9): "where is payment X, and what is it waiting for?".

A pure merge of what the operators' tools fetch from the platform:
- every Kafka record of the payment on every topic, dead letters included (the DWH's
  `GET /v1/payments/{paymentId}/records`);
- per consuming service, which of those events its consumer group applied and when (each service's
  `GET /ops/inbox`), and each group's lag per partition (from the fleet view);
- each service's own steps and where the payment stands there (`GET /v1/payments/{paymentId}/history`).

Which groups must apply which event type comes from `contracts.bus`. The result lists the records
and steps in causal order (by time; a group's application never before the record it applied), the
time between entries, per record who applied it and who has not (with its lag, or its dead letter),
the reconciliation cases, and one plain line of what the saga waits for now. `render_text` prints
it for a terminal (`paysaga saga <paymentId>`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from paysaga.contracts.bus import SUBSCRIPTIONS
from paysaga.contracts.events import PaymentCompleted, PaymentFailed, PaymentInitiated, ProviderCallbackReceived
from paysaga.contracts.ops import (
    Application,
    InboxAnswer,
    InboxEntry,
    KafkaRecord,
    PaymentSteps,
    SagaStep,
    SagaTimeline,
    ServiceState,
    TimelineEntry,
    TimelineRecord,
    clock,
)

# group → (topic, partition) → how many records the group still has to read there
Lag = Mapping[str, Mapping[tuple[str, int], int]]
# group → (topic, partition) → the group's committed offset (None: it never committed there)
Committed = Mapping[str, Mapping[tuple[str, int], int | None]]

NAMES = {
    "payment": "Payment",
    "wallet": "Wallet",
    "query": "Query",
    "antifraud": "Anti-Fraud",
    "notification": "Notification",
    "merchant_callback": "Merchant Callback",
    "core_banking": "Core Banking",
    "dwh": "DWH",
    "callback": "Callback",
    "customer": "Customer",
    "kafka": "Kafka",
}
FINAL = {PaymentCompleted.type_name(): "COMPLETED", PaymentFailed.type_name(): "FAILED"}
# The events the saga cannot go on without until Payment applied them.
CRITICAL = {PaymentInitiated.type_name(), ProviderCallbackReceived.type_name()}
KAFKA = "kafka"  # the records' own lane
OVERDUE = timedelta(seconds=30)  # a step this late: the worker may not be running


def name(service: str) -> str:
    return NAMES.get(service, service)


@dataclass(frozen=True, slots=True)
class Consumer:
    service: str
    group: str
    applies: bool  # False: it stores records as they come (the DWH), it does not apply them


def expected_consumers(ce_type: str | None) -> list[Consumer]:
    """The consumer groups that apply an event type, per the contract."""
    return [
        Consumer(service, s.group, s.applies)
        for service, s in SUBSCRIPTIONS.items()
        if any(e.type_name() == ce_type for e in s.events)
    ]


def _at(record: KafkaRecord) -> datetime:
    at = record.timestamp or record.ce_time or record.ingested_at
    assert at is not None, "a record without any time"
    return at


def _producer(record: KafkaRecord) -> str:
    source = record.ce_source or "?"
    return source.removeprefix("/paysaga/").replace("-", "_")


def _position(record: KafkaRecord) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"


def _is_dead_letter(record: KafkaRecord) -> bool:
    return record.dead_letter is not None or record.topic.endswith(".dlq")


# --- who applied each record ---------------------------------------------------------------------


def _dead_letters_of(record: KafkaRecord, dead: Sequence[KafkaRecord]) -> dict[str, KafkaRecord]:
    """Group → the dead letter of this record (same position, or same event) by that group."""
    found: dict[str, KafkaRecord] = {}
    for d in dead:
        letter = d.dead_letter
        if letter is None or letter.consumer_group is None:
            continue
        same_position = (letter.original_topic, letter.original_partition, letter.original_offset) == (
            record.topic,
            record.partition,
            record.offset,
        )
        same_event = d.ce_id is not None and (d.ce_id, d.ce_source) == (record.ce_id, record.ce_source)
        if same_position or same_event:
            found.setdefault(letter.consumer_group, d)
    return found


def _applications(
    record: KafkaRecord,
    inboxes: Mapping[str, Mapping[str, InboxEntry]],
    dead: Sequence[KafkaRecord],
    lag: Lag,
    committed: Committed,
) -> list[Application]:
    letters = _dead_letters_of(record, dead)
    applications = []
    for consumer in expected_consumers(record.ce_type):
        letter = letters.get(consumer.group)
        dead_fields = {
            "dead_lettered": letter is not None,
            "dead_letter_reason": letter.dead_letter.reason if letter and letter.dead_letter else None,
        }
        if not consumer.applies:  # the DWH: the record is known because it stored it
            applications.append(
                Application(group=consumer.group, service=consumer.service, applied=True, applied_at=record.ingested_at)
            )
            continue
        inbox = inboxes.get(consumer.service)
        entry = inbox.get(record.ce_id or "") if inbox is not None else None
        position = committed.get(consumer.group, {}).get((record.topic, record.partition), -1)
        if inbox is None and position != -1:
            # The service did not answer, but Kafka knows how far its group got: a group commits a
            # record's offset once it has applied (or dead-lettered) it.
            consumed = position is not None and position > record.offset
            behind = None if consumed else lag.get(consumer.group, {}).get((record.topic, record.partition))
            applied = consumed and letter is None
            applications.append(
                Application(group=consumer.group, service=consumer.service, applied=applied, lag=behind, **dead_fields)
            )
        elif inbox is None:
            applications.append(
                Application(group=consumer.group, service=consumer.service, applied=False, known=False, **dead_fields)
            )
        elif entry is not None and entry.applied:
            applications.append(
                Application(
                    group=consumer.group,
                    service=consumer.service,
                    applied=True,
                    applied_at=entry.applied_at,
                    **dead_fields,
                )
            )
        else:
            behind = lag.get(consumer.group, {}).get((record.topic, record.partition))
            applications.append(
                Application(group=consumer.group, service=consumer.service, applied=False, lag=behind, **dead_fields)
            )
    return applications


# --- the entries ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Line:
    at: datetime
    rank: int  # at the same time: a record, then its applications, then the services' steps
    service: str
    kind: str
    summary: str
    details: dict[str, object]
    ce_id: str | None = None


def _record_line(record: KafkaRecord) -> _Line:
    details: dict[str, object] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": record.key,
        "ceSource": record.ce_source,
        "ceType": record.ce_type,
    }
    if record.dead_letter is not None:
        letter = record.dead_letter
        error = (letter.error or "").splitlines()[-1:] if letter.error else []
        summary = (
            f"{record.ce_type or 'a record'} dead-lettered by group {letter.consumer_group}: {letter.reason}"
            + (f" ({error[0][:160]})" if error else "")
            + f" → {_position(record)}"
        )
        details |= letter.model_dump(by_alias=True, exclude_none=True)
        return _Line(_at(record), 0, KAFKA, "dead-letter", summary, details, record.ce_id)
    payload = record.payload or {}
    extra = ", ".join(f"{k} {payload[k]}" for k in ("status", "errorCode") if payload.get(k))
    summary = f"{record.ce_type or 'a record'} on {_position(record)} from {name(_producer(record))}" + (
        f" ({extra})" if extra else ""
    )
    return _Line(_at(record), 0, KAFKA, "record", summary, details, record.ce_id)


def _application_lines(record: KafkaRecord, applications: Iterable[Application]) -> list[_Line]:
    lines = []
    for a in applications:
        if not a.applied or a.applied_at is None:
            continue
        summary = f"{'stored' if a.service == 'dwh' else 'applied'} {record.ce_type} (group {a.group})"
        details: dict[str, object] = {"group": a.group, "topic": record.topic, "offset": record.offset}
        at = max(a.applied_at, _at(record))  # clocks apart: never before the record it applied
        lines.append(_Line(at, 1, a.service, "applied", summary, details, record.ce_id))
    return lines


def _step_line(step: SagaStep) -> _Line:
    return _Line(step.at, 2, step.service, step.kind, step.summary, step.details)


# --- what the saga waits for ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Waiting:
    text: str
    since: datetime | None = None
    next_action_at: datetime | None = None


def _lag_text(a: Application) -> str:
    if not a.known:
        return f"consumer group {a.group}, its inbox could not be read"
    return f"consumer group {a.group}, lag {a.lag if a.lag is not None else 'unknown'}"


def _dead_lettered(record: TimelineRecord, groups: Iterable[str] | None = None) -> _Waiting | None:
    for a in record.applications:
        if a.dead_lettered and not a.applied and (groups is None or a.group in groups):
            return _Waiting(
                f"{record.record.ce_type} was dead-lettered by group {a.group}: {a.dead_letter_reason}"
                " — replay it from Dead letters",
                _at(record.record),
            )
    return None


def _state_line(service: str, state: ServiceState, now: datetime) -> _Waiting:
    text = f"waiting for {state.waiting_for}"
    if service != "payment":
        text = f"waiting for {name(service)}: {state.waiting_for}"
    if state.since is not None:
        text += f" since {clock(state.since)}"
    if state.next_action_at is not None:
        text += f"; next {state.next_action or 'step'} at {clock(state.next_action_at)}"
        if now - state.next_action_at > OVERDUE:
            text += f" — overdue by {_duration(now - state.next_action_at)}: is {name(service)}'s worker running?"
    if state.deadline_at is not None:
        text += f"; deadline {clock(state.deadline_at)}"
    return _Waiting(text, state.since, state.next_action_at)


def _pending(records: Sequence[TimelineRecord], groups: set[str] | None = None) -> _Waiting | None:
    """The first record that groups (of `groups`, if given) have yet to apply, as far as their inboxes
    tell (a dead letter is said by `_dead_lettered`)."""
    for r in records:
        waiting = [
            a
            for a in r.applications
            if not a.applied and not a.dead_lettered and a.known and (groups is None or a.group in groups)
        ]
        if waiting:
            who = " and ".join(name(a.service) for a in waiting)
            why = "; ".join(_lag_text(a) for a in waiting)
            return _Waiting(f"waiting for {who} to apply {r.record.ce_type} ({why})", _at(r.record))
    return None


def _waiting(
    status: str,
    records: Sequence[TimelineRecord],
    states: Mapping[str, ServiceState],
    now: datetime,
) -> _Waiting | None:
    live = [r for r in records if not _is_dead_letter(r.record)]
    critical = [r for r in live if r.record.ce_type in CRITICAL]
    payment = states.get("payment")
    if status not in FINAL.values():
        group = {SUBSCRIPTIONS["payment"].group}
        for r in critical:
            if (found := _dead_lettered(r, group)) is not None:
                return found
        if (found := _pending(critical, group)) is not None:
            return found
        if payment is not None and payment.waiting_for:
            return _state_line("payment", payment, now)
        wallet = states.get("wallet")
        if payment is None and not critical and wallet is not None and not wallet.final:
            return _Waiting(
                f"waiting for PaymentInitiated to reach Kafka: Wallet reserved the funds at {clock(wallet.since)}"
                " (its outbox relay, or the DWH has not stored the record yet)",
                wallet.since,
            )
        return None
    for r in live:
        if (found := _dead_lettered(r)) is not None:
            return found
    if (found := _pending(live)) is not None:
        return found
    for service, state in states.items():
        if state.waiting_for and (service != "payment" or state.next_action_at is not None):
            return _state_line(service, state, now)
    return None


# --- the merge -----------------------------------------------------------------------------------


def _status(records: Sequence[KafkaRecord], states: Mapping[str, ServiceState]) -> tuple[str, str | None]:
    for r in records:
        if r.ce_type in FINAL and not _is_dead_letter(r):
            return FINAL[r.ce_type], (r.payload or {}).get("errorCode")
    payment = states.get("payment")
    if payment is not None and payment.status in FINAL.values():
        return payment.status, payment.details.get("errorCode")
    if records or states:
        return "PENDING", None
    return "UNKNOWN", None


def build_timeline(
    payment_id: str,
    *,
    records: Sequence[KafkaRecord],
    inboxes: Sequence[InboxAnswer],
    steps: Sequence[PaymentSteps],
    now: datetime,
    lag: Lag | None = None,
    unavailable: Mapping[str, str] | None = None,
    committed: Committed | None = None,
) -> SagaTimeline:
    """The payment's timeline from what the services answered; `unavailable`: the services (or the
    DWH) that did not answer, with why (their part is missing, and said so); `committed`: the consumer
    groups' committed offsets, which say what a group whose service did not answer has consumed."""
    lag, committed = lag or {}, committed or {}
    dead = [r for r in records if _is_dead_letter(r)]
    live = sorted((r for r in records if not _is_dead_letter(r)), key=lambda r: (_at(r), r.topic, r.offset))
    applied = {a.service: {e.ce_id: e for e in a.events} for a in inboxes}
    timeline_records = [
        TimelineRecord(record=r, applications=_applications(r, applied, dead, lag, committed)) for r in live
    ]
    states = {s.service: s.state for s in steps if s.state is not None}

    lines = [_record_line(r) for r in records]
    lines += [line for tr in timeline_records for line in _application_lines(tr.record, tr.applications)]
    lines += [_step_line(step) for s in steps for step in s.steps]
    lines.sort(key=lambda x: (x.at, x.rank))

    entries: list[TimelineEntry] = []
    start = lines[0].at if lines else None
    for i, line in enumerate(lines):
        previous = lines[i - 1].at if i else line.at
        assert start is not None
        entries.append(
            TimelineEntry(
                at=line.at,
                since_start=round((line.at - start).total_seconds(), 3),
                since_previous=round((line.at - previous).total_seconds(), 3),
                service=line.service,
                kind=line.kind,
                summary=line.summary,
                details=line.details,
                ce_id=line.ce_id,
            )
        )

    status, error_code = _status(live, states)
    final = status in FINAL.values()
    ended = next((_at(r) for r in live if r.ce_type in FINAL), None)
    if final and ended is None and (payment := states.get("payment")) is not None:
        ended = payment.since
    end = ended if final and ended is not None else now
    waiting = _waiting(status, timeline_records, states, now)
    notes = [f"{name(s)} did not answer: {why}" for s, why in (unavailable or {}).items()]
    answered = {a.service for a in inboxes}
    unknown = {a.service for tr in timeline_records for a in tr.applications if not a.known}
    missing = sorted(unknown - answered - set(unavailable or {}))
    notes += [f"{name(s)}'s inbox is unknown: whether it applied the records cannot be told" for s in missing]
    if not records and any(s.steps for s in steps) and "dwh" not in (unavailable or {}):
        notes.append("the DWH holds no record of this payment yet (it stores them every few seconds)")
    return SagaTimeline(
        payment_id=payment_id,
        status=status,
        final=final,
        error_code=error_code,
        started_at=start,
        ended_at=ended if final else None,
        duration_seconds=round((end - start).total_seconds(), 3) if start is not None else None,
        entries=entries,
        records=timeline_records,
        dead_letters=dead,
        cases=[step for s in steps for step in s.steps if step.kind == "case"],
        waiting=waiting.text if waiting else None,
        waiting_since=waiting.since if waiting else None,
        next_action_at=waiting.next_action_at if waiting else None,
        notes=notes,
        as_of=now,
    )


# --- for a terminal ------------------------------------------------------------------------------


def _duration(delta: timedelta | float) -> str:
    seconds = delta.total_seconds() if isinstance(delta, timedelta) else delta
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def render_text(timeline: SagaTimeline, *, width: int = 160) -> str:
    """The timeline as text: a header, one line per entry (time, +duration, service, what), the records
    with who has not applied them, then what the saga waits for."""
    t = timeline
    head = f"payment {t.payment_id}  {t.status}" + (f" ({t.error_code})" if t.error_code else "")
    if t.duration_seconds is not None:
        head += f"  {'took' if t.final else 'running for'} {_duration(t.duration_seconds)}"
    lines = [head, f"as of {clock(t.as_of)} UTC; times are UTC", ""]
    lines.append(f"{'TIME':<12}  {'+DURATION':>9}  {'SERVICE':<17}  WHAT")
    for e in t.entries:
        plus = f"+{_duration(e.since_previous)}" if e.since_previous else ""
        text = f"{clock(e.at):<12}  {plus:>9}  {name(e.service):<17}  {e.summary}"
        lines.append(text if len(text) <= width else text[: width - 1] + "…")
    behind = [
        (r, [a for a in r.applications if not a.applied])
        for r in t.records
        if any(not a.applied for a in r.applications)
    ]
    if behind:
        lines += ["", "not applied yet:"]
        for r, apps in behind:
            who = ", ".join(
                f"{a.group} ({'dead-lettered: ' + (a.dead_letter_reason or '?') if a.dead_lettered else _lag_text(a)})"
                for a in apps
            )
            lines.append(f"  {r.record.ce_type} {_position(r.record)}: {who}")
    if t.cases:
        lines += ["", "reconciliation cases:", *(f"  {c.summary}" for c in t.cases)]
    if t.notes:
        lines += ["", *(f"note: {n}" for n in t.notes)]
    lines += [
        "",
        t.waiting or ("nothing to wait for: the saga is complete" if t.final else "nothing known to wait for"),
    ]
    return "\n".join(lines) + "\n"
