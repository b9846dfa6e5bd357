import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { App } from "./App";
import { I18nProvider } from "./i18n/i18n";
import { Router } from "./router";
import { ApiProblem, session } from "./api/client";
import "./styles.css";

const client = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 1_000,
      // 4xx answers are final; a missing answer or a 5xx is tried again a few times.
      retry: (count, error) => count < 3 && !(error instanceof ApiProblem && error.status < 500),
    },
  },
});

// An expired token: back to the login page.
client.getQueryCache().subscribe((event) => {
  const error = event.query.state.error;
  if (error instanceof ApiProblem && error.status === 401) {
    session.end();
    client.clear();
    window.location.assign("/login");
  }
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={client}>
      <I18nProvider>
        <Router>
          <App />
        </Router>
      </I18nProvider>
    </QueryClientProvider>
  </StrictMode>,
);
