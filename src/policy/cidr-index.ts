/**
 * CIDR exemptions as a lookup table built once per policy, so a request costs one address
 * parse and a binary search however many blocks the policy lists. (Testing each block in
 * turn re-parsed an IPv6 client address per block: 20,000 IPv6 blocks cost 31 ms a request.)
 *
 * Any two CIDR blocks are nested or disjoint, so their boundaries cut the address space into
 * segments, each covered by the same chain of blocks from end to end. A table is the sorted
 * segment starts and, per segment, its covering exemptions in document order: the first one
 * whose `until` has not passed is the one that applies, as when they were tested in order.
 * IPv4 addresses (and IPv4-mapped IPv6 ones) use a table over 32-bit numbers, IPv6 a table
 * over bigints; an IPv6 block that holds IPv4-mapped addresses is entered in both.
 */
import { type Cidr, parseIp, parseIpv4 } from "./cidr";

export interface CidrExemption {
  cidr: Cidr;
  /** Epoch ms; +Infinity for no `until`. */
  until: number;
  text: string;
  /** `exemptions[cidr=...]`, the rule `decide` reports. */
  rule: string;
}

interface Table<T extends number | bigint> {
  starts: T[];
  /** Exemptions covering `[starts[i], starts[i + 1])`, in document order; null for none. */
  covers: Array<readonly CidrExemption[] | null>;
}

export interface CidrIndex {
  size: number;
  v4: Table<number>;
  v6: Table<bigint>;
}

const ALL_128 = (1n << 128n) - 1n;
const V4_MAPPED = 0xffff00000000n;
const LOW_32 = 0xffffffffn;

interface Range {
  lo: bigint;
  hi: bigint;
  order: number;
  entry: CidrExemption;
}

function table(ranges: Range[]): Table<bigint> {
  // Outer blocks before the blocks they contain; equal blocks in document order.
  ranges.sort((a, b) =>
    a.lo !== b.lo ? (a.lo < b.lo ? -1 : 1) : a.hi !== b.hi ? (a.hi > b.hi ? -1 : 1) : a.order - b.order,
  );
  // Sorted and deduplicated by hand: V8 hashes a BigInt by its low bits, so a Set of
  // IPv6 prefixes (low bits all zero) degrades to a list and the build to O(n²).
  const all = ranges.flatMap((r) => [r.lo, r.hi + 1n]).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const sorted = all.filter((p, i) => i === 0 || p !== all[i - 1]);
  const starts: bigint[] = [];
  const covers: Array<readonly CidrExemption[] | null> = [];
  const open: Range[] = [];
  let next = 0;
  for (const point of sorted) {
    // Nested or disjoint: the blocks still open form a chain, innermost last.
    while (open.length > 0 && open[open.length - 1]!.hi < point) open.pop();
    while (next < ranges.length && ranges[next]!.lo === point) open.push(ranges[next++]!);
    starts.push(point);
    covers.push(open.length === 0 ? null : [...open].sort((a, b) => a.order - b.order).map((r) => r.entry));
  }
  return { starts, covers };
}

/** Builds the lookup table of a policy's CIDR exemptions (in document order). */
export function buildCidrIndex(exemptions: readonly CidrExemption[]): CidrIndex {
  const v4: Range[] = [];
  const v6: Range[] = [];
  exemptions.forEach((entry, order) => {
    const { base, mask } = entry.cidr;
    const hi = base | (ALL_128 ^ mask);
    if (entry.cidr.family === 4) {
      v4.push({ lo: base & LOW_32, hi: hi & LOW_32, order, entry });
      return;
    }
    v6.push({ lo: base, hi, order, entry });
    // The part of an IPv6 block inside ::ffff:0:0/96 is what it exempts for IPv4 clients.
    if (entry.cidr.holdsV4) {
      const lo = base > V4_MAPPED ? base & LOW_32 : 0n;
      v4.push({ lo, hi: hi >= V4_MAPPED + LOW_32 ? LOW_32 : hi & LOW_32, order, entry });
    }
  });
  const t4 = table(v4);
  return {
    size: exemptions.length,
    v4: { starts: t4.starts.map(Number), covers: t4.covers },
    v6: table(v6),
  };
}

/** Index of the last start at or below `x`, or -1. */
function segmentOf<T extends number | bigint>(starts: readonly T[], x: T): number {
  let lo = 0;
  let hi = starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid]! <= x) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

function firstLive(covers: readonly CidrExemption[] | null | undefined, now: number): CidrExemption | null {
  if (!covers) return null;
  for (const e of covers) if (now < e.until) return e;
  return null;
}

/**
 * The exemption that applies to the client `address` at `now`, or null. The address is
 * parsed once here; anything that is not exactly one address matches nothing.
 */
export function findCidrExemption(index: CidrIndex, address: string, now: number): CidrExemption | null {
  if (index.size === 0) return null;
  let v4 = parseIpv4(address);
  if (v4 === null) {
    const ip = address.includes(":") ? parseIp(address) : null;
    if (ip === null) return null;
    if ((ip & ~LOW_32) === V4_MAPPED) v4 = Number(ip & LOW_32);
    else return firstLive(index.v6.covers[segmentOf(index.v6.starts, ip)], now);
  }
  return firstLive(index.v4.covers[segmentOf(index.v4.starts, v4)], now);
}
