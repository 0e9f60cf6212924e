/**
 * Client of a deployed gate's admin API (`--url`, `--token`). Error answers become
 * `CliError`s with the gate's own message and what to do about it.
 */
import { CliError, EXIT } from "./errors";

interface ErrorBody {
  error?: { message?: string; code?: string };
  errors?: Array<{ path: string; message: string }>;
}

export class AdminClient {
  readonly base: string;

  constructor(
    url: string,
    private readonly token: string,
  ) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new CliError(
        EXIT.usage,
        `--url ${JSON.stringify(url)} is not a URL; give the gate's base URL, e.g. https://api.example.com`,
      );
    }
    this.base = `${parsed.origin}${parsed.pathname.replace(/\/+$/, "")}/__region-gate`;
  }

  /** Sends a request; network failures exit 3. The response may be any status. */
  async send(method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, ...init.headers };
    if (init.body !== undefined) headers["content-type"] = "application/json";
    try {
      return await fetch(`${this.base}${path}`, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        redirect: "manual",
      });
    } catch (e) {
      const cause = (e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
      throw new CliError(
        EXIT.backend,
        `cannot reach ${this.base} (${cause}); check --url and that the gate is up`,
      );
    }
  }

  /** Turns an error answer into a CliError; `expected` statuses are left to the caller. */
  async fail(res: Response): Promise<never> {
    const text = await res.text();
    let body: ErrorBody = {};
    try {
      body = JSON.parse(text) as ErrorBody;
    } catch {
      // Not our envelope: a proxy or another app answered.
    }
    const said = body.error?.message ?? text.slice(0, 200);
    const code = body.error?.code;
    if (res.status === 401) {
      throw new CliError(
        EXIT.backend,
        `the gate refused the admin token (401: ${said}); check --token or REGION_GATE_TOKEN against the ADMIN_TOKEN secret`,
      );
    }
    if (res.status === 404 && (code === "not_found" || code === undefined)) {
      throw new CliError(
        EXIT.backend,
        `no admin API at ${this.base} (404); check that --url is the gate's base URL and that the ADMIN_TOKEN secret is set on the worker`,
      );
    }
    if (res.status === 422) {
      throw new CliError(
        EXIT.invalid,
        `the gate refused the policy (422): ${said}`,
        (body.errors ?? []).map((e) => `  ${e.path}: ${e.message}`),
      );
    }
    if (res.status === 409 || res.status === 412 || res.status === 404) {
      throw new CliError(EXIT.conflict, `the gate refused the change (${res.status} ${code ?? ""}): ${said}`);
    }
    if (res.status === 400 || res.status === 413) {
      throw new CliError(EXIT.usage, `the gate refused the request (${res.status} ${code ?? ""}): ${said}`);
    }
    throw new CliError(
      EXIT.backend,
      `the gate answered ${res.status}${code ? ` ${code}` : ""}: ${said}; retry, and check the worker's logs (wrangler tail) if it persists`,
    );
  }

  /** GET/POST expecting a 2xx JSON answer. */
  async json<T>(
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ body: T; res: Response }> {
    const res = await this.send(method, path, init);
    if (!res.ok) return this.fail(res);
    return { body: (await res.json()) as T, res };
  }
}
