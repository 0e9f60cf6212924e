/**
 * fast-check generators shared by test/unit/fuzz.test.ts (fixed seed, CI) and
 * bench/fuzz.mjs (long runs): valid policies, mutated policies, hostile request facts,
 * and an oracle for the core rows of SPEC section 3 written from the document, not
 * from the compiled policy, so it checks `compilePolicy` + `decide` together.
 */
import fc from "fast-check";
import type { RequestFacts } from "../../src/policy/decision";
import { ISO_3166_1, ISO_3166_2 } from "../../src/policy/iso-codes";
import type { PolicyDocument } from "../../src/policy/schema";

export const COUNTRIES: readonly string[] = [...ISO_3166_1.split(","), "XK"];
const SUBDIVISIONS = new Map<string, string[]>();
for (const group of ISO_3166_2.split(";")) {
  const [cc, subs] = group.split(":") as [string, string];
  SUBDIVISIONS.set(cc, subs.split(","));
}

/** Region codes of a country (`43` for `UA-43`), empty when ISO lists none. */
export const subdivisionsOf = (cc: string): readonly string[] => SUBDIVISIONS.get(cc) ?? [];

const MIN_MS = Date.UTC(2000, 0, 1);
const MAX_MS = Date.UTC(2040, 0, 1);

/** An instant in 2000..2040. */
export const instantMs = fc.integer({ min: MIN_MS, max: MAX_MS });

