/**
 * Microbenchmark of the pure decision: `decide()` on a compiled policy with ~200 supported
 * countries and 50 regional rules, over a rotating mix of request facts; then the same
 * policy with 1,000 ASNs across network classes (issue 21).
 * Target (issue 2): under 1 µs per decision.
 *
 *   node bench/decision-bench.mjs      (bundles this file with esbuild, then runs it)
 */

import { type Cidr, parseCidr, parseIp } from "../src/policy/cidr";
import { compilePolicy } from "../src/policy/compile";
import { decide, type RequestFacts } from "../src/policy/decision";
import { ISO_3166_1, ISO_3166_2 } from "../src/policy/iso-codes";
import { validatePolicy } from "../src/policy/validate";

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

/** 20 000 distinct IPv6 /40 blocks (issue 9 item 11: each used to cost a parse per request). */
function manyCidrs(n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) => `2400:${(i >> 8).toString(16)}:${((i & 255) << 8).toString(16)}::/40`,
  );
}

/**
 * The previous exemption check, kept here as the baseline: every block in turn, the client
 * address parsed again for each (what `decide()` did before the index).
 */
function linearExemption(blocks: Cidr[], address: string): boolean {
  for (const cidr of blocks) {
    const ip = parseIp(address);
    if (ip !== null && (ip & cidr.mask) === cidr.base) return true;
  }
  return false;
}

/** CPU ns per call of `fn` over `cases`, median and best of ROUNDS rounds of `perRound` calls. */
function measureFn<T>(cases: T[], perRound: number, fn: (c: T) => number) {
  let sink = 0;
  const cpu: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < perRound; i++) sink += fn(cases[i % cases.length]!);
    const used = process.cpuUsage(c0);
    cpu.push(((used.user + used.system) * 1000) / perRound);
  }
  if (sink < 0) throw new Error("unreachable");
  const sorted = [...cpu].sort((a, b) => a - b);
  return { median: sorted[Math.floor(ROUNDS / 2)]!, best: sorted[0]! };
}

function cidrScenario(): void {
  const blocks = manyCidrs(20_000);
  const base = bigPolicy() as { exemptions: unknown[] };
  const result = validatePolicy({ ...base, exemptions: blocks.map((cidr) => ({ cidr })) });
  if (!result.ok) throw new Error(`CIDR bench policy invalid: ${result.errors[0]?.message}`);
  const t0 = process.cpuUsage();
  const compiled = compilePolicy(result.policy);
  const compileMs = (process.cpuUsage(t0).user + process.cpuUsage(t0).system) / 1000;
  const ips = ["2a00:1450::1", "2400:4:1200::7", "2001:db8::1", "203.0.113.7", "2400:4e:1f00::1"];
  const cases: RequestFacts[] = ips.map((ip) => ({ path: "/v1/chat/completions", country: "CN", ip }));
  const mix: Record<string, number> = {};
  for (const f of cases) {
    const d = decide(compiled, f, now).decision;
    mix[d] = (mix[d] ?? 0) + 1;
  }
  const indexed = measureFn(cases, 200_000, (f) => decide(compiled, f, now).decision.length);
  const parsed = blocks.map((b) => parseCidr(b) as Cidr);
  const v6 = ips.filter((ip) => ip.includes(":"));
  const linear = measureFn(v6, 20, (ip) => (linearExemption(parsed, ip) ? 1 : 0));
  console.log(
    `CN with 20 000 IPv6 CIDR exemptions (index): ${indexed.median.toFixed(1)} ns/decision CPU (best ${indexed.best.toFixed(1)}); mix ${JSON.stringify(mix)}; compile ${compileMs.toFixed(0)} ms`,
  );
  console.log(
    `  baseline, the same blocks tested one by one (previous code, IPv6 clients): ${(linear.median / 1e6).toFixed(1)} ms/request CPU (best ${(linear.best / 1e6).toFixed(1)}); ratio ${(linear.median / indexed.median).toFixed(0)}x`,
  );
}

/**
 * 1,000 ASNs in 10 classes of 100 (real-looking numbers, 16-bit and 32-bit); 4 classes and
 * 20 single networks unsupported, with class and AS windows in every phase.
 */
