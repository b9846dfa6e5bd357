// Client-side checks of the pay-out form, before anything is sent. The server checks the same
// again; these only spare the customer a round trip and say precisely what to fix.
import { ACCOUNT_RE, BIC_RE, accountInCurrency, accountMatchesBic } from "./banking";
import { MAX_AMOUNT, parseAmount } from "./money";
import type { components } from "../api/schema";

/** An ISO 4217 code the API accepts (the contract's enum). */
export type Currency = components["schemas"]["PaymentRequest"]["currency"];

export type FieldError =
  | "required"
  | "amount.format"
  | "amount.positive"
  | "amount.tooLarge"
  | "amount.moreThanAvailable"
  | "account.format"
  | "account.controlKey"
  | "account.currency"
  | "bic.format"
  | "currency.wallet"
  | "name.required";

export interface PayoutForm {
  amount: string;
  currency: string;
  accountNumber: string;
  bankBic: string;
  name: string;
}

export interface PayoutRequest {
  amount: number;
  currency: Currency;
  recipient: { accountNumber: string; bankBic: string; name: string };
}

export type Validated =
  | { ok: true; request: PayoutRequest }
  | { ok: false; errors: Partial<Record<keyof PayoutForm, FieldError>> };

/** Checks the form against the wallet (its currency, what is available) and the bank rules. */
export function validatePayout(form: PayoutForm, wallet: { currency: string; available: number }): Validated {
  const errors: Partial<Record<keyof PayoutForm, FieldError>> = {};
  const amount = parseAmount(form.amount);
  if (!form.amount.trim()) errors.amount = "required";
  else if (amount === null) errors.amount = "amount.format";
  else if (amount <= 0) errors.amount = "amount.positive";
  else if (amount > MAX_AMOUNT) errors.amount = "amount.tooLarge";
  else if (amount > wallet.available) errors.amount = "amount.moreThanAvailable";

  if (form.currency !== wallet.currency) errors.currency = "currency.wallet";

  const account = form.accountNumber.replace(/\s/g, "");
  const bic = form.bankBic.replace(/\s/g, "");
  if (!BIC_RE.test(bic)) errors.bankBic = bic ? "bic.format" : "required";
  if (!account) errors.accountNumber = "required";
  else if (!ACCOUNT_RE.test(account)) errors.accountNumber = "account.format";
  else if (BIC_RE.test(bic) && !accountMatchesBic(account, bic)) errors.accountNumber = "account.controlKey";
  else if (accountInCurrency(account, form.currency) === false) errors.accountNumber = "account.currency";

  const name = form.name.split(/\s+/).filter(Boolean).join(" ");
  if (!name) errors.name = "name.required";

  if (Object.keys(errors).length > 0 || amount === null) return { ok: false, errors };
  // The currency is the wallet's (checked above), a code the API gave: one of the contract's.
  const currency = form.currency as Currency;
  return { ok: true, request: { amount, currency, recipient: { accountNumber: account, bankBic: bic, name } } };
}
