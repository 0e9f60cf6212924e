/**
 * End-to-end harness: the built bundle (`dist/index.js`, made by global-setup.ts) under
 * the `miniflare` package, with real KV and Durable Objects, in front of a real Node HTTP
 * origin on 127.0.0.1.
 *
 * @example
 *   const origin = await startOrigin();
 *   const gate = await startGate({ originUrl: origin.url, policy: livePolicy() });
 *   const res = await gate.fetch("/v1/models", { cf: { country: "CN" } }); // 403
 *   await gate.dispose(); await origin.close();
 *
 * Giving a request its edge facts (`request.cf`): over real HTTP the dev-only `MF-CF-Blob`
 * header carries them and becomes `request.cf` as is (`gate.fetch` sets it from `cf`).
 * `mf.dispatchFetch(url, { cf })` works too but merges `cf` into miniflare's placeholder
 * (country US, regionCode TX), so a `{ country: "CN" }` request arrives as subdivision CN-TX.
 * Without either, the placeholder applies: country US.
 */
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Miniflare } from "miniflare";
import { DIST_CONTROL, DIST_ENTRY } from "./global-setup";

// ---------------------------------------------------------------- origin

/** What the origin received, one entry per request (the body only as length + hash). */
export interface OriginRecord {
  method: string;
  /** The request target as it arrived (path and query, undecoded). */
  target: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage["headers"];
  rawHeaders: string[];
  bodyLength: number;
  bodySha256: string;
}

export interface TestOrigin {
  url: string;
  port: number;
  /** Every request the origin saw, in arrival order. */
  seen: OriginRecord[];
  /**
   * Signals from inside the origin, for tests that prove streaming by ordering rather
   * than by sleeping: `body-start` (first request-body bytes arrived), `sse-sent` (n).
   */
  events: EventEmitter;
  /** State of the current `/v1/sse` response: events written, and whether it ended. */
  sse: { sent: number; finished: boolean };
  /** Lets the current `/v1/sse` response write past its first event. */
  releaseSse(): void;
  close(): Promise<void>;
}

/**
 * Starts the test origin on 127.0.0.1 (free port). Routes:
 * - `/v1/sse?n=N`: event 1, then waits for `releaseSse()`, then events 2..N and ends;
 * - `/v1/silent`: reads the request, never answers;
 * - `/v1/slow-body?chunks=N&every=MS`: headers at once, then a chunk every MS ms;
 * - `/v1/redirect`: 302 to https://elsewhere.example/;
 * - `/v1/cookies`: the `OriginRecord`, with two `Set-Cookie` lines and its own
 *   `x-region-gate-decision` and `Sunset`;
 * - `/v1/ws` (Upgrade: websocket): echoes text frames back prefixed with `echo:`;
 * - anything else: JSON of the `OriginRecord`, written after the body was read and hashed;
 * - with `acceptKeys`, any request whose bearer key is not listed: 401, as an API refusing
 *   an invented key (requests without a key are served as above).
 */
export async function startOrigin(
  options: { record?: boolean; acceptKeys?: readonly string[] | ((key: string) => boolean) } = {},
): Promise<TestOrigin> {
  // `record: false` keeps `seen` empty: the soak sends 200 000 requests.
  const keep = options.record ?? true;
  // An API that checks keys: a bearer key not in `acceptKeys` is refused with 401.
  const list = options.acceptKeys;
  const accepted =
    list === undefined ? null : typeof list === "function" ? list : (key: string) => list.includes(key);
  const seen: OriginRecord[] = [];
  const events = new EventEmitter();
  const sockets = new Set<Socket>();
  let release: () => void = () => {};
  const origin = {
    seen,
    events,
    sse: { sent: 0, finished: false },
    releaseSse: () => release(),
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://origin.local");
    const record: OriginRecord = {
      method: req.method ?? "",
      target: req.url ?? "",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      bodyLength: 0,
      bodySha256: "",
    };
    if (keep) seen.push(record);
    const hash = createHash("sha256");
    const bodyRead = new Promise<void>((resolve, reject) => {
      req.on("data", (chunk: Buffer) => {
        if (record.bodyLength === 0) events.emit("body-start", record);
        record.bodyLength += chunk.length;
        hash.update(chunk);
      });
      req.on("end", () => {
        record.bodySha256 = hash.digest("hex");
        resolve();
      });
      req.on("error", reject);
    });
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
    const route =
      accepted && bearer !== undefined && !accepted(bearer) ? refuseKey : (routes[url.pathname] ?? echo);
    route({ req, res, url, record, bodyRead, origin, setRelease: (fn) => (release = fn) }).catch(
      (err: Error) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(`test origin error: ${err.message}`);
      },
    );
  });
  // Longer than workerd keeps an idle origin connection, so the gate never reuses one the
  // origin is closing (Node's default is 5 s).
  server.keepAliveTimeout = 60_000;
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("upgrade", (req: IncomingMessage, socket: Socket) => {
    sockets.add(socket);
    seen.push({
      method: req.method ?? "",
      target: req.url ?? "",
      path: new URL(req.url ?? "/", "http://origin.local").pathname,
      query: {},
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      bodyLength: 0,
      bodySha256: "",
    });
    acceptWebSocket(req, socket);
  });
  const port = await listen(server);
  return {
    ...origin,
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => closeServer(server, sockets),
  };
}

