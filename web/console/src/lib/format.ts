// How the console writes times, durations and money. Pure: unit-tested in format.test.ts.

/** A duration for a human: "850 ms", "2.4 s", "1 min 05 s", "2 h 03 min", "3 d 4 h". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const sign = seconds < 0 ? "-" : "";
  const s = Math.abs(seconds);
  if (s < 1) return `${sign}${Math.round(s * 1000)} ms`;
  if (s < 10) return `${sign}${trimZero(s.toFixed(1))} s`;
  if (s < 60) return `${sign}${Math.round(s)} s`;
  const total = Math.round(s);
  if (total < 3600) return `${sign}${Math.floor(total / 60)} min ${pad(total % 60)} s`;
  if (total < 86400) return `${sign}${Math.floor(total / 3600)} h ${pad(Math.floor((total % 3600) / 60))} min`;
  return `${sign}${Math.floor(total / 86400)} d ${Math.floor((total % 86400) / 3600)} h`;
}

/** The time since the step before, with its sign: "+1.2 s" ("+0 ms" for the same instant). */
export function formatDelta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "";
  return seconds < 0 ? formatDuration(seconds) : `+${formatDuration(seconds)}`;
}

/** An instant in UTC, to the millisecond: "2026-12-03 00:53:03.123". */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toISOString().replace("T", " ").replace("Z", "");
}

/** Seconds from `iso` to `now`. */
export function ageSeconds(iso: string, now: Date): number {
  return (now.getTime() - new Date(iso).getTime()) / 1000;
}

const EXPONENTS: Record<string, number> = {};
for (const c of ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"])
  EXPONENTS[c] = 0;
for (const c of ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]) EXPONENTS[c] = 3;

/** An amount in minor units (integers, never floats), as the platform's `money()`: "150.00 RUB". */
export function formatMoney(amount: number, currency: string): string {
  const exponent = EXPONENTS[currency] ?? 2;
  const sign = amount < 0 ? "-" : "";
  const units = Math.abs(Math.trunc(amount));
  if (exponent === 0) return `${sign}${units} ${currency}`;
  const scale = 10 ** exponent;
  const whole = Math.floor(units / scale);
  const fraction = String(units % scale).padStart(exponent, "0");
  return `${sign}${whole}.${fraction} ${currency}`;
}

/** A big count for a table cell: "1 234 567". */
export function formatCount(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, "\u2009");
}

/** A `<input type="datetime-local">` value (the operator's local time) as an ISO instant, or undefined. */
export function localInputToIso(value: string): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** A long id shortened for a narrow cell; the full id stays in its title and link. */
export function shortId(id: string, keep = 8): string {
  return id.length > keep + 1 ? `${id.slice(0, keep)}…` : id;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

function trimZero(text: string): string {
  return text.endsWith(".0") ? text.slice(0, -2) : text;
}
