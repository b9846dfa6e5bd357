// The fleet's figures over time, kept in the browser while the console polls: consumer lag per
// group and outbox backlog per service, a bounded history, and the scales of the charts. Pure.

export interface Sample {
  /** Epoch milliseconds of the snapshot (the Ops service's generatedAt). */
  at: number;
  values: Record<string, number>;
}

export interface Point {
  t: number;
  v: number;
}

export interface Series {
  name: string;
  points: Point[];
}

/** Keep at most `max` samples, the newest last; a snapshot seen before (same time) is not added twice. */
export function appendSample(history: readonly Sample[], sample: Sample, max = 120): Sample[] {
  const last = history[history.length - 1];
  if (last && last.at >= sample.at) return [...history];
  const next = [...history, sample];
  return next.length > max ? next.slice(next.length - max) : next;
}

/** One series per name seen in any sample; a name missing from a sample has no point there. */
export function toSeries(history: readonly Sample[]): Series[] {
  const names: string[] = [];
  for (const sample of history) for (const name of Object.keys(sample.values)) if (!names.includes(name)) names.push(name);
  names.sort();
  return names.map((name) => ({
    name,
    points: history.flatMap((s) => (name in s.values ? [{ t: s.at, v: s.values[name] ?? 0 }] : [])),
  }));
}

/** The next "round" number at or above `value` (1, 2, 5 × 10ⁿ), at least 1: the top of a y axis. */
export function niceMax(value: number): number {
  if (!(value > 1)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

export interface Frame {
  width: number;
  height: number;
  t0: number;
  t1: number;
  vMax: number;
}

/** The frame that shows every point: time from the first sample to the last, values from 0. */
export function frameFor(series: readonly Series[], width: number, height: number): Frame {
  const points = series.flatMap((s) => s.points);
  const t0 = points.reduce((m, p) => Math.min(m, p.t), Number.POSITIVE_INFINITY);
  const t1 = points.reduce((m, p) => Math.max(m, p.t), Number.NEGATIVE_INFINITY);
  const vMax = niceMax(points.reduce((m, p) => Math.max(m, p.v), 0));
  return points.length ? { width, height, t0, t1, vMax } : { width, height, t0: 0, t1: 1, vMax: 1 };
}

/** The SVG path of a series in a frame (y grows downwards); a lone point is a short flat line. */
export function linePath(points: readonly Point[], frame: Frame): string {
  if (points.length === 0) return "";
  const span = frame.t1 - frame.t0;
  const x = (t: number) => (span > 0 ? ((t - frame.t0) / span) * frame.width : frame.width);
  const y = (v: number) => frame.height - (Math.min(v, frame.vMax) / frame.vMax) * frame.height;
  const coords = points.map((p) => `${round(x(p.t))},${round(y(p.v))}`);
  if (coords.length === 1) return `M${round(x(points[0]!.t) - 4)},${round(y(points[0]!.v))}L${coords[0]}`;
  return `M${coords.join("L")}`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
