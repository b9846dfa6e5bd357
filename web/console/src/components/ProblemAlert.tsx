import { ApiProblem, problemErrors } from "../api/problem";

/** An error as the operator reads it: the problem's title and detail, its status and type, the
 * invalid fields of a 422. Announced (role=alert). */
export function ProblemAlert({ error, what }: { error: unknown; what?: string }) {
  if (!error) return null;
  if (error instanceof ApiProblem) {
    const { problem } = error;
    const fields = problemErrors(problem);
    return (
      <div role="alert" className="problem">
        <p className="problem-title">
          {what ? `${what}: ` : ""}
          {problem.title} <span className="problem-status">(HTTP {problem.status})</span>
        </p>
        {problem.detail ? <p>{problem.detail}</p> : null}
        {fields.length ? (
          <ul>
            {fields.map((f) => (
              <li key={f}>{f}</li>
            ))}
          </ul>
        ) : null}
        <p className="problem-type">
          Problem type: <code>{problem.type}</code>
        </p>
      </div>
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div role="alert" className="problem">
      <p className="problem-title">{what ? `${what}: ` : ""}The Ops service could not be reached.</p>
      <p>{message}</p>
    </div>
  );
}