/** RFC 3339 text for `ms`, in UTC or with a quarter-hour offset (same instant). */
function rfc3339(ms: number, offsetQuarters: number): string {
  if (offsetQuarters === 0) return new Date(ms).toISOString();
  const offMin = offsetQuarters * 15;
  const local = new Date(ms + offMin * 60_000).toISOString().slice(0, 19);
  const sign = offMin < 0 ? "-" : "+";
  const abs = Math.abs(offMin);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

const timestamp = fc
  .tuple(instantMs, fc.integer({ min: -48, max: 56 }), fc.boolean())
  .map(([ms, q, utc]) => rfc3339(ms, utc ? 0 : q));

/** A window with warnFrom <= blockFrom, either possibly null or absent. */
const windowArb = fc
  .tuple(fc.option(timestamp, { nil: null }), fc.option(timestamp, { nil: null }), fc.boolean())
  .map(([a, b, omitWarn]) => {
    let warnFrom = a;
    let blockFrom = b;
    if (warnFrom !== null && blockFrom !== null && Date.parse(warnFrom) > Date.parse(blockFrom)) {
      [warnFrom, blockFrom] = [blockFrom, warnFrom];
    }
    return omitWarn && warnFrom === null ? { blockFrom } : { warnFrom, blockFrom };
  });

/** ASNs the generated classes and facts draw from (both ends of the range included). */
export const ASN_POOL: readonly number[] = [1, 9009, 13335, 15169, 16509, 60068, 64500, 212238, 4294967295];

type Window = { warnFrom?: string | null; blockFrom: string | null };

/**
 * Valid networks: ASN_POOL split among up to three classes (each ASN in one class at
 * most), some classes and single networks unsupported, windows for some of them.
 */
const networksArb = fc
  .record({
    classOf: fc.array(fc.integer({ min: -1, max: 2 }), {
      minLength: ASN_POOL.length,
      maxLength: ASN_POOL.length,
    }),
    unsupportedClasses: fc.subarray(["cloud", "vpn", "a-1"]),
    unsupportedAsns: fc.subarray([...ASN_POOL]),
    windows: fc.array(fc.tuple(fc.nat(), windowArb), { maxLength: 4 }),
  })
  .map((r) => {
    const names = ["cloud", "vpn", "a-1"];
    const classes: Record<string, number[]> = {};
    ASN_POOL.forEach((asn, i) => {
      const c = r.classOf[i]!;
      if (c < 0) return;
      classes[names[c]!] = [...(classes[names[c]!] ?? []), asn];
    });
    const defined = Object.keys(classes);
    const unsupported = [
      ...r.unsupportedClasses.filter((c) => defined.includes(c)),
      ...r.unsupportedAsns.map((n) => `AS${n}`),
    ];
    const keys = [...defined, ...ASN_POOL.map((n) => `AS${n}`)];
    const windows: Record<string, Window> = {};
    for (const [n, w] of r.windows) windows[keys[n % keys.length]!] = w;
    return { classes, unsupported, windows };
  });

export interface PolicyShape {
  /** Scope `/` only, no exemptions, mode enforce: every in-scope request is judged. */
  plain?: boolean;
}

/** A policy that `validatePolicy` must accept. */
export function validPolicy(shape: PolicyShape = {}): fc.Arbitrary<PolicyDocument> {
  return fc
    .record({
      supported: fc.subarray([...COUNTRIES]),
      carvePick: fc.array(fc.nat(), { maxLength: 6 }),
      regionPick: fc.array(fc.tuple(fc.nat(), windowArb), { maxLength: 12 }),
      default: fc.option(windowArb, { nil: undefined }),
      withEnforcement: fc.boolean(),
      mode: fc.constantFrom("enforce", "monitor") as fc.Arbitrary<"enforce" | "monitor">,
      unknownCountry: fc.constantFrom("allow", "block") as fc.Arbitrary<"allow" | "block">,
      tor: fc.constantFrom("allow", "block") as fc.Arbitrary<"allow" | "block">,
      // SPEC section 2: 1-128 visible ASCII characters.
      version: fc.string({
        unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
        minLength: 1,
        maxLength: 40,
      }),
      include: fc.uniqueArray(fc.constantFrom("/", "/v1/", "/v2/", "/V1/Chat", "/a%2Fb/"), { maxLength: 3 }),
      exclude: fc.uniqueArray(fc.constantFrom("/v1/health", "/status", "/v1/files/"), { maxLength: 2 }),
      cidrs: fc.uniqueArray(fc.constantFrom("198.51.100.0/24", "2001:db8::/32", "10.0.0.0/8"), {
        maxLength: 2,
      }),
      keys: fc.uniqueArray(fc.stringMatching(/^[0-9a-f]{16}$/), { maxLength: 2 }),
      until: fc.option(timestamp, { nil: undefined }),
      networks: fc.option(networksArb, { nil: undefined }),
      asnExemptions: fc.subarray([64500, 1]),
      networkMessage: fc.option(fc.constantFrom("Network not supported", "No VPNs, please"), {
        nil: undefined,
      }),
    })
    .map((r): PolicyDocument => {
      const supported = new Set(r.supported);
      const withSubs = r.supported.filter((cc) => subdivisionsOf(cc).length > 0);
      const carved = new Set<string>();
      if (withSubs.length > 0) {
        for (const n of r.carvePick) {
          const cc = withSubs[n % withSubs.length]!;
          const subs = subdivisionsOf(cc);
          carved.add(`${cc}-${subs[(n >> 3) % subs.length]}`);
        }
      }
      const unsupported = COUNTRIES.filter((cc) => !supported.has(cc));
      const targets = [...unsupported, ...carved];
      const regions: Record<string, { warnFrom?: string | null; blockFrom: string | null }> = {};
      if (targets.length > 0) {
        for (const [n, w] of r.regionPick) regions[targets[n % targets.length]!] = w;
      }
      const doc: PolicyDocument = {
        schema: 1,
        version: r.version,
        supported: r.supported,
        unsupportedSubdivisions: [...carved],
        mode: shape.plain ? "enforce" : r.mode,
        unknownCountry: r.unknownCountry,
        tor: r.tor,
      };
      if (r.withEnforcement || shape.plain) {
        doc.enforcement = { regions };
        if (r.default) doc.enforcement.default = r.default;
      }
      if (r.networks) {
        doc.networks = { classes: r.networks.classes, unsupported: r.networks.unsupported };
        if (doc.enforcement) doc.enforcement.networks = r.networks.windows;
      }
      if (!shape.plain) {
        // An empty include would judge nothing (invalid): leave it out, meaning ["/"].
        if (r.include.length > 0 || r.exclude.length > 0)
          doc.scope =
            r.include.length > 0 ? { include: r.include, exclude: r.exclude } : { exclude: r.exclude };
        doc.exemptions = [
          ...r.cidrs.map((cidr) => (r.until ? { cidr, until: r.until } : { cidr })),
          ...r.keys.map((apiKeyFingerprint) => ({ apiKeyFingerprint, note: "fuzz" })),
          ...r.asnExemptions.map((asn) => ({ asn })),
        ];
        if (r.networkMessage) doc.error = { networkMessage: r.networkMessage };
      }
      return doc;
    });
}

/** A valid policy with one field replaced by arbitrary JSON (often, not always, invalid). */
export const mutatedPolicy: fc.Arbitrary<unknown> = fc
  .tuple(
    validPolicy(),
    fc.constantFrom(
      "schema",
      "version",
      "supported",
      "unsupportedSubdivisions",
      "enforcement",
      "mode",
      "scope",
      "exemptions",
      "networks",
      "identity",
      "error",
      "__proto__",
      "constructor",
    ),
    fc.jsonValue({ maxDepth: 4 }),
  )
  .map(([doc, key, value]) => {
    const out: Record<string, unknown> = { ...doc };
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    return out;
  });

/** Request facts a hostile client or a broken edge could produce. */
export const anyFacts: fc.Arbitrary<RequestFacts> = fc.record(
  {
    path: fc.oneof(
      fc.string({ unit: "binary", maxLength: 80 }),
      fc
        .array(
          fc.constantFrom("v1", "V1", "..", ".", "", "%2e%2e", "%2F", "%ff", ";x", "\\", "%25", "health"),
          {
            maxLength: 12,
          },
        )
        .map((segs) => `/${segs.join("/")}`),
    ),
    country: fc.option(fc.oneof(fc.constantFrom(...COUNTRIES, "XX", "T1", "cn", "ＣＮ"), fc.string()), {
      nil: null,
    }),
    regionCode: fc.option(fc.oneof(fc.constantFrom("43", "14", "30"), fc.string()), { nil: null }),
    ip: fc.option(
      fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom("198.51.100.7", "::ffff:198.51.100.7"), fc.string()),
      { nil: null },
    ),
    fingerprint: fc.option(fc.oneof(fc.stringMatching(/^[0-9a-f]{16}$/), fc.string()), { nil: null }),
    // factsOf() passes only integers 1..2^32-1; decide() must not care what else arrives.
    asn: fc.option(fc.oneof(fc.constantFrom(...ASN_POOL), fc.integer(), fc.double(), fc.constant(2 ** 40)), {
      nil: null,
    }),
  },
  { requiredKeys: ["path"] },
);

