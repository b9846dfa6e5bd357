import { useState, type FormEvent } from "react";
import { api, call, NoAnswer, problemOf, session, type ApiProblem } from "../api/client";
import { Field } from "../components/Field";
import { Page } from "../components/Layout";
import { useI18n } from "../i18n/i18n";
import { explainProblem } from "../lib/explain";
import type { Currency } from "../lib/validation";
import { Link, useRouter } from "../router";

function useProblem() {
  const { lang } = useI18n();
  const [message, setMessage] = useState<string | null>(null);
  const fail = (error: unknown) =>
    setMessage(explainProblem(error instanceof NoAnswer ? undefined : (error as ApiProblem), lang));
  return { message, setMessage, fail };
}

function Alert({ message }: { message: string | null }) {
  return (
    <div role="alert" className={message ? "alert alert-error" : "visually-hidden"}>
      {message ? (
        <>
          <span aria-hidden="true">⚠ </span>
          {message}
        </>
      ) : null}
    </div>
  );
}

export function LoginPage() {
  const { t } = useI18n();
  const { navigate, search } = useRouter();
  const [email, setEmail] = useState(search.get("email") ?? "");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const problem = useProblem();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    problem.setMessage(null);
    try {
      const { data, error, response } = await call(() => api.POST("/api/v1/auth/login", { body: { email, password } }));
      if (data === undefined) throw problemOf(response.status, error);
      session.start(data.accessToken);
      navigate("/wallet", { replace: true });
    } catch (error) {
      problem.fail(error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title={t("login.title")}>
      {search.get("registered") ? <p className="alert alert-ok">{t("register.done")}</p> : null}
      <form onSubmit={submit} noValidate className="card narrow">
        <Field label={t("field.email")} type="email" autoComplete="username" required value={email} onChange={setEmail} />
        <Field
          label={t("field.password")}
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={setPassword}
        />
        <Alert message={problem.message} />
        <button type="submit" disabled={busy}>
          {t("login.submit")}
        </button>
      </form>
      <p>
        {t("login.noAccount")} <Link to="/register">{t("nav.register")}</Link>
      </p>
    </Page>
  );
}

export function RegisterPage() {
  const { t } = useI18n();
  const { navigate } = useRouter();
  const [form, setForm] = useState<{ email: string; password: string; name: string; phone: string; currency: Currency }>({
    email: "",
    password: "",
    name: "",
    phone: "",
    currency: "RUB",
  });
  const [busy, setBusy] = useState(false);
  const problem = useProblem();
  const set = (field: keyof typeof form) => (value: string) => setForm({ ...form, [field]: value });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    problem.setMessage(null);
    try {
      const { data, error, response } = await call(() => api.POST("/api/v1/auth/register", { body: form }));
      if (data === undefined) throw problemOf(response.status, error);
      navigate(`/login?registered=1&email=${encodeURIComponent(form.email)}`);
    } catch (error) {
      problem.fail(error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title={t("register.title")}>
      <form onSubmit={submit} noValidate className="card narrow">
        <p className="hint">{t("form.required")}</p>
        <Field label={t("field.email")} type="email" autoComplete="email" required value={form.email} onChange={set("email")} />
        <Field
          label={t("field.password")}
          hint={t("field.password.hint")}
          type="password"
          autoComplete="new-password"
          required
          minLength={10}
          value={form.password}
          onChange={set("password")}
        />
        <Field label={t("field.name")} autoComplete="name" required value={form.name} onChange={set("name")} />
        <Field
          label={t("field.phone")}
          hint={t("field.phone.hint")}
          type="tel"
          autoComplete="tel"
          required
          value={form.phone}
          onChange={set("phone")}
        />
        <div className="field">
          <label htmlFor="currency">{t("field.currency")}</label>
          <select id="currency" value={form.currency} onChange={(e) => setForm({ ...form, currency: e.target.value as Currency })}>
            {(["RUB", "USD", "EUR"] as const).map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </div>
        <Alert message={problem.message} />
        <button type="submit" disabled={busy}>
          {t("register.submit")}
        </button>
      </form>
      <p>
        {t("register.haveAccount")} <Link to="/login">{t("nav.login")}</Link>
      </p>
    </Page>
  );
}

export { Alert };
