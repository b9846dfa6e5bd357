import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { Heading } from "../components/Heading";
import { ProblemAlert } from "../components/ProblemAlert";
import { Status } from "../components/Status";
import { formatMoney, formatTime } from "../lib/format";
import { Link } from "../router";

export function CaseDetail({ caseId }: { caseId: number }) {
  const queryClient = useQueryClient();
  const evidence = useQuery({
    queryKey: ["case", caseId],
    enabled: Number.isInteger(caseId) && caseId > 0,
    queryFn: async () => unwrap(await api.GET("/ops/v1/reconciliation-cases/{caseId}", { params: { path: { caseId } } })),
  });
  const [note, setNote] = useState("");
  const resolve = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/ops/v1/reconciliation-cases/{caseId}/resolve", { params: { path: { caseId } }, body: { note: note.trim() } })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["case", caseId] });
      void queryClient.invalidateQueries({ queryKey: ["cases"] });
    },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (note.trim()) resolve.mutate();
  }
  const c = evidence.data?.case;
  return (
    <section aria-labelledby="view-title">
      <Heading>Provider case {caseId}</Heading>
      <p>
        <Link to="/cases">All provider contradictions</Link>
      </p>
      <ProblemAlert error={evidence.error} what="The case could not be read" />
      {evidence.isPending && evidence.fetchStatus !== "idle" ? <p role="status">Loading…</p> : null}
      {c && evidence.data ? (
        <>
          <dl className="facts">
            <div>
              <dt>Kind</dt>
              <dd>{c.kind}</dd>
            </div>
            <div>
              <dt>State</dt>
              <dd>{c.resolvedAt ? <Status value="resolved" /> : <Status value="open" />}</dd>
            </div>
            <div>
              <dt>Opened (UTC)</dt>
              <dd>{formatTime(c.openedAt)}</dd>
            </div>
            <div>
              <dt>Our final state</dt>
              <dd>
                <Status value={c.paymentStatus} /> {c.errorCode ?? ""}
              </dd>
            </div>
            <div>
              <dt>The provider said</dt>
              <dd>{c.callbackStatus}</dd>
            </div>
            <div>
              <dt>Provider transaction</dt>
              <dd>
                <code>{c.providerTxnId}</code>
              </dd>
            </div>
          </dl>
          <h2>Evidence: the payment as Payment holds it</h2>
          <Evidence payment={evidence.data.payment} />
          <h2>Resolution</h2>
          {c.resolvedAt ? (
            <div className="card" role="status">
              <p>
                Resolved {formatTime(c.resolvedAt)} UTC by operator <code>{c.resolvedBy ?? "?"}</code>.
              </p>
              <p className="note">{c.resolutionNote}</p>
            </div>
          ) : (
            <form onSubmit={submit} className="stack">
              <label htmlFor="note">What was done about it (kept in the audit log)</label>
              <textarea id="note" required maxLength={4000} rows={4} value={note} onChange={(e) => setNote(e.target.value)} aria-describedby="note-help" />
              <p id="note-help" className="hint">
                For example: the refund or recovery made, and its ticket.
              </p>
              <button type="submit" disabled={!note.trim() || resolve.isPending}>
                {resolve.isPending ? "Resolving…" : "Resolve the case"}
              </button>
            </form>
          )}
          <ProblemAlert error={resolve.error} what="The case was not resolved" />
        </>
      ) : null}
    </section>
  );
}

function Evidence({ payment: p }: { payment: Schemas["PaymentEvidence"] }) {
  const recipient = Object.entries(p.recipient ?? {});
  return (
    <dl className="facts">
      <div>
        <dt>Payment</dt>
        <dd>
          <Link to={`/payments/${p.paymentId}`}>
            <code>{p.paymentId}</code>
          </Link>
        </dd>
      </div>
      <div>
        <dt>Status</dt>
        <dd>
          <Status value={p.status} /> {p.errorCode ?? ""}
        </dd>
      </div>
      <div>
        <dt>Amount</dt>
        <dd>{formatMoney(p.amount, p.currency)}</dd>
      </div>
      <div>
        <dt>Recipient</dt>
        <dd>{recipient.length ? recipient.map(([k, v]) => `${k}: ${String(v)}`).join(", ") : "—"}</dd>
      </div>
      <div>
        <dt>Attempts</dt>
        <dd>
          {p.attempts}
          {p.lastError ? ` (last error: ${p.lastError})` : ""}
        </dd>
      </div>
      <div>
        <dt>Created (UTC)</dt>
        <dd>{formatTime(p.createdAt)}</dd>
      </div>
      <div>
        <dt>Submitted (UTC)</dt>
        <dd>{formatTime(p.submittedAt)}</dd>
      </div>
      <div>
        <dt>Deadline (UTC)</dt>
        <dd>{formatTime(p.deadlineAt)}</dd>
      </div>
      <div>
        <dt>Completed (UTC)</dt>
        <dd>{formatTime(p.completedAt)}</dd>
      </div>
      <div>
        <dt>Late inquiry (UTC)</dt>
        <dd>{formatTime(p.lateInquiryAt)}</dd>
      </div>
    </dl>
  );
}
