import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../api/client";
import { Heading } from "../components/Heading";
import { ProblemAlert } from "../components/ProblemAlert";
import { Status } from "../components/Status";
import { formatTime, shortId } from "../lib/format";
import { describeFunds, describePayment, runSummary } from "../lib/reconciliation";
import { Link } from "../router";

type Run = Schemas["ReconciliationRunView"];

/** The reconciliation job: its last runs with their differences, a run on demand. */
export function Reconciliation() {
  const queryClient = useQueryClient();
  const runs = useQuery({
    queryKey: ["job-runs"],
    queryFn: async () => unwrap(await api.GET("/ops/v1/reconciliation/runs", { params: { query: { limit: 20 } } })),
    refetchInterval: 15000,
  });
  const openCases = useQuery({
    queryKey: ["job-cases", "open", undefined, undefined, undefined],
    queryFn: async () => unwrap(await api.GET("/ops/v1/reconciliation/cases", { params: { query: { status: "open", limit: 50 } } })),
    refetchInterval: 15000,
  });
  const runNow = useMutation({
    mutationFn: async () => unwrap(await api.POST("/ops/v1/reconciliation/runs")),
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: ["job-runs"] });
      void queryClient.invalidateQueries({ queryKey: ["job-cases"] });
    },
  });
  const open = openCases.data?.items.length;
  return (
    <section aria-labelledby="view-title">
      <Heading>Books reconciliation</Heading>
      <p className="hint">
        The reconciliation job checks that the books agree: per currency, the wallets' balances against Core Banking's Customer funds; per
        payment, Payment's final state against Wallet's settlement. Each difference opens a case here. A provider's answer that contradicts a
        payment's final state is another kind of case: see <Link to="/cases">Provider contradictions</Link>.
      </p>
      <div className="toolbar">
        <button type="button" onClick={() => runNow.mutate()} disabled={runNow.isPending}>
          {runNow.isPending ? "Running…" : "Run now"}
        </button>
        <Link to="/reconciliation/cases">
          {open === undefined ? "The job's cases" : `The job's cases (${open}${openCases.data?.nextCursor ? "+" : ""} open)`}
        </Link>
      </div>
      <ProblemAlert error={runNow.error} what="The run was not made" />
      {runNow.data ? (
        <div className="card" role="status" aria-labelledby="run-made">
          <h2 id="run-made">
            Run {runNow.data.runId} made: <Status value={runNow.data.status} />
          </h2>
          <p>
            Window {formatTime(runNow.data.windowStart)} – {formatTime(runNow.data.windowEnd)} UTC: {runSummary(runNow.data)}.
          </p>
          <Differences run={runNow.data} />
        </div>
      ) : null}
      <h2>Last runs</h2>
      <ProblemAlert error={runs.error} what="Runs could not be read" />
      {runs.data ? (
        runs.data.items.length ? (
          <table>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Started (UTC)</th>
                <th scope="col">Trigger</th>
                <th scope="col">Window (UTC): payments final in</th>
                <th scope="col">Status</th>
                <th scope="col">Differences</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.items.map((r) => (
                <tr key={r.runId}>
                  <th scope="row">Run {r.runId}</th>
                  <td>{formatTime(r.startedAt)}</td>
                  <td>
                    {r.trigger === "operator" ? (
                      <span title={r.operatorId ?? undefined}>operator {r.operatorId ? <code>{shortId(r.operatorId)}</code> : null}</span>
                    ) : (
                      "schedule"
                    )}
                  </td>
                  <td>
                    {formatTime(r.windowStart)}
                    <span className="when">to {formatTime(r.windowEnd)}</span>
                  </td>
                  <td>
                    <Status value={r.status} />
                  </td>
                  <td>
                    <p className="cell-line">{runSummary(r)}</p>
                    <Differences run={r} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p role="status">No run yet: the job runs on its schedule, or press "Run now".</p>
        )
      ) : runs.isPending ? (
        <p role="status">Loading runs…</p>
      ) : null}
    </section>
  );
}

/** A run's differences, each with a link to the case it opened or kept open. */
function Differences({ run }: { run: Run }) {
  if (!run.funds.length && !run.payments.length) return null;
  return (
    <ul className="plain differences">
      {run.funds.map((d) => (
        <li key={`f-${d.currency}`}>
          <strong>FUNDS_MISMATCH {d.currency}</strong>: {describeFunds(d)}. <CaseLink caseId={d.caseId} />
        </li>
      ))}
      {run.payments.map((d) => (
        <li key={`p-${d.paymentId}`}>
          <strong>{d.kind}</strong>{" "}
          <Link to={`/payments/${d.paymentId}`} title={d.paymentId} aria-label={`Timeline of payment ${d.paymentId}`}>
            <code>{shortId(d.paymentId)}</code>
          </Link>
          : {describePayment(d)}. <CaseLink caseId={d.caseId} />
        </li>
      ))}
    </ul>
  );
}

function CaseLink({ caseId }: { caseId?: number | null }) {
  return caseId ? <Link to={`/reconciliation/cases/${caseId}`}>Books case {caseId}</Link> : null;
}
