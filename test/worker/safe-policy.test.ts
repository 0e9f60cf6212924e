/**
 * SPEC section 2: "a document that validates must be safe to serve". For any document
 * the validator accepts, over hostile versions, error messages, docsUrls, scopes and
 * networks (classes, unsupported networks, their windows, networkMessage), the
 * real worker (admin PUT, KV, the gate's store, decide, the 403 and notice answers)
 * never answers 500. Before the rule, `"version": "a\nb"` was accepted and every request
 * then failed with `Invalid header value`.
 */
import { env } from "cloudflare:test";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { validatePolicy } from "../../src/policy/validate";
import { invalidatePolicy } from "../../src/store/store";
import { livePolicy } from "../fixtures/policies";
import { adminFetch, call } from "./call";

const CONTROLS = ["\n", "\r", "\t", "\u0000", "\u007f", "\u0085", " "];

/** Mostly plausible values, with control characters and spaces spliced in. */
const spliced = (base: fc.Arbitrary<string>) =>
  fc
    .tuple(base, fc.constantFrom(...CONTROLS), fc.nat())
    .map(([s, ctrl, at]) => s.slice(0, at % (s.length + 1)) + ctrl + s.slice(at % (s.length + 1)));

const visible = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 40,
});

const version = fc.oneof(
  { weight: 8, arbitrary: visible },
  { weight: 2, arbitrary: spliced(visible) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom("x".repeat(128), "x".repeat(129)) },
);

const message = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 80 }) },
  { weight: 2, arbitrary: spliced(fc.string({ minLength: 1, maxLength: 40 })) },
  { weight: 1, arbitrary: fc.constantFrom("m".repeat(500), "m".repeat(501), '"}<>\\') },
);

/** The URL parser's own form of a URL (what a careful author writes). */
const normalised = (url: string) => {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
};

const docsUrl = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .webUrl({ validSchemes: ["https"], withQueryParameters: true, withFragments: true })
      .map(normalised),
  },
  { weight: 1, arbitrary: fc.webUrl({ validSchemes: ["https"] }) },
  { weight: 2, arbitrary: spliced(fc.webUrl({ validSchemes: ["https"] })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "https://example.com",
      "https://example.com/a b",
      "https://example.com/a>; rel=x",
      "https://EXAMPLE.com/x",
      "http://example.com/x",
      "https://example.com/%0a",
      "https://example.com/ü",
    ),
  },
);

const prefix = fc.oneof(
  fc.constantFrom("/", "/v1", "/v1/", "/V1/", "/v2/", "/v1/health", "/%76%31/", "//v1/"),
  fc.string({ maxLength: 8 }).map((s) => `/${s}`),
);

const DAY = 86_400_000;
/** A network window around now: blocking, warning, observing or never blocking. */
const networkWindow = fc
  .tuple(fc.integer({ min: -20, max: 20 }), fc.integer({ min: 0, max: 30 }), fc.boolean())
  .map(([warnDays, span, never]) => ({
    warnFrom: new Date(Date.now() + warnDays * DAY).toISOString(),
    blockFrom: never ? null : new Date(Date.now() + (warnDays + span) * DAY).toISOString(),
  }));

/** Networks as an author writes them, now and then wrongly (an undefined class, AS0, an ASN in two classes). */
const networks = fc
  .constantFrom<Record<string, number[]>>(
    {},
    { cloud: [16509] },
    { cloud: [16509, 15169], vpn: [9009, 60068] },
  )
  .chain((classes) => {
    const refs = [...Object.keys(classes), "AS60068", "AS9009", "AS4294967295"];
    return fc.record({
      classes: fc.oneof(
        { weight: 9, arbitrary: fc.constant(classes) },
        fc.constant<Record<string, number[]>>({ ...classes, dup: [16509] }),
      ),
      unsupported: fc.oneof(
        { weight: 19, arbitrary: fc.subarray(refs) },
        fc.subarray([...refs, "tor-exits", "AS0"]),
      ),
      windows: fc.dictionary(fc.constantFrom(...refs), networkWindow, { maxKeys: 3 }),
    });
  });

const document = fc.record({
  version,
  mode: fc.constantFrom("enforce", "monitor"),
  error: fc.record(
    {
      message,
      networkMessage: fc.oneof({ weight: 4, arbitrary: fc.constant("Network not supported") }, message),
      docsUrl,
    },
    { requiredKeys: [] },
  ),
  networks,
  scope: fc.record(
    {
      include: fc.oneof(
        { weight: 6, arbitrary: fc.array(prefix, { minLength: 1, maxLength: 3 }) },
        fc.constant([]),
      ),
      exclude: fc.array(prefix, { maxLength: 2 }),
    },
    { requiredKeys: [] },
  ),
  identity: fc.record({
    headers: fc.constantFrom(
      [],
      ["openai-organization"],
      ["x-project", "openai-organization"],
      ["authorization"],
    ),
  }),
});

async function gateCall(path: string, country: string, asn?: number): Promise<Response> {
  const cf = asn === undefined ? { country } : { country, asn, asOrganization: "Example Networks" };
  return call(path, { cf, env: { EXPOSURE_LEDGER: "off" }, wait: true });
}

