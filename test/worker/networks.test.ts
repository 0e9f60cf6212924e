/**
 * Networks through the worker in workerd, one test per rule of SPEC sections 2-4 and 7:
 * the policy's network fields (validated by the admin API with their paths), the
 * two-sided decision on `request.cf.asn`, the 403 `unsupported_network`, the warn
 * headers (`Sunset` and `Deprecation`), exemptions by asn, monitor mode, and `explain`.
 */
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { exposureStats } from "../../src/gate/recorder";
import type { PolicyDocument } from "../../src/policy/schema";
import { invalidatePolicy } from "../../src/store/store";
import { livePolicy } from "../fixtures/policies";
import { adminFetch, type Call, call, type EdgeFacts, json, page, signIn } from "./call";
import { exposure, send, settleAndFlush } from "./ledger-helpers";

// biome-ignore lint/suspicious/noExplicitAny: the mutations reach into loose JSON, as a policy author would
type Json = any;

const DAY = 86_400_000;
const at = (offsetDays: number) => new Date(Date.now() + offsetDays * DAY).toISOString();

/**
 * livePolicy (CN blocked, VE warning, BY observed) plus networks: the vpn class warning,
 * AS60068 blocked, AS64501 observed; the cloud class only labels traffic.
 */
function netPolicy(overrides: Partial<PolicyDocument> = {}): PolicyDocument {
  const base = livePolicy();
  return {
    ...base,
    enforcement: {
      ...base.enforcement,
      networks: {
        vpn: { warnFrom: at(-2), blockFrom: at(40) },
        AS60068: { blockFrom: at(-5) },
        AS64501: { warnFrom: at(10), blockFrom: at(20) },
      },
    },
    networks: {
      classes: { cloud: [16509, 15169, 8075, 13335], vpn: [9009, 212238] },
      unsupported: ["vpn", "AS60068", "AS64501"],
    },
    exemptions: [
      { asn: 64500, note: "partner egress" },
      { cidr: "203.0.113.0/24", note: "probes" },
    ],
    error: {
      message: "Country, region, or territory not supported",
      networkMessage: "Traffic from this network is not supported",
      docsUrl: "https://example.com/supported-countries",
    },
    ...overrides,
  };
}

async function usePolicy(doc: PolicyDocument): Promise<void> {
  await env.POLICY.put("policy", JSON.stringify(doc));
  invalidatePolicy();
}

const gate = (cf: EdgeFacts, init: Call = {}, path = "/v1/models") => call(path, { ...init, cf });
/** What the echo origin saw, from its JSON answer. */
const seenBy = async (res: Response) => ((await res.json()) as { headers: Record<string, string> }).headers;

const NETWORK_BODY =
  '{"error":{"message":"Traffic from this network is not supported","type":"request_forbidden","param":null,"code":"unsupported_network"}}';
const REGION_BODY =
  '{"error":{"message":"Country, region, or territory not supported","type":"request_forbidden","param":null,"code":"unsupported_country_region_territory"}}';

