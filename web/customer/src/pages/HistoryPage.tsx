import { useHistory } from "../api/queries";
import type { PaymentStatus } from "../api/client";
import { Page } from "../components/Layout";
import { StatusBadge } from "../components/Status";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/messages";
import { formatMoney } from "../lib/money";
import { Link, useRouter } from "../router";
import { recipientOf, when } from "./PaymentPage";

const FILTERS: (PaymentStatus | "")[] = ["", "PENDING", "COMPLETED", "FAILED"];

export function HistoryPage() {
  const { t, locale } = useI18n();
  const { search, navigate } = useRouter();
  const raw = search.get("status") ?? "";
  const status = (FILTERS as string[]).includes(raw) ? (raw as PaymentStatus | "") : "";
  const history = useHistory(status);
  const items = history.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <Page title={t("history.title")}>
      <div className="field inline">
        <label htmlFor="status-filter">{t("history.filter")}</label>
        <select
          id="status-filter"
          value={status}
          onChange={(e) => navigate(e.target.value ? `/payments?status=${e.target.value}` : "/payments", { replace: true })}
        >
          {FILTERS.map((f) => (
            <option key={f} value={f}>
              {f ? t(`status.${f}` as MessageKey) : t("history.all")}
            </option>
          ))}
        </select>
      </div>
      {history.isPending ? (
        <p role="status">{t("common.loading")}</p>
      ) : history.isError ? (
        <p role="alert">{t("common.error")}</p>
      ) : items.length === 0 ? (
        <p role="status">{t("history.empty")}</p>
      ) : (
        <table className="card history">
          <caption className="visually-hidden">{t("history.title")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("history.date")}</th>
              <th scope="col">{t("payment.recipient")}</th>
              <th scope="col" className="num">
                {t("payment.amount")}
              </th>
              <th scope="col">{t("payment.status")}</th>
              <th scope="col">
                <span className="visually-hidden">{t("history.open")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <tr key={p.paymentId} data-testid="history-row">
                <td>{when(p.createdAt, locale)}</td>
                <td>{recipientOf(p).name}</td>
                <td className="num">{p.amount !== null ? formatMoney(p.amount, p.currency ?? "RUB", locale) : "—"}</td>
                <td>
                  <StatusBadge status={p.status} />
                </td>
                <td>
                  <Link to={`/payments/${p.paymentId}`}>
                    {t("history.open")}
                    <span className="visually-hidden">: {when(p.createdAt, locale)}</span>
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {history.hasNextPage ? (
        <button type="button" onClick={() => void history.fetchNextPage()} disabled={history.isFetchingNextPage}>
          {t("history.more")}
        </button>
      ) : null}
    </Page>
  );
}
