// The step tracker of a payment: accepted → checked → sent to the bank → completed or failed.
// The public API says PENDING / COMPLETED / FAILED, the provider's transaction id once the bank
// took the payout, and an errorCode on failure; the steps are read from those.

export type StepName = "accepted" | "checked" | "sent" | "final";
export type StepState = "done" | "current" | "todo" | "failed";

export interface PaymentLike {
  status: "PENDING" | "COMPLETED" | "FAILED";
  providerTxnId: string | null;
  errorCode: string | null;
}

export interface Step {
  name: StepName;
  state: StepState;
}

/** The step each errorCode stopped at. */
const FAILED_AT: Record<string, StepName> = {
  FRAUD_SUSPECTED: "checked",
  PROVIDER_REJECTED: "sent",
  PROVIDER_DECLINED: "final",
  TIMEOUT: "sent",
};

export function steps(p: PaymentLike): Step[] {
  const order: StepName[] = ["accepted", "checked", "sent", "final"];
  let reached: number; // index of the first step not done
  let failedAt = -1;
  if (p.status === "COMPLETED") reached = order.length;
  else if (p.status === "FAILED") {
    failedAt = order.indexOf(FAILED_AT[p.errorCode ?? ""] ?? "final");
    reached = failedAt;
  } else reached = p.providerTxnId ? 3 : 1;
  return order.map((name, i) => ({
    name,
    state: i === failedAt ? "failed" : i < reached ? "done" : i === reached && p.status === "PENDING" ? "current" : "todo",
  }));
}

export function isFinal(status: string): boolean {
  return status === "COMPLETED" || status === "FAILED";
}
