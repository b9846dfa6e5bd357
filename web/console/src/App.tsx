import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { api, unwrap } from "./api/client";
import { session, useSession } from "./auth/session";
import { Link, match, useLocation } from "./router";
import { CaseDetail } from "./views/CaseDetail";
import { Cases } from "./views/Cases";
import { DeadLetters } from "./views/DeadLetters";
import { Fleet } from "./views/Fleet";
import { JobCaseDetail } from "./views/JobCaseDetail";
import { JobCases } from "./views/JobCases";
import { Login } from "./views/Login";
import { NotFound } from "./views/NotFound";
import { Payments } from "./views/Payments";
import { Reconciliation } from "./views/Reconciliation";
import { Stuck } from "./views/Stuck";
import { Timeline } from "./views/Timeline";

const NAV = [
  { to: "/payments", label: "Payments" },
  { to: "/stuck", label: "Stuck payments" },
  { to: "/fleet", label: "Fleet" },
  { to: "/dead-letters", label: "Dead letters" },
  // Two kinds of cases: the books disagreeing (the reconciliation job's runs and cases) and a
  // provider's answer contradicting a payment's final state (Payment's cases).
  { to: "/reconciliation", label: "Books reconciliation" },
  { to: "/cases", label: "Provider contradictions" },
];

function View({ path }: { path: string }) {
  if (path === "/" || path === "/payments") return <Payments />;
  let params = match("/payments/:paymentId", path);
  if (params) return <Timeline key={params.paymentId} paymentId={params.paymentId!} />;
  if (path === "/stuck") return <Stuck />;
  if (path === "/fleet") return <Fleet />;
  if (path === "/dead-letters") return <DeadLetters />;
  if (path === "/reconciliation") return <Reconciliation />;
  if (path === "/reconciliation/cases") return <JobCases />;
  params = match("/reconciliation/cases/:caseId", path);
  if (params) return <JobCaseDetail key={params.caseId} caseId={Number(params.caseId)} />;
  if (path === "/cases") return <Cases />;
  params = match("/cases/:caseId", path);
  if (params) return <CaseDetail key={params.caseId} caseId={Number(params.caseId)} />;
  return <NotFound />;
}

export function App() {
  const { token } = useSession();
  const { path } = useLocation();
  const queryClient = useQueryClient();
  useEffect(() => {
    if (!token) queryClient.clear(); // nothing of the last operator's answers stays on screen
  }, [token, queryClient]);
  if (!token) return <Login />;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <p className="brand">PaySaga operator console</p>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => {
              const current = path === item.to || path.startsWith(`${item.to}/`) || (item.to === "/payments" && path === "/");
              return (
                <li key={item.to}>
                  <Link to={item.to} aria-current={current ? "page" : undefined}>
                    {item.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <Me />
      </header>
      <main id="main" key={path} tabIndex={-1}>
        <View path={path} />
      </main>
    </>
  );
}

function Me() {
  const me = useQuery({ queryKey: ["me"], queryFn: async () => unwrap(await api.GET("/ops/v1/me")) });
  return (
    <div className="me">
      {me.data ? <span>Signed in as {me.data.email}</span> : null}
      <button type="button" onClick={() => session.logout()}>
        Log out
      </button>
    </div>
  );
}
