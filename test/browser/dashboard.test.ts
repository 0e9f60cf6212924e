/**
 * The dashboard and the self-check page in a real browser: Debian's headless Chromium
 * (playwright-core) against the built bundle under miniflare, in front of a real origin.
 * Traffic from CN is sent through the gate first, so the exposure chart shows what the
 * ledger really counted. Every page is screenshotted; with UPDATE_SCREENSHOTS=1 the
 * pictures replace docs/screenshots/ (the README's), otherwise they go to a temp folder
 * so a test run leaves the work tree clean.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../e2e/global-setup";
import {
  type EdgeFacts,
  startGate,
  startOrigin,
  TEST_ADMIN_TOKEN,
  type TestGate,
  type TestOrigin,
} from "../e2e/harness";
import { type LaunchedBrowser, launchChromium } from "./chromium";

const SHOTS =
  process.env.UPDATE_SCREENSHOTS === "1"
    ? join(ROOT, "docs", "screenshots")
    : join(tmpdir(), "region-gate-screenshots");
const DAY = 86_400_000;
const at = (days: number) => new Date(Date.now() + days * DAY).toISOString().replace(/\.\d{3}Z$/, "Z");
/** How the dashboard writes an instant that is not a midnight: "2026-12-07 10:30:12 UTC". */
const readable = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;

/** The realistic example policy, with dates around today so every phase shows. */
const example = JSON.parse(readFileSync(join(ROOT, "examples", "policy.json"), "utf8"));
const v1 = {
  ...example,
  version: "demo.1",
  enforcement: {
    default: { warnFrom: at(-40), blockFrom: at(-12) },
    regions: {
      ...example.enforcement.regions,
      VE: { warnFrom: at(-3), blockFrom: at(24) },
      MM: { warnFrom: at(30), blockFrom: at(60) },
    },
    // The example's unsupported network keeps a warn phase of its own, as in the example.
    networks: { AS9009: { warnFrom: at(-5), blockFrom: at(90) } },
  },
};
/** A later version that postpones RU; the test rolls it back from the browser. */
const v2 = {
  ...v1,
  version: "demo.2",
  enforcement: {
    ...v1.enforcement,
    regions: { ...v1.enforcement.regions, RU: { warnFrom: at(-1), blockFrom: at(45) } },
  },
};

const ADMIN = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
let origin: TestOrigin;
let gate: TestGate;
let chromium: LaunchedBrowser;
let page: Page;

async function admin(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", ADMIN.authorization);
  if (init.body) headers.set("content-type", "application/json");
  return gate.fetch(`/__region-gate${path}`, { ...init, headers });
}

async function push(doc: object): Promise<void> {
  const res = await admin("/policy", { method: "PUT", body: JSON.stringify(doc) });
  expect(res.status, await res.clone().text()).toBe(200);
}

const AMAZON = { asn: 16509, asOrganization: "Amazon.com" }; // in the example's cloud class
const CHINANET = { asn: 4134, asOrganization: "Chinanet" };
const CANTV = { asn: 8048, asOrganization: "CANTV Servicios, Venezuela" };

/**
 * Requests from unsupported regions, with API keys and organisation headers, through
 * networks no policy entry judges (the cloud class only labels AS16509).
 */
async function sendTraffic(): Promise<number> {
  const plan: Array<[string, string, string, number, EdgeFacts]> = [
    ["CN", "sk-live-acme", "org-acme", 7, AMAZON],
    ["CN", "sk-live-globex", "org-globex", 4, CHINANET],
    ["CN", "sk-live-initech", "org-initech", 2, CHINANET],
    ["RU", "sk-live-acme", "org-acme", 3, AMAZON],
    ["VE", "sk-live-umbrella", "org-umbrella", 4, AMAZON],
    ["VE", "sk-live-umbrella", "org-umbrella", 1, CANTV],
  ];
  let sent = 0;
  for (const [country, key, org, n, network] of plan) {
    for (let i = 0; i < n; i++) {
      const res = await gate.fetch("/v1/chat/completions", {
        method: "POST",
        body: "{}",
        headers: { authorization: `Bearer ${key}`, "openai-organization": org },
        cf: { country, ...network },
      });
      await res.arrayBuffer();
      sent++;
    }
  }
  return sent;
}

