/**
 * Property: for any policy and any case, `region-gate explain` (the CLI, reading the
 * active policy through the admin API) gives the decision the live gate applies to that
 * request on the wire, networks (`--asn`, `request.cf.asn`) included.
 */
import fc from "fast-check";
import { afterAll, beforeAll, expect, test } from "vitest";
import { isSubdivisionCode } from "../../src/policy/codes";
import { validatePolicy } from "../../src/policy/validate";
import { policyFile, runInProcess } from "./cli-run";
import {
  startGate,
  startOrigin,
  TEST_ADMIN_TOKEN,
  TEST_IDENTITY_SALT,
  type TestGate,
  type TestOrigin,
} from "./harness";

let origin: TestOrigin;
let gate: TestGate;
let remote: Record<string, string>;
let exemptFingerprint: string;

beforeAll(async () => {
  origin = await startOrigin();
  // The gate's isolate reads KV on every request: a push goes through the control plane,
  // and another Worker's isolate would otherwise keep the previous policy for the cache TTL.
  gate = await startGate({ originUrl: origin.url, policy: null, bindings: { POLICY_CACHE_SECONDS: "0" } });
  remote = { REGION_GATE_URL: gate.url, REGION_GATE_TOKEN: TEST_ADMIN_TOKEN };
  const fp = await runInProcess(["key", "fingerprint"], {
    input: "sk-exempt",
    env: { IDENTITY_SALT: TEST_IDENTITY_SALT },
  });
  exemptFingerprint = fp.stdout.trim();
});
afterAll(async () => {
  await gate?.dispose();
  await origin?.close();
});

const POOL = ["DE", "JP", "UA", "US", "CN", "HK", "RU", "VE", "BY"];
const DAY = 86_400_000;
// Whole days away from now, so no window edge falls between the two decisions.
const instant = fc.constantFrom(-20, -5, 5, 20).map((d) => new Date(Date.now() + d * DAY).toISOString());
const window = fc
  .record({ warnFrom: fc.option(instant, { nil: undefined }), blockFrom: fc.option(instant, { nil: null }) })
  .map((w) => {
    if (w.warnFrom && w.blockFrom && w.warnFrom > w.blockFrom)
      return { warnFrom: w.blockFrom, blockFrom: w.warnFrom };
    return w.warnFrom === undefined ? { blockFrom: w.blockFrom } : w;
  });

let version = 0;
const policyArb = fc
  .record({
    supported: fc.subarray(POOL),
    carveUa43: fc.boolean(),
    defaultWindow: fc.option(window, { nil: undefined }),
    regionWindows: fc.dictionary(fc.constantFrom(...POOL, "UA-43"), window, { maxKeys: 4 }),
    mode: fc.constantFrom("enforce", "monitor"),
    unknownCountry: fc.constantFrom("allow", "block"),
    tor: fc.constantFrom("allow", "block"),
    exemptUntil: fc.option(instant, { nil: undefined }),
    exempt: fc.boolean(),
    unsupportedNetworks: fc.subarray(["vpn", "AS60068"]),
    networkWindows: fc.dictionary(fc.constantFrom("vpn", "AS60068", "AS9009"), window, { maxKeys: 2 }),
    exemptAsn: fc.boolean(),
  })
  .map((p) => {
    const carved = p.carveUa43 && p.supported.includes("UA") ? ["UA-43"] : [];
    const regions = Object.fromEntries(
      Object.entries(p.regionWindows).filter(([code]) =>
        code === "UA-43" ? carved.length > 0 : !p.supported.includes(code),
      ),
    );
    return {
      schema: 1,
      version: "",
      supported: p.supported,
      unsupportedSubdivisions: carved,
      enforcement: {
        ...(p.defaultWindow ? { default: p.defaultWindow } : {}),
        regions,
        networks: p.networkWindows,
      },
      networks: { classes: { cloud: [16509], vpn: [9009] }, unsupported: p.unsupportedNetworks },
      mode: p.mode,
      unknownCountry: p.unknownCountry,
      tor: p.tor,
      scope: { include: ["/v1/"], exclude: ["/v1/health"] },
      exemptions: [
        ...(p.exempt
          ? [{ apiKeyFingerprint: "0000000000000000", ...(p.exemptUntil ? { until: p.exemptUntil } : {}) }]
          : []),
        ...(p.exemptAsn ? [{ asn: 64500 }] : []),
      ],
    };
  });

const caseArb = fc.record({
  country: fc.constantFrom(...POOL, "XX", "T1", "FR", undefined),
  regionCode: fc.constantFrom("43", "30", undefined),
  path: fc.constantFrom("/v1/chat", "/v1/health", "/other", "/V1//chat"),
  key: fc.constantFrom("sk-exempt", "sk-other", undefined),
  asn: fc.constantFrom(9009, 60068, 16509, 64500, undefined),
});

test("explain in the CLI agrees with the gate's live decision", async () => {
  await fc.assert(
    fc.asyncProperty(
      policyArb,
      fc.array(caseArb, { minLength: 4, maxLength: 4 }),
      async (generated, cases) => {
        const doc = {
          ...generated,
          version: `prop.${++version}`,
          exemptions: generated.exemptions.map((e) =>
            "apiKeyFingerprint" in e ? { ...e, apiKeyFingerprint: exemptFingerprint } : e,
          ),
        };
        expect(validatePolicy(doc)).toMatchObject({ ok: true });
        const push = await runInProcess(["policy", "push", await policyFile(doc), "--yes"], { env: remote });
        expect(push.stderr).toBe("");

        for (const c of cases) {
          const cf: { country?: string; regionCode?: string; asn?: number } = {};
          if (c.country) cf.country = c.country;
          if (c.country && c.regionCode) cf.regionCode = c.regionCode;
          if (c.asn) cf.asn = c.asn;
          const headers: Record<string, string> = c.key ? { authorization: `Bearer ${c.key}` } : {};
          const res = await gate.fetch(c.path, { cf, headers });
          const live =
            res.status === 403
              ? "block"
              : ((await res.json()) as { headers: Record<string, string> }).headers["x-region-gate-decision"];
          if (res.status === 403) await res.arrayBuffer();

          const args = ["explain", "--path", c.path, "--json"];
          if (c.country) args.push("--country", c.country);
          if (c.asn) args.push("--asn", String(c.asn));
          // explain refuses codes ISO 3166-2 does not list; the gate judges those as the country alone.
          if (c.country && c.regionCode && isSubdivisionCode(`${c.country}-${c.regionCode}`))
            args.push("--region", c.regionCode);
          if (c.key) {
            const fp = await runInProcess(["key", "fingerprint"], {
              input: c.key,
              env: { IDENTITY_SALT: TEST_IDENTITY_SALT },
            });
            args.push("--fingerprint", fp.stdout.trim());
          }
          const explained = await runInProcess(args, { env: remote });
          expect(explained.stderr).toBe("");
          expect({
            case: c,
            decision: (JSON.parse(explained.stdout) as { decision: string }).decision,
          }).toEqual({
            case: c,
            decision: live,
          });
        }
      },
    ),
    { numRuns: 30 },
  );
});
