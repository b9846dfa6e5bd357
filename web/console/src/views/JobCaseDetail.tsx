import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap } from "../api/client";
import { Heading } from "../components/Heading";
import { ProblemAlert } from "../components/ProblemAlert";
import { Status } from "../components/Status";
import { formatTime } from "../lib/format";
import { evidenceFacts, KIND_MEANING } from "../lib/reconciliation";
import { Link } from "../router";

/** One of the reconciliation job's cases: what it found, when, and its resolution. */
export function JobCaseDetail({ caseId }: { caseId: number }) {
  const queryClient = useQueryClient();
  const found = useQuery({
    queryKey: ["job-case", caseId],
    enabled: Number.isInteger(caseId) && caseId > 0,
    queryFn: async () => unwrap(await api.GET("/ops/v1/reconciliation/cases/{caseId}", { params: { path: { caseId } } })),
  });
  const [note, setNote] = useState("");
  const resolve = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/ops/v1/reconciliation/cases/{caseId}/resolve", { params: { path: { caseId } }, body: { note: note.trim() } })),
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: ["job-case", caseId] });
      void queryClient.invalidateQueries({ queryKey: ["job-cases"] });
    },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (note.trim()) resolve.mutate();
  }
  const c = found.data;
  return (
    <section aria-labelledby="view-title">
      <Heading>Books case {caseId}</Heading>
      <p>
        <Link to="/reconciliation/cases">All the job's cases</Link> · <Link to="/reconciliation">Its runs</Link>
      </p>
      <ProblemAlert error={found.error} what="The case could not be read" />
      {found.isPending && found.fetchStatus !== "idle" ? <p role="status">Loading…</p> : null}
      {c ? (
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
              <dt>{c.kind === "FUNDS_MISMATCH" ? "Currency" : "Payment"}</dt>
              <dd>
                {c.kind === "FUNDS_MISMATCH" ? (
                  c.subject
                ) : (
                  <Link to={`/payments/${c.subject}`}>
                    <code>{c.subject}</code>
                  </Link>
                )}
              </dd>
            </div>
            <div>
              <dt>Opened (UTC)</dt>
              <dd>
                {formatTime(c.openedAt)} <span className="when">by run {c.openedByRun}</span>
              </dd>
            </div>
            <div>
              <dt>Last seen (UTC)</dt>
              <dd>
                {formatTime(c.lastSeenAt)} <span className="when">by run {c.lastSeenRun}</span>
              </dd>
            </div>
          </dl>
          <p>{KIND_MEANING[c.kind]}</p>
          <h2>Evidence: the difference as run {c.lastSeenRun} found it</h2>
          <dl className="facts">
            {evidenceFacts(c.evidence).map((f) => (
              <div key={f.label}>
                <dt>{f.label}</dt>
                <dd>{f.value}</dd>
              </div>
            ))}
          </dl>
          <h2>Resolution</h2>
          {c.resolvedAt ? (
            <div className="card" role="status">
              <p>
                Resolved {formatTime(c.resolvedAt)} UTC by operator <code>{c.resolvedBy ?? "?"}</code>.
              </p>
              <p className="note">{c.resolutionNote}</p>
              <p className="hint">If a later run finds the same difference again, it opens a new case.</p>
            </div>
          ) : (
            <form onSubmit={submit} className="stack">
              <label htmlFor="note">What was done about it (kept in the audit log)</label>
              <textarea id="note" required maxLength={4000} rows={4} value={note} onChange={(e) => setNote(e.target.value)} aria-describedby="note-help" />
              <p id="note-help" className="hint">
                For example: the correcting entry made, or why the books may differ, and its ticket.
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
