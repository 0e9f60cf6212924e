/**
 * The built bundle (`wrangler deploy --dry-run`) under miniflare, in front of a real
 * Node origin on 127.0.0.1: what crosses the wire in both directions (SPEC sections 4–5).
 */
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { livePolicy } from "../fixtures/policies";
import {
  type OriginRecord,
  refusingPort,
  startGate,
  startOrigin,
  type TestGate,
  type TestOrigin,
} from "./harness";

const BLOCK_BODY =
  '{"error":{"message":"Country, region, or territory not supported","type":"request_forbidden","param":null,"code":"unsupported_country_region_territory"}}';
const JP = { country: "JP" } as const;

let origin: TestOrigin;
let gate: TestGate;

beforeAll(async () => {
  origin = await startOrigin();
  gate = await startGate({ originUrl: origin.url, policy: livePolicy() });
});
afterAll(async () => {
  await gate?.dispose();
  await origin?.close();
});

/** Fails fast, with a reason, where a buffering gate would make the test hang. */
function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)),
  ]);
}

/** The origin's echo of the last request, as returned through the gate. */
async function echoed(res: Response): Promise<OriginRecord> {
  expect(res.status).toBe(200);
  return (await res.json()) as OriginRecord;
}

describe("the dry-run bundle", () => {
  test("loads under miniflare, passes JP to the origin and reports the seeded policy", async () => {
    const pass = await gate.fetch("/v1/models", { cf: JP });
    expect((await echoed(pass)).path).toBe("/v1/models");
    // Healthz reports what the isolate loaded; the request above made it load the policy.
    const res = await gate.fetch("/__region-gate/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, policyVersion: "live.1" });
  });

  test("blocks CN with the exact 403 before the origin sees anything", async () => {
    const before = origin.seen.length;
    const res = await gate.fetch("/v1/chat/completions", {
      method: "POST",
      body: "{}",
      cf: { country: "CN" },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-region-gate-decision")).toBe("block");
    expect(res.headers.get("x-region-gate-region")).toBe("CN");
    expect(await res.text()).toBe(BLOCK_BODY);
    expect(origin.seen.length).toBe(before);
  });

  test("takes request.cf from dispatchFetch's cf as well as from the MF-CF-Blob header", async () => {
    const viaDispatch = await gate.mf.dispatchFetch(`${gate.url}/v1/models`, { cf: { country: "CN" } });
    expect(viaDispatch.status).toBe(403);
    await viaDispatch.arrayBuffer();
    const pass = await gate.mf.dispatchFetch(`${gate.url}/v1/models`, { cf: { country: "JP" } });
    expect(pass.status).toBe(200);
    await pass.arrayBuffer();
  });

  test("adds Sunset and the warn decision to the origin's answer for a region in its warn window", async () => {
    const res = await gate.fetch("/v1/models", { cf: { country: "VE" } });
    expect(res.headers.get("x-region-gate-decision")).toBe("warn");
    expect(res.headers.get("sunset")).toMatch(/^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);
    expect(res.headers.get("x-origin")).toBe("test");
    expect((await echoed(res)).headers["x-region-gate-decision"]).toBe("warn");
  });
});

describe("what the origin receives", () => {
  test("method, path and query arrive as the client sent them", async () => {
    const target = "/v1/files/a%20b/c?z=1&a=2&a=3&empty=&q=%C3%A9";
    const res = await gate.fetch(target, { method: "PATCH", body: "x", cf: JP });
    const seen = await echoed(res);
    expect(seen.method).toBe("PATCH");
    expect(seen.target).toBe(target);
  });

  test("a 20 MB upload streams through byte-identical, before the client has sent it all", async () => {
    const size = 20 * 1024 * 1024;
    const payload = randomBytes(size);
    const chunk = 256 * 1024;
    let offset = 0;
    let sentWhenOriginStarted = -1;
    const originStarted = once(origin.events, "body-start").then(() => {
      sentWhenOriginStarted = offset;
    });
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (offset === chunk) {
          // Hold the rest back until the origin has bytes: a buffering gate would never get here.
          await originStarted;
        }
        if (offset >= size) return controller.close();
        controller.enqueue(payload.subarray(offset, offset + chunk));
        offset += chunk;
      },
    });
    const res = await within(
      15_000,
      gate.fetch("/v1/upload", {
        method: "POST",
        body,
        headers: { "content-type": "application/octet-stream" },
        cf: JP,
        duplex: "half",
      }),
      "the origin received no upload bytes before the client finished (request body buffered?)",
    );
    const seen = await echoed(res);
    expect(seen.bodyLength).toBe(size);
    expect(seen.bodySha256).toBe(createHash("sha256").update(payload).digest("hex"));
    expect(sentWhenOriginStarted).toBeGreaterThan(0);
    expect(sentWhenOriginStarted).toBeLessThan(size);
  });

  test("gate headers are added, spoofed x-region-gate-* and hop-by-hop headers are not forwarded", async () => {
    const status = await rawRequest(gate.url, "/v1/models", {
      Connection: "keep-alive, x-hop-listed",
      "X-Hop-Listed": "1",
      "Keep-Alive": "timeout=5",
      TE: "trailers",
      "Proxy-Authorization": "Basic Zm9vOmJhcg==",
      "X-Region-Gate-Decision": "pass",
      "X-Region-Gate-Country": "US",
      "X-Region-Gate-Auth": "forged",
      "CF-IPCountry": "US",
      Authorization: "Bearer sk-test-123",
      "OpenAI-Organization": "org-42",
      "MF-CF-Blob": JSON.stringify({ country: "UA", regionCode: "30" }),
    });
    expect(status).toBe(200);
    const seen = origin.seen.at(-1)!;
    expect(seen.path).toBe("/v1/models");
    const h = seen.headers;
    expect(h["x-region-gate-decision"]).toBe("pass");
    expect(h["x-region-gate-country"]).toBe("UA");
    expect(h["x-region-gate-region"]).toBe("UA-30");
    expect(h["x-region-gate-policy"]).toBe("live.1");
    expect(h["x-region-gate-auth"]).toBeUndefined();
    expect(h["cf-ipcountry"]).toBe("UA");
    for (const hop of ["x-hop-listed", "keep-alive", "te", "proxy-authorization"]) {
      expect(h[hop], hop).toBeUndefined();
    }
    expect(h.authorization).toBe("Bearer sk-test-123");
    expect(h["openai-organization"]).toBe("org-42");
    // Each gate header exactly once: the client's copies were dropped, not appended to.
    const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect(names.filter((n) => n.startsWith("x-region-gate-")).sort()).toEqual([
      "x-region-gate-country",
      "x-region-gate-decision",
      "x-region-gate-policy",
      "x-region-gate-region",
    ]);
  });
});

