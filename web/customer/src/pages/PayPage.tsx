import { useRef, useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, call, NoAnswer, problemOf, type ApiProblem } from "../api/client";
import { keys, useWallet } from "../api/queries";
import { Field } from "../components/Field";
import { Page } from "../components/Layout";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/messages";
import { explainProblem } from "../lib/explain";
import { ConfirmationKeys, singleFlight } from "../lib/idempotency";
import { formatMoney } from "../lib/money";
import { validatePayout, type PayoutForm, type PayoutRequest } from "../lib/validation";
import { useRouter } from "../router";
import { Alert } from "./Auth";

type Errors = Partial<Record<keyof PayoutForm, string>>;

export function PayPage() {
  const { t, lang, locale } = useI18n();
  const { navigate } = useRouter();
  const client = useQueryClient();
  const wallet = useWallet();
  const [form, setForm] = useState<PayoutForm>({ amount: "", currency: "", accountNumber: "", bankBic: "", name: "" });
  const [errors, setErrors] = useState<Errors>({});
  const [review, setReview] = useState<PayoutRequest | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const confirmations = useRef(new ConfirmationKeys()).current;
  const reviewRef = useRef<PayoutRequest | null>(null);
  reviewRef.current = review;
  const currency = form.currency || wallet.data?.currency || "RUB";

  // One request per confirmation: a double click joins the request in flight (singleFlight), and
  // a retry after no answer reuses its Idempotency-Key (ConfirmationKeys).
  const send = useRef(
    singleFlight(async () => {
      const body = reviewRef.current;
      if (body === null) throw new Error("nothing to confirm");
      const key = confirmations.keyFor(body);
      const result = await call(() =>
        api.POST("/api/v1/payments", { body, params: { header: { "Idempotency-Key": key } } }),
      ).catch((error: unknown) => {
        confirmations.settle(undefined);
        throw error;
      });
      confirmations.settle(result.response.status);
      if (result.data === undefined) throw problemOf(result.response.status, result.error);
      return result.data;
    }),
  ).current;

  const set = (field: keyof PayoutForm) => (value: string) => {
    setForm({ ...form, [field]: value });
    confirmations.reset();
  };

  const check = (event: FormEvent) => {
    event.preventDefault();
    setProblem(null);
    if (!wallet.data) return;
    const result = validatePayout({ ...form, currency }, wallet.data);
    if (!result.ok) {
      setErrors(Object.fromEntries(Object.entries(result.errors).map(([k, v]) => [k, `error.${v}`])));
      setReview(null);
      return;
    }
    setErrors({});
    setReview(result.request);
  };

  const confirm = async () => {
    setSending(true);
    setProblem(null);
    try {
      const accepted = await send();
      void client.invalidateQueries({ queryKey: keys.wallet });
      void client.invalidateQueries({ queryKey: ["history"] });
      navigate(`/payments/${accepted.paymentId}`);
    } catch (error) {
      const apiProblem = error instanceof NoAnswer ? undefined : (error as ApiProblem);
      if (apiProblem?.type.endsWith("insufficient-funds")) {
        setReview(null);
        setErrors({ amount: explainProblem(apiProblem, lang) });
        void client.invalidateQueries({ queryKey: keys.wallet });
      }
      setProblem(explainProblem(apiProblem, lang));
    } finally {
      setSending(false);
    }
  };

  const errorCount = Object.keys(errors).length;
  return (
    <Page title={t("pay.title")}>
      {wallet.data ? (
        <p className="hint">{t("pay.available", { amount: formatMoney(wallet.data.available, wallet.data.currency, locale) })}</p>
      ) : null}
      {review === null ? (
        <form onSubmit={check} noValidate className="card narrow" aria-describedby="pay-errors">
          <p className="hint">{t("form.required")}</p>
          <p id="pay-errors" role="alert" className={errorCount ? "alert alert-error" : "visually-hidden"}>
            {errorCount ? t("pay.errors", { count: errorCount }) : ""}
          </p>
          <Field
            label={`${t("field.amount")} (${currency})`}
            hint={t("field.amount.hint")}
            inputMode="decimal"
            required
            value={form.amount}
            onChange={set("amount")}
            error={errors.amount}
          />
          <div className="field">
            <label htmlFor="pay-currency">{t("field.currency")}</label>
            <select id="pay-currency" value={currency} onChange={(e) => set("currency")(e.target.value)}>
              {Array.from(new Set([wallet.data?.currency ?? "RUB", "RUB", "USD", "EUR"])).map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
            {errors.currency ? (
              <p className="field-error">
                <span aria-hidden="true">⚠ </span>
                {t(errors.currency as MessageKey)}
              </p>
            ) : null}
          </div>
          <Field
            label={t("field.account")}
            hint={t("field.account.hint")}
            inputMode="numeric"
            autoComplete="off"
            required
            value={form.accountNumber}
            onChange={set("accountNumber")}
            error={errors.accountNumber}
          />
          <Field
            label={t("field.bic")}
            hint={t("field.bic.hint")}
            inputMode="numeric"
            autoComplete="off"
            required
            value={form.bankBic}
            onChange={set("bankBic")}
            error={errors.bankBic}
          />
          <Field label={t("field.recipient")} required value={form.name} onChange={set("name")} error={errors.name} />
          <button type="submit" disabled={!wallet.data}>
            {t("pay.review")}
          </button>
        </form>
      ) : (
        <section className="card narrow" aria-labelledby="confirm-title">
          <h2 id="confirm-title">{t("pay.confirmTitle")}</h2>
          <dl className="details">
            <dt>{t("payment.amount")}</dt>
            <dd>{formatMoney(review.amount, review.currency, locale)}</dd>
            <dt>{t("field.recipient")}</dt>
            <dd>{review.recipient.name}</dd>
            <dt>{t("field.account")}</dt>
            <dd>{review.recipient.accountNumber}</dd>
            <dt>{t("field.bic")}</dt>
            <dd>{review.recipient.bankBic}</dd>
          </dl>
          <Alert message={problem} />
          <div className="actions">
            <button type="button" onClick={confirm} aria-disabled={sending} data-testid="confirm">
              {sending ? t("pay.sending") : t("pay.confirm")}
            </button>
            <button type="button" className="secondary" onClick={() => setReview(null)} disabled={sending}>
              {t("pay.edit")}
            </button>
          </div>
        </section>
      )}
      {review === null && problem && !errors.amount ? <Alert message={problem} /> : null}
    </Page>
  );
}
