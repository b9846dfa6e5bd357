import { useEffect } from "react";
import { session } from "./api/client";
import { Page, Shell } from "./components/Layout";
import { useI18n } from "./i18n/i18n";
import { LoginPage, RegisterPage } from "./pages/Auth";
import { HistoryPage } from "./pages/HistoryPage";
import { PayPage } from "./pages/PayPage";
import { PaymentPage, ReceiptPage } from "./pages/PaymentPage";
import { WalletPage } from "./pages/WalletPage";
import { useRouter } from "./router";

const PUBLIC = ["/login", "/register"];

function Routes() {
  const { path, navigate } = useRouter();
  const { t } = useI18n();
  const loggedIn = session.token() !== null;
  const redirect = !loggedIn && !PUBLIC.includes(path) ? "/login" : loggedIn && (path === "/" || PUBLIC.includes(path)) ? "/wallet" : null;
  useEffect(() => {
    if (redirect) navigate(redirect, { replace: true });
  }, [redirect, navigate]);
  if (redirect) return null;

  const payment = /^\/payments\/([0-9a-f-]{36})(\/receipt)?$/.exec(path);
  if (path === "/login") return <LoginPage />;
  if (path === "/register") return <RegisterPage />;
  if (path === "/wallet") return <WalletPage />;
  if (path === "/pay") return <PayPage />;
  if (path === "/payments") return <HistoryPage />;
  if (payment) return payment[2] ? <ReceiptPage paymentId={payment[1]} /> : <PaymentPage paymentId={payment[1]} key={payment[1]} />;
  return <Page title={t("notFound.title")}>{null}</Page>;
}

export function App() {
  return (
    <Shell>
      <Routes />
    </Shell>
  );
}
