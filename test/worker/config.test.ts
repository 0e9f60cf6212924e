import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ExposureLedger } from "../../src/control/ledger/ledger-do";
import { shardStub } from "../../src/exposure/model";
import { ConfigError, type GateEnv, readConfig } from "../../src/platform/config";
import { livePolicy } from "../fixtures/policies";
import { call, captureLogs } from "./call";

beforeAll(async () => {
  await env.POLICY.put("policy", JSON.stringify(livePolicy()));
});
afterEach(() => vi.restoreAllMocks());

async function gate(url: string, overrides: Record<string, unknown>) {
  const res = await call(url, {
    cf: { country: "JP" },
    env: { EXPOSURE_LEDGER: "off", ...overrides },
    wait: true,
  });
  return res;
}

describe("deployment modes and vars", () => {
  it("route mode (ORIGIN_URL unset) sends the request on to its own URL", async () => {
    const res = await gate("https://api.example.com/v1/models?q=1", { ORIGIN_URL: undefined });
    const seen = (await res.json()) as { url: string };
    expect(seen.url).toBe("https://api.example.com/v1/models?q=1");
  });

  it("ORIGIN_URL with a base path prefixes the client's path", async () => {
    const res = await gate("https://api.example.com/v1/models?q=1", {
      ORIGIN_URL: "https://internal.test/base/",
    });
    const seen = (await res.json()) as { url: string };
    expect(seen.url).toBe("https://internal.test/base/v1/models?q=1");
  });

  it("sends ORIGIN_AUTH_SECRET to the origin as x-region-gate-auth", async () => {
    const res = await gate("https://gate.test/v1/models", { ORIGIN_AUTH_SECRET: "s3cret" });
    const seen = (await res.json()) as { headers: Record<string, string> };
    expect(seen.headers["x-region-gate-auth"]).toBe("s3cret");
  });

  it.each([
    ["FAIL_MODE", "maybe"],
    ["ORIGIN_URL", "not a url"],
    ["ORIGIN_TIMEOUT_MS", "soon"],
  ])("a malformed %s fails loudly with a 500 naming the var", async (name, value) => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await gate("https://gate.test/v1/models", { [name]: value });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("region_gate_error");
    expect(errors.mock.calls.flat().join("\n")).toContain(name);
  });
});

/** Every numeric var of SPEC section 1 and wrangler.toml. */
const NUMERIC_VARS = [
  "POLICY_CACHE_SECONDS",
  "ORIGIN_TIMEOUT_MS",
  "EXPOSURE_RETENTION_DAYS",
  "EXPOSURE_FLUSH_SECONDS",
  "EXPOSURE_MAX_CUSTOMERS",
  "EXPOSURE_SHARD_CALLS_PER_SECOND",
] as const;

/** The ConfigError `readConfig` throws for `bad`, as its message. */
function configErrorOf(bad: GateEnv): string {
  try {
    readConfig(bad);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error("readConfig accepted a malformed var");
}

describe("one schema for every var", () => {
  it.each(NUMERIC_VARS.flatMap((name) => ["soon", "-1", "Infinity"].map((value) => [name, value])))(
    "a malformed %s (%s) throws the same ConfigError from the gate, the admin API and the ledger's object",
    async (name, value) => {
      const bad: GateEnv = { ...env, [name]: value };
      const message = configErrorOf(bad);
      expect(message).toContain(`${name}=${JSON.stringify(value)} must be a`);
      expect(message).toMatch(/e\.g\. "\d+"/); // says what a good value looks like

      const logs = captureLogs();
      // The gate and the admin API: the contract's 500, the fix in the log.
      for (const path of ["/v1/models", "/__region-gate/healthz"]) {
        const res = await call(path, { cf: { country: "CN" }, env: { [name]: value }, wait: true });
        expect(res.status).toBe(500);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("region_gate_error");
      }
      // (The recorder takes the gate's parsed settings with each event: it never reads a var.)
      const events = logs.events();
      expect(events.filter((e) => e.event === "config_invalid").map((e) => e.error)).toEqual([
        message,
        message,
      ]);

      // The ledger's Durable Object, on a flush and on its retention alarm.
      await runInDurableObject(shardStub(env, 0), async (_, state) => {
        const shard = new ExposureLedger(state, bad);
        await expect(shard.record("config-batch", [])).rejects.toThrow(message);
        await expect(shard.alarm()).rejects.toThrow(message);
      });
    },
  );

  it("parses once: a fresh env object with the same values gets the same config", () => {
    const config = readConfig({ ...env });
    expect(readConfig({ ...env })).toBe(config);
    expect(readConfig({ ...env, POLICY_CACHE_SECONDS: "31" })).not.toBe(config);
  });

  it("reads unset vars as wrangler.toml's defaults, and optional secrets as absent", () => {
    const bare = { POLICY: env.POLICY, EXPOSURE: env.EXPOSURE } as GateEnv;
    expect(readConfig(bare)).toEqual({
      originBase: null,
      policyCacheMs: 30_000,
      failOpen: false,
      originTimeoutMs: 30_000,
      selfCheck: true,
      ledger: {
        enabled: true,
        retentionDays: 400,
        flushMs: 5000,
        maxCustomers: 10_000,
        shardCallsPerSecond: 100,
      },
    });
  });

  it.each([
    ["FAIL_MODE", "maybe", '"closed" or "open"'],
    ["SELF_CHECK", "no", '"true" or "false"'],
    ["EXPOSURE_LEDGER", "disabled", '"on" or "off"'],
    ["ORIGIN_URL", "api.internal", "absolute URL"],
  ])("a malformed %s (%s) names the values it takes", (name, value, hint) => {
    const message = configErrorOf({ ...env, [name]: value });
    expect(message).toContain(`${name}=${JSON.stringify(value)}`);
    expect(message).toContain(hint);
  });
});
