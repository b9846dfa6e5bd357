import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { Heading } from "../components/Heading";
import { ProblemAlert } from "../components/ProblemAlert";
import { Status } from "../components/Status";
import { formatMoney, formatTime, localInputToIso, shortId } from "../lib/format";
import { Link, navigate, queryString, useLocation } from "../router";

const STATUSES = ["RECEIVED", "CHECKED", "SUBMITTED", "COMPLETED", "FAILED"] as const;
type PaymentStatus = (typeof STATUSES)[number];
const FIELDS = ["paymentId", "userId", "providerTxnId", "status", "errorCode", "createdFrom", "createdTo"] as const;
type Filters = Record<(typeof FIELDS)[number], string>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function Payments() {
  const { search } = useLocation();
  const applied = Object.fromEntries(FIELDS.map((f) => [f, search.get(f) ?? ""])) as Filters;
  const [form, setForm] = useState<Filters>(applied);
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const invalid = (["paymentId", "userId"] as const).filter((f) => form[f] && !UUID.test(form[f].trim()));

  const page = useQuery({
    queryKey: ["payments", applied, cursor],
    placeholderData: keepPreviousData,
    queryFn: async () =>
      unwrap(
        await api.GET("/ops/v1/payments", {
          params: {
            query: {
              paymentId: applied.paymentId || undefined,
              userId: applied.userId || undefined,
              providerTxnId: applied.providerTxnId || undefined,
              status: (applied.status || undefined) as PaymentStatus | undefined,
              errorCode: applied.errorCode || undefined,
              createdFrom: localInputToIso(applied.createdFrom),
              createdTo: localInputToIso(applied.createdTo),
              limit: 25,
              cursor,
            },
          },
        }),
      ),
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    if (invalid.length) return;
    setCursors([]);
    const trimmed = Object.fromEntries(FIELDS.map((f) => [f, form[f].trim()]));
    navigate(`/payments${queryString(trimmed)}`);
  }
  function field(name: (typeof FIELDS)[number]) {
    return { id: `f-${name}`, name, value: form[name], onChange: (e: { target: { value: string } }) => setForm({ ...form, [name]: e.target.value }) };
  }

  return (
    <section aria-labelledby="view-title">
      <Heading>Payments</Heading>
      <form className="filters" onSubmit={submit} role="search" aria-label="Search payments">
        <div className="field">
          <label htmlFor="f-paymentId">Payment id</label>
          <input {...field("paymentId")} aria-invalid={invalid.includes("paymentId")} aria-describedby="f-id-help" spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor="f-userId">User id</label>
          <input {...field("userId")} aria-invalid={invalid.includes("userId")} aria-describedby="f-id-help" spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor="f-providerTxnId">Provider transaction id</label>
          <input {...field("providerTxnId")} spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor="f-status">Status</label>
          <select {...field("status")}>
            <option value="">Any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-errorCode">Error code</label>
          <input {...field("errorCode")} spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor="f-createdFrom">Created from (your time)</label>
          <input {...field("createdFrom")} type="datetime-local" step="1" />
        </div>
        <div className="field">
          <label htmlFor="f-createdTo">Created before (your time)</label>
          <input {...field("createdTo")} type="datetime-local" step="1" />
        </div>
        <div className="field actions">
          <button type="submit">Search</button>
        </div>
        <p id="f-id-help" className={invalid.length ? "field-error" : "hint"}>
          {invalid.length ? `Not a UUID: ${invalid.join(", ")}.` : "Ids are UUIDs. Every filter you fill in must match."}
        </p>
      </form>

      <ProblemAlert error={page.error} what="Search failed" />
      {page.data ? <PaymentTable items={page.data.items} /> : page.isPending ? <p role="status">Loading payments…</p> : null}
      <div className="pager">
        <button type="button" disabled={!cursors.length} onClick={() => setCursors([])}>
          First page
        </button>
        <button type="button" disabled={!page.data?.nextCursor} onClick={() => page.data?.nextCursor && setCursors([...cursors, page.data.nextCursor])}>
          Next page
        </button>
      </div>
    </section>
  );
}

function PaymentTable({ items }: { items: Schemas["PaymentView"][] }) {
  if (!items.length) return <p role="status">No payment matches.</p>;
  return (
    <table>
      <caption className="visually-hidden">Payments, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Payment</th>
          <th scope="col">Status</th>
          <th scope="col">Error code</th>
          <th scope="col" className="num">
            Amount
          </th>
          <th scope="col">Created (UTC)</th>
          <th scope="col" className="num">
            Attempts
          </th>
          <th scope="col">Provider transaction</th>
        </tr>
      </thead>
      <tbody>
        {items.map((p) => (
          <tr key={p.paymentId}>
            <td>
              <Link to={`/payments/${p.paymentId}`} title={p.paymentId} aria-label={`Timeline of payment ${p.paymentId}`}>
                <code>{shortId(p.paymentId)}</code>
              </Link>
            </td>
            <td>
              <Status value={p.status} />
            </td>
            <td>{p.errorCode ?? "—"}</td>
            <td className="num">{formatMoney(p.amount, p.currency)}</td>
            <td>{formatTime(p.createdAt)}</td>
            <td className="num">{p.attempts}</td>
            <td>
              <code>{p.providerTxnId ?? "—"}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
