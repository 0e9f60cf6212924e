/**
 * The hand-over between the two Workers (SPEC section 1): the gate's entry sends every
 * request under `/__region-gate` to the control plane through its CONTROL service binding
 * (here a real binding to the control plane's entry, ./planes-entry.ts), never judges
 * it and never sends it to the origin; without the binding those paths answer 404.
 */
import { createExecutionContext, env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import gate from "../../src/gate/index";
import { livePolicy } from "../fixtures/policies";
import { type Call, incoming, TOKEN } from "./call";

beforeAll(async () => {
  await env.POLICY.put("policy", JSON.stringify(livePolicy({ version: "planes.1" })));
});

/** Through the gate's own entry, with its real CONTROL binding unless `bindings` replace it. */
const viaGate = (path: string, c: Call = {}, bindings: Record<string, unknown> = {}) =>
  gate.fetch(incoming(path, c), { ...env, ...bindings }, createExecutionContext());

describe("the gate hands the admin prefix to the control plane", () => {
  it("answers /__region-gate/healthz from the control plane, not the origin", async () => {
    const res = await viaGate("/__region-gate/healthz", { cf: { country: "CN" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-origin")).toBeNull();
    expect(res.headers.get("x-region-gate-decision")).toBeNull();
    expect(await res.json()).toMatchObject({ ok: true, policyVersion: "planes.1" });
  });

  it("carries the method, headers, body and request.cf across the binding", async () => {
    const policy = await viaGate("/__region-gate/policy", { token: TOKEN });
    expect(policy.status).toBe(200);
    expect(await policy.json()).toMatchObject({ version: "planes.1" });

    const check = await viaGate("/__region-gate/check", {
      cf: { country: "CN", regionCode: "BJ" },
      headers: { accept: "application/json" },
    });
    expect(check.status).toBe(200);
    expect(await check.json()).toMatchObject({ country: "CN", decision: "block" });

    const validate = await viaGate("/__region-gate/policy/validate", {
      method: "POST",
      token: TOKEN,
      body: { schema: 1 },
    });
    expect(validate.status).toBe(422);
  });

  it("answers 404 under the prefix without the CONTROL binding, and never forwards it", async () => {
    for (const path of ["/__region-gate", "/__region-gate/healthz", "/__region-gate/dashboard/"]) {
      const res = await viaGate(path, { cf: { country: "JP" } }, { CONTROL: undefined });
      expect(res.status, path).toBe(404);
      expect(res.headers.get("x-origin"), path).toBeNull();
      expect(await res.json(), path).toMatchObject({ error: { code: "not_found" } });
    }
  });

  it("keeps a path that only starts with the prefix's letters on the gate's side", async () => {
    // Out of the fixture policy's scope (`/v1/`), so the gate forwards it to the origin.
    const res = await viaGate("/__region-gatex", { cf: { country: "CN" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-origin")).toBe("echo");
  });
});