describe("the network side of the decision", () => {
  const policy = netPolicy();
  beforeEach(() => usePolicy(policy));

  it("blocks a supported region through an unsupported network: 403 unsupported_network with networkMessage", async () => {
    const res = await gate(
      { country: "JP", asn: 60068, asOrganization: "Example VPN Host" },
      { method: "POST", body: "{}" },
    );
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-region-gate-decision")).toBe("block");
    expect(res.headers.get("x-region-gate-region")).toBe("AS60068");
    expect(res.headers.get("x-region-gate-policy")).toBe("live.1");
    expect(res.headers.get("link")).toBe('<https://example.com/supported-countries>; rel="help"');
    expect(await res.text()).toBe(NETWORK_BODY);
  });

  it("uses the default networkMessage when the policy sets none", async () => {
    await usePolicy(netPolicy({ error: { docsUrl: "https://example.com/supported-countries" } }));
    const res = await gate({ country: "JP", asn: 60068 });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string; code: string } }).error).toEqual({
      message: "Network not supported",
      type: "request_forbidden",
      param: null,
      code: "unsupported_network",
    });
  });

  it("warns through a class in its warn window: origin's answer with Sunset, Deprecation and Link; the origin sees AS<number>", async () => {
    const res = await gate({ country: "DE", asn: 9009 });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-region-gate-decision")).toBe("warn");
    const w = policy.enforcement!.networks!.vpn!;
    expect(res.headers.get("sunset")).toBe(new Date(w.blockFrom!).toUTCString());
    expect(res.headers.get("deprecation")).toBe(`@${Math.floor(Date.parse(w.warnFrom!) / 1000)}`);
    expect(res.headers.get("deprecation")).toMatch(/^@\d+$/);
    expect(res.headers.get("link")).toBe('<https://example.com/supported-countries>; rel="sunset"');
    expect(await seenBy(res)).toMatchObject({
      "x-region-gate-decision": "warn",
      "x-region-gate-country": "DE",
      "x-region-gate-region": "AS9009",
    });
  });

  it("observes a network before its warnFrom: decision header only", async () => {
    const res = await gate({ country: "DE", asn: 64501 });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-region-gate-decision")).toBe("observe");
    expect(res.headers.get("sunset")).toBeNull();
    expect(res.headers.get("deprecation")).toBeNull();
  });

  it("passes a network that a class only labels, a request without an asn, and a malformed asn, unchanged", async () => {
    for (const cf of [
      { country: "JP", asn: 16509, asOrganization: "Amazon.com" },
      { country: "JP" },
      { country: "JP", asn: 0 },
      { country: "JP", asn: "60068" as unknown as number },
    ]) {
      const res = await gate(cf);
      expect(res.status, JSON.stringify(cf)).toBe(200);
      expect(res.headers.get("x-region-gate-decision")).toBeNull();
    }
  });

  it("takes the network only from request.cf: client headers change nothing", async () => {
    const res = await gate(
      { country: "JP", asn: 16509 },
      { headers: { "x-region-gate-asn": "60068", "cf-asn": "60068", "x-asn": "60068" } },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("x-region-gate-decision")).toBeNull();
  });

  it("gives the stricter side: a region block beats a network warn (the region's 403)", async () => {
    const res = await gate({ country: "CN", asn: 9009 });
    expect(res.status).toBe(403);
    expect(res.headers.get("x-region-gate-region")).toBe("CN");
    expect(await res.text()).toBe(REGION_BODY);
  });

  it("gives the stricter side: a network block beats a region warn (the network's 403)", async () => {
    const res = await gate({ country: "VE", asn: 60068 });
    expect(res.status).toBe(403);
    expect(res.headers.get("x-region-gate-region")).toBe("AS60068");
    expect(await res.text()).toBe(NETWORK_BODY);
  });

  it("lets the region decide a tie: both warn → the region's code and the region's dates", async () => {
    const res = await gate({ country: "VE", asn: 9009 });
    expect(res.headers.get("x-region-gate-decision")).toBe("warn");
    const ve = policy.enforcement!.regions!.VE!;
    expect(res.headers.get("sunset")).toBe(new Date(ve.blockFrom!).toUTCString());
    expect(res.headers.get("deprecation")).toBe(`@${Math.floor(Date.parse(ve.warnFrom!) / 1000)}`);
    expect((await seenBy(res))["x-region-gate-region"]).toBe("VE");
  });

  it("lets a network warn beat a region observe", async () => {
    const res = await gate({ country: "BY", asn: 9009 });
    expect(res.headers.get("x-region-gate-decision")).toBe("warn");
    expect((await seenBy(res))["x-region-gate-region"]).toBe("AS9009");
  });

  it("judges unknown-country traffic through an unsupported network", async () => {
    const res = await gate({ asn: 60068 });
    expect(res.status).toBe(403);
    expect(res.headers.get("x-region-gate-region")).toBe("AS60068");
  });

  it("exempts by asn on the region side, and by CIDR on the network side", async () => {
    const byAsn = await gate({ country: "CN", asn: 64500 });
    expect(byAsn.status).toBe(200);
    expect(byAsn.headers.get("x-region-gate-decision")).toBe("exempt");
    const byCidr = await gate(
      { country: "JP", asn: 60068 },
      { headers: { "cf-connecting-ip": "203.0.113.9" } },
    );
    expect(byCidr.status).toBe(200);
    expect(byCidr.headers.get("x-region-gate-decision")).toBe("exempt");
    expect((await seenBy(byCidr))["x-region-gate-region"]).toBe("AS60068");
  });

  it("exempts by asn only until its until", async () => {
    await usePolicy(netPolicy({ exemptions: [{ asn: 64500, until: at(-1) }] }));
    expect((await gate({ country: "CN", asn: 64500 })).status).toBe(403);
  });

  it("marks a network block monitor in monitor mode: it passes", async () => {
    await usePolicy(netPolicy({ mode: "monitor" }));
    const res = await gate({ country: "JP", asn: 60068 });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-region-gate-decision")).toBe("monitor");
    expect((await seenBy(res))["x-region-gate-region"]).toBe("AS60068");
  });

  it("takes a network's most specific entry: its AS<number>, then its class, then the default", async () => {
    const doc = netPolicy();
    doc.networks!.unsupported!.push("AS16509");
    doc.enforcement!.networks!.AS212238 = { blockFrom: at(-1) };
    await usePolicy(doc);
    // AS212238 is in vpn (warning) but has its own entry: blocked.
    expect((await gate({ country: "JP", asn: 212238 })).status).toBe(403);
    // AS9009, the other vpn member, keeps the class's warn.
    expect((await gate({ country: "JP", asn: 9009 })).headers.get("x-region-gate-decision")).toBe("warn");
    // AS16509 (cloud, no entry of its own or of its class): the default window, which blocks.
    const cloud = await gate({ country: "JP", asn: 16509 });
    expect(cloud.status).toBe(403);
    expect(cloud.headers.get("x-region-gate-region")).toBe("AS16509");
  });

  it("blocks unsupported networks now when the policy has no enforcement section", async () => {
    await usePolicy(netPolicy({ enforcement: undefined }));
    const res = await gate({ country: "JP", asn: 9009 });
    expect(res.status).toBe(403);
    expect(await res.text()).toBe(NETWORK_BODY);
  });

  it("puts Deprecation on a region's warn too, and none without a warnFrom", async () => {
    const res = await gate({ country: "VE" });
    const ve = policy.enforcement!.regions!.VE!;
    expect(res.headers.get("deprecation")).toBe(`@${Math.floor(Date.parse(ve.warnFrom!) / 1000)}`);
    expect(res.headers.get("sunset")).toBe(new Date(ve.blockFrom!).toUTCString());
    const pass = await gate({ country: "JP" });
    expect(pass.headers.get("deprecation")).toBeNull();
  });
});

