import { useQuery } from "@tanstack/react-query";
import { useEffect, useState, useSyncExternalStore } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { Heading } from "../components/Heading";
import { LineChart } from "../components/LineChart";
import { ProblemAlert } from "../components/ProblemAlert";
import { Status } from "../components/Status";
import { formatCount, formatDuration, formatTime } from "../lib/format";
import { appendSample, toSeries, type Sample } from "../lib/series";
import { Link, queryString } from "../router";

const EVERY_MS = 3000;

// The history outlives the view (leave Fleet and come back: the charts go on), not the tab.
const history = { lag: [] as Sample[], backlog: [] as Sample[], version: 0 };
const listeners = new Set<() => void>();
function record(fleet: Schemas["Fleet"]): void {
  const at = new Date(fleet.generatedAt).getTime();
  const lag = Object.fromEntries(fleet.consumerGroups.map((g) => [g.group, g.lag]));
  const backlog = Object.fromEntries(fleet.services.flatMap((s) => (s.outbox ? [[s.name, s.outbox.pending]] : [])));
  history.lag = appendSample(history.lag, { at, values: lag });
  history.backlog = appendSample(history.backlog, { at, values: backlog });
  history.version += 1;
  listeners.forEach((l) => l());
}
function useHistory() {
  useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => history.version,
  );
  return history;
}

export function Fleet() {
  const [live, setLive] = useState(true);
  const fleet = useQuery({
    queryKey: ["fleet"],
    queryFn: async () => unwrap(await api.GET("/ops/v1/fleet")),
    refetchInterval: live ? EVERY_MS : false,
  });
  useEffect(() => {
    if (fleet.data) record(fleet.data);
  }, [fleet.data]);
  const { lag, backlog } = useHistory();
  const data = fleet.data;
  return (
    <section aria-labelledby="view-title">
      <Heading>Fleet</Heading>
      <div className="toolbar">
        <button type="button" aria-pressed={!live} onClick={() => setLive(!live)}>
          {live ? "Pause live updates" : "Resume live updates"}
        </button>
        <span className="hint">
          {live ? `Live: refreshed every ${EVERY_MS / 1000} s.` : "Paused."} {data ? `Last snapshot ${formatTime(data.generatedAt)} UTC.` : ""}
        </span>
      </div>
      <ProblemAlert error={fleet.error} what="The fleet could not be read" />
      {data ? (
        <>
          {!data.kafka.reachable ? (
            <p className="problem" role="alert">
              Kafka is not reachable: {data.kafka.error ?? "no answer"}
            </p>
          ) : null}
          <div className="charts">
            <section aria-labelledby="lag-title">
              <h2 id="lag-title">Consumer lag per group</h2>
              <LineChart title="Consumer lag" unit="records" series={toSeries(lag)} />
            </section>
            <section aria-labelledby="backlog-title">
              <h2 id="backlog-title">Outbox backlog per service</h2>
              <LineChart title="Outbox backlog" unit="rows" series={toSeries(backlog)} />
            </section>
          </div>
          <h2>Consumer groups</h2>
          <Groups groups={data.consumerGroups} />
          <h2>Services and their outboxes</h2>
          <Services services={data.services} />
          <h2>Dead-letter topics</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Topic</th>
                <th scope="col" className="num">
                  Records
                </th>
              </tr>
            </thead>
            <tbody>
              {data.deadLetterTopics.map((t) => (
                <tr key={t.topic}>
                  <td>
                    <Link to={`/dead-letters${queryString({ topic: t.topic })}`}>{t.topic}</Link>
                  </td>
                  <td className="num">{formatCount(t.records)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : fleet.isPending ? (
        <p role="status">Asking every service and Kafka…</p>
      ) : null}
    </section>
  );
}

function Groups({ groups }: { groups: Schemas["ConsumerGroupView"][] }) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Group</th>
          <th scope="col">State</th>
          <th scope="col" className="num">
            Members
          </th>
          <th scope="col" className="num">
            Lag
          </th>
          <th scope="col">Partitions (lag)</th>
        </tr>
      </thead>
      <tbody>
        {groups.map((g) => (
          <tr key={g.group}>
            <th scope="row">{g.group}</th>
            <td>{g.members === 0 ? <Status value="down" label={`${g.state} (no consumer)`} /> : g.state}</td>
            <td className="num">{g.members}</td>
            <td className="num">{formatCount(g.lag)}</td>
            <td>
              <details>
                <summary>
                  {g.partitions.length} partitions, {g.partitions.filter((p) => p.lag > 0).length} behind
                </summary>
                <table className="inner">
                  <thead>
                    <tr>
                      <th scope="col">Topic</th>
                      <th scope="col" className="num">
                        Partition
                      </th>
                      <th scope="col" className="num">
                        Committed
                      </th>
                      <th scope="col" className="num">
                        End
                      </th>
                      <th scope="col" className="num">
                        Lag
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {g.partitions.map((p) => (
                      <tr key={`${p.topic}-${p.partition}`}>
                        <td>{p.topic}</td>
                        <td className="num">{p.partition}</td>
                        <td className="num">{p.committedOffset ?? "none"}</td>
                        <td className="num">{p.highWatermark}</td>
                        <td className="num">{p.lag}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </details>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Services({ services }: { services: Schemas["ServiceHealth"][] }) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Service</th>
          <th scope="col">Status</th>
          <th scope="col" className="num">
            Outbox pending
          </th>
          <th scope="col">Oldest pending</th>
          <th scope="col">Last published (UTC)</th>
          <th scope="col">Why not up</th>
        </tr>
      </thead>
      <tbody>
        {services.map((s) => (
          <tr key={s.name}>
            <th scope="row">{s.name}</th>
            <td>
              <Status value={s.status} />
            </td>
            <td className="num">{s.outbox ? formatCount(s.outbox.pending) : "no outbox"}</td>
            <td>{s.outbox ? formatDuration(s.outbox.oldestPendingAgeSeconds) : "—"}</td>
            <td>{s.outbox ? formatTime(s.outbox.lastPublishedAt) : "—"}</td>
            <td>
              {s.error ??
                Object.entries(s.checks)
                  .filter(([, v]) => v !== "ok")
                  .map(([k, v]) => `${k}: ${v}`)
                  .join("; ")}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
