/**
 * An error the server answers with: an HTTP status, a message for the `{"error": ...}` body and
 * optionally the Hub's `X-Error-Code` (which clients use to tell a missing file from a missing repo).
 */
export type HubErrorCode = "RepoNotFound" | "RevisionNotFound" | "EntryNotFound" | "GatedRepo";

export class HubError extends Error {
  readonly status: number;
  readonly errorCode: HubErrorCode | undefined;
  readonly headers: Record<string, string>;
  /** More keys of the JSON body beside `error` (e.g. the existing repo's `url` of a 409). */
  readonly fields: Record<string, unknown>;

  constructor(
    status: number,
    message: string,
    errorCode?: HubErrorCode,
    headers: Record<string, string> = {},
    fields: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "HubError";
    this.status = status;
    this.errorCode = errorCode;
    this.headers = headers;
    this.fields = fields;
  }
}

export function badRequest(message: string): HubError {
  return new HubError(400, message);
}

export function revisionNotFound(repo: string, revision: string): HubError {
  return new HubError(404, `Invalid rev id: ${revision} (repository ${repo})`, "RevisionNotFound");
}

export function entryNotFound(repo: string, path: string, revision: string): HubError {
  return new HubError(404, `Entry not found: ${path} at ${revision} in ${repo}`, "EntryNotFound");
}
