/**
 * The gate's own answers (403 block, 400 invalid_request_path, 503 no policy) to uploads,
 * from clients that keep the connection alive as Node's `fetch` does (the soak's client)
 * and unlike curl, which opens one connection per request and reads the answer while it
 * still sends. workerd closes a connection whose request body the Worker left unread,
 * without `Connection: close`, so before the gate read the body such a client lost the
 * connection under its next request, or got a reset before it read the 403.
 */
import { Agent, request as httpRequest } from "node:http";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { livePolicy } from "../fixtures/policies";
import { startGate, startOrigin, type TestGate, type TestOrigin } from "./harness";

let origin: TestOrigin;
let gate: TestGate;
let noPolicy: TestGate;

beforeAll(async () => {
  origin = await startOrigin();
  [gate, noPolicy] = await Promise.all([
    startGate({ originUrl: origin.url, policy: livePolicy() }),
    startGate({ originUrl: origin.url, policy: null }),
  ]);
});

afterAll(async () => {
  await Promise.all([gate?.dispose(), noPolicy?.dispose()]);
  await origin?.close();
});

/** A raw HTTP/1.1 connection that reads answers one at a time, as a keep-alive client does. */
async function openConnection(gateUrl: string) {
  const { hostname, port } = new URL(gateUrl);
  const socket: Socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let buffered = Buffer.alloc(0);
  let ended = false;
  let waiting: (() => void) | null = null;
  const wake = () => {
    waiting?.();
    waiting = null;
  };
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    wake();
  });
  socket.on("close", () => {
    ended = true;
    wake();
  });
  socket.on("error", () => {});
  return {
    write: (data: string | Buffer) => new Promise<void>((resolve) => socket.write(data, () => resolve())),
    /** The next answer (status and body), or null if the connection closed first. */
    async answer(): Promise<{ status: number; body: string } | null> {
      for (;;) {
        const parsed = parseAnswer(buffered);
        if (parsed) {
          buffered = buffered.subarray(parsed.used);
          return { status: parsed.status, body: parsed.body };
        }
        if (ended) return null;
        await new Promise<void>((resolve) => {
          waiting = resolve;
        });
      }
    },
    close: () => socket.destroy(),
  };
}

/** One complete HTTP/1.1 response at the start of `buf` (Content-Length or chunked), or null. */
function parseAnswer(buf: Buffer): { status: number; body: string; used: number } | null {
  const headEnd = buf.indexOf("\r\n\r\n");
  if (headEnd < 0) return null;
  const head = buf.subarray(0, headEnd).toString("latin1");
  const status = Number(head.split(" ")[1]);
  let at = headEnd + 4;
  if (!/\r\ntransfer-encoding: *chunked/i.test(head)) {
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (buf.length < at + length) return null;
    return { status, body: buf.subarray(at, at + length).toString(), used: at + length };
  }
  const parts: Buffer[] = [];
  for (;;) {
    const lineEnd = buf.indexOf("\r\n", at);
    if (lineEnd < 0) return null;
    const size = Number.parseInt(buf.subarray(at, lineEnd).toString("latin1"), 16);
    if (buf.length < lineEnd + 2 + size + 2) return null;
    parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
    if (size === 0) return { status, body: Buffer.concat(parts).toString(), used: at };
  }
}

const cfBlob = (country: string) => `MF-CF-Blob: {"country":"${country}"}\r\n`;

