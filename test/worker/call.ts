/**
 * The worker tests' one way to call region-gate inside workerd: `call(path, { cf, env, token,
 * cookie, body, method, headers })` through the real entry of the plane that serves the path
 * (the control plane's for the admin prefix, the gate's for every other) with real KV and
 * Durable Objects, and on top of it the admin API (`adminFetch`) and the dashboard (`dash`, `signIn`,
 * `page`). Also the shared admin token, a KV binding that fails on purpose (`faultyKv`) and
 * the capture of the gate's log lines (`captureLogs`).
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { onTestFinished, vi } from "vitest";
import control from "../../src/control/index";
import gate from "../../src/gate/index";

/** ADMIN_TOKEN as vitest.config.ts binds it. */
export const TOKEN = "test-admin-token-0123456789-0123456789";
export const GATE = "https://gate.test";
/** The admin prefix (SPEC section 7). */
export const BASE = `${GATE}/__region-gate`;
export const DASH = `${BASE}/dashboard`;
/** The admin token as request headers. */
export const BEARER = { authorization: `Bearer ${TOKEN}` };

/**
 * The edge facts workerd puts on `request.cf`; a test gives the few it needs. `country` is
 * any string: the tests send codes the type does not list (XX for unknown, made-up codes).
 */
export type EdgeFacts = Partial<Omit<IncomingRequestCfProperties, "country">> & { country?: string };
/** A request as the edge hands it to the worker: `request.cf` holds incoming properties. */
export type IncomingRequest = Request<unknown, EdgeFacts>;

export interface Call {
  method?: string;
  /** `request.cf`, e.g. `{ country: "CN" }`. */
  cf?: EdgeFacts;
  /** Overrides merged into the worker env (e.g. `ADMIN_TOKEN: undefined`, `POLICY: faultyKv("hang")`). */
  env?: Record<string, unknown>;
  /** A bearer token for `Authorization`; null or absent: none. */
  token?: string | null;
  /** The dashboard session cookie's value. */
  cookie?: string | null;
  /** Text, bytes, a blob, a stream or a form as they are; any other value is sent as JSON. */
  body?: unknown;
  headers?: HeadersInit;
  /**
   * Await the request's `waitUntil` work before answering (default false, as for a client).
   * The recorder's delayed flush waits in there, so gate calls with the ledger on leave it.
   */
  wait?: boolean;
}

