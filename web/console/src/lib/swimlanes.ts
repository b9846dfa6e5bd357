// The saga timeline laid out as swimlanes: one lane per service (and one for Kafka's records), one
// row per entry in the order the Ops service merged them (causal order), with the time since the
// saga started, since the entry before, and since the lane's own previous step. Pure.

export interface TimelineEntryLike {
  at: string;
  sinceStart: number;
  sincePrevious: number;
  service: string;
  kind: string;
  summary: string;
  ceId?: string | null;
  details?: Record<string, unknown>;
}

export interface Lane {
  name: string;
  /** Seconds since the start of the lane's first and last entries. */
  first: number;
  last: number;
  entries: number;
}

export interface LaneRow<E extends TimelineEntryLike> {
  entry: E;
  lane: number;
  sinceStart: number;
  sincePrevious: number;
  /** Seconds since the same lane's previous entry; null for the lane's first. */
  sinceLanePrevious: number | null;
  /** Where the entry falls on the saga's time axis, 0 (start) to 1 (last entry). */
  position: number;
  /** The longest wait of the saga ends here (the step an operator looks at first). */
  longestWait: boolean;
}

export interface Swimlanes<E extends TimelineEntryLike> {
  lanes: Lane[];
  rows: LaneRow<E>[];
  /** Seconds from the first entry to the last. */
  span: number;
}

/** Lanes in the order services first appear; `kafka` (the records) first when present. */
export function layoutSwimlanes<E extends TimelineEntryLike>(entries: readonly E[]): Swimlanes<E> {
  const lanes: Lane[] = [];
  const laneOf = new Map<string, number>();
  const ordered = [...entries.filter((e) => e.service === "kafka"), ...entries.filter((e) => e.service !== "kafka")];
  for (const entry of ordered) {
    if (!laneOf.has(entry.service)) {
      laneOf.set(entry.service, lanes.length);
      lanes.push({ name: entry.service, first: entry.sinceStart, last: entry.sinceStart, entries: 0 });
    }
  }
  const span = entries.reduce((max, e) => Math.max(max, e.sinceStart), 0);
  let longest = -1;
  entries.forEach((e, i) => {
    if (i > 0 && (longest < 0 || e.sincePrevious > (entries[longest]?.sincePrevious ?? 0))) longest = i;
  });
  const lastInLane = new Map<number, number>();
  const rows = entries.map((entry, i) => {
    const lane = laneOf.get(entry.service) ?? 0;
    const info = lanes[lane];
    if (info) {
      info.first = Math.min(info.first, entry.sinceStart);
      info.last = Math.max(info.last, entry.sinceStart);
      info.entries += 1;
    }
    const previous = lastInLane.get(lane);
    lastInLane.set(lane, entry.sinceStart);
    return {
      entry,
      lane,
      sinceStart: entry.sinceStart,
      sincePrevious: i === 0 ? 0 : entry.sincePrevious,
      sinceLanePrevious: previous === undefined ? null : entry.sinceStart - previous,
      position: span > 0 ? entry.sinceStart / span : 0,
      longestWait: i === longest && entry.sincePrevious > 0,
    };
  });
  return { lanes, rows, span };
}

/** A service's catalog name as a lane title: "merchant_callback" → "Merchant callback". */
export function laneTitle(service: string): string {
  if (service === "kafka") return "Kafka records";
  const words = service.replace(/[_-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