/** Polls the admin API until the ledger holds `requests` events (flushes run every second here). */
async function ledgerHolds(requests: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await admin("/exposure?summary=1");
    const { summary } = (await res.json()) as { summary: Array<{ requests: number }> };
    if (summary.reduce((n, s) => n + s.requests, 0) >= requests) return;
    if (Date.now() > deadline) throw new Error("the ledger did not receive the traffic within 20 s");
    await new Promise((r) => setTimeout(r, 250));
  }
}

const shot = (name: string, p: Page = page, fullPage = true) =>
  p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  origin = await startOrigin();
  // POLICY_CACHE_SECONDS=0: the gate's isolate reads each rollback at once (another Worker's
  // isolate, the control plane's, made it; in production gates follow within the TTL).
  gate = await startGate({
    originUrl: origin.url,
    policy: null,
    bindings: { EXPOSURE_FLUSH_SECONDS: "1", POLICY_CACHE_SECONDS: "0" },
  });
  await push(v1);
  await push(v2);
  await ledgerHolds(0);
  const sent = await sendTraffic();
  await ledgerHolds(sent);
  chromium = await launchChromium({ width: 1000, height: 800 });
  page = await chromium.context.newPage();
});

afterAll(async () => {
  await chromium?.close();
  await gate?.dispose();
  await origin?.close();
});

const dashboard = (path = "") => `${gate.url}/__region-gate/dashboard${path}`;

