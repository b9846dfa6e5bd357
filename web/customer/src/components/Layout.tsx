import { useEffect, useRef, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { session } from "../api/client";
import { useI18n } from "../i18n/i18n";
import { Link, useRouter } from "../router";

/** The frame of every page: skip link, header with navigation and language, main landmark. */
export function Shell({ children }: { children: ReactNode }) {
  const { t, lang, setLang } = useI18n();
  const { navigate } = useRouter();
  const client = useQueryClient();
  const loggedIn = session.token() !== null;
  const logout = () => {
    session.end();
    client.clear();
    navigate("/login");
  };
  return (
    <>
      <a className="skip-link" href="#main">
        {t("app.skip")}
      </a>
      <header className="header no-print">
        <span className="brand">{t("app.title")}</span>
        <nav aria-label={t("nav.main")}>
          <ul>
            {loggedIn ? (
              <>
                <li>
                  <Link to="/wallet">{t("nav.wallet")}</Link>
                </li>
                <li>
                  <Link to="/pay">{t("nav.pay")}</Link>
                </li>
                <li>
                  <Link to="/payments">{t("nav.history")}</Link>
                </li>
              </>
            ) : (
              <>
                <li>
                  <Link to="/login">{t("nav.login")}</Link>
                </li>
                <li>
                  <Link to="/register">{t("nav.register")}</Link>
                </li>
              </>
            )}
          </ul>
        </nav>
        <div className="header-actions">
          <button
            type="button"
            className="secondary"
            lang={lang === "en" ? "ru" : "en"}
            aria-label={`${t("lang.label")}: ${t("lang.switchTo")}`}
            onClick={() => setLang(lang === "en" ? "ru" : "en")}
          >
            {t("lang.switchTo")}
          </button>
          {loggedIn ? (
            <button type="button" className="secondary" onClick={logout}>
              {t("nav.logout")}
            </button>
          ) : null}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

/** A page: its title is the document title and the h1, focused on arrival (for screen readers). */
export function Page({ title, children }: { title: string; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const { t } = useI18n();
  useEffect(() => {
    document.title = `${title} · ${t("app.title")}`;
  }, [title, t]);
  useEffect(() => {
    heading.current?.focus();
  }, []);
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        {title}
      </h1>
      {children}
    </>
  );
}
