/**
 * SPEC section 5 header hygiene and `Expect: 100-continue`, over real HTTP against the
 * built bundle under miniflare (issue 9 items 5, 6 and 10).
 */
import { createHash, randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { livePolicy } from "../fixtures/policies";
import { type OriginRecord, startGate, startOrigin, type TestGate, type TestOrigin } from "./harness";

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

interface RawAnswer {
  status: number;
  body: string;
}

/**
 * A request over node:http, which sends headers as given (fetch drops hop-by-hop ones).
 * With `Expect: 100-continue` it behaves as curl does: the body is written on `100
 * Continue`, or after 1 s without one (RFC 9110 section 10.1.1 lets a client go on;
 * workerd's local HTTP server never sends 100, Cloudflare's front line does), and not at
 * all when a final answer comes first.
 */
function raw(path: string, headers: Record<string, string>, body?: Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let sent = false;
    let answered = false;
    const req = httpRequest(new URL(path, gate.url), { method: body ? "POST" : "GET", headers }, (res) => {
      const early = !sent;
      answered = true;
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        text += d;
      });
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body: text });
        if (early) req.destroy();
      });
    });
    const send = () => {
      if (sent || answered) return;
      sent = true;
      req.end(body);
    };
    req.on("continue", send);
    req.on("error", (e) => {
      if (!answered) reject(e);
    });
    if (headers.Expect === "100-continue") {
      req.flushHeaders();
      setTimeout(send, 1000);
    } else send();
  });
}

function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)),
  ]);
}

const JP = JSON.stringify({ country: "JP" });
const CN = JSON.stringify({ country: "CN" });

describe("Expect: 100-continue uploads", () => {
  const payload = randomBytes(2 * 1024 * 1024);
  const sha256 = createHash("sha256").update(payload).digest("hex");
  const headers = (blob: string) => ({
    Expect: "100-continue",
    "Content-Type": "application/octet-stream",
    "Content-Length": String(payload.length),
    "MF-CF-Blob": blob,
  });

  test("from JP the body reaches the origin whole and the client gets the origin's answer", async () => {
    const res = await within(15_000, raw("/v1/files", headers(JP), payload), "no answer to an Expect upload");
    expect(res.status, res.body).toBe(200);
    const seen = JSON.parse(res.body) as OriginRecord;
    expect(seen.bodyLength).toBe(payload.length);
    expect(seen.bodySha256).toBe(sha256);
    expect(seen.headers.expect).toBeUndefined();
  });

  test("from CN the client gets the 403 and the origin nothing", async () => {
    const before = origin.seen.length;
    const res = await within(15_000, raw("/v1/files", headers(CN), payload), "no answer to an Expect upload");
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: "unsupported_country_region_territory" } });
    expect(origin.seen.length).toBe(before);
  });
});