describe("operator dashboard in Chromium", () => {
  it("sends an anonymous visitor to the sign-in form, then signs in", async () => {
    await page.goto(dashboard("/timeline"));
    expect(new URL(page.url()).pathname).toBe("/__region-gate/dashboard/signin");
    await shot("dashboard-signin");
    await page.fill("#token", "wrong-token");
    await page.click("button[type=submit]");
    await expect.poll(() => page.textContent("[role=alert]")).toContain("not the gate's admin token");
    await page.fill("#token", TEST_ADMIN_TOKEN);
    await page.click("button[type=submit]");
    await page.waitForURL(dashboard("/timeline"));
    const cookies = await chromium.context.cookies();
    expect(cookies.find((c) => c.name === "__Secure-rg-dashboard")).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: "Strict",
      path: "/__region-gate/dashboard",
    });
  });

  it("shows on the overview what is blocked and warned, from and until when, and who is affected", async () => {
    await page.click("nav >> text=Overview");
    await expect.poll(() => page.textContent("main")).toContain("demo.2");
    const now = ((await page.textContent("section[aria-labelledby=now-title]")) ?? "").replace(/\s+/g, " ");
    const { default: byDefault, regions } = v2.enforcement;
    // CN is one of the default's regions: blocked since the default's date, named.
    expect(now).toMatch(
      new RegExp(
        `block Blocked since ${readable(byDefault.blockFrom)} \\(the default: every other unsupported country\\): [^\\n]*CN China`,
      ),
    );
    expect(now).toContain(
      `warn Warned since ${readable(regions.VE.warnFrom)}, blocked from ${readable(regions.VE.blockFrom)}: VE Venezuela`,
    );
    expect(now).toContain(
      "block Blocked since 2022-03-01: UA-09 Luhansk, Ukraine, UA-14 Donetsk, Ukraine, UA-43 Crimea, Ukraine",
    );
    expect(now).toContain(`Next: ${readable(regions.VE.blockFrom)} (in 24 days): VE Venezuela blocks.`);
    // Verified customers per restricted region, busiest first, with where to look next.
    const rows = await page.$$eval("section[aria-labelledby=traffic-title] tbody tr", (trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll("td"), (td) => (td.textContent ?? "").trim())),
    );
    // CN: blocked throughout, so no key was ever accepted there: 0 verified customers, after
    // VE's and RU's (warned: forwarded, and the origin accepted their keys).
    expect(rows.map((r) => r[0])).toEqual(["VE Venezuela", "RU Russia", "CN China"]);
    expect(rows.find((r) => r[0] === "CN China")?.slice(2)).toEqual(["0", "13", "map · exposure · notices"]);
    expect(rows.find((r) => r[0] === "VE Venezuela")?.slice(1, 4)).toEqual([
      `warn blocked from ${readable(regions.VE.blockFrom)}`,
      "1",
      "5",
    ]);
    expect(
      ((await page.textContent("section[aria-labelledby=traffic-title] p")) ?? "")
        .replace(/\s+/g, " ")
        .trim(),
    ).toMatch(
      /^No traffic from MM Myanmar \(Burma\), UA-09 Luhansk, Ukraine, UA-14 Donetsk, Ukraine, UA-43 Crimea, Ukraine or 16 other restricted regions\./,
    );
    // All of it fits in one window 1000 px wide and tall.
    const bottom = await page.evaluate(
      () =>
        document.querySelector("section[aria-labelledby=traffic-title]")?.getBoundingClientRect().bottom ?? 0,
    );
    expect(bottom).toBeLessThanOrEqual(1000);
    await shot("dashboard-overview", page, false);
    await page.click("section[aria-labelledby=traffic-title] tr:has-text('VE Venezuela') >> text=exposure");
    await page.waitForURL(/exposure\?region=VE$/);
  });

  it("shows the enforcement timeline", async () => {
    await page.click("nav >> text=Timeline");
    const rows = await page.$$eval("tbody tr", (trs) => trs.map((tr) => tr.textContent ?? ""));
    expect(rows.find((r) => r.startsWith("VE"))).toContain("blocks in 24 days");
    expect(rows.find((r) => r.startsWith("RU"))).toContain("blocks in 45 days");
    expect(rows.find((r) => r.startsWith("every other"))).toContain("blocking since");
    expect(await page.evaluate(() => document.compatMode)).toBe("CSS1Compat"); // the doctype: no quirks mode
    expect(await page.getAttribute("nav a[aria-current=page]", "href")).toBe(
      "/__region-gate/dashboard/timeline",
    );
    await shot("dashboard-timeline");
  });

  it("reflows the timeline at phone width so no date column is cut", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth - window.innerWidth,
      cells: Array.from(document.querySelectorAll("main td"), (td) => td.getBoundingClientRect().right),
      dates: Array.from(document.querySelectorAll("main td time"), (t) => t.getBoundingClientRect().right),
    }));
    expect(widths.page).toBeLessThanOrEqual(0);
    expect(widths.dates.length).toBeGreaterThan(0);
    expect(Math.max(...widths.cells, ...widths.dates)).toBeLessThanOrEqual(390);
    await shot("dashboard-timeline-phone");
    await page.setViewportSize({ width: 1000, height: 800 });
  });

  it("colours the world map as explain decides, now and at a future date", async () => {
    await page.click("nav >> text=Map");
    await page.waitForURL(dashboard("/map"));
    /** The fill Chromium paints for a country, and the legend swatch's fill of each phase. */
    const painted = () =>
      page.evaluate(() => {
        const fill = (el: Element | null) => (el ? getComputedStyle(el).fill : null);
        const swatches: Record<string, string | null> = {};
        for (const p of ["pass", "observe", "warn", "block", "monitor"]) {
          swatches[p] = fill(document.querySelector(`.legend rect.p-${p}`));
        }
        const areas: Record<string, string | null> = {};
        for (const code of ["JP", "CN", "HK", "VE", "UA", "RU", "US", "UA-43"]) {
          areas[code] = fill(
            document.querySelector(`a[data-code="${code}"] path, a[data-code="${code}"] circle`),
          );
        }
        return { swatches, areas };
      });
    const explained = async (code: string, at?: string) => {
      const [country, region] = code.split("-");
      const q = new URLSearchParams({
        country: country as string,
        ...(region ? { region } : {}),
        ...(at ? { at } : {}),
      });
      return ((await (await admin(`/explain?${q}`)).json()) as { decision: string }).decision;
    };
    const now = await painted();
    for (const [code, fill] of Object.entries(now.areas)) {
      const decision = await explained(code);
      expect(fill, code).not.toBeNull();
      expect(fill, `${code} is ${decision}`).toBe(now.swatches[decision]);
    }
    expect(now.areas.HK).toBe(now.swatches.block);
    expect(now.areas.JP).toBe(now.swatches.pass);
    expect(now.areas.VE).toBe(now.swatches.warn);
    // Each carved-out subdivision has a mark of its own that the pointer can reach: hovering
    // one shows its details and nobody else's (Playwright refuses a hover another mark intercepts).
    for (const [code, name] of [
      ["UA-43", "Crimea"],
      ["UA-14", "Donetsk"],
      ["UA-09", "Luhansk"],
    ]) {
      await page.hover(`a[data-code="${code}"] circle`);
      const shown = await page.$$eval("a.mark", (marks) =>
        marks
          .filter((m) => getComputedStyle(m.querySelector(".info") as Element).display !== "none")
          .map((m) => m.getAttribute("data-code")),
      );
      expect(shown).toEqual([code]);
      expect(await page.textContent(`a[data-code="${code}"] title`)).toContain(
        `${code} (${name}, Ukraine): block`,
      );
    }
    const centres = await page.$$eval("a.mark circle", (cs) => cs.map((c) => c.getBoundingClientRect()));
    expect(new Set(centres.map((r) => `${Math.round(r.x)} ${Math.round(r.y)}`)).size).toBe(3);
    // The supported list is collapsed, and the date box is text in the UTC day's own format.
    expect(
      await page.evaluate(() => (document.querySelector("details.regions") as HTMLDetailsElement).open),
    ).toBe(false);
    expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeLessThan(1800);
    expect(await page.getAttribute("#at", "type")).toBe("text");
    expect(await page.inputValue("#at")).toBe(new Date().toISOString().slice(0, 10));
    await page.hover('a[data-code="CN"]');
    await shot("dashboard-map", page, false);

    // The day VE blocks, from the policy's own date links (no JavaScript involved).
    const veBlocks = v1.enforcement.regions.VE.blockFrom as string;
    await page.click(`.datenav a[href$="${encodeURIComponent(new Date(veBlocks).toISOString())}"]`);
    const later = await painted();
    for (const [code, fill] of Object.entries(later.areas)) {
      expect(fill, code).toBe(later.swatches[await explained(code, veBlocks)]);
    }
    expect(later.areas.VE).toBe(later.swatches.block);
    expect(await page.textContent("main")).toContain("VE Venezuela blocks");

    // The date form: a day in the future, by the date input and its submit button.
    await page.fill("#at", at(70).slice(0, 10));
    await page.click("form[action$='/map'] button");
    await page.waitForURL(/map\?at=/);
    const mm = await page.evaluate(
      () => getComputedStyle(document.querySelector('a[data-code="MM"] path') as Element).fill,
    );
    expect(mm).toBe((await painted()).swatches.block);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(dashboard("/map"));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.focus('a[data-code="HK"]');
    expect(await page.isVisible('a[data-code="HK"] .info')).toBe(true);
    await shot("dashboard-map-phone", page, false);
    await page.setViewportSize({ width: 1000, height: 800 });
  });

  it("charts the exposure the gate recorded and downloads the CSV", async () => {
    await page.click("nav >> text=Exposure");
    const blockedSince = readable(v2.enforcement.default.blockFrom);
    const { VE } = v2.enforcement.regions;
    const headings = await page.$$eval("main section h2", (hs) =>
      hs.map((h) => (h.textContent ?? "").replace(/\s+/g, " ")),
    );
    // CN has been blocked throughout: its keys were never accepted there, so its 13 requests
    // count under `unverified`, no customer of their own (SPEC section 6); VE's key passes.
    expect(headings).toContain(
      `CN China block blocked since ${blockedSince}: 0 customers, 13 requests (13 blocked)`,
    );
    expect(headings).toContain(
      `VE Venezuela warn warned since ${readable(VE.warnFrom)}, blocked from ${readable(VE.blockFrom)}: 1 customer, 5 requests (0 blocked)`,
    );
    const cn = page.locator('#exposure-map-title ~ a[data-code="CN"]');
    expect(await cn.getAttribute("class")).toBe("c p-block x5");
    expect(await cn.locator("title").textContent()).toBe(
      `CN China (blocked since ${blockedSince}): 13 requests, 0 customers (13 blocked)`,
    );
    // Colours follow phases: warned VE is painted like a warning, not like a block.
    const fills = await page.evaluate(() => {
      const fill = (sel: string) => getComputedStyle(document.querySelector(sel) as Element).fill;
      return {
        cn: fill('#exposure-map-title ~ a[data-code="CN"] path'),
        ru: fill('#exposure-map-title ~ a[data-code="RU"] path'),
        ve: fill('#exposure-map-title ~ a[data-code="VE"] path'),
        block: fill(".legend rect.p-block"),
        warn: fill(".legend rect.p-warn"),
      };
    });
    expect(fills.cn).toBe(fills.block);
    expect(fills.ve).toBe(fills.warn);
    expect(fills.ru).toBe(fills.warn); // RU warns in demo.2 (its block moved 45 days out)
    expect(fills.ve).not.toBe(fills.block);
    expect(await page.locator('#exposure-map-title ~ a[data-code="JP"]').getAttribute("class")).toBe(
      "c s-none",
    );
    // Each region's top networks, with their classes and requests (busiest first).
    const networks = await page.$$eval("caption:has-text('Top networks in CN') ~ tbody tr", (trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll("td"), (td) => td.textContent)),
    );
    expect(networks).toEqual([
      ["AS16509 Amazon.com, cloud", "7"],
      ["AS4134 Chinanet", "6"],
    ]);
    await page.hover('#exposure-map-title ~ a[data-code="CN"]');
    const chart = page.locator("svg[aria-labelledby='req-CN-title req-CN-desc']");
    expect(await chart.locator("rect").count()).toBe(1);
    expect(await chart.locator("desc").textContent()).toContain("highest 13 on");
    await shot("dashboard-exposure");

    const [download] = await Promise.all([page.waitForEvent("download"), page.click("text=Download CSV")]);
    const csv = readFileSync(await download.path(), "utf8");
    const q = new URL(page.url()).search || "";
    const today = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - 29 * DAY).toISOString().slice(0, 10);
    const api = await admin(`/exposure?format=csv&from=${from}&to=${today}${q}`);
    expect(csv).toBe(await api.text());
    // One row: the three keys' blocked requests together under `unverified`.
    expect(csv.split("\r\n").filter((l) => l.includes(",CN,"))).toEqual([
      expect.stringMatching(/,CN,unverified,,13,13,0,0,13,0,0,no,no,AS16509=7;AS4134=6$/),
    ]);
  });

  it("shows the exposure page at phone width", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(dashboard("/exposure?region=CN"));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot("dashboard-exposure-phone");
    await page.setViewportSize({ width: 1000, height: 800 });
  });

  it("rolls back a policy after a confirmation", async () => {
    await page.click("nav >> text=History");
    await page.click("text=diff from demo.1");
    expect(await page.textContent(".diff")).toContain("+ RU: enforcement added");
    await shot("dashboard-version");
    await page.click("nav >> text=History");
    await page.click("a[href='/__region-gate/dashboard/history/demo.1']");
    await page.click("text=Roll back to demo.1");
    expect(await page.textContent("h1")).toBe("Roll back to demo.1?");
    expect(await page.textContent(".diff")).toContain("- RU: enforcement removed");
    await shot("dashboard-rollback-confirm");
    expect(((await (await admin("/policy")).json()) as { version: string }).version).toBe("demo.2");
    await page.click("text=Yes, roll back to demo.1");
    await page.waitForURL(/history\?rolledBack=demo\.1$/);
    expect(await page.textContent("[role=status]")).toContain("demo.1 is the active policy");
    expect(await page.textContent("tbody tr")).toMatch(/demo\.1\s*rollback/);
    await shot("dashboard-history");
    expect(((await (await admin("/policy")).json()) as { version: string }).version).toBe("demo.1");
    const blocked = await gate.fetch("/v1/models", { cf: { country: "RU" } });
    expect(blocked.status).toBe(403);
  });

  it("signs out", async () => {
    await page.click("header >> text=Sign out");
    await page.waitForURL(dashboard("/signin"));
    expect(
      (await chromium.context.cookies()).find((c) => c.name === "__Secure-rg-dashboard"),
    ).toBeUndefined();
    await page.goto(dashboard());
    expect(new URL(page.url()).pathname).toBe("/__region-gate/dashboard/signin");
  });
});

describe("self-check page in Chromium", () => {
  it.each([
    ["CN", "BJ", "block", "self-check-cn"],
    ["JP", "13", "pass", "self-check-jp"],
  ])("tells a caller from %s where the gate thinks they are", async (country, regionCode, decision, name) => {
    const p = await chromium.context.newPage();
    // miniflare turns this dev-only header into request.cf, as Cloudflare's edge would set it.
    await p.setExtraHTTPHeaders({ "MF-CF-Blob": JSON.stringify({ country, regionCode }) });
    const res = await p.goto(`${gate.url}/__region-gate/check`);
    expect(res?.headers()["cache-control"]).toBe("no-store");
    expect(await p.textContent("dl")).toContain(`Country${country}Subdivision${country}-${regionCode}`);
    expect(await p.textContent(".tag")).toBe(decision);
    await p.setViewportSize({ width: 390, height: 700 });
    await shot(name, p);
    await p.close();
  });
});