describe("what the client receives", () => {
  test("server-sent events arrive one by one while the origin is still writing", async () => {
    let text = "";
    const res = await within(
      10_000,
      gate.fetch("/v1/sse?n=3", { cf: JP }),
      "no SSE response headers while the origin waits (response buffered?)",
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const firstEvent = async () => {
      while (!text.includes("data: event 1\n\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before the first event: ${JSON.stringify(text)}`);
        text += value;
      }
    };
    await within(10_000, firstEvent(), "no first SSE event while the origin waits (response buffered?)");
    // The origin has written one event and is waiting for us: nothing was held back.
    expect(origin.sse).toEqual({ sent: 1, finished: false });
    expect(text).not.toContain("event 2");
    origin.releaseSse();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    expect(text).toBe("id: 1\ndata: event 1\n\nid: 2\ndata: event 2\n\nid: 3\ndata: event 3\n\n");
    expect(origin.sse.finished).toBe(true);
  });

  test("redirects come back to the client instead of being followed", async () => {
    const res = await gate.fetch("/v1/redirect", { cf: JP });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://elsewhere.example/");
  });

  test("a WebSocket upgrade passes through to the origin and back", async () => {
    const res = await gate.mf.dispatchFetch(`${gate.url}/v1/ws`, {
      headers: { Upgrade: "websocket" },
      cf: JP,
    });
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    ws.accept();
    const reply = new Promise<string>((resolve) => {
      ws.addEventListener("message", (event) => resolve(String(event.data)));
    });
    ws.send("hello");
    expect(await reply).toBe("echo:hello");
    ws.close(1000, "done");
    const seen = origin.seen.at(-1)!;
    expect(seen.path).toBe("/v1/ws");
    expect(seen.headers["x-region-gate-decision"]).toBe("pass");
  });
});

describe("origin failures and ORIGIN_AUTH_SECRET", () => {
  let strict: TestGate;
  let orphan: TestGate;
  beforeAll(async () => {
    strict = await startGate({
      originUrl: origin.url,
      policy: livePolicy(),
      bindings: { ORIGIN_TIMEOUT_MS: "300", ORIGIN_AUTH_SECRET: "origin-shared-secret" },
    });
    orphan = await startGate({ originUrl: `http://127.0.0.1:${await refusingPort()}`, policy: livePolicy() });
  });
  afterAll(async () => {
    await strict?.dispose();
    await orphan?.dispose();
  });

  test("an origin that refuses connections gets 502 origin_unreachable", async () => {
    const res = await orphan.fetch("/v1/models", { cf: JP });
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: { type: "server_error", code: "origin_unreachable" } });
  });

  test("an origin that sends no headers within ORIGIN_TIMEOUT_MS gets 504 origin_timeout", async () => {
    const started = performance.now();
    const res = await strict.fetch("/v1/silent", { cf: JP });
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ error: { type: "server_error", code: "origin_timeout" } });
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test("a body that takes longer than ORIGIN_TIMEOUT_MS is not cut once headers arrived", async () => {
    const res = await strict.fetch("/v1/slow-body?chunks=3&every=200", { cf: JP });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("chunk 1\nchunk 2\nchunk 3\n");
  });

  test("the origin gets x-region-gate-auth from the secret, never the client's copy", async () => {
    const res = await strict.fetch("/v1/models", {
      cf: JP,
      headers: { "x-region-gate-auth": "forged" },
    });
    const seen = await echoed(res);
    expect(seen.headers["x-region-gate-auth"]).toBe("origin-shared-secret");
  });
});

/** A request over node:http, which (unlike fetch) sends hop-by-hop headers as given. */
function rawRequest(base: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}
