import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, newIdempotencyKey, unwrap, type Schemas } from "../api/client";
import type { paths } from "../api/schema";
import { Heading } from "../components/Heading";
import { ProblemAlert } from "../components/ProblemAlert";
import { Status } from "../components/Status";
import { formatTime } from "../lib/format";
import { Link, navigate, queryString, useLocation } from "../router";

type ListTopic = NonNullable<paths["/ops/v1/dead-letters"]["get"]["parameters"]["query"]>["topic"];
// A dead letter's own topic, as the API listed it: one of the .dlq topics the replay accepts.
type DeadLetterTopic = Schemas["RecordCoordinates"]["topic"];

const FIELDS = ["topic", "group", "reason", "ceType", "key"] as const;
type Filters = Record<(typeof FIELDS)[number], string>;
type DeadLetter = Schemas["DeadLetterView"];
type ReplayRequest = Schemas["ReplayRequest"];

const LABELS: Record<(typeof FIELDS)[number], string> = {
  topic: "Topic (original or .dlq)",
  group: "Consumer group",
  reason: "Reason",
  ceType: "Event type",
  key: "Key (e.g. a payment id)",
};

export function DeadLetters() {
  const { search } = useLocation();
  const applied = Object.fromEntries(FIELDS.map((f) => [f, search.get(f) ?? ""])) as Filters;
  const [form, setForm] = useState<Filters>(applied);
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const page = useQuery({
    queryKey: ["dead-letters", applied, cursor],
    placeholderData: keepPreviousData,
    queryFn: async () =>
      unwrap(
        await api.GET("/ops/v1/dead-letters", {
          params: {
            query: {
              // The API's enum; a topic typed into the URL that is not one is the API's 422, shown below.
              topic: (applied.topic || undefined) as ListTopic,
              group: applied.group || undefined,
              reason: applied.reason || undefined,
              ceType: applied.ceType || undefined,
              key: applied.key || undefined,
              limit: 50,
              cursor,
            },
          },
        }),
      ),
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    setCursors([]);
    navigate(`/dead-letters${queryString(Object.fromEntries(FIELDS.map((f) => [f, form[f].trim()])))}`);
  }
  return (
    <section aria-labelledby="view-title">
      <Heading>Dead letters</Heading>
      <form className="filters" onSubmit={submit} role="search" aria-label="Filter dead letters">
        {FIELDS.map((f) => (
          <div className="field" key={f}>
            <label htmlFor={`dl-${f}`}>{LABELS[f]}</label>
            <input id={`dl-${f}`} name={f} value={form[f]} spellCheck={false} onChange={(e) => setForm({ ...form, [f]: e.target.value })} />
          </div>
        ))}
        <div className="field actions">
          <button type="submit">Filter</button>
        </div>
      </form>
      <ProblemAlert error={page.error} what="Dead letters could not be read" />
      {page.data ? (
        <>
          <p className="hint">
            {page.data.items.length} shown, {page.data.scanned} records read{page.data.nextCursor ? "; more on the next page" : ""}.
          </p>
          <DeadLetterTable items={page.data.items} />
        </>
      ) : page.isPending ? (
        <p role="status">Reading the dead-letter topics…</p>
      ) : null}
      <div className="pager">
        <button type="button" disabled={!cursors.length} onClick={() => setCursors([])}>
          First page
        </button>
        <button type="button" disabled={!page.data?.nextCursor} onClick={() => page.data?.nextCursor && setCursors([...cursors, page.data.nextCursor])}>
          Next page
        </button>
      </div>
      <FilteredReplay filters={applied} />
    </section>
  );
}

/** Replay with its confirmation step and one Idempotency-Key per confirmed action. */
function useReplay() {
  const queryClient = useQueryClient();
  const [key, setKey] = useState<string | null>(null);
  const replay = useMutation({
    mutationFn: async ({ body, key }: { body: ReplayRequest; key: string }) =>
      unwrap(await api.POST("/ops/v1/dead-letters/replay", { body, params: { header: { "Idempotency-Key": key } } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ["dead-letters"] }),
  });
  return {
    replay,
    asking: key !== null,
    ask: () => setKey(newIdempotencyKey()),
    cancel: () => setKey(null),
    confirm: (body: ReplayRequest) => key && replay.mutate({ body, key }, { onSuccess: () => setKey(null) }),
  };
}

function DeadLetterTable({ items }: { items: DeadLetter[] }) {
  if (!items.length) return <p role="status">No dead letter matches.</p>;
  return (
    <div className="scroll" tabIndex={0} role="region" aria-label="Dead-letter records">
      <table>
        <thead>
          <tr>
            <th scope="col">Record</th>
            <th scope="col">Event</th>
            <th scope="col">Key</th>
            <th scope="col">Failed in group</th>
            <th scope="col">Reason</th>
            <th scope="col">Dead-lettered (UTC)</th>
            <th scope="col">Replays</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <DeadLetterRow key={`${d.topic}-${d.partition}-${d.offset}`} d={d} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DeadLetterRow({ d }: { d: DeadLetter }) {
  const { replay, asking, ask, cancel, confirm } = useReplay();
  const where = `${d.topic}[${d.partition}]@${d.offset}`;
  const again = d.replays.length > 0;
  const result = replay.data?.items[0];
  return (
    <tr>
      <td>
        <code>{where}</code>
        <span className="when">from {d.originalTopic}</span>
      </td>
      <td>{d.ceType ?? "—"}</td>
      <td>
        {d.key ? (
          <Link to={`/payments/${d.key}`} aria-label={`Timeline of ${d.key}`}>
            <code>{d.key}</code>
          </Link>
        ) : (
          "—"
        )}
      </td>
      <td>{d.consumerGroup ?? "—"}</td>
      <td>
        {d.reason ?? "—"}
        {d.error ? (
          <details>
            <summary>Error</summary>
            <pre>{d.error}</pre>
          </details>
        ) : null}
      </td>
      <td>{formatTime(d.timestamp)}</td>
      <td>
        {d.replays.length ? (
          <ul className="plain">
            {d.replays.map((r) => (
              <li key={r.replayId}>
                <Status value={r.status} label={`#${r.replayId} ${r.status}`} /> {formatTime(r.requestedAt)}
                {r.forced ? " (forced)" : ""}
              </li>
            ))}
          </ul>
        ) : (
          "never"
        )}
      </td>
      <td className="actions-cell">
        {asking ? (
          <div role="group" aria-label={`Confirm the replay of ${where}`}>
            <p>
              {again ? "Replayed before: replay it again" : "Replay it"} to {d.originalTopic}? The groups that applied it drop it.
            </p>
            <button
              type="button"
              disabled={replay.isPending}
              onClick={() =>
                confirm({ record: { topic: d.topic as DeadLetterTopic, partition: d.partition, offset: d.offset }, force: again, limit: 100 })
              }
            >
              {replay.isPending ? "Replaying…" : "Confirm replay"}
            </button>{" "}
            <button type="button" onClick={cancel} disabled={replay.isPending}>
              Cancel
            </button>
          </div>
        ) : (
          <button type="button" onClick={ask} aria-label={`${again ? "Replay again" : "Replay"} ${where}`}>
            {again ? "Replay again…" : "Replay…"}
          </button>
        )}
        <div role="status">{result ? <Status value={result.outcome} label={`Replay: ${result.outcome}${result.error ? ` (${result.error})` : ""}`} /> : null}</div>
        <ProblemAlert error={replay.error} what="Replay failed" />
      </td>
    </tr>
  );
}

function FilteredReplay({ filters }: { filters: Filters }) {
  const { replay, asking, ask, cancel, confirm } = useReplay();
  const [force, setForce] = useState(false);
  const [limit, setLimit] = useState("100");
  const narrowed = Boolean(filters.topic && (filters.reason || filters.group || filters.ceType));
  const body: ReplayRequest = {
    filter: { topic: filters.topic, reason: filters.reason || null, group: filters.group || null, ceType: filters.ceType || null },
    force,
    limit: Math.max(1, Math.min(500, Number(limit) || 100)),
  };
  const described = [filters.reason && `reason ${filters.reason}`, filters.group && `group ${filters.group}`, filters.ceType && `type ${filters.ceType}`]
    .filter(Boolean)
    .join(", ");
  return (
    <section aria-labelledby="bulk-title" className="card">
      <h2 id="bulk-title">Replay every matching record</h2>
      {narrowed ? (
        <p>
          Every record of <code>{filters.topic}</code> with {described}
          {filters.key ? " (the key filter does not apply to a bulk replay)" : ""}.
        </p>
      ) : (
        <p>Filter by a topic and at least one of reason, consumer group or event type first: a whole topic is never replayed by accident.</p>
      )}
      <div className="filters">
        <div className="field">
          <label htmlFor="bulk-limit">At most (records)</label>
          <input id="bulk-limit" type="number" min="1" max="500" value={limit} onChange={(e) => setLimit(e.target.value)} />
        </div>
        <div className="field checkbox">
          <input id="bulk-force" type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} />
          <label htmlFor="bulk-force">Also records replayed before</label>
        </div>
      </div>
      {asking ? (
        <div role="group" aria-label="Confirm the bulk replay">
          <button type="button" disabled={replay.isPending} onClick={() => confirm(body)}>
            {replay.isPending ? "Replaying…" : "Confirm: replay them"}
          </button>{" "}
          <button type="button" onClick={cancel} disabled={replay.isPending}>
            Cancel
          </button>
        </div>
      ) : (
        <button type="button" disabled={!narrowed} onClick={ask}>
          Replay matching records…
        </button>
      )}
      <div role="status">
        {replay.data
          ? `Replayed ${replay.data.replayed}, failed ${replay.data.failed}, skipped as replayed before ${replay.data.alreadyReplayed}${
              replay.data.complete ? "." : "; the topic was not read to its end: replay again to go on."
            }`
          : null}
      </div>
      <ProblemAlert error={replay.error} what="Replay failed" />
    </section>
  );
}