async function clearPolicyStore(): Promise<void> {
  for (;;) {
    const { keys } = await env.POLICY.list();
    if (keys.length === 0) return;
    await Promise.all(keys.map((k) => env.POLICY.delete(k.name)));
  }
}

afterEach(() => vi.restoreAllMocks());

describe("a policy that validates is safe to serve", () => {
  it("never answers 500 for pass, warn, block, observe, monitor or out_of_scope", async () => {
    // Each accepted document logs policy_pushed; those lines are expected, not output.
    vi.spyOn(console, "log").mockImplementation(() => {});
    const seen = new Set<string>();
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(document, async ({ networks: net, ...overrides }) => {
        const doc = livePolicy(overrides as unknown as Parameters<typeof livePolicy>[0]);
        doc.networks = { classes: net.classes, unsupported: net.unsupported };
        doc.enforcement = { ...doc.enforcement, networks: net.windows };
        if (!validatePolicy(JSON.parse(JSON.stringify(doc))).ok) return;
        accepted++;
        await clearPolicyStore();
        const put = await adminFetch("/policy", { method: "PUT", body: doc });
        expect(put.status, await put.clone().text()).toBe(200);
        const active = await adminFetch("/policy");
        expect(active.status).toBe(200);
        await active.arrayBuffer();

        // A lone `%` in a prefix would make a client path the origin fetch refuses (a path
        // question, not a policy one), so the request path escapes it.
        const first = (doc.scope?.include ?? ["/"])[0]!.replace(/%(?![0-9a-fA-F]{2})/g, "%25");
        const inScope = `${first}chat`;
        for (const [path, country, asn] of [
          [inScope, "CN"],
          [inScope, "VE"],
          [inScope, "BY"],
          [inScope, "JP"],
          [inScope, "JP", 60068],
          [inScope, "JP", 9009],
          [inScope, "VE", 16509],
          [inScope, "CN", 4294967295],
          ["/zz-elsewhere", "CN"],
        ] as const) {
          const res = await gateCall(path, country, asn);
          const body = await res.text();
          // 500 is what an unsafe policy causes (a header that cannot be set); 503 a policy
          // the store would not serve. Other statuses come from the origin or the client path.
          expect([500, 503], `${country} AS${asn} ${path}: ${body}`).not.toContain(res.status);
          if (
            res.status === 403 &&
            asn !== undefined &&
            res.headers.get("x-region-gate-region") === `AS${asn}`
          ) {
            seen.add("network block");
          }
          seen.add(res.headers.get("x-region-gate-decision") ?? (res.status === 200 ? "pass" : "?"));
        }
      }),
      { seed: 20240709, numRuns: 80, includeErrorInReport: true },
    );
    expect(accepted).toBeGreaterThan(15);
    // The property covered every kind of answer, not just passes.
    expect([...seen].sort()).toEqual(
      expect.arrayContaining(["block", "monitor", "network block", "observe", "pass", "warn"]),
    );
  }, 60_000);
});

describe("documents that are not safe to serve are refused on every way in", () => {
  const unsafe = () => ({
    ...livePolicy({ version: "2024-07-09\nrc1" }),
    error: { message: "no\u0000", docsUrl: "https://example.com/a\nb" },
    scope: { include: ["/"], exclude: ["/"] },
    identity: { headers: ["authorization"] },
  });

  it("PUT /policy answers 422 with every problem and its path, and stores nothing", async () => {
    await clearPolicyStore();
    const res = await adminFetch("/policy", { method: "PUT", body: unsafe() });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { errors: Array<{ path: string }> };
    expect(body.errors.map((e) => e.path).sort()).toEqual([
      "$.error.docsUrl",
      "$.error.message",
      "$.identity.headers[0]",
      "$.scope.include",
      "$.version",
    ]);
    expect(await env.POLICY.get("policy")).toBeNull();
  });

  it("an empty include is refused with its path", async () => {
    const res = await adminFetch("/policy/validate", {
      method: "POST",
      body: livePolicy({ scope: { include: [] } }),
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { errors: Array<{ path: string }> }).errors).toEqual([
      { path: "$.scope.include", message: expect.stringContaining("at least one") },
    ]);
  });

  it("the gate's store refuses one written to KV by hand and keeps serving the old policy", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "log").mockImplementation(() => {});
    await clearPolicyStore();
    expect(
      (await adminFetch("/policy", { method: "PUT", body: livePolicy({ version: "safe.1" }) })).status,
    ).toBe(200);
    expect((await gateCall("/v1/chat", "CN")).headers.get("x-region-gate-policy")).toBe("safe.1");
    await env.POLICY.put("policy", JSON.stringify(unsafe()));
    invalidatePolicy();
    const res = await gateCall("/v1/chat", "CN");
    expect(res.status).toBe(403);
    expect(res.headers.get("x-region-gate-policy")).toBe("safe.1");
    expect((await gateCall("/v1/chat", "JP")).status).toBe(200);
    expect(errors.mock.calls.flat().join("\n")).toContain("$.version");
  });
});
