/**
 * Microbenchmark of the pure decision: `decide()` on a compiled policy with ~200 supported
 * countries and 50 regional rules, over a rotating mix of request facts.
 * Target (issue 2): under 1 µs per decision.
 *
 *   node bench/decision-bench.mjs      (bundles this file with esbuild, then runs it)
 */
import { decide, type RequestFacts } from "../src/decision";
import { compilePolicy } from "../src/policy/compile";
import { ISO_3166_1, ISO_3166_2 } from "../src/policy/iso-codes";
import { validatePolicy } from "../src/policy/schema";

const ROUNDS = 5;
const PER_ROUND = 1_000_000;

/** ~200 supported, the rest unsupported; 25 country rules and 25 subdivision carve-outs. */
function bigPolicy(): unknown {
  const countries = ISO_3166_1.split(",");
  const named = ["CN", "HK", "RU", "IR", "KP", "VE", "BY", "CU", "SY"];
  const unsupported = [...named, ...countries.filter((c, i) => i % 5 === 0 && !named.includes(c))].slice(
    0,
    49,
  );
  const supported = countries.filter((c) => !unsupported.includes(c));
  const subdivisions: string[] = [];
  for (const entry of ISO_3166_2.split(";")) {
    const [country, list] = entry.split(":");
    if (!country || !list || !supported.includes(country)) continue;
    subdivisions.push(`${country}-${list.split(",")[0]}`);
    if (subdivisions.length === 25) break;
  }
  const regions: Record<string, { warnFrom?: string | null; blockFrom: string | null }> = {};
  unsupported.slice(0, 25).forEach((c, i) => {
    regions[c] =
      i % 3 === 0
        ? { warnFrom: "2026-01-01T00:00:00Z", blockFrom: "2099-01-01T00:00:00Z" }
        : i % 3 === 1
          ? { blockFrom: "2024-07-09T00:00:00Z" }
          : { warnFrom: "2098-01-01T00:00:00Z", blockFrom: null };
  });
  for (const s of subdivisions) regions[s] = { blockFrom: "2022-03-01T00:00:00Z" };
  return {
    schema: 1,
    version: "bench.1",
    supported,
    unsupportedSubdivisions: subdivisions,
    enforcement: {
      default: { warnFrom: "2024-06-25T00:00:00Z", blockFrom: "2024-07-09T00:00:00Z" },
      regions,
    },
    scope: { include: ["/v1/", "/v2/"], exclude: ["/v1/health"] },
    exemptions: [
      { cidr: "198.51.100.0/24", note: "probes" },
      { cidr: "2001:db8::/32", note: "probes v6" },
      { apiKeyFingerprint: "9f86d081884c7d65", until: "2099-01-01T00:00:00Z" },
    ],
  };
}

interface Scenario {
  name: string;
  cases: RequestFacts[];
}

/** Request mixes: the realistic one is the headline figure, the others show where time goes. */
function scenarios(policy: unknown): Scenario[] {
  const p = policy as {
    supported: string[];
    unsupportedSubdivisions: string[];
    enforcement: { regions: Record<string, unknown> };
  };
  // One in five requests out of scope (health checks, static files).
  const clean = ["/v1/chat/completions", "/v1/models", "/v2/embeddings", "/v1/responses", "/v1/health"];
  const hostile = [
    "/V1//chat/./completions",
    "/v1/files/a%2F..%2F..%2Fx",
    "/v1;x=1/models",
    "/%76%31/models",
  ];
  const ips = ["203.0.113.7", "198.51.100.9", "2001:db8::1", "2a00:1450::1", "192.0.2.44"];
  const ruled = Object.keys(p.enforcement.regions).filter((c) => c.length === 2);
  const unsupported = [...ruled, "SO", "SD", "ZW"].filter((c) => !p.supported.includes(c));
  // Two thirds supported, a third unsupported (with and without their own rule), plus XX/T1/none.
  const mixed = [...p.supported.slice(0, 64), ...unsupported, "XX", "T1", ""];
  const build = (countries: string[], pathAt: (i: number) => string): RequestFacts[] =>
    Array.from({ length: 4096 }, (_, i) => {
      const sub = p.unsupportedSubdivisions[i % p.unsupportedSubdivisions.length]!;
      const carved = countries === mixed && i % 16 === 0;
      return {
        path: pathAt(i),
        country: carved ? sub.slice(0, 2) : countries[(i * 7) % countries.length],
        regionCode: carved ? sub.slice(3) : i % 3 === 0 ? "01" : null,
        ip: ips[i % ips.length],
        fingerprint: i % 11 === 0 ? "9f86d081884c7d65" : null,
      };
    });
  const realistic = (i: number) => (i % 64 === 63 ? hostile[i % hostile.length]! : clean[i % clean.length]!);
  return [
    { name: "realistic mix (1 in 64 paths needs normalising)", cases: build(mixed, realistic) },
    {
      name: "supported countries, clean paths",
      cases: build(p.supported.slice(0, 100), (i) => clean[i % 3]!),
    },
    { name: "unsupported countries, clean paths", cases: build(unsupported, (i) => clean[i % 3]!) },
    {
      name: "hostile paths only (every path normalised)",
      cases: build(mixed, (i) => hostile[i % hostile.length]!),
    },
  ];
}

/**
 * Nanoseconds per decision, by the CPU time this process used (`process.cpuUsage`) rather
 * than wall time: on a shared machine the wall clock also counts time spent descheduled.
 */
function measure(cases: RequestFacts[], now: number): { median: number; best: number; wallMedian: number } {
  let sink = 0;
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < PER_ROUND; i++) {
      sink += decide(policy, cases[i & 4095]!, now).decision.length;
    }
    wall.push(Number(process.hrtime.bigint() - t0) / PER_ROUND);
    const used = process.cpuUsage(c0);
    cpu.push(((used.user + used.system) * 1000) / PER_ROUND);
  }
  if (sink === 0) throw new Error("decide() returned nothing");
  const mid = (xs: number[]) => +[...xs].sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!.toFixed(1);
  return { median: mid(cpu), best: +Math.min(...cpu).toFixed(1), wallMedian: mid(wall) };
}

const doc = bigPolicy();
const valid = validatePolicy(doc);
if (!valid.ok) {
  throw new Error(`bench policy invalid: ${valid.errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`);
}
const policy = compilePolicy(valid.policy);
const now = Date.parse("2026-11-25T00:00:00Z");
console.log(
  `policy: ${policy.supported.size} supported countries, ${policy.windows.size} regional rules, ` +
    `${policy.unsupportedSubdivisions.size} unsupported subdivisions; ${ROUNDS} rounds of ${PER_ROUND} decisions`,
);
for (const { name, cases } of scenarios(doc)) {
  const mix: Record<string, number> = {};
  for (const f of cases) {
    const d = decide(policy, f, now).decision;
    mix[d] = (mix[d] ?? 0) + 1;
  }
  const { median, best, wallMedian } = measure(cases, now);
  console.log(
    `${name}: ${median} ns/decision CPU (best ${best}, wall ${wallMedian}); mix ${JSON.stringify(mix)}`,
  );
}
console.log("target: < 1000 ns per decision");
