// RFC 9457 problems as the console shows them: title, detail, status, and the problem's own fields.

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string | null;
  instance?: string | null;
  [extension: string]: unknown;
}

export class ApiProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.name = "ApiProblem";
  }
  get status(): number {
    return this.problem.status;
  }
}

/** What the API answered, as a problem even when the body was not one (a proxy's HTML page). */
export function toProblem(body: unknown, response: Pick<Response, "status" | "statusText">): Problem {
  if (body && typeof body === "object" && "title" in body && typeof (body as { title: unknown }).title === "string") {
    const given = body as Partial<Problem>;
    return { ...given, type: given.type ?? "about:blank", title: given.title ?? "", status: given.status ?? response.status };
  }
  return {
    type: "about:blank",
    title: response.statusText || `HTTP ${response.status}`,
    status: response.status,
    detail: typeof body === "string" && body ? body.slice(0, 300) : null,
  };
}

/** The fields of a validation problem (422), as "where: what" lines. */
export function problemErrors(problem: Problem): string[] {
  const errors = problem["errors"];
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((e: unknown) => {
    if (!e || typeof e !== "object") return [];
    const { location, message } = e as { location?: unknown; message?: unknown };
    const where = Array.isArray(location) ? location.slice(1).join(".") : "";
    return typeof message === "string" ? [where ? `${where}: ${message}` : message] : [];
  });
}
