/**
 * Per-caller rations (src/control/ration.ts): a token bucket per client address, IPv6 by /64, with
 * the wait a caller over its ration is told in `Retry-After`.
 */
import { describe, expect, it } from "vitest";
import { callerOf, Ration } from "../../src/control/ration";

const headers = (ip?: string) => new Headers(ip === undefined ? {} : { "cf-connecting-ip": ip });

describe("callerOf", () => {
  it("keys IPv4 by address and IPv6 by /64", () => {
    expect(callerOf(headers("203.0.113.7"))).toBe(callerOf(headers(" 203.0.113.7 ")));
    expect(callerOf(headers("203.0.113.7"))).not.toBe(callerOf(headers("203.0.113.8")));
    expect(callerOf(headers("2001:db8:1:2::1"))).toBe(callerOf(headers("2001:db8:1:2:ffff:ffff:ffff:ffff")));
    expect(callerOf(headers("2001:db8:1:2::1"))).not.toBe(callerOf(headers("2001:db8:1:3::1")));
    expect(callerOf(headers("::ffff:203.0.113.7"))).toBe(callerOf(headers("203.0.113.7")));
    expect(callerOf(headers())).toBe("-");
    expect(callerOf(headers("not an address"))).toBe("?not an address");
  });
});

describe("Ration", () => {
  it("grants a minute's ration at once, then one unit per 60/perMinute seconds", () => {
    const r = new Ration(6);
    const t0 = 1_000_000;
    for (let i = 0; i < 6; i++) expect(r.take("a", t0)).toBe(0);
    expect(r.take("a", t0)).toBe(10);
    expect(r.wait("a", t0 + 4_000)).toBe(6);
    expect(r.take("a", t0 + 10_000)).toBe(0);
    expect(r.take("a", t0 + 10_000)).toBe(10);
    // Another caller keeps its whole ration.
    for (let i = 0; i < 6; i++) expect(r.take("b", t0)).toBe(0);
    // Refilled after a minute, never above the ration.
    for (let i = 0; i < 6; i++) expect(r.take("a", t0 + 600_000)).toBe(0);
    expect(r.take("a", t0 + 600_000)).toBeGreaterThan(0);
  });

  it("keeps at most maxCallers buckets, dropping the least recently used", () => {
    const r = new Ration(1, 2);
    expect(r.take("a", 0)).toBe(0);
    expect(r.take("b", 0)).toBe(0);
    expect(r.take("c", 0)).toBe(0);
    // "a" was dropped: it starts again with a full ration; "c" is still kept.
    expect(r.take("a", 0)).toBe(0);
    expect(r.take("c", 0)).toBe(60);
  });
});