describe("validating networks through PUT /policy", () => {
  const put = async (doc: unknown) => {
    const res = await adminFetch("/policy", { method: "PUT", body: doc });
    return { status: res.status, body: await json(res) };
  };
  const mutated = (mutate: (p: Json) => void) => {
    const doc = structuredClone(netPolicy({ version: "net.invalid" }));
    mutate(doc);
    return doc;
  };

  it.each<[string, (p: Json) => void, string]>([
    [
      "an undefined class in unsupported",
      (p) => p.networks.unsupported.push("hosting"),
      "$.networks.unsupported[3]",
    ],
    ["an ASN in two classes", (p) => p.networks.classes.vpn.push(16509), "$.networks.classes.vpn[2]"],
    ["an out-of-range ASN", (p) => p.networks.classes.cloud.push(4294967296), "$.networks.classes.cloud[4]"],
    ["an out-of-range AS code", (p) => p.networks.unsupported.push("AS0"), "$.networks.unsupported[3]"],
    ["a bad class name", (p) => (p.networks.classes.VPN = [1]), "$.networks.classes.VPN"],
    [
      "an unknown enforcement.networks key",
      (p) => (p.enforcement.networks.hosting = { blockFrom: null }),
      "$.enforcement.networks.hosting",
    ],
    ["an out-of-range asn exemption", (p) => (p.exemptions[0].asn = -1), "$.exemptions[0].asn"],
    [
      "a networkMessage with a control character",
      (p) => (p.error.networkMessage = "no\u0000"),
      "$.error.networkMessage",
    ],
  ])("refuses %s: 422 with its path, the active policy unchanged", async (_name, mutate, path) => {
    await usePolicy(netPolicy());
    const { status, body } = await put(mutated(mutate));
    expect(status).toBe(422);
    expect((body.errors as { path: string }[]).map((e) => e.path)).toEqual([path]);
    expect(JSON.parse((await env.POLICY.get("policy"))!).version).toBe("live.1");
  });

  it("accepts the networks of the SPEC and judges by them at once", async () => {
    await usePolicy(livePolicy());
    expect((await gate({ country: "JP", asn: 60068 })).status).toBe(200);
    const { status } = await put(netPolicy({ version: "net.2" }));
    expect(status).toBe(200);
    invalidatePolicy();
    expect((await gate({ country: "JP", asn: 60068 })).status).toBe(403);
  });
});

