import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap } from "../api/client";
import { Heading } from "../components/Heading";
import { ProblemAlert } from "../components/ProblemAlert";
import { Status } from "../components/Status";
import { formatTime, shortId } from "../lib/format";
import { describeEvidence, JOB_KINDS, type JobKind } from "../lib/reconciliation";
import { Link, navigate, queryString, useLocation } from "../router";

const STATUSES = ["open", "resolved", "all"] as const;
type CaseStatus = (typeof STATUSES)[number];
const PAGE = 50;

/** The reconciliation job's cases: filtered by state, kind and subject, newest first, a page at a time
 * (the cursor is in the address, so Back returns to the newer page). */
export function JobCases() {
  const { search } = useLocation();
  const status = (STATUSES as readonly string[]).includes(search.get("status") ?? "") ? (search.get("status") as CaseStatus) : "open";
  const kind = (JOB_KINDS as readonly string[]).includes(search.get("kind") ?? "") ? (search.get("kind") as JobKind) : undefined;
  const subject = search.get("subject") ?? undefined;
  const cursor = search.get("cursor") ?? undefined;
  const [subjectInput, setSubjectInput] = useState(subject ?? "");
  const cases = useQuery({
    queryKey: ["job-cases", status, kind, subject, cursor],
    queryFn: async () =>
      unwrap(await api.GET("/ops/v1/reconciliation/cases", { params: { query: { status, kind, subject, cursor, limit: PAGE } } })),
    refetchInterval: 15000,
  });
  const filters = { status, kind, subject };
  function set(name: string, value: string | undefined) {
    navigate(`/reconciliation/cases${queryString({ ...filters, [name]: value })}`, { replace: true });
  }
  function submit(event: FormEvent) {
    event.preventDefault();
    set("subject", subjectInput.trim() || undefined);
  }
  return (
    <section aria-labelledby="view-title">
      <Heading>Books reconciliation cases</Heading>
      <p className="hint">
        Differences the reconciliation job found between the books (wallets vs Customer funds, Payment vs Wallet), one case each until an
        operator resolves it with a note. The job's runs: <Link to="/reconciliation">Books reconciliation</Link>. A provider's answer that
        contradicts a payment: <Link to="/cases">Provider contradictions</Link>.
      </p>
      <form className="filters" onSubmit={submit}>
        <div className="field">
          <label htmlFor="j-status">Status</label>
          <select id="j-status" value={status} onChange={(e) => set("status", e.target.value)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="j-kind">Kind</label>
          <select id="j-kind" value={kind ?? ""} onChange={(e) => set("kind", e.target.value || undefined)}>
            <option value="">Any</option>
            {JOB_KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="j-subject">Subject (currency or payment id)</label>
          <input id="j-subject" value={subjectInput} maxLength={64} onChange={(e) => setSubjectInput(e.target.value)} />
        </div>
        <div className="field actions">
          <button type="submit">Show</button>
        </div>
      </form>
      <ProblemAlert error={cases.error} what="Cases could not be read" />
      {cases.data ? (
        cases.data.items.length ? (
          <>
            <table>
              <thead>
                <tr>
                  <th scope="col">Case</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Subject</th>
                  <th scope="col">Found</th>
                  <th scope="col">Runs</th>
                  <th scope="col">Opened (UTC)</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {cases.data.items.map((c) => (
                  <tr key={c.caseId}>
                    <td>
                      <Link to={`/reconciliation/cases/${c.caseId}`}>Books case {c.caseId}</Link>
                    </td>
                    <td>{c.kind}</td>
                    <td>
                      {c.kind === "FUNDS_MISMATCH" ? (
                        c.subject
                      ) : (
                        <Link to={`/payments/${c.subject}`} title={c.subject} aria-label={`Timeline of payment ${c.subject}`}>
                          <code>{shortId(c.subject)}</code>
                        </Link>
                      )}
                    </td>
                    <td>{describeEvidence(c.kind, c.evidence)}</td>
                    <td>
                      opened by run {c.openedByRun}
                      <span className="when">last seen by run {c.lastSeenRun}</span>
                    </td>
                    <td>{formatTime(c.openedAt)}</td>
                    <td>{c.resolvedAt ? <Status value="resolved" /> : <Status value="open" />}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ) : (
          <p role="status">No {status === "all" ? "" : `${status} `}case{cursor ? " on this page" : ""}.</p>
        )
      ) : cases.isPending ? (
        <p role="status">Loading cases…</p>
      ) : null}
      {cursor || cases.data?.nextCursor ? (
        <nav className="pager" aria-label="Pages of cases">
          {cursor ? <Link to={`/reconciliation/cases${queryString(filters)}`}>Newest cases</Link> : null}
          {cases.data?.nextCursor ? (
            <Link to={`/reconciliation/cases${queryString({ ...filters, cursor: cases.data.nextCursor })}`}>Older cases</Link>
          ) : null}
        </nav>
      ) : null}
    </section>
  );
}