interface RouteArgs {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  record: OriginRecord;
  bodyRead: Promise<void>;
  origin: { sse: { sent: number; finished: boolean }; events: EventEmitter };
  setRelease(fn: () => void): void;
}

async function echo({ res, record, bodyRead }: RouteArgs): Promise<void> {
  await bodyRead;
  res.writeHead(200, { "content-type": "application/json", "x-origin": "test" });
  res.end(JSON.stringify(record));
}

/** 401, as an API refusing an invented key; the body is the `OriginRecord`, as `echo` writes it. */
async function refuseKey({ res, record, bodyRead }: RouteArgs): Promise<void> {
  await bodyRead;
  res.writeHead(401, { "content-type": "application/json", "x-origin-refused": "invalid_api_key" });
  res.end(JSON.stringify(record));
}

const routes: Record<string, (args: RouteArgs) => Promise<void>> = {
  "/v1/sse": async ({ res, url, origin, setRelease }) => {
    const n = Number(url.searchParams.get("n") ?? 3);
    const released = new Promise<void>((resolve) => setRelease(resolve));
    origin.sse.sent = 0;
    origin.sse.finished = false;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const send = (i: number) => {
      res.write(`id: ${i}\ndata: event ${i}\n\n`);
      origin.sse.sent = i;
      origin.events.emit("sse-sent", i);
    };
    send(1);
    await released;
    for (let i = 2; i <= n; i++) send(i);
    origin.sse.finished = true;
    res.end();
  },
  "/v1/silent": async ({ bodyRead }) => {
    await bodyRead;
  },
  "/v1/slow-body": async ({ res, url }) => {
    const chunks = Number(url.searchParams.get("chunks") ?? 3);
    const every = Number(url.searchParams.get("every") ?? 100);
    res.writeHead(200, { "content-type": "text/plain" });
    for (let i = 1; i <= chunks; i++) {
      await new Promise((r) => setTimeout(r, every));
      res.write(`chunk ${i}\n`);
    }
    res.end();
  },
  "/v1/cookies": async ({ res, record, bodyRead }) => {
    await bodyRead;
    // Two Set-Cookie lines, and headers whose names the gate sets on a rewrapped answer.
    res.writeHead(200, [
      ["content-type", "application/json"],
      ["set-cookie", "a=1; Path=/"],
      ["set-cookie", "b=2; Path=/"],
      ["x-region-gate-decision", "forged-by-origin"],
      ["sunset", "Thu, 01 Jan 2099 00:00:00 GMT"],
    ]);
    res.end(JSON.stringify(record));
  },
  "/v1/redirect": async ({ res, bodyRead }) => {
    await bodyRead;
    res.writeHead(302, { location: "https://elsewhere.example/" }).end();
  },
};

/** Minimal RFC 6455 server side: handshake, then echo small unfragmented text frames. */
function acceptWebSocket(req: IncomingMessage, socket: Socket): void {
  const key = req.headers["sec-websocket-key"];
  if (typeof key !== "string") {
    socket.end("HTTP/1.1 400 Bad Request\r\n\r\n");
    return;
  }
  const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  socket.on("data", (frame: Buffer) => {
    const opcode = (frame[0] ?? 0) & 0x0f;
    const length = (frame[1] ?? 0) & 0x7f;
    if (opcode === 0x8) return void socket.end(Buffer.from([0x88, 0x00]));
    if (opcode !== 0x1 || length > 125) return;
    const mask = frame.subarray(2, 6);
    const text = Buffer.from(frame.subarray(6, 6 + length).map((b, i) => b ^ (mask[i % 4] ?? 0))).toString();
    const reply = Buffer.from(`echo:${text}`);
    socket.write(Buffer.concat([Buffer.from([0x81, reply.length]), reply]));
  });
  socket.on("error", () => {});
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released): connections are refused. */
export async function refusingPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await closeServer(server, new Set());
  return port;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

// ---------------------------------------------------------------- gate

/** Edge facts for a request (the subset of `request.cf` the gate reads). */
export interface EdgeFacts {
  country?: string;
  regionCode?: string;
  /** The network (`request.cf.asn`) and its name (`request.cf.asOrganization`). */
  asn?: number;
  asOrganization?: string;
}

