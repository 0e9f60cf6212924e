/**
 * Networks against the built bundle (SPEC sections 3 and 4): a request from a supported
 * region through an unsupported network gets the gate's 403 `unsupported_network` with
 * the policy's `networkMessage`, before the origin sees it; one in a network's warn window
 * reaches the origin, and the client gets `Sunset` and `Deprecation`.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { PolicyDocument } from "../../src/policy/schema";
import { livePolicy } from "../fixtures/policies";
import { type OriginRecord, startGate, startOrigin, type TestGate, type TestOrigin } from "./harness";

const DAY = 86_400_000;
const at = (offsetDays: number) => new Date(Date.now() + offsetDays * DAY).toISOString();

const base = livePolicy();
const policy: PolicyDocument = {
  ...base,
  enforcement: {
    ...base.enforcement,
    networks: {
      AS60068: { blockFrom: at(-1) },
      vpn: { warnFrom: at(-3), blockFrom: at(30) },
    },
  },
  networks: { classes: { cloud: [16509], vpn: [9009] }, unsupported: ["AS60068", "vpn"] },
  error: { ...base.error, networkMessage: "Network not supported here" },
};

let origin: TestOrigin;
let gate: TestGate;

beforeAll(async () => {
  origin = await startOrigin();
  gate = await startGate({ originUrl: origin.url, policy });
});

afterAll(async () => {
  await gate?.dispose();
  await origin?.close();
});

describe("networks in the built bundle", () => {
  test("blocks a supported region through an unsupported network with 403 unsupported_network", async () => {
    const before = origin.seen.length;
    const res = await gate.fetch("/v1/chat/completions", {
      method: "POST",
      body: "{}",
      cf: { country: "JP", asn: 60068, asOrganization: "Datacamp Limited" },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-region-gate-decision")).toBe("block");
    expect(res.headers.get("x-region-gate-region")).toBe("AS60068");
    expect(res.headers.get("x-region-gate-policy")).toBe("live.1");
    expect(res.headers.get("link")).toBe('<https://example.com/supported-countries>; rel="help"');
    expect(await res.text()).toBe(
      '{"error":{"message":"Network not supported here","type":"request_forbidden","param":null,"code":"unsupported_network"}}',
    );
    expect(origin.seen.length).toBe(before);
  });

  test("warns through a network in its warn window: Sunset and Deprecation to the client, AS<number> to the origin", async () => {
    const res = await gate.fetch("/v1/models", { cf: { country: "JP", asn: 9009 } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-region-gate-decision")).toBe("warn");
    const vpn = policy.enforcement!.networks!.vpn!;
    expect(res.headers.get("sunset")).toBe(new Date(vpn.blockFrom!).toUTCString());
    expect(res.headers.get("deprecation")).toBe(`@${Math.floor(Date.parse(vpn.warnFrom!) / 1000)}`);
    const seen = (await res.json()) as OriginRecord;
    expect(seen.headers["x-region-gate-region"]).toBe("AS9009");
    expect(seen.headers["x-region-gate-decision"]).toBe("warn");
  });

  test("passes a network that a class only labels, unchanged", async () => {
    const res = await gate.fetch("/v1/models", {
      cf: { country: "JP", asn: 16509, asOrganization: "Amazon.com" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-region-gate-decision")).toBeNull();
    await res.arrayBuffer();
  });
});
