/**
 * The fuzz properties, shared by test/unit/fuzz.test.ts (fixed seed, in `npm test`) and
 * bench/fuzz.mjs (as many runs as asked, fresh seed). Plain `node:assert`, so they run
 * the same under vitest and under plain Node.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import fc from "fast-check";
import { compilePolicy } from "../../src/policy/compile";
import { decide, type RequestFacts } from "../../src/policy/decision";
import { parseJsonStrict } from "../../src/policy/json";
import { validatePolicy } from "../../src/policy/validate";
import {
  ASN_POOL,
  anyFacts,
  COUNTRIES,
  expectedDecision,
  expectedNetworkSide,
  identityHeaderName,
  instantMs,
  mutatedPolicy,
  scopePrefix,
  scopeRequestPath,
  subdivisionsOf,
  validPolicy,
} from "./fuzz-arbitraries";

export interface FuzzProperty {
  name: string;
  property: fc.IProperty<never> | fc.IProperty<unknown[]>;
  /** Relative cost: the bench divides its run budget by it. */
  weight: number;
}

const props: Array<{ name: string; weight: number; property: fc.IPropertyWithHooks<never> }> = [];
const add = <Ts extends [unknown, ...unknown[]]>(
  name: string,
  weight: number,
  arbs: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  check: (...args: Ts) => void,
) => {
  props.push({ name, weight, property: fc.property(...arbs, check) as never });
};

add("validatePolicy never throws on arbitrary JSON", 1, [fc.jsonValue()], (value) => {
  const result = validatePolicy(value);
  ok(result.ok || result.errors.length > 0);
});

add(
  "validatePolicy never throws on a valid policy with one field replaced, and what it accepts compiles",
  1,
  [mutatedPolicy],
  (value) => {
    const result = validatePolicy(value);
    if (result.ok) compilePolicy(result.policy);
    else ok(result.errors.every((e) => e.path.startsWith("$") && e.message.length > 0));
  },
);

add(
  "parseJsonStrict never throws, and agrees with JSON.parse on what it accepts",
  1,
  [fc.oneof(fc.string({ unit: "binary" }), fc.json())],
  (text) => {
    const result = parseJsonStrict(text);
    if (result.ok) deepStrictEqual(result.value, JSON.parse(text));
  },
);

add(
  "decide never throws on valid policies and arbitrary facts, at any instant",
  1,
  [validPolicy(), anyFacts, fc.oneof(instantMs, fc.double())],
  (doc, facts, now) => {
    decide(compilePolicy(doc), facts, now);
  },
);

add(
  "decide is deterministic across separately compiled copies",
  1,
  [validPolicy(), anyFacts, instantMs],
  (doc, facts, now) => {
    const a = decide(compilePolicy(doc), facts, now);
    const copy = JSON.parse(JSON.stringify(doc)) as typeof doc;
    deepStrictEqual(decide(compilePolicy(copy), { ...facts } as RequestFacts, now), a);
  },
);

add(
  "random valid policies pass supported countries and judge unsupported ones by their window",
  1,
  [validPolicy({ plain: true }), fc.constantFrom(...COUNTRIES), fc.nat(), fc.boolean(), instantMs],
  (doc, country, subPick, withSub, now) => {
    ok(validatePolicy(doc).ok, "generated policy must be valid");
    const subs = subdivisionsOf(country);
    const regionCode = withSub && subs.length > 0 ? subs[subPick % subs.length]! : null;
    const verdict = decide(compilePolicy(doc), { path: "/v1/x", country, regionCode }, now);
    deepStrictEqual(
      { decision: verdict.decision, region: verdict.region },
      expectedDecision(doc, country, regionCode, now),
    );
  },
);

add(
  "every unsupported country is blocked after its blockFrom and observed before warnFrom",
  10,
  [validPolicy({ plain: true }), instantMs],
  (doc, now) => {
    const policy = compilePolicy(doc);
    for (const country of COUNTRIES) {
      const decision = decide(policy, { path: "/", country }, now).decision;
      if (doc.supported.includes(country)) {
        strictEqual(decision, "pass", country);
        continue;
      }
      const w = doc.enforcement?.regions?.[country] ?? doc.enforcement?.default;
      const blockFrom = w ? (w.blockFrom === null ? null : Date.parse(w.blockFrom)) : -Infinity;
      const warnFrom = w?.warnFrom ? Date.parse(w.warnFrom) : null;
      if (blockFrom !== null && now >= blockFrom) strictEqual(decision, "block", country);
      else if (warnFrom === null || now < warnFrom) strictEqual(decision, "observe", country);
      else strictEqual(decision, "warn", country);
    }
  },
);

