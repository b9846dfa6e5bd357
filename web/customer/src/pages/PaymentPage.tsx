import { usePayment } from "../api/queries";
import type { Payment } from "../api/client";
import { Page } from "../components/Layout";
import { StatusBadge, StepTracker } from "../components/Status";
import { useI18n } from "../i18n/i18n";
import { explainErrorCode, moneyNow } from "../lib/explain";
import { formatMoney } from "../lib/money";
import { isFinal } from "../lib/tracker";
import { Link } from "../router";

export function recipientOf(payment: Payment): { name: string; accountNumber: string; bankBic: string } {
  const r = (payment.recipient ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === "string" ? v : "");
  return { name: text(r.name), accountNumber: text(r.accountNumber), bankBic: text(r.bankBic) };
}

export function when(value: string | null, locale: string): string {
  return value ? new Date(value).toLocaleString(locale) : "—";
}

/** What happened and what happened to the money, in words; announced when it changes. */
function Outcome({ payment }: { payment: Payment }) {
  const { t, lang } = useI18n();
  const failed = payment.status === "FAILED";
  const explanation = failed ? explainErrorCode(payment.errorCode, lang) : null;
  return (
    <div className="card" role="status" aria-live="polite" aria-atomic="true" data-testid="outcome">
      <p className="status-line">
        {t("payment.status")}: <StatusBadge status={payment.status} />
      </p>
      {explanation ? (
        <>
          <h2>{t("payment.why")}</h2>
          <p data-testid="explanation">{explanation.what}</p>
          <h2>{t("payment.money")}</h2>
          <p>{explanation.money}</p>
        </>
      ) : (
        <>
          <h2>{t("payment.money")}</h2>
          <p>{moneyNow(payment.status === "COMPLETED" ? "COMPLETED" : "PENDING", lang)}</p>
        </>
      )}
    </div>
  );
}

export function PaymentPage({ paymentId }: { paymentId: string }) {
  const { t, locale } = useI18n();
  const query = usePayment(paymentId);
  const payment = query.data?.payment;
  return (
    <Page title={t("payment.title")}>
      {payment ? (
        <>
          <StepTracker payment={payment} />
          <Outcome payment={payment} />
          {!isFinal(payment.status) ? <p className="hint">{t("payment.live")}</p> : null}
          <dl className="card details">
            <dt>{t("payment.amount")}</dt>
            <dd>{payment.amount !== null ? formatMoney(payment.amount, payment.currency ?? "RUB", locale) : "—"}</dd>
            <dt>{t("payment.recipient")}</dt>
            <dd>
              {recipientOf(payment).name}, {recipientOf(payment).accountNumber} ({t("field.bic")} {recipientOf(payment).bankBic})
            </dd>
            <dt>{t("payment.created")}</dt>
            <dd>{when(payment.createdAt, locale)}</dd>
            <dt>{t("payment.updated")}</dt>
            <dd>{when(payment.updatedAt, locale)}</dd>
            <dt>{t("payment.id")}</dt>
            <dd className="mono">{payment.paymentId}</dd>
            {payment.providerTxnId ? (
              <>
                <dt>{t("payment.txn")}</dt>
                <dd className="mono">{payment.providerTxnId}</dd>
              </>
            ) : null}
          </dl>
          <p>
            <Link to={`/payments/${paymentId}/receipt`}>{t("payment.receipt")}</Link>
          </p>
        </>
      ) : query.isError ? (
        <p role="alert">{t("common.error")}</p>
      ) : (
        <p role="status">{t("common.loading")}</p>
      )}
    </Page>
  );
}

export function ReceiptPage({ paymentId }: { paymentId: string }) {
  const { t, locale } = useI18n();
  const query = usePayment(paymentId);
  const payment = query.data?.payment;
  if (!payment) return <Page title={t("receipt.title")}>{<p role="status">{t("common.loading")}</p>}</Page>;
  const recipient = recipientOf(payment);
  return (
    <Page title={t("receipt.title")}>
      <article className="card receipt">
        <dl className="details">
          <dt>{t("payment.id")}</dt>
          <dd className="mono">{payment.paymentId}</dd>
          <dt>{t("payment.status")}</dt>
          <dd>
            <StatusBadge status={payment.status} />
          </dd>
          <dt>{t("payment.amount")}</dt>
          <dd>{payment.amount !== null ? formatMoney(payment.amount, payment.currency ?? "RUB", locale) : "—"}</dd>
          <dt>{t("field.recipient")}</dt>
          <dd>{recipient.name}</dd>
          <dt>{t("field.account")}</dt>
          <dd className="mono">{recipient.accountNumber}</dd>
          <dt>{t("field.bic")}</dt>
          <dd className="mono">{recipient.bankBic}</dd>
          <dt>{t("payment.created")}</dt>
          <dd>{when(payment.createdAt, locale)}</dd>
          <dt>{t("payment.updated")}</dt>
          <dd>{when(payment.updatedAt, locale)}</dd>
          {payment.providerTxnId ? (
            <>
              <dt>{t("payment.txn")}</dt>
              <dd className="mono">{payment.providerTxnId}</dd>
            </>
          ) : null}
        </dl>
      </article>
      <div className="actions no-print">
        <button type="button" onClick={() => window.print()}>
          {t("receipt.print")}
        </button>
        <Link to={`/payments/${paymentId}`}>{t("receipt.back")}</Link>
      </div>
    </Page>
  );
}
