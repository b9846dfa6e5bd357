// When the timeline of a payment is read again. Pure.

export interface SagaState {
  final: boolean;
  endedAt?: string | null;
  waiting?: string | null;
  notes?: string[];
  unavailable?: Record<string, string>;
}

/** Milliseconds until the timeline is read again, or false once nothing more will change as far as
 * it can tell: final, its final event seen (the DWH stores records every few seconds, and Payment
 * may know the outcome before), waiting for nothing, every service seen. A payment in flight is
 * read every 3 s; a final one still incomplete (a group to apply its last event, a late inquiry)
 * every 10 s. */
export function refreshEvery(saga: SagaState): number | false {
  if (!saga.final) return 3000;
  const incomplete =
    !saga.endedAt ||
    Boolean(saga.waiting) || (saga.notes ?? []).length > 0 || Object.keys(saga.unavailable ?? {}).length > 0;
  return incomplete ? 10000 : false;
}
