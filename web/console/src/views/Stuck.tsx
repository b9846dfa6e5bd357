import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap } from "../api/client";
import { Heading } from "../components/Heading";
import { ProblemAlert } from "../components/ProblemAlert";
import { Status } from "../components/Status";
import { formatDuration, formatTime, shortId } from "../lib/format";
import { Link } from "../router";

export function Stuck() {
  const [minutes, setMinutes] = useState("5");
  const [applied, setApplied] = useState(5);
  const stuck = useQuery({
    queryKey: ["stuck", applied],
    queryFn: async () => unwrap(await api.GET("/ops/v1/stuck-payments", { params: { query: { olderThanSeconds: applied * 60, samples: 10 } } })),
    refetchInterval: 15000,
  });
  const valid = Number(minutes) > 0;
  function submit(event: FormEvent) {
    event.preventDefault();
    if (valid) setApplied(Number(minutes));
  }
  return (
    <section aria-labelledby="view-title">
      <Heading>Stuck payments</Heading>
      <form className="filters" onSubmit={submit}>
        <div className="field">
          <label htmlFor="older">Not final after (minutes)</label>
          <input id="older" type="number" min="0.1" step="any" value={minutes} onChange={(e) => setMinutes(e.target.value)} aria-invalid={!valid} />
        </div>
        <div className="field actions">
          <button type="submit" disabled={!valid}>
            Show
          </button>
        </div>
      </form>
      <ProblemAlert error={stuck.error} what="Stuck payments could not be read" />
      {stuck.data ? (
        <>
          <p role="status">
            {stuck.data.total === 0
              ? `No payment is stuck: every one is final within ${formatDuration(stuck.data.olderThanSeconds)}.`
              : `${stuck.data.total} payment${stuck.data.total === 1 ? " is" : "s are"} not final after ${formatDuration(stuck.data.olderThanSeconds)}`}{" "}
            (as of {formatTime(stuck.data.asOf)} UTC).
          </p>
          {stuck.data.groups.map((g) => (
            <article key={`${g.status}-${g.waitingFor}`} className="card" aria-labelledby={`g-${g.status}-${g.waitingFor}`.replace(/\W+/g, "-")}>
              <h2 id={`g-${g.status}-${g.waitingFor}`.replace(/\W+/g, "-")}>
                {g.count} × <Status value={g.status} /> — waiting for {g.waitingFor}
              </h2>
              <p>
                Next by itself: {g.nextAction}. Oldest created {formatTime(g.oldestCreatedAt)} UTC.
              </p>
              {g.samples.length ? (
                <table>
                  <caption>The oldest of them</caption>
                  <thead>
                    <tr>
                      <th scope="col">Payment</th>
                      <th scope="col">Age</th>
                      <th scope="col" className="num">
                        Attempts
                      </th>
                      <th scope="col">Last error</th>
                      <th scope="col">Next attempt (UTC)</th>
                    </tr>
                  </thead>
                  <tbody>
                    {g.samples.map((s) => (
                      <tr key={s.paymentId}>
                        <td>
                          <Link to={`/payments/${s.paymentId}`} title={s.paymentId} aria-label={`Timeline of payment ${s.paymentId}`}>
                            <code>{shortId(s.paymentId)}</code>
                          </Link>
                        </td>
                        <td>{formatDuration(s.ageSeconds)}</td>
                        <td className="num">{s.attempts}</td>
                        <td>{s.lastError ?? "—"}</td>
                        <td>{formatTime(s.nextAttemptAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : null}
            </article>
          ))}
        </>
      ) : stuck.isPending ? (
        <p role="status">Loading…</p>
      ) : null}
    </section>
  );
}