describe("GET /explain?asn=", () => {
  beforeEach(() => usePolicy(netPolicy()));
  const explain = async (query: string) => {
    const res = await adminFetch(`/explain?${query}`);
    return { status: res.status, body: await json(res) };
  };

  it("names the class of a network that only labels traffic", async () => {
    const { status, body } = await explain("country=JP&asn=16509");
    expect(status).toBe(200);
    expect(body).toMatchObject({
      decision: "pass",
      case: { asn: 16509 },
      network: { code: "AS16509", class: "cloud", unsupported: false },
    });
  });

  it("gives the network's decision, code, class and window when the network decides", async () => {
    const { body } = await explain("country=JP&asn=AS212238");
    expect(body).toMatchObject({
      decision: "warn",
      region: "AS212238",
      network: { code: "AS212238", class: "vpn", unsupported: true },
      window: { source: "enforcement.networks.vpn" },
      rule: expect.stringMatching(/^AS212238 \(class vpn\): enforcement\.networks\.vpn\.warnFrom=/),
    });
    const later = await explain(`country=JP&asn=9009&at=${at(41).slice(0, 10)}`);
    expect(later.body).toMatchObject({
      decision: "block",
      outcome: expect.stringContaining("unsupported_network"),
    });
  });

  it("refuses an asn that is not one, naming the parameter", async () => {
    const { status, body } = await explain("country=JP&asn=4294967296");
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: "invalid_explain_query", param: "asn" });
  });
});

describe("the dashboard's policy pages show networks", () => {
  beforeEach(() => usePolicy(netPolicy()));
  /** A table row's cells without their data-label attributes. */
  const rowOf = (html: string, first: string) =>
    (html.split("<tr>").find((r) => r.includes(first)) ?? "").replace(/ data-label="[^"]*"/g, "");

  it("Timeline lists every unsupported network with its phase, dates and the entry they come from", async () => {
    const { status, html } = await page("/timeline", await signIn());
    expect(status).toBe(200);
    expect(html).toContain('<h2 id="networks">Unsupported networks</h2>');
    expect(rowOf(html, "<code>vpn</code>")).toMatch(
      /\(class, 2 networks\).*<span class="tag warn">warn<\/span>.*blocks in 40 days.*<code>enforcement\.networks\.vpn<\/code>/,
    );
    expect(rowOf(html, "<code>AS60068</code>")).toMatch(
      /\(no class\).*<span class="tag block">block<\/span>.*blocking since \d{4}-.*enforcement\.networks\.AS60068/,
    );
    expect(rowOf(html, "<code>AS64501</code>")).toMatch(
      /<span class="tag observe">observe<\/span>.*blocks in 20 days/,
    );
  });

  it("Timeline lists the classes, which of them are judged, and their networks", async () => {
    const { html } = await page("/timeline", await signIn());
    expect(rowOf(html, "<code>cloud</code>")).toMatch(
      /label only.*4: <code>AS16509 AS15169 AS8075 AS13335<\/code>/,
    );
    expect(rowOf(html.slice(html.indexOf('id="classes"')), "<code>vpn</code>")).toMatch(
      /unsupported.*2: <code>AS9009 AS212238<\/code>/,
    );
  });

  it("Overview counts the classes and the unsupported networks, linking to the Timeline's list", async () => {
    const { html } = await page("", await signIn());
    expect(html).toMatch(
      /<a href="\/__region-gate\/dashboard\/timeline#networks">2 network classes, 4 unsupported networks<\/a>/,
    );
  });
});

