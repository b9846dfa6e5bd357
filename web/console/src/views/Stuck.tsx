import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { Heading } from "../components/Heading";
import { ProblemAlert } from "../components/ProblemAlert";
import { Status } from "../components/Status";
import { formatDuration, formatTime, shortId } from "../lib/format";
import { stuckSource } from "../lib/stuck";
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
            <Group key={`${g.source}-${g.status}-${g.waitingFor}`} group={g} />
          ))}
        </>
      ) : stuck.isPending ? (
        <p role="status">Loading…</p>
      ) : null}
    </section>
  );
}

/** One group: whose list it comes from, where its payments stopped, what happens next (by itself,
 * or an operator's replay), and the oldest of them. */
function Group({ group: g }: { group: Schemas["StuckGroup"] }) {
  const source = stuckSource(g);
  const id = `g-${g.source}-${g.status}`.replace(/\W+/g, "-");
  const deadLetters = source.deadLetters();
  return (
    <article className="card" aria-labelledby={id}>
      <h2 id={id}>
        {g.count} × <Status value={g.status} /> — from {source.label}
      </h2>
      <dl className="facts group-facts">
        <div>
          <dt>Source</dt>
          <dd>
            <strong>{source.label}</strong>: {source.explanation}
          </dd>
        </div>
        <div>
          <dt>Waiting for</dt>
          <dd>{g.waitingFor}</dd>
        </div>
        <div>
          <dt>{source.operatorAction ? "Next action (yours)" : "Next action (by itself)"}</dt>
          <dd>
            {g.nextAction}
            {deadLetters ? (
              <>
                {" "}
                <Link to={deadLetters}>Open these dead letters</Link>
              </>
            ) : null}
          </dd>
        </div>
        <div>
          <dt>Oldest created (UTC)</dt>
          <dd>{formatTime(g.oldestCreatedAt)}</dd>
        </div>
      </dl>
      {g.samples.length ? (
        <table>
          <caption>The oldest of them</caption>
          <thead>
            <tr>
              <th scope="col">Payment</th>
              <th scope="col">Age</th>
              {source.operatorAction ? (
                <th scope="col">Dead letters</th>
              ) : (
                <>
                  <th scope="col" className="num">
                    Attempts
                  </th>
                  <th scope="col">Last error</th>
                  <th scope="col">Next attempt (UTC)</th>
                </>
              )}
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
                {source.operatorAction ? (
                  <td>
                    <Link to={source.deadLetters(s.paymentId)!} aria-label={`Dead letters of payment ${s.paymentId}`}>
                      Dead letters
                    </Link>
                  </td>
                ) : (
                  <>
                    <td className="num">{s.attempts}</td>
                    <td>{s.lastError ?? "—"}</td>
                    <td>{formatTime(s.nextAttemptAt)}</td>
                  </>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </article>
  );
}
