import { useRef, useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, call, NoAnswer, problemOf, type ApiProblem } from "../api/client";
import { keys, useWallet } from "../api/queries";
import { Field } from "../components/Field";
import { Page } from "../components/Layout";
import { useI18n } from "../i18n/i18n";
import { explainProblem } from "../lib/explain";
import { ConfirmationKeys, singleFlight } from "../lib/idempotency";
import { formatMoney, MAX_AMOUNT, parseAmount } from "../lib/money";
import { Alert } from "./Auth";

export function WalletPage() {
  const { t, locale } = useI18n();
  const wallet = useWallet();
  return (
    <Page title={t("wallet.title")}>
      {wallet.data ? (
        <>
          <dl className="card figures" aria-live="polite">
            <div>
              <dt>{t("wallet.balance")}</dt>
              <dd data-testid="balance">{formatMoney(wallet.data.balance, wallet.data.currency, locale)}</dd>
            </div>
            <div>
              <dt>{t("wallet.reserved")}</dt>
              <dd data-testid="reserved">{formatMoney(wallet.data.reserved, wallet.data.currency, locale)}</dd>
            </div>
            <div>
              <dt>{t("wallet.available")}</dt>
              <dd data-testid="available">{formatMoney(wallet.data.available, wallet.data.currency, locale)}</dd>
            </div>
            <div>
              <dt>{t("wallet.updated")}</dt>
              <dd>
                <time dateTime={new Date(wallet.dataUpdatedAt).toISOString()}>
                  {new Date(wallet.dataUpdatedAt).toLocaleTimeString(locale)}
                </time>
              </dd>
            </div>
          </dl>
          <TopUp currency={wallet.data.currency} />
        </>
      ) : wallet.isError ? (
        <p role="alert">{t("common.error")}</p>
      ) : (
        <p role="status">{t("wallet.opening")}</p>
      )}
    </Page>
  );
}

function TopUp({ currency }: { currency: string }) {
  const { t, lang, locale } = useI18n();
  const client = useQueryClient();
  const [amount, setAmount] = useState("");
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const confirmations = useRef(new ConfirmationKeys()).current;

  const send = useRef(
    singleFlight(async () => {
      const minor = parseAmount(amountRef.current);
      if (minor === null || minor <= 0 || minor > MAX_AMOUNT) return;
      const body = { amount: minor };
      const key = confirmations.keyFor(body);
      const result = await call(() =>
        api.POST("/api/v1/wallet/top-ups", { body, params: { header: { "Idempotency-Key": key } } }),
      ).catch((error: unknown) => {
        confirmations.settle(undefined);
        throw error;
      });
      confirmations.settle(result.response.status);
      if (result.data === undefined) throw problemOf(result.response.status, result.error);
      return result.data;
    }),
  ).current;
  const amountRef = useRef(amount);
  amountRef.current = amount;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setDone(null);
    setProblem(null);
    const minor = parseAmount(amount);
    if (minor === null) return setFieldError(amount.trim() ? "error.amount.format" : "error.required");
    if (minor <= 0) return setFieldError("error.amount.positive");
    if (minor > MAX_AMOUNT) return setFieldError("error.amount.tooLarge");
    setFieldError(undefined);
    setBusy(true);
    try {
      const answer = await send();
      if (answer) {
        setDone(
          t("topup.done", {
            amount: formatMoney(minor, currency, locale),
            balance: formatMoney(answer.balance, currency, locale),
          }),
        );
        setAmount("");
        await client.invalidateQueries({ queryKey: keys.wallet });
      }
    } catch (error) {
      setProblem(explainProblem(error instanceof NoAnswer ? undefined : (error as ApiProblem), lang));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card narrow" aria-labelledby="topup-title">
      <h2 id="topup-title">{t("topup.title")}</h2>
      <form onSubmit={submit} noValidate>
        <Field
          label={`${t("field.amount")} (${currency})`}
          hint={t("field.amount.hint")}
          inputMode="decimal"
          required
          value={amount}
          onChange={(v) => {
            setAmount(v);
            confirmations.reset();
          }}
          error={fieldError}
        />
        <Alert message={problem} />
        <p role="status" className={done ? "alert alert-ok" : "visually-hidden"}>
          {done}
        </p>
        <button type="submit" disabled={busy}>
          {t("topup.submit")}
        </button>
      </form>
    </section>
  );
}
