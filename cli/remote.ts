/**
 * Client of a deployed gate's admin API (`--url`, `--token`). Error answers become
 * `CliError`s with the gate's own message and what to do about it. Every answer is checked
 * against its shape (cli/answers.ts); one that does not fit sends a probe to `/healthz`, so
 * a URL that is not a region-gate at all is named as such instead of misread.
 */
import * as v from "valibot";
import { ERROR, HEALTHZ } from "./answers";
import { CliError, EXIT } from "./errors";

type Init = { body?: unknown; headers?: Record<string, string> };

/**
 * A gate behind Cloudflare Access (SPEC section 9) lets the CLI through with a service
 * token: Access checks these two headers and hands the gate its signed assertion.
 */
export function accessServiceToken(env: NodeJS.ProcessEnv): Record<string, string> {
  const id = env.CF_ACCESS_CLIENT_ID;
  const secret = env.CF_ACCESS_CLIENT_SECRET;
  return id && secret ? { "cf-access-client-id": id, "cf-access-client-secret": secret } : {};
}

export class AdminClient {
  /** The URL as given, without a trailing slash: what messages name. */
  readonly url: string;
  /** `<url>/__region-gate`, the prefix of every admin route. */
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
    this.url = `${parsed.origin}${parsed.pathname.replace(/\/+$/, "")}`;
    this.base = `${this.url}/__region-gate`;
  }

  /** Sends a request; network failures exit 3. The response may be any status. */
  async send(method: string, path: string, init: Init = {}) {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      ...accessServiceToken(process.env),
      ...init.headers,
    };
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

  /**
   * Whether a region-gate answers at this URL: its `/healthz` (public, no token) has the
   * admin API's shape, also with 503 while no policy is loaded. `unknown` when nothing
   * conclusive came back (network error, 5xx page, redirect).
   */
  async probe(): Promise<"gate" | "not_gate" | "unknown"> {
    let res: Response;
    try {
      res = await fetch(`${this.base}/healthz`, { redirect: "manual", signal: AbortSignal.timeout(10_000) });
    } catch {
      return "unknown";
    }
    const body: unknown = await res.json().catch(() => undefined);
    if (v.is(HEALTHZ, body)) return "gate";
    return (res.status >= 300 && res.status < 400) || res.status >= 500 ? "unknown" : "not_gate";
  }

  /**
   * For an answer without the admin API's shape: "not a region-gate" if the probe says so,
   * otherwise a gate of another version answered (exit 3 either way).
   */
  async unexpected(method: string, path: string, res: Response, what: string): Promise<never> {
    const type = res.headers.get("content-type")?.split(";")[0] ?? "no content-type";
    const answered = `${method} ${new URL(this.base).pathname}${path.split("?")[0]} answered ${res.status} (${type}) ${what}`;
    if ((await this.probe()) === "not_gate") {
      throw new CliError(
        EXIT.backend,
        `${this.url}: this is not a region-gate admin API (no /__region-gate/healthz); ${answered}. Check --url (or REGION_GATE_URL): it must be the gate's base URL, e.g. https://api.example.com`,
      );
    }
    throw new CliError(
      EXIT.backend,
      `${this.url}: ${answered}, not what this CLI expects; if the gate runs another region-gate version than this CLI, update one of them`,
    );
  }

  /** Turns an error answer into a CliError; `expected` statuses are left to the caller. */
  async fail(res: Response, method = "GET", path = ""): Promise<never> {
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not our envelope: a proxy or another app answered.
    }
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      throw new CliError(
        EXIT.backend,
        `${this.base}${path.split("?")[0]} redirects (${res.status}) to ${location}; pass the URL it points to as --url`,
      );
    }
    if (!v.is(ERROR, parsed)) {
      // Not the gate's envelope: before quoting it as the gate's answer, make sure one is there.
      if ((await this.probe()) === "not_gate")
        await this.unexpected(method, path, res, "without the admin API's error shape");
    }
    const body = v.is(ERROR, parsed) ? parsed : undefined;
    const said = body?.error.message ?? text.slice(0, 200);
    const code = body?.error.code;
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
        (body?.errors ?? []).map((e) => `  ${e.path}: ${e.message}`),
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

  /** The error code of a 404 in the admin envelope (`policy_absent`, ...), or null. */
  async errorCode(res: Response): Promise<string | null> {
    const body: unknown = await res
      .clone()
      .json()
      .catch(() => undefined);
    return v.is(ERROR, body) ? body.error.code : null;
  }

  /** The JSON body of a 2xx answer, checked against `shape`. */
  async read<S extends v.GenericSchema>(
    res: Response,
    method: string,
    path: string,
    shape: S,
  ): Promise<v.InferOutput<S>> {
    if (!res.ok) return this.fail(res, method, path);
    const body: unknown = await res.json().catch(() => undefined);
    const r = v.safeParse(shape, body);
    if (!r.success) return this.unexpected(method, path, res, "without the admin API's fields");
    return r.output;
  }

  /** GET/POST expecting a 2xx JSON answer of `shape`. */
  async json<S extends v.GenericSchema>(
    method: string,
    path: string,
    shape: S,
    init: Init = {},
  ): Promise<{ body: v.InferOutput<S>; res: Response }> {
    const res = await this.send(method, path, init);
    return { body: await this.read(res, method, path, shape), res };
  }
}
