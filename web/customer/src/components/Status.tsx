import { useI18n } from "../i18n/i18n";
import type { PaymentStatus } from "../api/client";
import { steps, type PaymentLike } from "../lib/tracker";
import type { MessageKey } from "../i18n/messages";

const ICONS: Record<PaymentStatus, string> = { PENDING: "⏳", COMPLETED: "✓", FAILED: "✕" };

/** The status in words with an icon: never colour alone. */
export function StatusBadge({ status }: { status: PaymentStatus }) {
  const { t } = useI18n();
  return (
    <span className={`badge badge-${status.toLowerCase()}`}>
      <span aria-hidden="true">{ICONS[status]} </span>
      {t(`status.${status}` as MessageKey)}
    </span>
  );
}

const STATE_ICONS = { done: "✓", current: "…", todo: "○", failed: "✕" } as const;

/** accepted → checked → sent to the bank → completed/failed, as an ordered list read out in full. */
export function StepTracker({ payment }: { payment: PaymentLike }) {
  const { t } = useI18n();
  return (
    <ol className="tracker" aria-label={t("tracker.label")}>
      {steps(payment).map((step) => {
        const name =
          step.name === "final" ? t(`step.final.${payment.status}` as MessageKey) : t(`step.${step.name}` as MessageKey);
        return (
          <li key={step.name} className={`step step-${step.state}`} aria-current={step.state === "current" ? "step" : undefined}>
            <span className="step-icon" aria-hidden="true">
              {STATE_ICONS[step.state]}
            </span>
            <span className="step-name">{name}</span>
            <span className="step-state">{t(`stepState.${step.state}` as MessageKey)}</span>
          </li>
        );
      })}
    </ol>
  );
}
