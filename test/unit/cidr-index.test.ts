import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Cidr, parseCidr, parseIp } from "../../src/policy/cidr";
import { buildCidrIndex, type CidrExemption, findCidrExemption } from "../../src/policy/cidr-index";

const ALL = (1n << 128n) - 1n;
const MAPPED = 0xffff00000000n;

const v4Text = (n: bigint) => [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join(".");
const v6Text = (n: bigint) =>
  Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(":");
const maskOf = (prefix: number, bits: number) =>
  prefix === 0 ? 0n : ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);

/** A block as text: IPv4, IPv6, or IPv6 inside ::ffff:0:0/96 (exempting IPv4 clients too). */
const block = fc.oneof(
  fc
    .tuple(fc.bigInt({ min: 0n, max: 0xffffffffn }), fc.integer({ min: 0, max: 32 }))
    .map(([a, p]) => `${v4Text(a & maskOf(p, 32))}/${p}`),
  fc
    .tuple(fc.bigInt({ min: 0n, max: ALL }), fc.integer({ min: 0, max: 128 }))
    .map(([a, p]) => `${v6Text(a & maskOf(p, 128))}/${p}`),
  fc
    .tuple(fc.bigInt({ min: 0n, max: 0xffffffffn }), fc.integer({ min: 0, max: 32 }))
    .map(([a, p]) => `::ffff:${v4Text(a & maskOf(p, 32))}/${96 + p}`),
  fc.constantFrom("::/0", "0.0.0.0/0", "::ffff:0:0/96", "10.0.0.0/8", "10.1.0.0/16", "2001:db8::/32"),
);

interface Case {
  entries: CidrExemption[];
  addresses: string[];
}

/** Policies of nested and disjoint blocks, and addresses at and around their edges. */
const cases: fc.Arbitrary<Case> = fc
  .tuple(
    fc.array(
      fc.tuple(block, fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 0, max: 10 }))),
      {
        maxLength: 12,
      },
    ),
    fc.array(fc.bigInt({ min: 0n, max: ALL }), { maxLength: 4 }),
  )
  .map(([blocks, random]) => {
    const entries = blocks.map(([text, until]) => ({
      cidr: parseCidr(text) as Cidr,
      until,
      text,
      rule: `exemptions[cidr=${text}]`,
    }));
    const edges: bigint[] = [...random];
    for (const { cidr } of entries) {
      const hi = cidr.base | (ALL ^ cidr.mask);
      for (const x of [cidr.base - 1n, cidr.base, hi, hi + 1n]) if (x >= 0n && x <= ALL) edges.push(x);
    }
    const addresses = edges.flatMap((x) =>
      (x & ~0xffffffffn) === MAPPED
        ? [v4Text(x & 0xffffffffn), `::ffff:${v4Text(x & 0xffffffffn)}`, v6Text(x)]
        : [v6Text(x)],
    );
    return { entries, addresses };
  });

/** What the gate did before the index: every block in document order, the address parsed each time. */
function linear(entries: CidrExemption[], address: string, now: number): CidrExemption | null {
  for (const e of entries) {
    const ip = parseIp(address);
    if (now < e.until && ip !== null && (ip & e.cidr.mask) === e.cidr.base) return e;
  }
  return null;
}

describe("CIDR exemption index", () => {
  it("answers exactly as testing every block in document order", () => {
    fc.assert(
      fc.property(cases, fc.integer({ min: 0, max: 11 }), ({ entries, addresses }, now) => {
        const index = buildCidrIndex(entries);
        for (const address of addresses) {
          expect(findCidrExemption(index, address, now), address).toBe(linear(entries, address, now));
        }
      }),
      { seed: 20240709, numRuns: 400 },
    );
  });

  it("reports the first live block in document order, skipping expired ones", () => {
    const entries = ["10.0.0.0/8", "10.1.0.0/16", "0.0.0.0/0"].map((text, i) => ({
      cidr: parseCidr(text) as Cidr,
      until: i === 0 ? 5 : Number.POSITIVE_INFINITY,
      text,
      rule: text,
    }));
    const index = buildCidrIndex(entries);
    expect(findCidrExemption(index, "10.1.2.3", 1)?.text).toBe("10.0.0.0/8");
    expect(findCidrExemption(index, "10.1.2.3", 9)?.text).toBe("10.1.0.0/16");
    expect(findCidrExemption(index, "10.2.0.1", 9)?.text).toBe("0.0.0.0/0");
    expect(findCidrExemption(index, "::ffff:10.1.2.3", 9)?.text).toBe("10.1.0.0/16");
    expect(findCidrExemption(index, "2001:db8::1", 9)).toBeNull();
  });

  it("matches nothing for text that is not exactly one address", () => {
    const index = buildCidrIndex([
      { cidr: parseCidr("::/0") as Cidr, until: Number.POSITIVE_INFINITY, text: "::/0", rule: "" },
    ]);
    for (const bad of ["", "1.2.3.4, 5.6.7.8", "::1 ", "1.2.3", "fe80::1%eth0", "::g"]) {
      expect(findCidrExemption(index, bad, 0)).toBeNull();
    }
    expect(findCidrExemption(index, "1.2.3.4", 0)?.text).toBe("::/0");
  });
});
