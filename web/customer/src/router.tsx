// A small router over the History API: the BFF answers every app route with index.html, and the
// app draws the page for the path. Links are real <a href>s (middle click, keyboard, copy link).
import { createContext, useContext, useEffect, useState, type MouseEvent, type ReactNode } from "react";

type Navigate = (to: string, options?: { replace?: boolean }) => void;

const Context = createContext<{ path: string; search: URLSearchParams; navigate: Navigate } | null>(null);

export function Router({ children }: { children: ReactNode }) {
  const [location, setLocation] = useState(() => ({ path: window.location.pathname, search: window.location.search }));
  useEffect(() => {
    const onPop = () => setLocation({ path: window.location.pathname, search: window.location.search });
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  const navigate: Navigate = (to, options) => {
    if (options?.replace) window.history.replaceState(null, "", to);
    else window.history.pushState(null, "", to);
    const url = new URL(to, window.location.origin);
    setLocation({ path: url.pathname, search: url.search });
    window.scrollTo(0, 0);
  };
  return (
    <Context.Provider value={{ path: location.path, search: new URLSearchParams(location.search), navigate }}>
      {children}
    </Context.Provider>
  );
}

export function useRouter() {
  const value = useContext(Context);
  if (value === null) throw new Error("useRouter outside Router");
  return value;
}

export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  const { navigate, path } = useRouter();
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={onClick} className={className} aria-current={path === to ? "page" : undefined}>
      {children}
    </a>
  );
}
