import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createSession, SESSION_SECONDS } from "../../src/control/dashboard/session";
import { shardOf, shardStub } from "../../src/exposure/model";
import { livePolicy } from "../fixtures/policies";
import { adminFetch, call, csrfOf, dash, page, sessionCookie, signIn, TOKEN } from "./call";

const v1 = livePolicy({ version: "dash.1" });
const v2 = livePolicy({ version: "dash.2", supported: ["CN", "DE", "GB", "JP", "UA", "US"] });

async function push(doc: object): Promise<void> {
  const res = await adminFetch("/policy", { method: "PUT", body: doc });
  if (res.status !== 200) throw new Error(`push failed: ${res.status} ${await res.text()}`);
}

const activeVersion = async () => JSON.parse((await env.POLICY.get("policy")) ?? "null")?.version as string;
const gateStatus = async (country: string) => {
  const res = await call("/v1/models", { cf: { country } });
  await res.arrayBuffer();
  return res.status;
};

beforeAll(async () => {
  await push(v1);
  await push(v2);
});

describe("dashboard sign-in", () => {
  it.each(["", "/timeline", "/exposure", "/exposure.csv", "/history", "/history/dash.1"])(
    "redirects an unauthenticated GET %s to the sign-in form",
    async (path) => {
      const res = await dash(path);
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe(
        `/__region-gate/dashboard/signin?next=${encodeURIComponent(`/__region-gate/dashboard${path}`)}`,
      );
    },
  );

  it("refuses a wrong token without setting a cookie", async () => {
    const res = await dash("/signin", { form: { token: "not-the-token" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await res.text()).toContain("not the gate&#39;s admin token");
  });

  it("gives an HttpOnly, Secure, SameSite=Strict cookie scoped to the dashboard, with an expiry", async () => {
    const res = await dash("/signin", { form: { token: TOKEN, next: "/__region-gate/dashboard/timeline" } });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/__region-gate/dashboard/timeline");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^__Secure-rg-dashboard=[\w-]+\.\d+\.[\w-]+;/);
    expect(cookie).toContain(`Max-Age=${SESSION_SECONDS}`);
    expect(cookie).toContain("Path=/__region-gate/dashboard");
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("Secure");
    expect(cookie).toContain("SameSite=Strict");
  });

  it("never redirects off the dashboard after sign-in", async () => {
    for (const next of [
      "https://evil.example/",
      "//evil.example/x",
      "/v1/models",
      "/__region-gate/dashboard//evil",
    ]) {
      const res = await dash("/signin", { form: { token: TOKEN, next } });
      expect(res.headers.get("location")).toBe("/__region-gate/dashboard");
    }
  });

  it("refuses forged, expired and old-token cookies", async () => {
    const good = await signIn();
    const [id, exp, sig] = good.split(".") as [string, string, string];
    // The first character: the last one of 32 bytes in base64url carries 2 padding bits, so
    // A↔B there can decode to the same MAC (a 1-in-16 flake).
    const flipped = `${sig.startsWith("A") ? "B" : "A"}${sig.slice(1)}`;
    const later = `${id}.${Number(exp) + 86400}.${sig}`;
    const expired = (await createSession(TOKEN, Date.now() - (SESSION_SECONDS + 60) * 1000)).cookie;
    const otherToken = (await createSession("rotated-away-token-0000", Date.now())).cookie;
    for (const cookie of [`${id}.${exp}.${flipped}`, later, expired, otherToken, "garbage", `${id}.${exp}`]) {
      const res = await dash("/timeline", { cookie });
      expect(res.status, cookie).toBe(303);
      expect(res.headers.get("location")).toContain("/signin");
      expect(res.headers.get("set-cookie")).toContain("Max-Age=0");
    }
    expect((await dash("/timeline", { cookie: good })).status).toBe(200);
  });

  it("refuses a cookie whose MAC is spelled differently in the last character's unused bits", async () => {
    const good = await signIn();
    const [id, exp, sig] = good.split(".") as [string, string, string];
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // 43 characters carry 258 bits for a 256-bit MAC: flipping the lowest bit keeps the bytes.
    const respelled = `${sig.slice(0, -1)}${alphabet[alphabet.indexOf(sig.at(-1) ?? "A") ^ 1]}`;
    const res = await dash("/timeline", { cookie: `${id}.${exp}.${respelled}` });
    expect(res.status).toBe(303);
  });

  it("signs out only with the CSRF token, clearing the cookie", async () => {
    const cookie = await signIn();
    expect((await dash("/signout", { cookie, form: {} })).status).toBe(403);
    const { csrf } = await page("", cookie);
    const res = await dash("/signout", { cookie, form: { csrf } });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/__region-gate/dashboard/signin");
    expect(sessionCookie(res)).toBeNull();
    expect(res.headers.get("set-cookie")).toContain("Max-Age=0");
  });

  it("answers 404 for every dashboard path while ADMIN_TOKEN is unset", async () => {
    for (const path of ["", "/signin", "/timeline"]) {
      expect((await dash(path, { env: { ADMIN_TOKEN: undefined } })).status).toBe(404);
    }
    expect((await dash("/signin", { form: { token: "" }, env: { ADMIN_TOKEN: undefined } })).status).toBe(
      404,
    );
  });

  it("keeps the bearer API working and gives the cookie no API access", async () => {
    const cookie = await signIn();
    expect((await adminFetch("/policy")).status).toBe(200);
    const res = await adminFetch("/policy", {
      token: null,
      headers: { cookie: `__Secure-rg-dashboard=${cookie}` },
    });
    expect(res.status).toBe(401);
  });
});

describe("dashboard pages", () => {
  it("shows the overview of the active policy", async () => {
    const { status, html } = await page("", await signIn());
    expect(status).toBe(200);
    const text = html.replace(/<[^>]+>/g, "");
    expect(text).toContain("Policy dash.2, mode enforce, active since");
    const day = "\\d{4}-\\d{2}-\\d{2}(?: \\d{2}:\\d{2}:\\d{2} UTC)?";
    // What is blocked, warned and counted now, by name and with dates; the default's 240-odd
    // regions (an allow-list policy) are collapsed.
    expect(text).toMatch(
      new RegExp(
        `block Blocked since ${day} \\(the default: every other unsupported country\\): \\d{3} regions`,
      ),
    );
    expect(html).toMatch(/<details><summary>\d{3} regions<\/summary>[^<]*AF Afghanistan,/);
    expect(html).toContain("UA-43 Crimea, Ukraine");
    expect(text).toMatch(new RegExp(`warn Warned since ${day}, blocked from ${day}: VE Venezuela`));
    expect(text).toMatch(
      new RegExp(`observe Counted, not warned yet: warned from ${day}, blocked from ${day}: BY Belarus`),
    );
    expect(text).toMatch(new RegExp(`Next: ${day} \\(in 10 days\\): BY Belarus warns\\.`));
    expect(text).toMatch(/Verified customers per restricted region, [\d-]+ to [\d-]+/);
    expect(text).toContain("6 supported countries · 1 carved-out subdivision · 2 regions with own dates");
    expect(text).toContain("fail mode: closed");
  });

  it("lists every region with dates, its phase and the countdown", async () => {
    const { html } = await page("/timeline", await signIn());
    const cells = (region: string) => {
      const row = html.split("<tr>").find((r) => r.startsWith(`<td data-label="Region">${region}`));
      return (row ?? "").replace(/ data-label="[^"]*"/g, "");
    };
    expect(cells("VE Venezuela")).toMatch(
      /<td><span class="tag warn">warn<\/span><\/td><td>blocks in 30 days/,
    );
    expect(cells("BY Belarus")).toMatch(
      /<td><span class="tag observe">observe<\/span><\/td><td>blocks in 20 days/,
    );
    // The default's regions, spelled out (collapsed): here every country but the six supported, VE and BY.
    const others = cells("<details><summary>every other unsupported country (");
    expect(others).toMatch(/<td><span class="tag block">block<\/span><\/td><td>blocking since \d{4}-/);
    expect(others).toContain("AF Afghanistan, ");
    expect(others).toContain("UA-43 Crimea, Ukraine");
    expect(others).not.toContain("VE Venezuela");
    expect(html.indexOf(">BY Belarus</td>")).toBeLessThan(html.indexOf(">VE Venezuela</td>"));
  });

  it("sends every page with no-store and a script-free CSP", async () => {
    const res = await dash("/timeline", { cookie: await signIn() });
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
  });
});

describe("exposure page", () => {
  beforeAll(async () => {
    await push(v1); // CN blocked again
    // Two customers the origin had accepted from CN, refused since: 3 and 1 blocked requests
    // (the gate's part of it is in ledger.test.ts; here the rows are written straight in).
    const today = new Date().toISOString().slice(0, 10);
    await shardStub(env, shardOf("CN")).record("dashboard-seed", [
      [today, "CN", "a1a1a1a1a1a1a1a1", "{}", "block", 3, 1, []],
      [today, "CN", "b2b2b2b2b2b2b2b2", "{}", "block", 1, 1, []],
    ]);
  });

  it("charts requests and customers per day with accessible text and lists top customers", async () => {
    const { html } = await page("/exposure", await signIn());
    expect(html).toMatch(
      /<h2>CN China <span class="tag block">block<\/span> blocked since \d{4}-\d{2}-\d{2}[\d: UTC]*: 2 customers, 4 requests \(4/,
    );
    expect(html).toMatch(/<svg[^>]*role="img"[^>]*aria-labelledby="req-CN-title req-CN-desc"/);
    expect(html).toContain('<title id="req-CN-title">Requests per day from CN</title>');
    expect(html).toMatch(/<desc id="req-CN-desc">requests per day from [\d-]+ to [\d-]+: highest 4 on /);
    expect(html).toContain(">day (UTC)</text>");
    expect(html).toContain(">customers</text>");
    expect((html.match(/<tr><td class="mono">[0-9a-f]{16}<\/td>/g) ?? []).length).toBe(2);
  });

  it("counts verified customers per restricted region on the Overview: keys the origin accepted, not anonymous or unverified requests", async () => {
    // Two keys the origin accepted from KP (3 requests), one it never accepted there (1, under
    // `unverified`) and 2 keyless requests: 2 verified customers, 6 requests.
    const today = new Date().toISOString().slice(0, 10);
    await shardStub(env, shardOf("KP")).record("overview-seed", [
      [today, "KP", "c1c1c1c1c1c1c1c1", "{}", "block", 2, 1, []],
      [today, "KP", "d2d2d2d2d2d2d2d2", "{}", "block", 1, 1, []],
      [today, "KP", "e3e3e3e3e3e3e3e3", "{}", "block", 1, 0, []],
      [today, "KP", "anonymous", "{}", "block", 2, 0, []],
    ]);
    const { html } = await page("", await signIn());
    const row = (label: string) =>
      (html.split("<tr>").find((r) => r.startsWith(`<td data-label="Region">${label}</td>`)) ?? "")
        .replace(/<[^>]+>/g, " ")
        .replace(/\s+/g, " ");
    expect(row("KP North Korea")).toMatch(
      /^ KP North Korea block since [^a-z]+ 2 6 map · exposure · notices $/,
    );
    expect(row("CN China")).toMatch(/ 2 4 map/);
    expect(html).toContain('href="/__region-gate/dashboard/exposure?region=KP"');
    expect(html).toContain('href="/__region-gate/dashboard/map#r-KP"');
    expect(html).toMatch(
      /href="\/__region-gate\/dashboard\/notices\?region=KP&amp;from=[\d-]+&amp;to=[\d-]+"/,
    );
    // Busiest by customers first; the restricted regions without traffic are named apart,
    // those with dates of their own first.
    expect(html.indexOf(">KP North Korea<")).toBeLessThan(html.indexOf(">CN China<"));
    expect(html.replace(/\s+/g, " ")).toMatch(
      /No traffic from BY Belarus, VE Venezuela, \w\w [^<,]+, \w\w [^<,]+ or \d+ other restricted regions\./,
    );
  });

  it("serves a region's notices behind the session, as Markdown", async () => {
    const res = await dash("/notices?region=KP", { cookie: await signIn() });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/markdown; charset=utf-8");
    expect(await res.text()).toMatch(
      /^Hello,\n[\s\S]*North Korea: 2 requests on [\s\S]*North Korea: 1 request on /m,
    );
    expect((await dash("/notices?region=KP")).status).toBe(303);
  });

  it("downloads the same CSV as the admin API (and so the CLI)", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const res = await dash(`/exposure.csv?from=${today}&to=${today}&region=CN`, { cookie: await signIn() });
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="exposure-${today}-${today}-CN.csv"`,
    );
    const api = await adminFetch(`/exposure?from=${today}&to=${today}&region=CN&format=csv`);
    const csv = await res.text();
    expect(csv).toBe(await api.text());
    expect(csv.split("\r\n").length).toBe(4); // header, two customers, trailing newline
  });

  it("explains a malformed range instead of charting it", async () => {
    const res = await dash("/exposure?from=2024-13-01", { cookie: await signIn() });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("is not a UTC day");
  });
});

describe("rollback from the dashboard", () => {
  it("refuses a missing or wrong CSRF token with 403 and changes nothing", async () => {
    await push(v2);
    const cookie = await signIn();
    const other = csrfOf((await page("", await signIn())).html);
    for (const form of <Record<string, string>[]>[
      { version: "dash.1", confirm: "yes" },
      { version: "dash.1", confirm: "yes", csrf: "" },
      { version: "dash.1", confirm: "yes", csrf: other },
      { version: "dash.1", confirm: "yes", csrf: "x".repeat(43) },
    ]) {
      const res = await dash("/rollback", { cookie, form });
      expect(res.status).toBe(403);
    }
    expect(await activeVersion()).toBe("dash.2");
    expect(await gateStatus("CN")).toBe(200);
  });

  it("asks for confirmation, showing the changes, before doing anything", async () => {
    const cookie = await signIn();
    const { csrf } = await page("/history/dash.1", cookie);
    const res = await dash("/rollback", { cookie, form: { csrf, version: "dash.1" } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("Roll back to dash.1?");
    expect(html).toContain("- countries no longer supported: CN");
    expect(html).toContain('name="confirm" value="yes"');
    expect(await activeVersion()).toBe("dash.2");
  });

  it("changes the active policy exactly as the admin API rollback does", async () => {
    const cookie = await signIn();
    const { html } = await page("/history/dash.1", cookie);
    const confirm = await (
      await dash("/rollback", { cookie, form: { csrf: csrfOf(html), version: "dash.1" } })
    ).text();
    const etag = /name="etag" value="([^"]+)"/.exec(confirm)?.[1]?.replaceAll("&quot;", '"') ?? "";
    const res = await dash("/rollback", {
      cookie,
      form: { csrf: csrfOf(confirm), version: "dash.1", confirm: "yes", etag },
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/__region-gate/dashboard/history?rolledBack=dash.1");
    expect(await gateStatus("CN")).toBe(403);
    const viaDashboard = await env.POLICY.getWithMetadata<Record<string, string>>("policy", "text");

    await push(v2);
    const api = await adminFetch("/policy/rollback", { method: "POST", body: { version: "dash.1" } });
    expect(api.status).toBe(200);
    const viaApi = await env.POLICY.getWithMetadata<Record<string, string>>("policy", "text");
    expect(viaDashboard.value).toBe(viaApi.value);
    const { at: _a, ...dashMeta } = viaDashboard.metadata ?? {};
    const { at: _b, ...apiMeta } = viaApi.metadata ?? {};
    expect(dashMeta).toEqual(apiMeta);
    expect(dashMeta).toMatchObject({ version: "dash.1", via: "rollback" });
  });

  it("refuses a rollback when the policy changed since the confirmation page", async () => {
    await push(v2);
    const cookie = await signIn();
    const { csrf } = await page("", cookie);
    const confirm = await (await dash("/rollback", { cookie, form: { csrf, version: "dash.1" } })).text();
    const etag = /name="etag" value="([^"]+)"/.exec(confirm)?.[1]?.replaceAll("&quot;", '"') ?? "";
    await adminFetch("/policy/rollback", { method: "POST", body: { version: "dash.1" } });
    await push(v2); // same bytes again, but in between someone else acted: the ETag still matches
    await push(livePolicy({ version: "dash.3" }));
    const res = await dash("/rollback", { cookie, form: { csrf, version: "dash.1", confirm: "yes", etag } });
    expect(res.status).toBe(412);
    expect(await activeVersion()).toBe("dash.3");
  });

  it("shows who changed what and when, with a diff against the predecessor", async () => {
    const cookie = await signIn();
    const { html } = await page("/history", cookie);
    expect(html).toMatch(
      /<code>dash\.3<\/code><\/td><td data-label="How">push<\/td><td data-label="Who" class="mono">token<\/td>/,
    );
    expect(html).toContain("diff from dash.2");
    const version = await page("/history/dash.2?against=dash.1", cookie);
    expect(version.html).toContain("+ countries now supported: CN");
    expect(version.html).toContain("Roll back to dash.2");
  });
});