describe("a keep-alive client gets the gate's own answer to its upload and keeps its connection", () => {
  test.each([
    ["403 block", "/v1/files", "CN", 403],
    ["400 invalid_request_path", "/..%2Fv1/files", "JP", 400],
  ])("%s, bodies of 64 B to 1 MiB, with Content-Length and chunked", async (_, path, country, status) => {
    const conn = await openConnection(gate.url);
    try {
      for (const size of [64, 64 * 1024, 256 * 1024, 1024 * 1024]) {
        await conn.write(
          `POST ${path} HTTP/1.1\r\nHost: gate.test\r\n${cfBlob(country)}Content-Length: ${size}\r\n\r\n`,
        );
        await conn.write(Buffer.alloc(size, 0x61));
        expect((await conn.answer())?.status).toBe(status);
        // The next request on the same connection, as the soak's client sent it.
        await conn.write(`GET /v1/models HTTP/1.1\r\nHost: gate.test\r\n${cfBlob("JP")}\r\n`);
        expect((await conn.answer())?.status).toBe(200);
      }
      const chunk = Buffer.alloc(16 * 1024, 0x62);
      await conn.write(
        `POST ${path} HTTP/1.1\r\nHost: gate.test\r\n${cfBlob(country)}Transfer-Encoding: chunked\r\n\r\n`,
      );
      for (let i = 0; i < 8; i++)
        await conn.write(
          Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]),
        );
      await conn.write("0\r\n\r\n");
      expect((await conn.answer())?.status).toBe(status);
      await conn.write(`GET /v1/models HTTP/1.1\r\nHost: gate.test\r\n${cfBlob("JP")}\r\n`);
      expect((await conn.answer())?.status).toBe(200);
    } finally {
      conn.close();
    }
  });

  test("503 region_policy_unavailable (no policy, FAIL_MODE=closed)", async () => {
    const conn = await openConnection(noPolicy.url);
    try {
      for (let i = 0; i < 3; i++) {
        await conn.write(
          `POST /v1/files HTTP/1.1\r\nHost: gate.test\r\n${cfBlob("JP")}Content-Length: 65536\r\n\r\n`,
        );
        await conn.write(Buffer.alloc(65536, 0x61));
        const answer = await conn.answer();
        expect(answer?.status).toBe(503);
        expect(JSON.parse(answer?.body ?? "{}").error.code).toBe("region_policy_unavailable");
      }
    } finally {
      conn.close();
    }
  });

  test("Node's http client with a keep-alive agent: every answer arrives, on one reused socket", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (country: string, body: Buffer | null) =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = httpRequest(`${gate.url}/v1/files`, {
          agent,
          method: body ? "POST" : "GET",
          headers: {
            "MF-CF-Blob": JSON.stringify({ country }),
            ...(body ? { "content-length": body.length } : {}),
          },
        });
        req.on("response", (res) => {
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
        });
        req.on("error", reject);
        req.end(body ?? undefined);
      });
    try {
      const results = [];
      for (let i = 0; i < 5; i++) {
        results.push(await send("CN", Buffer.alloc(128 * 1024, i)));
        results.push(await send("JP", null));
      }
      expect(results.map((r) => r.status)).toEqual([403, 200, 403, 200, 403, 200, 403, 200, 403, 200]);
      expect(results.slice(1).every((r) => r.reused)).toBe(true);
    } finally {
      agent.destroy();
    }
  });
});

describe("the bound", () => {
  test("a declared body over 1 MiB is answered at once, without waiting for the upload", async () => {
    const conn = await openConnection(gate.url);
    try {
      // Headers only: were the gate reading the 2 MiB first, no answer would come.
      await conn.write(
        `POST /v1/files HTTP/1.1\r\nHost: gate.test\r\n${cfBlob("CN")}Content-Length: ${2 * 1024 * 1024}\r\n\r\n`,
      );
      expect((await conn.answer())?.status).toBe(403);
    } finally {
      conn.close();
    }
  });

  test("a client that stops sending its body still gets its answer", async () => {
    const conn = await openConnection(gate.url);
    try {
      await conn.write(
        `POST /v1/files HTTP/1.1\r\nHost: gate.test\r\n${cfBlob("CN")}Content-Length: 1000\r\n\r\n`,
      );
      await conn.write(Buffer.alloc(10, 0x61));
      expect((await conn.answer())?.status).toBe(403);
    } finally {
      conn.close();
    }
  });

  test("a client waiting for 100 Continue gets the 403 instead, and sends no body", async () => {
    const conn = await openConnection(gate.url);
    try {
      await conn.write(
        `POST /v1/files HTTP/1.1\r\nHost: gate.test\r\n${cfBlob("CN")}Expect: 100-continue\r\nContent-Length: 2000000\r\n\r\n`,
      );
      expect((await conn.answer())?.status).toBe(403);
    } finally {
      conn.close();
    }
  });
});