export interface GateRequestInit extends RequestInit {
  /** Sent as the `MF-CF-Blob` header, which miniflare turns into `request.cf`. */
  cf?: EdgeFacts;
  /** Node's fetch needs it to stream a request body; @types/node's RequestInit lacks it. */
  duplex?: "half";
}

/**
 * What the tests use of the gate's KV. Miniflare types its bindings with
 * `@cloudflare/workers-types`, which this repository does not install (the runtime types
 * are in the generated worker-configuration.d.ts, for worker code only), so Node-side code
 * names the two calls it makes.
 */
export interface PolicyKv {
  get(key: string): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
}

export interface TestGate {
  /** Where the gate listens (http://127.0.0.1:<port>). */
  url: string;
  mf: Miniflare;
  /** The gate's `POLICY` namespace (real KV inside workerd). */
  kv: PolicyKv;
  /** A real HTTP request to the gate; `cf` becomes `request.cf`. Redirects are not followed. */
  fetch(path: string, init?: GateRequestInit): Promise<Response>;
  dispose(): Promise<void>;
}

export interface GateOptions {
  /** ORIGIN_URL; omit for route mode. */
  originUrl?: string;
  /**
   * Route mode's origin: miniflare rewrites each request's URL to this host, as the zone
   * route does in production, so the gate (ORIGIN_URL unset) fetches its own URL from here.
   */
  upstream?: string;
  /** Extra vars and secrets (ORIGIN_TIMEOUT_MS, ORIGIN_AUTH_SECRET, FAIL_MODE, ...). */
  bindings?: Record<string, string>;
  /** Written to KV key `policy` (objects as JSON); null leaves KV empty. */
  policy: object | string | null;
}

/** Test secrets, the same as the `worker` vitest project's. */
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789-0123456789";
export const TEST_IDENTITY_SALT = "test-identity-salt";

/** wrangler.toml's (and wrangler.control.toml's) POLICY namespace id. */
export const POLICY_NAMESPACE = "00000000000000000000000000000000";

export interface PlanesOptions {
  /** Vars and secrets of both Workers (each reads its own). */
  bindings?: Record<string, string>;
  /** The gate's route-mode upstream (see GateOptions). */
  upstream?: string;
}

/**
 * Miniflare options for the two built Workers as SPEC section 1 deploys them: the gate
 * (`dist/gate/index.js`, first, so it gets the HTTP port) with its CONTROL service binding
 * to the control plane (`dist/control/index.js`), which defines the ledger's Durable Object
 * class that the gate binds by script name; one POLICY namespace for both. Shared options
 * (host, port, persistence) go beside these.
 */
export function planesOptions(options: PlanesOptions = {}) {
  const bindings = options.bindings ?? {};
  const common = {
    modules: true,
    compatibilityDate: "2026-04-01",
    kvNamespaces: { POLICY: POLICY_NAMESPACE },
  };
  return {
    workers: [
      {
        ...common,
        name: "region-gate",
        scriptPath: DIST_ENTRY,
        serviceBindings: { CONTROL: "region-gate-control" },
        durableObjects: {
          EXPOSURE: { className: "ExposureLedger", scriptName: "region-gate-control", useSQLite: true },
        },
        bindings,
      },
      {
        ...common,
        name: "region-gate-control",
        scriptPath: DIST_CONTROL,
        durableObjects: { EXPOSURE: { className: "ExposureLedger", useSQLite: true } },
        bindings,
      },
    ],
    ...(options.upstream ? { upstream: options.upstream } : {}),
    // The placeholder cf object, never a download.
    cf: false,
  };
}

/** Runs both built Workers under miniflare on a free port of 127.0.0.1, with the policy seeded. */
export async function startGate(options: GateOptions): Promise<TestGate> {
  const mf = new Miniflare({
    ...planesOptions({
      bindings: {
        ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        IDENTITY_SALT: TEST_IDENTITY_SALT,
        POLICY_CACHE_SECONDS: "30",
        FAIL_MODE: "closed",
        ORIGIN_TIMEOUT_MS: "30000",
        ...(options.originUrl ? { ORIGIN_URL: options.originUrl } : {}),
        ...options.bindings,
      },
      ...(options.upstream ? { upstream: options.upstream } : {}),
    }),
    host: "127.0.0.1",
    port: 0,
  });
  const url = (await mf.ready).origin;
  const kv = (await mf.getKVNamespace("POLICY")) as unknown as PolicyKv; // see PolicyKv
  if (options.policy !== null) {
    const text = typeof options.policy === "string" ? options.policy : JSON.stringify(options.policy);
    await kv.put("policy", text);
  }
  return {
    url,
    mf,
    kv,
    fetch: (path, init = {}) => {
      const { cf, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (cf) headers.set("MF-CF-Blob", JSON.stringify(cf));
      return fetch(new URL(path, url), { redirect: "manual", ...rest, headers });
    },
    dispose: () => mf.dispose(),
  };
}
