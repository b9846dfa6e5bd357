import { useEffect, useRef, type ReactNode } from "react";

/** The view's title; it takes the focus when the view opens (see router.tsx). */
export function Heading({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1} id="view-title">
      {children}
    </h1>
  );
}
