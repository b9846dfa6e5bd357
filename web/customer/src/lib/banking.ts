// Russian bank details, checked in the browser exactly as the platform checks them
// (src/paysaga/contracts/banking.py): the account's 9th digit is a control key such that, over
// "three digits from the BIC" + "the account" (23 digits), the sum of the last digits of
// digit * weight (weights 7, 1, 3 repeating) ends in 0. The three BIC digits are its last three,
// or "0" + its 5th and 6th digits for a Bank of Russia settlement centre (last three 000-002).
// Digits 6-8 of the account are its currency's numeric ISO 4217 code (RUB: 643 or legacy 810).

export const ACCOUNT_RE = /^[0-9]{20}$/;
export const BIC_RE = /^04[0-9]{7}$/;
const WEIGHTS = [7, 1, 3];

function bicPart(bic: string): string {
  const tail = bic.slice(6, 9);
  return ["000", "001", "002"].includes(tail) ? "0" + bic.slice(4, 6) : tail;
}

export function checksum(bic: string, account: string): number {
  const digits = bicPart(bic) + account;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += (Number(digits[i]) * WEIGHTS[i % 3]) % 10;
  return sum % 10;
}

export function accountMatchesBic(account: string, bic: string): boolean {
  return ACCOUNT_RE.test(account) && BIC_RE.test(bic) && checksum(bic, account) === 0;
}

/** Numeric ISO 4217 codes of the currencies a wallet may hold. */
export const CURRENCY_CODES: Record<string, string[]> = {
  RUB: ["643", "810"],
  USD: ["840"],
  EUR: ["978"],
  GBP: ["826"],
  CNY: ["156"],
  KZT: ["398"],
};

/** True/false when the currency is known here; undefined when only the server can tell. */
export function accountInCurrency(account: string, currency: string): boolean | undefined {
  const codes = CURRENCY_CODES[currency];
  return codes === undefined ? undefined : codes.includes(account.slice(5, 8));
}