describe("the exposure ledger counts what the network side decided", () => {
  // An ASN no other test here sends, so this test's rows are its own.
  beforeEach(() =>
    usePolicy(
      netPolicy({
        networks: {
          classes: { cloud: [16509], vpn: [9009, 212238, 399999] },
          unsupported: ["vpn", "AS60068"],
        },
      }),
    ),
  );

  it("under the code that matched, AS<number>, with the network's name and class", async () => {
    const since = exposureStats().recordedEvents;
    // JP through AS399999 (vpn, warning): 2 events under AS399999; CN through it: the region decides.
    expect(await send("JP", {}, { asn: 399999, asOrganization: "Example VPN Host" })).toBe(200);
    expect(await send("JP", {}, { asn: 399999, asOrganization: "Example VPN Host" })).toBe(200);
    expect(await send("CN", {}, { asn: 399999, asOrganization: "Example VPN Host" })).toBe(403);
    await settleAndFlush(since, 3);
    const res = await exposure("region=AS399999");
    expect(res.status).toBe(200);
    const rows = ((await res.json()) as { rows: Record<string, unknown>[] }).rows;
    expect(rows).toEqual([
      expect.objectContaining({
        region: "AS399999",
        fingerprint: "anonymous",
        decisions: expect.objectContaining({ warn: 2, block: 0 }),
        requests: 2,
        networks: [{ network: "AS399999", name: "Example VPN Host", class: "vpn", requests: 2 }],
      }),
    ]);
    const cn = ((await (await exposure("region=CN")).json()) as { rows: Record<string, unknown>[] }).rows;
    expect(cn.some((r) => (r.networks as { network: string }[]).some((n) => n.network === "AS399999"))).toBe(
      true,
    );
  });

  it("shows each region's top networks on the dashboard's exposure page, with class and requests, escaped", async () => {
    const since = exposureStats().recordedEvents;
    const key = { authorization: "Bearer sk-netdash-customer-1" };
    // BY is observed: the requests reach the origin, which accepts the key, so they are verified.
    for (let i = 0; i < 3; i++)
      expect(await send("BY", key, { asn: 16509, asOrganization: "Amazon.com" })).toBe(200);
    expect(await send("BY", key, { asn: 399997, asOrganization: "<img src=x onerror=alert(1)>" })).toBe(200);
    await settleAndFlush(since, 4);
    const { status, html } = await page("/exposure?region=BY", await signIn());
    expect(status).toBe(200);
    const table = html.slice(html.indexOf("Top networks in BY"));
    expect(table).toMatch(/<td>AS16509 Amazon\.com, cloud<\/td>\s*<td class="num">3<\/td>/);
    // A network's name is client-reachable text (asOrganization): escaped, never markup.
    expect(table).toMatch(
      /<td>AS399997 &lt;img src=x onerror=alert\(1\)&gt;<\/td>\s*<td class="num">1<\/td>/,
    );
    expect(html).not.toContain("<img src=x");
  });
});