type Phase = "pass" | "observe" | "warn" | "block";

function phaseOf(window: Window, now: number): Exclude<Phase, "pass"> {
  const at = (t: string | null | undefined) => (t == null ? null : Date.parse(t));
  const blockFrom = at(window.blockFrom);
  const warnFrom = at(window.warnFrom);
  if (blockFrom !== null && now >= blockFrom) return "block";
  if (warnFrom !== null && now >= warnFrom) return "warn";
  return "observe";
}

/**
 * The network side of SPEC section 3, from the document: `pass` unless `asn` is listed in
 * `networks.unsupported` directly or through its class, else its phase by its `AS<number>`
 * entry, its class's, or the default (no enforcement: block now).
 */
export function expectedNetworkSide(doc: PolicyDocument, asn: number, now: number): Phase {
  const classes = doc.networks?.classes ?? {};
  const cls = Object.keys(classes).find((name) => classes[name]!.includes(asn));
  const listed = (doc.networks?.unsupported ?? []).some((ref) => ref === `AS${asn}` || ref === cls);
  if (!listed) return "pass";
  const entries = doc.enforcement?.networks ?? {};
  const window = entries[`AS${asn}`] ??
    (cls === undefined ? undefined : entries[cls]) ??
    doc.enforcement?.default ?? { warnFrom: null, blockFrom: "1970-01-01T00:00:00Z" };
  return phaseOf(window, now);
}

