/**
 * Rations per caller, kept in the isolate: the self-check's ledger lookups and failed admin
 * authentications (SPEC section 7). A caller is its client address (`CF-Connecting-IP`,
 * which Cloudflare's edge sets), an IPv6 caller its /64: one host is usually given a whole
 * /64, so rationing single IPv6 addresses would hand one client 2^64 rations. A caller over
 * its ration is told how long to wait (`Retry-After`); no other caller is affected.
 *
 * Each caller has a token bucket that holds `perMinute` units and refills at `perMinute` a
 * minute, so a burst of a full minute's ration is allowed and then one unit every
 * 60 / `perMinute` seconds. At most `maxCallers` buckets are kept, the least recently used
 * dropped first: a dropped caller starts again with a full ration, which only ever gives a
 * caller more than it would have had, never less to anyone else.
 */
import { parseIp } from "../policy/cidr";

/** Rationing key of a request's client address; `-` when the edge gave none (local runs). */
export function callerOf(headers: Headers): string {
  const raw = headers.get("cf-connecting-ip")?.trim() ?? "";
  if (raw === "") return "-";
  const ip = parseIp(raw);
  if (ip === null) return `?${raw.slice(0, 64)}`;
  // IPv4 is held IPv4-mapped (::ffff:a.b.c.d): one bucket per address.
  if (ip >> 32n === 0xffffn) return `4:${ip & 0xffffffffn}`;
  return `6:${(ip >> 64n).toString(16)}`;
}

export class Ration {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(
    readonly perMinute: number,
    private readonly maxCallers = 10_000,
  ) {
    this.perMs = perMinute / 60_000;
  }

  private level(caller: string, now: number): number {
    const b = this.buckets.get(caller);
    if (b === undefined) return this.perMinute;
    return Math.min(this.perMinute, b.tokens + Math.max(0, now - b.at) * this.perMs);
  }

  /** Seconds until `caller` has a unit again (0: it has one now); nothing is taken. */
  wait(caller: string, now: number): number {
    const tokens = this.level(caller, now);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.perMs / 1000));
  }

  /** Takes one unit of `caller`'s ration: 0 when granted, else the seconds to wait (nothing taken). */
  take(caller: string, now: number): number {
    const wait = this.wait(caller, now);
    if (wait > 0) return wait;
    const tokens = this.level(caller, now) - 1;
    this.buckets.delete(caller);
    if (this.buckets.size >= this.maxCallers) this.buckets.delete(this.buckets.keys().next().value!);
    this.buckets.set(caller, { tokens, at: now });
    return 0;
  }

  /** Forgets every caller (tests). */
  reset(): void {
    this.buckets.clear();
  }
}
