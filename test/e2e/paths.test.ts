/**
 * SPEC section 3 against the built bundle: scope is judged on what the origin serves
 * (ORIGIN_URL's base path + the client's path) and a path that climbs above the root under
 * any reading is answered 400 before any origin sees it. The origin here is the lenient
 * kind the issue was found with: it percent-decodes (`%2F` included, repeatedly), reads
 * `\` as `/` and `..;` as `..`, resolves dot segments and ignores case, and records every
 * path it would serve.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { connect } from "node:net";
import { posix } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { livePolicy } from "../fixtures/policies";
import { type GateRequestInit, startGate, type TestGate } from "./harness";

interface Served {
  /** The request target as received. */
  target: string;
  /** Every path a lenient origin might serve for it. */
  readings: string[];
}

/** Every way a lenient origin reads a target (Node's own decoder and normaliser, not the gate's). */
function readings(target: string): string[] {
  const raw = target.split("?", 1)[0]!;
  const decoded = [raw];
  for (let i = 0; i < 4; i++) {
    const last = decoded[decoded.length - 1]!;
    let next: string;
    try {
      next = decodeURIComponent(last);
    } catch {
      next = last.replace(/%[0-7][0-9a-f]/gi, (e) => String.fromCharCode(Number.parseInt(e.slice(1), 16)));
    }
    if (next === last) break;
    decoded.push(next);
  }
  const out = new Set<string>();
  for (const path of decoded) {
    const slashed = path.replaceAll("\\", "/");
    out.add(posix.normalize(slashed).toLowerCase());
    out.add(posix.normalize(slashed.replace(/;[^/]*/g, "")).toLowerCase());
  }
  return [...out];
}

async function lenientOrigin() {
  const seen: Served[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const target = req.url ?? "/";
    seen.push({ target, readings: readings(target) });
    req.resume();
    req.on("end", () =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ target })),
    );
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The policy's scope (include `/v1/`, exclude `/v1/health`), on a path relative to the base. */
const judged = (path: string) =>
  (path.startsWith("/v1/") || path === "/v1") && !path.startsWith("/v1/health");

/** One request over a raw socket, so the target reaches miniflare exactly as written. */
function rawGet(gateUrl: string, target: string, country: string): Promise<number> {
  const { hostname, port } = new URL(gateUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () =>
      socket.write(
        `GET ${target} HTTP/1.1\r\nHost: gate.test\r\nMF-CF-Blob: {"country":"${country}"}\r\nConnection: close\r\n\r\n`,
      ),
    );
    let head = "";
    socket.on("data", (c: Buffer) => {
      head += c.toString("latin1");
      if (!head.includes("\r\n")) return;
      // The status line is all this needs; miniflare may keep the socket open a while.
      resolve(Number(head.split(" ")[1]));
      socket.destroy();
    });
    socket.on("error", reject);
  });
}

let origin: Awaited<ReturnType<typeof lenientOrigin>>;
let withBase: TestGate;
let routeMode: TestGate;
let failOpen: TestGate;

beforeAll(async () => {
  origin = await lenientOrigin();
  const policy = livePolicy();
  [withBase, routeMode, failOpen] = await Promise.all([
    startGate({ originUrl: `${origin.url}/api`, policy }),
    startGate({ upstream: origin.url, policy }),
    startGate({ originUrl: `${origin.url}/api`, policy: null, bindings: { FAIL_MODE: "open" } }),
  ]);
});

afterAll(async () => {
  await Promise.all([withBase?.dispose(), routeMode?.dispose(), failOpen?.dispose()]);
  await origin?.close();
});

const GATES = [
  { mode: "ORIGIN_URL with base path /api", gate: () => withBase, base: "/api" },
  { mode: "route mode", gate: () => routeMode, base: "" },
];

async function send(gate: TestGate, path: string, init: GateRequestInit) {
  const before = origin.seen.length;
  // Absolute, so that a path such as `//v1` is not read as a protocol-relative URL.
  const res = await gate.fetch(`${gate.url}${path}`, init);
  const body = await res.text();
  return { status: res.status, body, reached: origin.seen.slice(before) };
}

describe.each(GATES)("$mode", ({ gate, base }) => {
  test("the reported request: CN's /..%2Fapi%2Fv1%2Fchat is refused and reaches no origin", async () => {
    const { status, body, reached } = await send(gate(), "/..%2Fapi%2Fv1%2Fchat", { cf: { country: "CN" } });
    expect(status).toBe(400);
    expect(JSON.parse(body)).toEqual({
      error: {
        message: expect.stringContaining("climbs above the root"),
        type: "invalid_request_error",
        param: null,
        code: "invalid_request_path",
      },
    });
    expect(reached).toEqual([]);
  });

  test("JP's request reaches the origin under the base path, byte for byte", async () => {
    const { status, reached } = await send(gate(), "/v1/files/a%2Fb?x=%2F", { cf: { country: "JP" } });
    expect(status).toBe(200);
    expect(reached.map((r) => r.target)).toEqual([`${base}/v1/files/a%2Fb?x=%2F`]);
  });

  test("literal dot segments are resolved before the gate, which judges what it forwards", async () => {
    expect(await rawGet(gate().url, "/x/../v1/chat", "CN")).toBe(403);
    expect(await rawGet(gate().url, "/../../v1/chat", "CN")).toBe(403);
    const before = origin.seen.length;
    expect(await rawGet(gate().url, "/../status", "CN")).toBe(200);
    expect(origin.seen.slice(before).map((r) => r.target)).toEqual([`${base}/status`]);
  });

  test("the admin prefix is answered by the admin API, never proxied, however the path climbs", async () => {
    for (const path of ["/__region-gate/..%2F..%2Fv1/chat", "/__region-gate/x/..;/..;/policy"]) {
      const { status, reached } = await send(gate(), path, { cf: { country: "JP" } });
      expect([401, 404]).toContain(status);
      expect(reached).toEqual([]);
    }
    const { status } = await send(gate(), "/..%2F__region-gate/policy", { cf: { country: "JP" } });
    expect(status).toBe(400);
  });

  test("property: whatever path CN sends, no origin reading of it is in scope or outside the base path", async () => {
    const segment = fc.constantFrom(
      "v1",
      "V1",
      "chat",
      "health",
      "api",
      "x",
      "..",
      ".",
      "%2e%2e",
      ".%2E",
      "..;",
      "",
      "%2F",
      "..%2F",
      "%2e%2e%2f",
      "%252e%252e%252f",
      "%5C..%5C",
      "v1%2Fchat",
      "%76%31",
      "a;b=c",
      "%ff",
    );
    const path = fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => `/${s.join("/")}`);
    await fc.assert(
      fc.asyncProperty(path, async (p) => {
        const { status, reached } = await send(gate(), p, { cf: { country: "CN" } });
        expect([200, 400, 403]).toContain(status);
        if (status !== 200) expect(reached).toEqual([]);
        for (const r of reached.flatMap((s) => s.readings)) {
          expect(r === base || r.startsWith(`${base}/`)).toBe(true);
          expect(judged(r.slice(base.length) || "/")).toBe(false);
        }
      }),
      { numRuns: 100 },
    );
  });
});

test("a climbing path is refused even when no policy is loaded and FAIL_MODE=open", async () => {
  const { status, reached } = await send(failOpen, "/..%2Fapi%2Fv1%2Fchat", { cf: { country: "JP" } });
  expect(status).toBe(400);
  expect(reached).toEqual([]);
  // The same gate forwards a plain path (fail open), so the 400 is the path's doing.
  expect((await send(failOpen, "/v1/chat", { cf: { country: "JP" } })).status).toBe(200);
});
