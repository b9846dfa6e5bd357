import { useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../api/client";
import { Heading } from "../components/Heading";
import { ProblemAlert } from "../components/ProblemAlert";
import { Status } from "../components/Status";
import { formatDelta, formatDuration, formatTime } from "../lib/format";
import { refreshEvery } from "../lib/saga";
import { laneTitle, layoutSwimlanes, type Swimlanes } from "../lib/swimlanes";
import { Link, queryString } from "../router";

type Timeline = Schemas["SagaTimeline"];
type Entry = Schemas["TimelineEntry"];

export function Timeline({ paymentId }: { paymentId: string }) {
  const saga = useQuery({
    queryKey: ["saga", paymentId],
    queryFn: async () => unwrap(await api.GET("/ops/v1/payments/{paymentId}/saga", { params: { path: { paymentId } } })),
    // Live until there is nothing more to see: final, waiting for nothing, every service seen.
    refetchInterval: (query) => (query.state.data ? refreshEvery(query.state.data) : false),
  });
  return (
    <section aria-labelledby="view-title">
      <Heading>
        Payment <code className="id">{paymentId}</code>
      </Heading>
      <ProblemAlert error={saga.error} what="The timeline could not be read" />
      {saga.isPending ? <p role="status">Reading every service's part of the saga…</p> : null}
      {saga.data ? <SagaView saga={saga.data} /> : null}
    </section>
  );
}

function SagaView({ saga }: { saga: Timeline }) {
  const layout = layoutSwimlanes(saga.entries);
  const unavailable = Object.entries(saga.unavailable ?? {});
  return (
    <>
      <dl className="facts">
        <div>
          <dt>Status</dt>
          <dd>
            <Status value={saga.status} /> {saga.final ? "(final)" : "(not final)"}
          </dd>
        </div>
        <div>
          <dt>Error code</dt>
          <dd>{saga.errorCode ?? "—"}</dd>
        </div>
        <div>
          <dt>Started (UTC)</dt>
          <dd>{formatTime(saga.startedAt)}</dd>
        </div>
        <div>
          <dt>Ended (UTC)</dt>
          <dd>{formatTime(saga.endedAt)}</dd>
        </div>
        <div>
          <dt>{saga.final ? "Took" : "Running for"}</dt>
          <dd>{formatDuration(saga.durationSeconds)}</dd>
        </div>
        <div>
          <dt>Trace</dt>
          <dd>
            {saga.traceUrl ? (
              <a href={saga.traceUrl} target="_blank" rel="noreferrer">
                Open the trace in Zipkin<span className="visually-hidden"> (opens in a new tab)</span>
              </a>
            ) : saga.traceId ? (
              <code>{saga.traceId}</code>
            ) : (
              "—"
            )}
          </dd>
        </div>
      </dl>
      <div className={saga.waiting ? "waiting" : "waiting waiting-none"} role="status">
        {saga.waiting ? (
          <p>
            <strong>Now:</strong> {saga.waiting}
          </p>
        ) : (
          <p>
            <strong>Now:</strong> {saga.final ? "nothing to wait for; the saga is over." : "nothing is known to be pending."}
          </p>
        )}
        <p className="hint">
          {saga.waitingSince ? `Waiting since ${formatTime(saga.waitingSince)} UTC. ` : ""}
          {saga.nextActionAt ? `Next action at ${formatTime(saga.nextActionAt)} UTC. ` : ""}
          As of {formatTime(saga.asOf)} UTC
          {refreshEvery(saga) ? `; refreshed every ${Number(refreshEvery(saga)) / 1000} s while anything is pending.` : "."}
        </p>
      </div>
      {unavailable.length || saga.notes?.length ? (
        <div className="notice" role="note">
          <p>
            <strong>Part of the saga could not be seen:</strong>
          </p>
          <ul>
            {unavailable.map(([service, why]) => (
              <li key={service}>
                {service}: {why}
              </li>
            ))}
            {(saga.notes ?? []).map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
        </div>
      ) : null}

      <h2 id="lanes-title">Swimlanes</h2>
      {layout.rows.length ? (
        <>
          <Overview layout={layout} />
          <LaneTable layout={layout} />
        </>
      ) : (
        <p>Nothing of this payment was found in any service.</p>
      )}

      <h2>Records and who applied them</h2>
      <Records records={saga.records} startedAt={saga.startedAt ?? null} />

      <h2>Dead letters</h2>
      {saga.deadLetters.length ? (
        <>
          <ul>
            {saga.deadLetters.map((r) => (
              <li key={`${r.topic}-${r.partition}-${r.offset}`}>
                <code>
                  {r.topic}[{r.partition}]@{r.offset}
                </code>{" "}
                {r.ceType ?? "?"} — {r.deadLetter?.reason ?? "no reason"} by group {r.deadLetter?.consumerGroup ?? "?"}
                {r.deadLetter?.error ? `: ${r.deadLetter.error}` : ""}
              </li>
            ))}
          </ul>
          <p>
            <Link to={`/dead-letters${queryString({ key: saga.paymentId })}`}>Browse and replay them</Link>
          </p>
        </>
      ) : (
        <p>None.</p>
      )}

      <h2>Provider contradictions</h2>
      {saga.cases.length ? (
        <>
          <ul>
            {saga.cases.map((c, i) => (
              <li key={i}>
                {formatTime(c.at)} UTC — {c.summary}
              </li>
            ))}
          </ul>
          <p>
            <Link to={`/cases${queryString({ paymentId: saga.paymentId, status: "all" })}`}>Open the cases</Link>
          </p>
        </>
      ) : (
        <p>None.</p>
      )}
      <p>
        The books reconciliation's cases of this payment (Payment and Wallet disagreeing about it):{" "}
        <Link to={`/reconciliation/cases${queryString({ subject: saga.paymentId, status: "all" })}`}>look them up</Link>.
      </p>
    </>
  );
}

/** The saga on one time axis, a track per lane (a picture of the table below, which has it all). */
function Overview({ layout }: { layout: Swimlanes<Entry> }) {
  const width = 900;
  const label = 150;
  const track = 22;
  const height = layout.lanes.length * track + 24;
  const x = (position: number) => label + position * (width - label - 12);
  return (
    <svg className="overview" viewBox={`0 0 ${width} ${height}`} aria-hidden="true">
      {layout.lanes.map((lane, i) => (
        <g key={lane.name}>
          <text x={0} y={i * track + 15} className="chart-axis">
            {laneTitle(lane.name)}
          </text>
          <line x1={label} x2={width - 12} y1={i * track + 11} y2={i * track + 11} className="chart-grid" />
          <rect
            x={x(layout.span ? lane.first / layout.span : 0)}
            width={Math.max(2, x(layout.span ? lane.last / layout.span : 0) - x(layout.span ? lane.first / layout.span : 0))}
            y={i * track + 7}
            height={8}
            className="lane-span"
          />
        </g>
      ))}
      {layout.rows.map((row, i) => (
        <circle key={i} cx={x(row.position)} cy={row.lane * track + 11} r={row.longestWait ? 5 : 3.5} className={row.longestWait ? "dot dot-long" : "dot"} />
      ))}
      <text x={label} y={height - 4} className="chart-axis">
        0
      </text>
      <text x={width - 12} y={height - 4} textAnchor="end" className="chart-axis">
        {formatDuration(layout.span)}
      </text>
    </svg>
  );
}

function LaneTable({ layout }: { layout: Swimlanes<Entry> }) {
  return (
    <div className="scroll" tabIndex={0} role="region" aria-labelledby="lanes-title">
      <table className="lanes">
        <caption className="visually-hidden">
          The saga's steps in order, one column per service; the time since the start and since the step before
        </caption>
        <thead>
          <tr>
            <th scope="col" className="time-col">
              Since start
            </th>
            <th scope="col" className="time-col">
              Since previous
            </th>
            {layout.lanes.map((lane) => (
              <th scope="col" key={lane.name}>
                {laneTitle(lane.name)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {layout.rows.map((row, i) => (
            <tr key={i} className={row.longestWait ? "longest" : undefined}>
              <th scope="row" className="num">
                {formatDuration(row.sinceStart)}
              </th>
              <td className="num">
                {formatDelta(row.sincePrevious)}
                {row.longestWait ? <span className="tag">longest wait</span> : null}
              </td>
              {layout.lanes.map((lane, l) =>
                l === row.lane ? (
                  <td key={lane.name} className="step">
                    <span className="kind">{row.entry.kind}</span> {row.entry.summary}
                    {row.sinceLanePrevious !== null ? <span className="when">{formatDelta(row.sinceLanePrevious)} in this lane</span> : null}
                    <details>
                      <summary>Details</summary>
                      <p className="when">{formatTime(row.entry.at)} UTC</p>
                      {row.entry.ceId ? <p className="when">Event {row.entry.ceId}</p> : null}
                      {row.entry.details && Object.keys(row.entry.details).length ? <pre>{JSON.stringify(row.entry.details, null, 2)}</pre> : null}
                    </details>
                  </td>
                ) : (
                  <td key={lane.name} />
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Application({ a, producedAt }: { a: Schemas["Application"]; producedAt: string | null }) {
  if (!a.known) return <>{a.group}: unknown (the service did not answer)</>;
  if (a.deadLettered)
    return (
      <>
        <Status value="FAILED" label={`${a.group}: dead-lettered`} /> {a.deadLetterReason ?? ""}
      </>
    );
  if (a.applied) {
    const after = a.appliedAt && producedAt ? (new Date(a.appliedAt).getTime() - new Date(producedAt).getTime()) / 1000 : null;
    return (
      <>
        <Status value="COMPLETED" label={`${a.group}: applied`} /> {after !== null ? `${formatDelta(after)} after it was produced` : ""}
      </>
    );
  }
  return (
    <>
      <Status value="open" label={`${a.group}: not yet`} /> {a.lag !== null && a.lag !== undefined ? `(lag ${a.lag})` : ""}
    </>
  );
}

function Records({ records, startedAt }: { records: Schemas["TimelineRecord"][]; startedAt: string | null }) {
  if (!records.length) return <p>No record of this payment was found.</p>;
  return (
    <div className="scroll" tabIndex={0} role="region" aria-label="Records and applications">
      <table>
        <thead>
          <tr>
            <th scope="col">Record</th>
            <th scope="col">Type</th>
            <th scope="col">Producer</th>
            <th scope="col">Produced (UTC)</th>
            <th scope="col">Consumer groups</th>
          </tr>
        </thead>
        <tbody>
          {records.map(({ record, applications }) => (
            <tr key={`${record.topic}-${record.partition}-${record.offset}`}>
              <td>
                <code>
                  {record.topic}[{record.partition}]@{record.offset}
                </code>
              </td>
              <td>{record.ceType ?? "—"}</td>
              <td>{record.ceSource ?? "—"}</td>
              <td>
                {formatTime(record.timestamp)}
                {startedAt && record.timestamp ? (
                  <span className="when">{formatDelta((new Date(record.timestamp).getTime() - new Date(startedAt).getTime()) / 1000)} from start</span>
                ) : null}
              </td>
              <td>
                <ul className="plain">
                  {applications.map((a) => (
                    <li key={a.group}>
                      <Application a={a} producedAt={record.timestamp ?? null} />
                    </li>
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