describe("headers that name another path or host (SPEC section 5)", () => {
  test("path overrides are removed; X-Forwarded-Host/Proto say what the edge received", async () => {
    const res = await raw("/status", {
      "X-Original-URL": "/v1/chat/completions",
      "X-Rewrite-URL": "/v1/chat/completions",
      "X-Forwarded-Prefix": "/v1",
      "X-Forwarded-Host": "evil.example",
      "X-Forwarded-Proto": "https",
      "MF-CF-Blob": CN,
    });
    // Out of scope, so CN reaches the origin: without the overrides it serves /status only.
    expect(res.status, res.body).toBe(200);
    const seen = JSON.parse(res.body) as OriginRecord;
    expect(seen.headers["x-region-gate-decision"]).toBe("out_of_scope");
    for (const name of ["x-original-url", "x-rewrite-url", "x-forwarded-prefix"]) {
      expect(seen.headers[name], name).toBeUndefined();
    }
    const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect(names.filter((n) => n === "x-forwarded-host" || n === "x-forwarded-proto")).toHaveLength(2);
    expect(seen.headers["x-forwarded-host"]).toBe(new URL(gate.url).host);
    expect(seen.headers["x-forwarded-proto"]).toBe("http");
  });

  /** SPEC section 5: every header that tells an origin another path, host, port or scheme. */
  const OVERRIDES: Record<string, string> = {
    "X-Original-URL": "/v1/chat/completions",
    "X-Rewrite-URL": "/v1/chat/completions",
    "X-Forwarded-Prefix": "/v1",
    "X-Forwarded-Uri": "/v1/chat/completions",
    "X-Original-URI": "/v1/chat/completions",
    "X-Original-Path": "/v1/chat/completions",
    "X-Forwarded-Path": "/v1/chat/completions",
    "X-Envoy-Original-Path": "/v1/chat/completions",
    "X-Host": "evil.example",
    "X-Forwarded-Server": "evil.example",
    "X-Forwarded-Port": "8443",
    "X-Forwarded-Scheme": "https",
    "X-Forwarded-Ssl": "on",
    "X-Url-Scheme": "https",
    "Front-End-Https": "on",
    Forwarded: "for=203.0.113.9;host=evil.example;proto=https",
  };

  test.each([
    ["/status", "out_of_scope", JSON.stringify({ country: "CN" })],
    ["/v1/models", "pass", JP],
  ])(
    "every override header of SPEC section 5 is removed (%s, %s); X-Forwarded-For is the edge's address",
    async (path, decision, blob) => {
      const res = await raw(path, {
        ...OVERRIDES,
        "X-Forwarded-For": "203.0.113.9, 198.51.100.7",
        "MF-CF-Blob": blob,
      });
      expect(res.status, res.body).toBe(200);
      const seen = JSON.parse(res.body) as OriginRecord;
      expect(seen.headers["x-region-gate-decision"]).toBe(decision);
      const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
      for (const name of Object.keys(OVERRIDES)) {
        expect(names, name).not.toContain(name.toLowerCase());
      }
      expect(seen.headers["x-forwarded-for"]).toBe("127.0.0.1");
      expect(seen.headers.host).toBe(new URL(origin.url).host);
    },
  );

  test("a client cannot strip the headers the edge and the gate vouch for by listing them in Connection", async () => {
    const vouched = [
      "cf-connecting-ip",
      "cf-ipcountry",
      "x-forwarded-for",
      "x-forwarded-host",
      "x-forwarded-proto",
      "x-region-gate-decision",
      "x-region-gate-country",
      "x-region-gate-region",
      "x-region-gate-policy",
    ];
    const res = await raw("/v1/models", {
      Connection: `close, ${vouched.join(", ")}, x-hop-listed`,
      "X-Hop-Listed": "1",
      "MF-CF-Blob": JSON.stringify({ country: "UA", regionCode: "30" }),
    });
    expect(res.status, res.body).toBe(200);
    const h = (JSON.parse(res.body) as OriginRecord).headers;
    expect(h["x-hop-listed"]).toBeUndefined();
    // workerd keeps CF-Connecting-IP off outbound requests (test/worker/gate.test.ts sees it).
    expect(h).toMatchObject({
      "x-forwarded-for": "127.0.0.1",
      "cf-ipcountry": "UA",
      "x-forwarded-host": new URL(gate.url).host,
      "x-forwarded-proto": "http",
      "x-region-gate-decision": "pass",
      "x-region-gate-country": "UA",
      "x-region-gate-region": "UA-30",
      "x-region-gate-policy": "live.1",
    });
  });
});

describe("repeated header lines (SPEC section 5: the request as the client sent it)", () => {
  interface Answer {
    status: number;
    rawHeaders: string[];
    body: string;
  }
  /** node:http with headers as raw lines, so a name can repeat (Node then adds no Host of its own). */
  function lines(path: string, headers: string[]): Promise<Answer> {
    const url = new URL(path, gate.url);
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { headers: ["Host", url.host, ...headers] }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, rawHeaders: res.rawHeaders, body }));
      });
      req.on("error", reject);
      req.end();
    });
  }
  const valuesOf = (raw: string[], name: string) =>
    raw.filter((_, i) => i % 2 === 1 && raw[i - 1]?.toLowerCase() === name);
  const VE = JSON.stringify({ country: "VE" });

  test("Set-Cookie lines stay apart both ways; a warned answer gets the gate's notice headers in place of the origin's", async () => {
    const res = await lines("/v1/cookies", ["Set-Cookie", "x=1", "Set-Cookie", "y=2", "MF-CF-Blob", VE]);
    expect(res.status, res.body).toBe(200);
    const seen = JSON.parse(res.body) as OriginRecord;
    expect(valuesOf(seen.rawHeaders, "set-cookie")).toEqual(["x=1", "y=2"]);
    expect(valuesOf(res.rawHeaders, "set-cookie")).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    expect(valuesOf(res.rawHeaders, "x-region-gate-decision")).toEqual(["warn"]);
    const sunset = valuesOf(res.rawHeaders, "sunset");
    expect(sunset).toHaveLength(1);
    expect(sunset[0]).not.toContain("2099");
    expect(Date.parse(sunset[0] ?? "")).toBeGreaterThan(Date.now());
    expect(valuesOf(res.rawHeaders, "link").join(", ")).toContain('rel="sunset"');
  });

  test("a passed answer comes back as the origin sent it", async () => {
    const res = await lines("/v1/cookies", ["MF-CF-Blob", JP]);
    expect(res.status, res.body).toBe(200);
    expect(valuesOf(res.rawHeaders, "set-cookie")).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    expect(valuesOf(res.rawHeaders, "sunset")).toEqual(["Thu, 01 Jan 2099 00:00:00 GMT"]);
  });
});
