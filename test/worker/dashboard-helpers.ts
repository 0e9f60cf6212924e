/**
 * Drives the dashboard like a browser would, inside workerd: form posts, the session
 * cookie carried by hand, CSRF tokens scraped from the rendered forms.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import app from "../../src/index";

export const TOKEN = "test-admin-token-0123456789";
export const DASH = "https://gate.test/__region-gate/dashboard";

export interface DashCall {
  method?: string;
  cookie?: string | null;
  form?: Record<string, string>;
  env?: Record<string, unknown>;
}

/** One request to the dashboard through the real worker entry; redirects are not followed. */
export async function dash(path: string, call: DashCall = {}): Promise<Response> {
  const headers = new Headers();
  if (call.cookie) headers.set("cookie", `__Secure-rg-dashboard=${call.cookie}`);
  let body: BodyInit | undefined;
  if (call.form) {
    body = new URLSearchParams(call.form);
    headers.set("content-type", "application/x-www-form-urlencoded");
  }
  const ctx = createExecutionContext();
  const request = new Request(`${DASH}${path}`, {
    method: call.method ?? (call.form ? "POST" : "GET"),
    headers,
    body,
  });
  const res = await app.fetch(request, call.env ? { ...env, ...call.env } : env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
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