/**
 * SPEC section 2, written out here rather than imported, so the validator is checked
 * against the contract: credential and client-address headers, and any name containing one
 * of these words, may not name a customer.
 */
const SECRET_WORDS = ["auth", "key", "token", "secret", "session", "password", "cookie", "signature"];
const CREDENTIAL_HEADERS = [
  "authorization",
  "proxy-authorization",
  "cookie",
  "sec-websocket-protocol",
  "cf-access-jwt-assertion",
  "cf-connecting-ip",
  "x-forwarded-for",
  "x-real-ip",
  "true-client-ip",
  "forwarded",
];

add(
  "identity.headers accepts exactly the lower-case names that carry no secret or address",
  1,
  [fc.uniqueArray(identityHeaderName, { minLength: 1, maxLength: 4 })],
  (names) => {
    const result = validatePolicy({
      schema: 1,
      version: "fuzz.1",
      supported: ["DE"],
      identity: { headers: names },
    });
    const refused = names
      .map((name, i) => ({ name, i }))
      .filter(
        ({ name }) =>
          !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name) ||
          CREDENTIAL_HEADERS.includes(name.toLowerCase()) ||
          SECRET_WORDS.some((w) => name.toLowerCase().includes(w)),
      );
    const paths = result.ok ? [] : [...new Set(result.errors.map((e) => e.path))];
    deepStrictEqual(
      paths,
      refused.map(({ i }) => `$.identity.headers[${i}]`),
      JSON.stringify(names),
    );
  },
);

/** SPEC section 2: does `prefix` cover `path`? Segment boundaries unless it ends in `/`. */
const covers = (prefix: string, path: string) =>
  path === prefix || path.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`);

add(
  "scope prefixes with and without a trailing / judge exactly the paths SPEC section 2 covers",
  1,
  [
    fc.uniqueArray(scopePrefix, { minLength: 1, maxLength: 3 }),
    fc.uniqueArray(scopePrefix, { maxLength: 3 }),
    fc.array(scopeRequestPath, { minLength: 1, maxLength: 8 }),
  ],
  (include, exclude, paths) => {
    const doc = { schema: 1, version: "fuzz.1", supported: ["DE"], scope: { include, exclude } };
    const result = validatePolicy(doc);
    // Every path an include prefix covers is excluded iff an exclude prefix covers the include prefix.
    const judgesSomething = include.some((p) => !exclude.some((e) => covers(e, p)));
    strictEqual(result.ok, judgesSomething, JSON.stringify({ include, exclude }));
    if (!result.ok) {
      deepStrictEqual(
        result.errors.map((e) => e.path),
        ["$.scope.include"],
      );
      return;
    }
    const policy = compilePolicy(result.policy);
    // The include prefixes themselves (what explain and the map decide for) and arbitrary paths.
    for (const path of [...include, ...paths]) {
      // An include prefix ending in / also covers its path without the slash (erring wide).
      const included = include.some((p) => covers(p, path) || (p.endsWith("/") && path === p.slice(0, -1)));
      const expected = included && !exclude.some((e) => covers(e, path));
      const decision = decide(policy, { path, country: "CN" }, 0).decision;
      strictEqual(
        decision !== "out_of_scope",
        expected,
        `${path} with ${JSON.stringify({ include, exclude })}`,
      );
    }
  },
);

add(
  "the stricter of the region and the network side decides, the region on a tie",
  1,
  [validPolicy({ plain: true }), fc.constantFrom(...COUNTRIES), fc.constantFrom(...ASN_POOL), instantMs],
  (doc, country, asn, now) => {
    ok(validatePolicy(doc).ok, "generated policy must be valid");
    const region = expectedDecision(doc, country, null, now);
    const network = expectedNetworkSide(doc, asn, now);
    const rank = { pass: 0, observe: 1, warn: 2, block: 3 } as const;
    const verdict = decide(compilePolicy(doc), { path: "/v1/x", country, asn }, now);
    if (rank[network] > rank[region.decision]) {
      deepStrictEqual(
        { decision: verdict.decision, region: verdict.region },
        { decision: network, region: `AS${asn}` },
      );
    } else {
      deepStrictEqual({ decision: verdict.decision, region: verdict.region }, region);
    }
  },
);

export const FUZZ_PROPERTIES: readonly FuzzProperty[] = props;
