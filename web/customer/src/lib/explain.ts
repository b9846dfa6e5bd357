// Plain-language explanations: what a payment's errorCode means and what happened to the money,
// and what a refused request (an RFC 9457 problem) means for the customer. Every errorCode the
// platform sends has one; an unknown code still gets an honest general explanation.
import type { Lang } from "../i18n/messages";

export interface Explanation {
  what: string;
  money: string;
}

type Texts = Record<Lang, Explanation>;

export const ERROR_CODES: Record<string, Texts> = {
  FRAUD_SUSPECTED: {
    en: {
      what: "Our security check stopped this payment because it looked unusual (for example, many payments in a short time or an unusually large amount). It was not sent to the bank.",
      money: "Nothing was paid out. The amount that was reserved is back in your available balance.",
    },
    ru: {
      what: "Проверка безопасности остановила этот платёж: он выглядел необычно (например, много платежей за короткое время или необычно большая сумма). В банк он не отправлялся.",
      money: "Деньги не списаны. Зарезервированная сумма вернулась в доступный остаток.",
    },
  },
  PROVIDER_REJECTED: {
    en: {
      what: "The recipient's bank did not accept the payment request, so the payout never started.",
      money: "Nothing was paid out. The reserved amount is back in your available balance.",
    },
    ru: {
      what: "Банк получателя не принял запрос на платёж, поэтому выплата не начиналась.",
      money: "Деньги не списаны. Зарезервированная сумма вернулась в доступный остаток.",
    },
  },
  PROVIDER_DECLINED: {
    en: {
      what: "The bank processed the payout and declined it (for example, the recipient's account is closed or cannot receive it).",
      money: "Nothing was paid out. The reserved amount is back in your available balance.",
    },
    ru: {
      what: "Банк обработал выплату и отклонил её (например, счёт получателя закрыт или не может принять платёж).",
      money: "Деньги не списаны. Зарезервированная сумма вернулась в доступный остаток.",
    },
  },
  TIMEOUT: {
    en: {
      what: "The bank did not confirm the payout in time, so we cancelled it.",
      money: "Nothing was paid out and the reserved amount is back in your available balance. If the bank still pays it later, we find that out and settle it; you are never charged twice.",
    },
    ru: {
      what: "Банк не подтвердил выплату вовремя, и мы её отменили.",
      money: "Деньги не списаны, зарезервированная сумма вернулась в доступный остаток. Если банк всё же проведёт выплату позже, мы это обнаружим и урегулируем; дважды вы не заплатите.",
    },
  },
};

const UNKNOWN: Texts = {
  en: {
    what: "The payment could not be completed.",
    money: "Nothing was paid out. The reserved amount is back in your available balance.",
  },
  ru: {
    what: "Платёж не удалось провести.",
    money: "Деньги не списаны. Зарезервированная сумма вернулась в доступный остаток.",
  },
};

export function explainErrorCode(code: string | null, lang: Lang): Explanation {
  return (ERROR_CODES[code ?? ""] ?? UNKNOWN)[lang];
}

/** What the money is doing while the payment is in each state. */
export function moneyNow(status: "PENDING" | "COMPLETED", lang: Lang): string {
  const texts = {
    PENDING: {
      en: "The amount is reserved in your wallet: it is not available for other payments until this one ends.",
      ru: "Сумма зарезервирована в кошельке: до завершения этого платежа она недоступна для других.",
    },
    COMPLETED: {
      en: "The amount was paid out to the recipient and taken from your balance.",
      ru: "Сумма выплачена получателю и списана с вашего баланса.",
    },
  };
  return texts[status][lang];
}

// Refused requests: the problem's `type` ends in one of these slugs.
const PROBLEMS: Record<string, Record<Lang, string>> = {
  "insufficient-funds": {
    en: "Not enough money available in your wallet for this amount. Nothing was reserved. Top up or pay a smaller amount.",
    ru: "В кошельке недостаточно доступных средств для этой суммы. Ничего не зарезервировано. Пополните кошелёк или уменьшите сумму.",
  },
  "currency-mismatch": {
    en: "The payment's currency is not your wallet's currency. Nothing was reserved.",
    ru: "Валюта платежа не совпадает с валютой кошелька. Ничего не зарезервировано.",
  },
  "balance-limit-exceeded": {
    en: "This top-up would take your balance over the allowed limit. Nothing was added.",
    ru: "После этого пополнения баланс превысит допустимый предел. Ничего не зачислено.",
  },
  "idempotency-conflict": {
    en: "This confirmation was already used for different details. Nothing new was paid; please confirm again.",
    ru: "Это подтверждение уже использовано для других реквизитов. Новый платёж не создан; подтвердите ещё раз.",
  },
  "validation-error": {
    en: "Some details were not accepted. Check the highlighted fields.",
    ru: "Некоторые данные не приняты. Проверьте отмеченные поля.",
  },
  "invalid-credentials": {
    en: "The email or password is wrong.",
    ru: "Неверный email или пароль.",
  },
  "email-taken": {
    en: "An account with this email already exists. Log in instead.",
    ru: "Пользователь с таким email уже зарегистрирован. Войдите.",
  },
  "weak-password": {
    en: "The password is too weak: use at least 10 characters with a letter and a digit.",
    ru: "Слишком простой пароль: нужно не менее 10 символов, буквы и цифры.",
  },
  "too-many-requests": {
    en: "Too many attempts. Wait a minute and try again.",
    ru: "Слишком много попыток. Подождите минуту и попробуйте снова.",
  },
  "wallet-not-found": {
    en: "Your wallet is being opened. Try again in a moment.",
    ru: "Кошелёк ещё открывается. Попробуйте через мгновение.",
  },
  unauthorized: {
    en: "Your session has ended. Please log in again.",
    ru: "Сеанс завершён. Войдите снова.",
  },
};

const UNAVAILABLE: Record<Lang, string> = {
  en: "The service did not answer. Nothing was charged twice: you can safely try again.",
  ru: "Сервис не ответил. Повторная попытка безопасна: дважды деньги не спишутся.",
};

export interface ProblemLike {
  type?: string;
  status?: number;
  detail?: string;
}

export function explainProblem(problem: ProblemLike | undefined, lang: Lang): string {
  const slug = (problem?.type ?? "").split("/").pop() ?? "";
  const known = PROBLEMS[slug];
  if (known) return known[lang];
  if (problem === undefined || (problem.status ?? 500) >= 500) return UNAVAILABLE[lang];
  return problem.detail ?? PROBLEMS["validation-error"][lang];
}