/**
 * What SPEC section 3 says for an in-scope request from `country`/`regionCode` in a
 * policy generated with `{ plain: true }` (enforce mode, scope `/`, no exemptions).
 */
export function expectedDecision(
  doc: PolicyDocument,
  country: string,
  regionCode: string | null,
  now: number,
): { decision: "pass" | "observe" | "warn" | "block"; region: string } {
  const sub = regionCode === null ? null : `${country}-${regionCode}`;
  const carved = sub !== null && (doc.unsupportedSubdivisions ?? []).includes(sub);
  if (doc.supported.includes(country) && !carved) return { decision: "pass", region: sub ?? country };
  const regions = doc.enforcement?.regions ?? {};
  const subWindow = sub === null ? undefined : regions[sub];
  const window = subWindow ??
    regions[country] ??
    doc.enforcement?.default ?? { warnFrom: null, blockFrom: "1970-01-01T00:00:00Z" };
  const region = subWindow ? sub! : carved ? sub! : country;
  const at = (t: string | null | undefined) => (t == null ? null : Date.parse(t));
  const blockFrom = at(window.blockFrom);
  const warnFrom = at(window.warnFrom);
  if (blockFrom !== null && now >= blockFrom) return { decision: "block", region };
  if (warnFrom !== null && now >= warnFrom) return { decision: "warn", region };
  return { decision: "observe", region };
}

/**
 * Header names an operator might put in `identity.headers`: customer names, credentials,
 * and random token characters, often built from fragments that contain (or nearly
 * contain) the words SPEC section 2 refuses (`auth`, `key`, `token`, ...).
 */
export const identityHeaderName: fc.Arbitrary<string> = fc.oneof(
  fc
    .array(
      fc.constantFrom(
        "x-",
        "openai-",
        "organization",
        "project",
        "tenant",
        "org",
        "auth",
        "au",
        "th",
        "api-",
        "key",
        "ke",
        "y",
        "token",
        "tok",
        "en",
        "secret",
        "session",
        "sess",
        "password",
        "pass",
        "cookie",
        "signature",
        "sign",
        "-id",
        "sec-websocket-protocol",
        "cf-access-jwt-assertion",
        "authorization",
        "forwarded",
        "x-forwarded-for",
        "cf-connecting-ip",
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((parts) => parts.join("")),
  fc.stringMatching(/^[a-z0-9-]{1,24}$/),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/),
);

/** Path segments where a longer name shares a prefix with a shorter one (`health`, `healthz`). */
const SCOPE_SEGMENTS = ["v1", "v10", "health", "healthz", "health-records", "chat", "chatty", "x"] as const;
const segmentPath = fc.array(fc.constantFrom(...SCOPE_SEGMENTS), { minLength: 1, maxLength: 3 });

/** A scope prefix: segments, with or without a trailing `/` (or `/` alone). */
export const scopePrefix: fc.Arbitrary<string> = fc.oneof(
  { weight: 1, arbitrary: fc.constant("/") },
  {
    weight: 8,
    arbitrary: fc
      .tuple(segmentPath, fc.boolean())
      .map(([segs, slash]) => `/${segs.join("/")}${slash ? "/" : ""}`),
  },
);

/** A clean request path (no escapes or dot segments) over the same segments. */
export const scopeRequestPath: fc.Arbitrary<string> = fc
  .tuple(fc.array(fc.constantFrom(...SCOPE_SEGMENTS), { maxLength: 4 }), fc.boolean())
  .map(([segs, slash]) => `/${segs.join("/")}${slash && segs.length > 0 ? "/" : ""}`);
