/**
 * Operator dashboard at `/__region-gate/dashboard`: server-rendered pages behind a signed
 * session cookie (see ./session.ts), not behind the admin API's bearer token. Absent
 * (404) while ADMIN_TOKEN is unset, like the rest of the admin prefix. Every state change
 * is a POST carrying the session's CSRF token; the rollback runs `rollbackStored`
 * (policy/service.ts), the same one as `POST /policy/rollback`, under the same write lock.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { type ControlEnv, readConfig } from "../../platform/config";
import { log } from "../../platform/log";
import { diffPolicies } from "../../policy/diff";
import { parsePolicy } from "../../policy/parse";
import type { PolicyDocument } from "../../policy/schema";
import { etagOf, sha256Hex } from "../../store/etag";
import { readHistory } from "../../store/history";
import { POLICY_KEY } from "../../store/keys";
import { kvStorage } from "../../store/kv-storage";
import { asActiveMeta } from "../../store/meta";
import { rollbackStored, storedDocument } from "../../store/service";
import { getPolicy } from "../../store/store";
import { adminSurface } from "../admin/access";
import { adminActor, authFailed, authThrottled, tokensEqual } from "../admin/auth";
import { type AppEnv, newApp } from "../app";
import { readFormBody } from "../body";
import { noticeRoutes } from "../notices/notices-route";
import { HTML_HEADERS } from "../ui/layout";
import { exposureCsvStream } from "./data";
import { phasesAt } from "./map-data";
import { Exposure } from "./pages/exposure";
import { ConfirmRollback, History, VersionPage } from "./pages/history";
import { MapPage } from "./pages/map";
import { Overview, Timeline } from "./pages/overview";
import { Problem, SignIn } from "./pages/shell";
import { BASE } from "./paths";
import {
  createSession,
  csrfToken,
  csrfValid,
  readSession,
  SESSION_COOKIE,
  SESSION_SECONDS,
  type Session,
} from "./session";
import {
  classRows,
  exposureView,
  historyEvents,
  mapView,
  networkRows,
  overviewData,
  overviewTraffic,
  timelineRows,
} from "./views";

/** What the dashboard's middleware hands its pages. */
interface DashVariables {
  token: string;
  session: Session;
  csrf: string;
  form: Record<string, unknown>;
}

export const dashboard = newApp<DashVariables>();

/** Only dashboard paths may be the target of the post-sign-in redirect (no open redirect). */
const safeNext = (next: unknown) =>
  typeof next === "string" && /^\/__region-gate\/dashboard(\/[^\\]*)?$/.test(next) && !next.includes("//")
    ? next
    : BASE;

const cookieOptions = { path: BASE, secure: true, httpOnly: true, sameSite: "Strict" } as const;

// The admin API's front door: 404 without ADMIN_TOKEN, Cloudflare Access when configured.
dashboard.use("*", adminSurface);
dashboard.use("*", async (c, next) => {
  c.set("token", c.env.ADMIN_TOKEN ?? ""); // set: adminSurface answered 404 otherwise
  await next();
  for (const [name, value] of Object.entries(HTML_HEADERS)) c.res.headers.set(name, value);
});

dashboard.get("/signin", (c) => c.html(<SignIn next={safeNext(c.req.query("next"))} />));

dashboard.post("/signin", async (c) => {
  const body = await readFormBody(c.req.raw);
  if ("error" in body) return body.error;
  const { form } = body;
  const next = safeNext(form.next);
  const given = typeof form.token === "string" ? form.token : "";
  const now = Date.now();
  const throttled = authThrottled(c.req.raw, now);
  if (throttled !== null) {
    const wait = throttled.headers.get("retry-after") ?? "60";
    return c.html(
      <SignIn next={next} error={`Too many failed sign-ins from this address; try again in ${wait} s.`} />,
      429,
      { "retry-after": wait },
    );
  }
  if (!(await tokensEqual(given, c.var.token))) {
    authFailed(c.req.raw, now);
    log("warn", "dashboard_signin_failed", {});
    return c.html(<SignIn next={next} error="That is not the gate's admin token." />, 401);
  }
  const { cookie } = await createSession(c.var.token, Date.now());
  setCookie(c, SESSION_COOKIE, cookie, { ...cookieOptions, maxAge: SESSION_SECONDS });
  return c.redirect(next, 303);
});

