import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap } from "../api/client";
import { session, useSession } from "../auth/session";
import { Heading } from "../components/Heading";
import { ProblemAlert } from "../components/ProblemAlert";

export function Login() {
  const { ended } = useSession();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const login = useMutation({
    mutationFn: async () => unwrap(await api.POST("/ops/v1/auth/login", { body: { email, password } })),
    onSuccess: (answer) => session.start(answer.accessToken),
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    login.mutate();
  }
  return (
    <main id="main" className="login">
      <Heading>Operator log in</Heading>
      <p>PaySaga operator console. Operators have their own accounts (<code>paysaga operator create</code>).</p>
      {ended ? (
        <p role="status" className="notice">
          {ended}
        </p>
      ) : null}
      <form onSubmit={submit} className="stack" aria-describedby={login.error ? "login-problem" : undefined}>
        <label htmlFor="email">Email</label>
        <input id="email" name="email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <button type="submit" disabled={login.isPending}>
          {login.isPending ? "Logging in…" : "Log in"}
        </button>
      </form>
      <div id="login-problem">
        <ProblemAlert error={login.error} what="Log in failed" />
      </div>
    </main>
  );
}