function networkPolicy(): { doc: unknown; listed: number[]; labelled: number[] } {
  const base = bigPolicy() as { enforcement: Record<string, unknown> };
  const classes: Record<string, number[]> = {};
  const all: number[] = [];
  for (let c = 0; c < 10; c++) {
    classes[`class-${c}`] = Array.from({ length: 100 }, (_, i) => {
      const asn = c % 2 === 0 ? 1000 + c * 100 + i : 200_000 + c * 1000 + i * 7;
      all.push(asn);
      return asn;
    });
  }
  const singles = Array.from({ length: 20 }, (_, i) => `AS${all[(i * 37) % all.length]!}`);
  const unsupportedClasses = ["class-1", "class-4", "class-6", "class-9"];
  const networks: Record<string, { warnFrom?: string | null; blockFrom: string | null }> = {
    "class-1": { warnFrom: "2026-01-01T00:00:00Z", blockFrom: "2099-01-01T00:00:00Z" },
    "class-4": { blockFrom: "2024-07-09T00:00:00Z" },
    "class-6": { warnFrom: "2098-01-01T00:00:00Z", blockFrom: null },
  };
  singles.slice(0, 10).forEach((code, i) => {
    networks[code] =
      i % 2 === 0
        ? { blockFrom: "2024-07-09T00:00:00Z" }
        : { warnFrom: "2026-01-01T00:00:00Z", blockFrom: null };
  });
  const doc = {
    ...base,
    enforcement: { ...base.enforcement, networks },
    networks: { classes, unsupported: [...unsupportedClasses, ...singles] },
  };
  const listed = all.filter((_, i) => unsupportedClasses.includes(`class-${Math.floor(i / 100)}`));
  const labelled = all.filter((a) => !listed.includes(a));
  return { doc, listed, labelled };
}

/**
 * The realistic mix again, now with `request.cf.asn` on every request: 3 in 4 from a
 * network in a class that only labels, 1 in 8 from an unsupported one, 1 in 8 from a
 * network in no class.
 */
function networkScenario(): void {
  const { doc, listed, labelled } = networkPolicy();
  const valid = validatePolicy(doc);
  if (!valid.ok)
    throw new Error(`network bench policy invalid: ${valid.errors[0]?.path}: ${valid.errors[0]?.message}`);
  const compiled = compilePolicy(valid.policy);
  const [realistic] = scenarios(doc);
  // Object literals of one shape, as factsOf() builds them (a spread copy of the facts made
  // decide() twice as slow here, which no request pays).
  const withAsn = (asnAt: (i: number) => number | null): RequestFacts[] =>
    realistic!.cases.map((f, i) => ({
      path: f.path,
      country: f.country,
      regionCode: f.regionCode,
      ip: f.ip,
      fingerprint: f.fingerprint,
      asn: asnAt(i),
    }));
  const cases = withAsn((i) =>
    i % 8 === 0
      ? listed[i % listed.length]!
      : i % 8 === 1
        ? 64_512 + (i % 1000)
        : labelled[(i * 13) % labelled.length]!,
  );
  const mix: Record<string, number> = {};
  let byNetwork = 0;
  for (const f of cases) {
    const v = decide(compiled, f, now);
    mix[v.decision] = (mix[v.decision] ?? 0) + 1;
    if (v.network) byNetwork++;
  }
  const m = measureFn(cases, PER_ROUND, (f) => decide(compiled, f, now).decision.length);
  // The same requests without an asn, same policy, same loop: what the network side adds.
  const without = measureFn(
    withAsn(() => null),
    PER_ROUND,
    (f) => decide(compiled, f, now).decision.length,
  );
  console.log(
    `realistic mix + 1,000 ASNs in 10 classes (${compiled.unsupportedNetworks.size} unsupported), every request with an asn: ` +
      `${m.median.toFixed(1)} ns/decision CPU (best ${m.best.toFixed(1)}); mix ${JSON.stringify(mix)}, ${byNetwork} of ${cases.length} decided by the network`,
  );
  console.log(
    `  the same requests without an asn, same policy and loop: ${without.median.toFixed(1)} ns/decision CPU (best ${without.best.toFixed(1)})`,
  );
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
networkScenario();
cidrScenario();
console.log(
  "target: < 1000 ns per decision (with or without networks); a few µs with 20 000 CIDR exemptions",
);
