/**
 * A policy with 20,000 IPv6 CIDR exemptions (issue 9 item 11) loads and decides through
 * the real gate: exact matches exempt, near misses are blocked, IPv4 clients are judged
 * by the IPv4 part of the table. Speed is measured in bench/decision-bench.ts.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { invalidatePolicy } from "../../src/store/store";
import { livePolicy } from "../fixtures/policies";
import { call } from "./call";

const blocks = Array.from(
  { length: 20_000 },
  (_, i) => `2400:${(i >> 8).toString(16)}:${((i & 255) << 8).toString(16)}::/40`,
);

async function fromCn(ip: string): Promise<string | null> {
  const res = await call("/v1/chat", {
    cf: { country: "CN" },
    headers: { "cf-connecting-ip": ip },
    env: { EXPOSURE_LEDGER: "off" },
    wait: true,
  });
  await res.arrayBuffer();
  return res.headers.get("x-region-gate-decision");
}

describe("20,000 IPv6 CIDR exemptions", () => {
  it("exempt exactly the addresses inside them", async () => {
    const exemptions = [...blocks.map((cidr) => ({ cidr })), { cidr: "198.51.100.0/24" }];
    await env.POLICY.put("policy", JSON.stringify(livePolicy({ version: "cidrs.1", exemptions })));
    invalidatePolicy();
    expect(await fromCn("2400:0:0::1")).toBe("exempt");
    expect(await fromCn("2400:4e:1fff:ffff::1")).toBe("exempt"); // inside the last block
    expect(await fromCn("2400:4e:2000::1")).toBe("block"); // just past it
    expect(await fromCn("2a00:1450::1")).toBe("block");
    expect(await fromCn("198.51.100.9")).toBe("exempt");
    expect(await fromCn("::ffff:198.51.100.9")).toBe("exempt");
    expect(await fromCn("203.0.113.7")).toBe("block");
  });
});
