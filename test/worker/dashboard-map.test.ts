/**
 * The Map page inside workerd: each country's colour is `explain`'s decision (checked
 * for every country against the explain function and for a sample against the admin
 * endpoint), at now and at the policy's own future dates, with names, carve-outs and a
 * date control that works from the query string alone.
 */
import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/policy/compile";
import { explainCase } from "../../src/policy/explain";
import { livePolicy } from "../fixtures/policies";
import { adminFetch, page, signIn } from "./call";

const policy = livePolicy({ version: "map.1" });

async function pushed(): Promise<void> {
  const res = await adminFetch("/policy", { method: "PUT", body: policy });
  if (res.status !== 200) throw new Error(`push failed: ${res.status} ${await res.text()}`);
}

/** code → the class of its area on the map (`p-block`, …). */
function areaClasses(html: string): Map<string, string> {
  return new Map(
    [...html.matchAll(/<a href="#r-([A-Z0-9-]+)" class="c (?:mark )?p-([a-z]+)" data-code="\1">/g)].map(
      (m) => [m[1] as string, m[2] as string],
    ),
  );
}

describe("map page", () => {
  it("colours every country as explain decides, now and at a future date", async () => {
    await pushed();
    const cookie = await signIn();
    const compiled = compilePolicy(policy);
    const day = 86_400_000;
    for (const [query, at] of [
      ["", Date.now()],
      [`?at=${new Date(Date.now() + 25 * day).toISOString().slice(0, 10)}`, Date.now() + 25 * day],
    ] as const) {
      const { status, html } = await page(`/map${query}`, cookie);
      expect(status).toBe(200);
      const classes = areaClasses(html);
      expect(classes.size).toBeGreaterThan(200);
      const day0 = query === "" ? at : Date.parse(`${query.slice(4)}T00:00:00Z`);
      for (const [code, cls] of classes) {
        const [country, sub = null] = code.split("-");
        const e = explainCase(compiled, {
          country: country as string,
          regionCode: sub,
          at: day0,
          ip: null,
          fingerprint: null,
          path: null,
        });
        expect(cls, code).toBe(e.decision);
      }
    }
  });

  it("agrees with GET /__region-gate/explain for a sample, and marks carve-outs on their country", async () => {
    await pushed();
    const { html } = await page("/map", await signIn());
    const classes = areaClasses(html);
    for (const code of ["JP", "CN", "HK", "VE", "UA", "RU", "US", "BY", "UA-43"]) {
      const [country, region] = code.split("-");
      const q = new URLSearchParams({ country: country as string, ...(region ? { region } : {}) });
      const e = (await (await adminFetch(`/explain?${q}`)).json()) as { decision: string };
      expect(classes.get(code), code).toBe(e.decision);
    }
    expect(classes.get("UA")).toBe("pass");
    expect(classes.get("UA-43")).toBe("block");
    expect(html).toMatch(/<title>UA Ukraine: pass \(supported\) \(carved out: UA-43: block\)<\/title>/);
    expect(html).toMatch(
      /<title>HK Hong Kong[^<]*: block · warn from \d{4}-[^<]* · block from \d{4}-\d{2}-\d{2}/,
    );
    // Small countries are drawn with a dot even though 1:110m has no outline for them.
    expect(html).toMatch(/data-code="SG"><title>[^<]*<\/title><circle /);
    expect(html).toContain('<li id="r-CN"><code>CN</code> China');
  });

  it("links every date of the policy and shows the one asked for", async () => {
    await pushed();
    const cookie = await signIn();
    const { html } = await page("/map", cookie);
    const links = [...html.matchAll(/href="\/__region-gate\/dashboard\/map\?at=([^"]+)"/g)].map((m) =>
      decodeURIComponent(m[1] as string),
    );
    const ve = policy.enforcement?.regions?.VE?.blockFrom as string;
    expect(links).toContain(new Date(ve).toISOString());
    const atVe = await page(`/map?at=${encodeURIComponent(ve)}`, cookie);
    expect(areaClasses(atVe.html).get("VE")).toBe("block");
    const before = await page(
      `/map?at=${encodeURIComponent(new Date(Date.parse(ve) - 1000).toISOString())}`,
      cookie,
    );
    expect(areaClasses(before.html).get("VE")).toBe("warn");
    expect(atVe.html).toMatch(/<a href="[^"]+" aria-current="true">/);
  });

  it("colours by a path the gate judges when the first include prefix is excluded (issue 22)", async () => {
    const scoped = livePolicy({
      version: "map.scope",
      scope: { include: ["/v1/health", "/v1/"], exclude: ["/v1/health"] },
    });
    const res = await adminFetch("/policy", { method: "PUT", body: scoped });
    expect(res.status).toBe(200);
    const { html } = await page("/map", await signIn());
    const classes = areaClasses(html);
    expect(classes.get("CN")).toBe("block");
    expect(classes.get("JP")).toBe("pass");
  });

  it("explains a malformed date and shows the map now", async () => {
    await pushed();
    const res = await page("/map?at=2024-13-40", await signIn());
    expect(res.status).toBe(400);
    expect(res.html).toContain("is not a time; use a day");
    expect(areaClasses(res.html).get("CN")).toBe("block");
  });
});