// Everything below needs a valid session; POSTs also need the session's CSRF token.
dashboard.use("*", async (c, next) => {
  const session = await readSession(c.var.token, getCookie(c, SESSION_COOKIE), Date.now());
  if (session === null) {
    if (getCookie(c, SESSION_COOKIE) !== undefined) deleteCookie(c, SESSION_COOKIE, cookieOptions);
    if (c.req.method === "GET" || c.req.method === "HEAD") {
      const url = new URL(c.req.url);
      return c.redirect(`${BASE}/signin?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    return c.html(
      <Problem title="Signed out" message="Your session has ended; sign in again." back={`${BASE}/signin`} />,
      403,
    );
  }
  c.set("session", session);
  c.set("csrf", await csrfToken(c.var.token, session));
  if (c.req.method === "POST") {
    const body = await readFormBody(c.req.raw);
    if ("error" in body) return body.error;
    const { form } = body;
    if (!(await csrfValid(c.var.token, session, form.csrf))) {
      log("warn", "dashboard_csrf_refused", { path: new URL(c.req.url).pathname });
      return c.html(
        <Problem
          title="Refused"
          message="The form's CSRF token is missing or wrong; reload the page and try again."
          csrf={c.var.csrf}
          back={BASE}
        />,
        403,
      );
    }
    c.set("form", form);
  }
  await next();
});

dashboard.post("/signout", (c) => {
  deleteCookie(c, SESSION_COOKIE, cookieOptions);
  return c.redirect(`${BASE}/signin`, 303);
});

const policyOf = (c: { env: ControlEnv }) => getPolicy(c.env);

dashboard.get("/", async (c) => {
  const [policy, head] = await Promise.all([policyOf(c), kvStorage(c.env.POLICY).head(POLICY_KEY)]);
  const now = Date.now();
  const data = policy && overviewData(policy, asActiveMeta(head?.meta), readConfig(c.env).failOpen, now);
  if (policy && data) data.traffic = await overviewTraffic(c.env, phasesAt(policy, now), now);
  return c.html(<Overview d={data} csrf={c.var.csrf} />);
});

dashboard.get("/timeline", async (c) => {
  const policy = await policyOf(c);
  if (!policy) return c.html(<Overview d={null} csrf={c.var.csrf} />, 503);
  return c.html(
    <Timeline
      rows={timelineRows(policy, Date.now())}
      networks={networkRows(policy, Date.now())}
      classes={classRows(policy)}
      monitor={policy.monitor}
      csrf={c.var.csrf}
    />,
  );
});

dashboard.get("/map", async (c) => {
  const policy = await policyOf(c);
  if (!policy) return c.html(<Overview d={null} csrf={c.var.csrf} />, 503);
  const view = mapView(policy, c.req.query("at"), Date.now());
  return c.html(<MapPage v={view} csrf={c.var.csrf} />, view.error ? 400 : 200);
});

dashboard.get("/exposure", async (c) => {
  const [view, policy] = await Promise.all([
    exposureView(c.env, new URL(c.req.url).searchParams, Date.now()),
    policyOf(c),
  ]);
  const phases = policy ? new Map(phasesAt(policy, Date.now()).map((r) => [r.code, r])) : undefined;
  return c.html(<Exposure v={view} csrf={c.var.csrf} phases={phases} />, view.error ? 400 : 200);
});

dashboard.get("/exposure.csv", async (c) => {
  const view = await exposureView(c.env, new URL(c.req.url).searchParams, Date.now(), { rowsOnly: true });
  if (view.error) return c.html(<Exposure v={view} csrf={c.var.csrf} />, 400);
  const name = `exposure-${view.from}-${view.to}${view.region ? `-${view.region}` : ""}.csv`;
  if (!view.filter) return c.html(<Exposure v={view} csrf={c.var.csrf} />, 400);
  return c.body(exposureCsvStream(c.env, view.filter), 200, {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="${name}"`,
  });
});

// The notices of GET /__region-gate/exposure/notices (Markdown unless `format` says
// otherwise), behind the dashboard's session: the Overview links them per region.
dashboard.get("/notices", (c) => {
  const url = new URL(c.req.url);
  const query = new URLSearchParams(url.searchParams);
  if (!query.has("format")) query.set("format", "md");
  return noticeRoutes.fetch(new Request(new URL(`/exposure/notices?${query}`, url)), c.env, c.executionCtx);
});

dashboard.get("/history", async (c) => {
  const view = await readHistory(kvStorage(c.env.POLICY));
  const done = c.req.query("rolledBack");
  const notice = done ? `Rolled back: ${done} is the active policy.` : undefined;
  return c.html(
    <History
      events={historyEvents(view.versions)}
      versions={view.versions}
      notice={notice}
      csrf={c.var.csrf}
    />,
  );
});

/** A stored document as a policy, or null when it is absent or no longer validates. */
function policyDoc(text: string | null | undefined): PolicyDocument | null {
  if (text == null) return null;
  const result = parsePolicy(text);
  return result.ok ? result.policy : null;
}

/** `region-gate policy diff` from `before` to `after`, the same lines the CLI prints. */
function changes(before: string | null | undefined, after: string): string[] {
  const doc = policyDoc(after);
  if (doc === null) return ["The stored document does not validate against the current schema."];
  return diffPolicies(policyDoc(before), doc, Date.now());
}

/** The 404 page for a version that history does not hold. */
function unknownVersion(c: Context<AppEnv<DashVariables>>, version: string): Response | Promise<Response> {
  return c.html(
    <Problem
      title="Unknown version"
      message={`No stored policy has version ${JSON.stringify(version)}.`}
      csrf={c.var.csrf}
      back={`${BASE}/history`}
    />,
    404,
  );
}

dashboard.get("/history/:version", async (c) => {
  const version = c.req.param("version");
  const view = await readHistory(kvStorage(c.env.POLICY));
  const entry = view.versions.find((v) => v.version === version);
  const document = entry ? await storedDocument(c.env.POLICY, version) : null;
  if (!entry || document === null) {
    return unknownVersion(c, version);
  }
  const latest = historyEvents(view.versions).find((e) => e.version === version);
  const against = c.req.query("against") ?? latest?.previous ?? null;
  const before = against ? await storedDocument(c.env.POLICY, against) : null;
  const diff = before === null ? null : changes(before, document);
  return c.html(
    <VersionPage
      entry={entry}
      against={before === null ? null : against}
      changes={diff}
      document={document}
      csrf={c.var.csrf}
    />,
  );
});

dashboard.post("/rollback", async (c) => {
  const form = c.var.form;
  const version = typeof form.version === "string" ? form.version : "";
  const storage = kvStorage(c.env.POLICY);
  if (form.confirm !== "yes") {
    const [target, active] = await Promise.all([
      storedDocument(c.env.POLICY, version),
      storage.read(POLICY_KEY),
    ]);
    if (target === null) {
      return unknownVersion(c, version);
    }
    const activeMeta = asActiveMeta(active?.meta);
    return c.html(
      <ConfirmRollback
        version={version}
        active={activeMeta?.version ?? null}
        etag={active ? etagOf(await sha256Hex(active.value)) : null}
        changes={changes(active?.value, target)}
        csrf={c.var.csrf}
      />,
    );
  }
  const by = adminActor(c);
  const pre = typeof form.etag === "string" && form.etag !== "" ? { ifMatch: form.etag } : null;
  const result = await rollbackStored(c.env.POLICY, version, by, pre, { via: "dashboard" });
  if (!result.ok) {
    return c.html(
      <Problem
        title="Rollback refused"
        message={result.message}
        csrf={c.var.csrf}
        back={`${BASE}/history`}
      />,
      result.status,
    );
  }
  return c.redirect(`${BASE}/history?rolledBack=${encodeURIComponent(result.version)}`, 303);
});

dashboard.all("*", (c) =>
  c.html(<Problem title="Not found" message="No dashboard page here." csrf={c.var.csrf} back={BASE} />, 404),
);
