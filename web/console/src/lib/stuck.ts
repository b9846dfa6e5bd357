// Where a group of stuck payments comes from, in words, and where its dead letters are. Pure:
// unit-tested in stuck.test.ts.
import { queryString } from "./paths";

export interface StuckSource {
  /** "Payment" or "Wallet": whose list the group comes from. */
  label: string;
  /** What the group is, for the operator. */
  explanation: string;
  /** True when nothing moves by itself: an operator has to act (replay a dead letter). */
  operatorAction: boolean;
  /** The dead letters to look in (a console path), or null. */
  deadLetters: (paymentId?: string) => string | null;
}

const PAYMENT_EVENTS = "payment-events";

export function stuckSource(group: { source: "payment" | "wallet"; status: string }): StuckSource {
  if (group.source === "payment")
    return {
      label: "Payment",
      explanation: "Payments that Payment holds and has not ended: its worker moves them on by itself.",
      operatorAction: false,
      deadLetters: () => null,
    };
  const notInPayment = group.status === "NOT_IN_PAYMENT";
  const consumer = notInPayment ? "payment" : "wallet";
  return {
    label: "Wallet",
    explanation: notInPayment
      ? "Money Wallet still holds for a payment Payment never accepted (its PaymentInitiated was not applied): Payment's own list cannot show it."
      : `Money Wallet still holds for a payment Payment has ended ${group.status}: Wallet has not applied the end, and Payment's own list cannot show it.`,
    operatorAction: true,
    deadLetters: (paymentId) => `/dead-letters${queryString({ topic: PAYMENT_EVENTS, group: consumer, key: paymentId })}`,
  };
}
