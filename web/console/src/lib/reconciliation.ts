// The reconciliation job's findings as the console words them: a difference in one line, a case's
// evidence as labelled facts, a run in a few words. Pure: unit-tested in reconciliation.test.ts.
import { formatMoney } from "./format";

export const JOB_KINDS = ["FUNDS_MISMATCH", "STATUS_MISMATCH", "MISSING_IN_WALLET", "MISSING_IN_PAYMENT"] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** What each kind of case means, for the operator who reads it. */
export const KIND_MEANING: Record<JobKind, string> = {
  FUNDS_MISMATCH: "The wallets' balances and Core Banking's Customer funds differ in this currency.",
  STATUS_MISMATCH: "Payment ended the payment one way and Wallet settled it the other way.",
  MISSING_IN_WALLET: "Payment ended the payment but Wallet has not settled it.",
  MISSING_IN_PAYMENT: "Wallet settled the payment but Payment has not ended it.",
};

export interface FundsDifference {
  currency: string;
  wallets: number;
  customerFunds: number;
  difference: number;
}

export interface PaymentDifference {
  kind: string;
  paymentId: string;
  paymentStatus: string | null;
  walletStatus: string | null;
}

/** "Wallets 1000.01 RUB, Customer funds 1000.00 RUB: the wallets hold 0.01 RUB more". */
export function describeFunds(d: FundsDifference): string {
  const gap = Math.abs(d.difference);
  const side = d.difference > 0 ? "more" : "less";
  const tail = d.difference === 0 ? "no difference" : `the wallets hold ${formatMoney(gap, d.currency)} ${side}`;
  return `Wallets ${formatMoney(d.wallets, d.currency)}, Customer funds ${formatMoney(d.customerFunds, d.currency)}: ${tail}`;
}

/** "Payment: COMPLETED, Wallet: RELEASED" (a side with nothing says so). */
export function describePayment(d: Pick<PaymentDifference, "paymentStatus" | "walletStatus">): string {
  return `Payment: ${d.paymentStatus ?? "not final"}, Wallet: ${d.walletStatus ?? "not settled"}`;
}

export interface Fact {
  label: string;
  value: string;
}

const EVIDENCE_LABELS: Record<string, string> = {
  currency: "Currency",
  wallets: "Sum of the wallets",
  customerFunds: "Customer funds (Core Banking 2100)",
  difference: "Difference (wallets − Customer funds)",
  paymentId: "Payment",
  kind: "Kind",
  paymentStatus: "In Payment",
  walletStatus: "In Wallet",
};
const MONEY = new Set(["wallets", "customerFunds", "difference"]);

const ORDER = Object.keys(EVIDENCE_LABELS);

/** A case's evidence (the difference as the last run found it) as labelled facts in a fixed order
 * (the stored JSON keeps none), money in its currency; a field the console does not know yet still
 * shows, after the others, under its own name. */
export function evidenceFacts(evidence: Record<string, unknown>): Fact[] {
  const currency = typeof evidence["currency"] === "string" ? evidence["currency"] : null;
  const rank = (key: string) => (ORDER.includes(key) ? ORDER.indexOf(key) : ORDER.length);
  const entries = Object.entries(evidence).sort(([a], [b]) => rank(a) - rank(b));
  return entries.map(([key, value]) => {
    const label = EVIDENCE_LABELS[key] ?? key;
    if (MONEY.has(key) && typeof value === "number" && currency) return { label, value: formatMoney(value, currency) };
    if (key === "paymentStatus" && value === null) return { label, value: "not final" };
    if (key === "walletStatus" && value === null) return { label, value: "not settled" };
    if (value === null || value === undefined) return { label, value: "—" };
    return { label, value: typeof value === "object" ? JSON.stringify(value) : String(value) };
  });
}

/** A run in a few words: "clean", "2 differences (1 currency, 1 payment)", "failed: why". */
export function runSummary(run: { status: string; funds: unknown[]; payments: unknown[]; error: string | null }): string {
  if (run.status === "failed") return `failed: ${run.error ?? "no reason given"}`;
  if (run.status === "running") return "running";
  const n = run.funds.length + run.payments.length;
  if (n === 0) return "clean: nothing differs";
  const parts = [plural(run.funds.length, "currency", "currencies"), plural(run.payments.length, "payment", "payments")].filter(Boolean);
  return `${n} difference${n === 1 ? "" : "s"} (${parts.join(", ")})`;
}

function plural(n: number, one: string, many: string): string {
  return n === 0 ? "" : `${n} ${n === 1 ? one : many}`;
}

/** A case's evidence in one line for a table cell, whatever its kind (a field missing reads as such). */
export function describeEvidence(kind: string, evidence: Record<string, unknown>): string {
  const num = (key: string) => (typeof evidence[key] === "number" ? (evidence[key] as number) : null);
  const text = (key: string) => (typeof evidence[key] === "string" ? (evidence[key] as string) : null);
  if (kind === "FUNDS_MISMATCH") {
    const [currency, wallets, customerFunds, difference] = [text("currency"), num("wallets"), num("customerFunds"), num("difference")];
    if (currency && wallets !== null && customerFunds !== null && difference !== null)
      return describeFunds({ currency, wallets, customerFunds, difference });
  } else if ("paymentStatus" in evidence || "walletStatus" in evidence) {
    return describePayment({ paymentStatus: text("paymentStatus"), walletStatus: text("walletStatus") });
  }
  return evidenceFacts(evidence)
    .map((f) => `${f.label}: ${f.value}`)
    .join("; ");
}
