import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { Heading } from "../components/Heading";
import { ProblemAlert } from "../components/ProblemAlert";
import { Status } from "../components/Status";
import { formatTime, shortId } from "../lib/format";
import { Link, navigate, queryString, useLocation } from "../router";

const STATUSES = ["open", "resolved", "all"] as const;
type CaseStatus = (typeof STATUSES)[number];
// The kinds the API lists today; a kind it adds later still shows in the table (as text).
const KINDS = ["LATE_SUCCESS", "CONFLICTING_CALLBACK", "UNCONFIRMED_FAILURE"] as const;
type Kind = (typeof KINDS)[number];

export function Cases() {
  const { search } = useLocation();
  const status = (STATUSES as readonly string[]).includes(search.get("status") ?? "") ? (search.get("status") as CaseStatus) : "open";
  const kind = (KINDS as readonly string[]).includes(search.get("kind") ?? "") ? (search.get("kind") as Kind) : undefined;
  const paymentId = search.get("paymentId") ?? undefined;
  const cases = useQuery({
    queryKey: ["cases", status, kind, paymentId],
    queryFn: async () => unwrap(await api.GET("/ops/v1/reconciliation-cases", { params: { query: { status, kind, paymentId, limit: 200 } } })),
    refetchInterval: 15000,
  });
  function set(name: string, value: string) {
    navigate(`/cases${queryString({ status, kind, paymentId, [name]: value })}`, { replace: true });
  }
  return (
    <section aria-labelledby="view-title">
      <Heading>Provider contradictions</Heading>
      <p className="hint">
        A provider's outcome that contradicts a payment's final state opens a case here (Payment's cases). Resolve each with a note of what was
        done. The books disagreeing is another kind of case: see <Link to="/reconciliation">Books reconciliation</Link>.
      </p>
      <div className="filters">
        <div className="field">
          <label htmlFor="c-status">Status</label>
          <select id="c-status" value={status} onChange={(e) => set("status", e.target.value)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="c-kind">Kind</label>
          <select id="c-kind" value={kind ?? ""} onChange={(e) => set("kind", e.target.value)}>
            <option value="">Any</option>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </div>
        {paymentId ? (
          <p className="field">
            Payment <code>{paymentId}</code> only. <Link to={`/cases${queryString({ status, kind })}`}>Show every payment's</Link>
          </p>
        ) : null}
      </div>
      <ProblemAlert error={cases.error} what="Cases could not be read" />
      {cases.data ? (
        cases.data.items.length ? (
          <table>
            <thead>
              <tr>
                <th scope="col">Case</th>
                <th scope="col">Kind</th>
                <th scope="col">Payment</th>
                <th scope="col">Payment status</th>
                <th scope="col">Provider said</th>
                <th scope="col">Opened (UTC)</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {cases.data.items.map((c) => (
                <tr key={c.caseId}>
                  <td>
                    <Link to={`/cases/${c.caseId}`}>Provider case {c.caseId}</Link>
                  </td>
                  <td>{c.kind}</td>
                  <td>
                    <Link to={`/payments/${c.paymentId}`} title={c.paymentId} aria-label={`Timeline of payment ${c.paymentId}`}>
                      <code>{shortId(c.paymentId)}</code>
                    </Link>
                  </td>
                  <td>
                    <Status value={c.paymentStatus} /> {c.errorCode ?? ""}
                  </td>
                  <td>{c.callbackStatus}</td>
                  <td>{formatTime(c.openedAt)}</td>
                  <td>{c.resolvedAt ? <Status value="resolved" /> : <Status value="open" />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p role="status">No {status === "all" ? "" : `${status} `}case.</p>
        )
      ) : cases.isPending ? (
        <p role="status">Loading cases…</p>
      ) : null}
    </section>
  );
}