/** The request `call` sends: `path` is under https://gate.test unless it is a whole URL. */
export function incoming(path: string, call: Call = {}): IncomingRequest {
  const headers = new Headers(call.headers);
  if (call.token != null) headers.set("authorization", `Bearer ${call.token}`);
  if (call.cookie) headers.set("cookie", `__Secure-rg-dashboard=${call.cookie}`);
  let body: BodyInit | undefined;
  if (call.body !== undefined) {
    const raw =
      typeof call.body === "string" ||
      call.body instanceof ReadableStream ||
      call.body instanceof Uint8Array ||
      call.body instanceof ArrayBuffer ||
      call.body instanceof URLSearchParams ||
      call.body instanceof FormData ||
      call.body instanceof Blob;
    body = raw ? (call.body as BodyInit) : JSON.stringify(call.body);
    if (!raw && !headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const url = /^https?:\/\//.test(path) ? path : `${GATE}${path}`;
  const init: RequestInit<EdgeFacts> = { method: call.method ?? "GET", headers, body };
  if (call.cf) init.cf = call.cf;
  return new Request<unknown, EdgeFacts>(url, init);
}

/** The admin prefix or a path below it: the control plane's (the gate hands it over unjudged). */
const isAdminPath = (path: string) => path === "/__region-gate" || path.startsWith("/__region-gate/");

/**
 * One request through the real entry of the plane that serves it; redirects are not
 * followed. Admin paths go to the control plane's entry directly rather than through the
 * gate's CONTROL binding, so a test's `env` overrides reach it (a service binding carries
 * no bindings across); test/worker/planes.test.ts covers the hand-over itself.
 */
export async function call(path: string, c: Call = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const request = incoming(path, c);
  const entry = isAdminPath(new URL(request.url).pathname) ? control : gate;
  const res = await entry.fetch(request, c.env ? { ...env, ...c.env } : env, ctx);
  if (c.wait) await waitOnExecutionContext(ctx);
  return res;
}

/**
 * One admin request: `path` under the admin prefix, the admin token unless `token` says
 * otherwise (null: no Authorization header), a body sent as JSON unless it says otherwise.
 */
export function adminFetch(path: string, c: Call = {}): Promise<Response> {
  const headers = new Headers(c.headers);
  if (c.body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
  const token = c.token === undefined ? TOKEN : c.token;
  return call(`${BASE}${path}`, { wait: true, ...c, headers, token });
}

/** JSON of a response, typed loosely for assertions. */
export const json = async (res: Response) => (await res.json()) as Record<string, unknown>;

export interface DashCall extends Call {
  /** A form post (POST unless `method` says otherwise). */
  form?: Record<string, string>;
}

/** One request to the dashboard, as a browser would send it (the session cookie carried by hand). */
export function dash(path: string, c: DashCall = {}): Promise<Response> {
  const { form, ...rest } = c;
  const headers = new Headers(c.headers);
  if (form) headers.set("content-type", "application/x-www-form-urlencoded");
  return call(`${DASH}${path}`, {
    wait: true,
    ...rest,
    headers,
    method: c.method ?? (form ? "POST" : "GET"),
    body: form ? new URLSearchParams(form) : c.body,
  });
}

/** The session cookie's value from a `set-cookie` header, or null. */
export function sessionCookie(res: Response): string | null {
  const m = /__Secure-rg-dashboard=([^;]*)/.exec(res.headers.get("set-cookie") ?? "");
  return m?.[1] || null;
}

/** Signs in with the admin token and returns the session cookie value. */
export async function signIn(token = TOKEN): Promise<string> {
  const res = await dash("/signin", { form: { token, next: "/__region-gate/dashboard" } });
  const cookie = sessionCookie(res);
  if (res.status !== 303 || cookie === null) throw new Error(`sign-in failed: ${res.status}`);
  return cookie;
}

/** The CSRF token of the first form on a page. */
export function csrfOf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error("no CSRF field on the page");
  return m[1];
}

/** A signed-in page's HTML and its CSRF token. */
export async function page(
  path: string,
  cookie: string,
): Promise<{ status: number; html: string; csrf: string }> {
  const res = await dash(path, { cookie });
  const html = await res.text();
  return { status: res.status, html, csrf: csrfOf(html) };
}

/**
 * A KV binding (the real one by default) whose reads fail the way production KV can:
 * `"throw"` rejects, `"hang"` never settles, a number of ms answers the real value that much
 * later (the value is read when the call starts). Everything but `get` is the real binding.
 */
export function faultyKv(fault: "throw" | "hang" | number, kv: KVNamespace = env.POLICY): KVNamespace {
  return new Proxy(kv, {
    get(target, prop, receiver) {
      if (prop !== "get") return Reflect.get(target, prop, receiver);
      if (fault === "throw") return () => Promise.reject(new Error("KV GET failed: 500"));
      if (fault === "hang") return () => new Promise(() => {});
      return async (key: string, type: "text") => {
        const value = await target.get(key, type);
        await new Promise((resolve) => setTimeout(resolve, fault));
        return value;
      };
    },
  });
}

export interface LogEvent {
  level: string;
  event: string;
  [field: string]: unknown;
}

export interface CapturedLogs {
  /** Every line as written. */
  lines: string[];
  /** The JSON lines, parsed (a line that is not JSON fails the test: the gate logs JSON only). */
  events(): LogEvent[];
}

/**
 * Captures the gate's log lines (src/platform/log.ts: console.log/warn/error) until the current test
 * ends, for the tests that expect some: they assert on them instead of letting them scroll
 * past in `npm test`. Captured lines are not printed.
 */
export function captureLogs(): CapturedLogs {
  const lines: string[] = [];
  for (const method of ["log", "warn", "error"] as const) {
    const spy = vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    });
    onTestFinished(() => spy.mockRestore());
  }
  return { lines, events: () => lines.map((l) => JSON.parse(l) as LogEvent) };
}
