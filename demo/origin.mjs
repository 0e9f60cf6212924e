#!/usr/bin/env node
/**
 * Demo origin for `npm start` and the benchmarks: plain Node http, no dependencies.
 *
 *   any path      → JSON of what arrived: method, path, query, headers, body length + sha256
 *   /v1/stream    → server-sent events, one chunk every `delay` ms (`?n=5&delay=200`)
 *   ?stream=1     → the same on any path
 *   /redirect     → 302 to https://example.com/ (the gate must return it, not follow it)
 *
 * Port: `PORT` env or the first argument (default 8788); always listens on 127.0.0.1.
 */
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";

/** Reads the request body as a stream, hashing it as it arrives (a 20 MB upload is never held). */
export function digestBody(req) {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    let length = 0;
    req.on("data", (chunk) => {
      length += chunk.length;
      hash.update(chunk);
    });
    req.on("end", () => resolve({ bodyLength: length, bodySha256: hash.digest("hex") }));
    req.on("error", reject);
  });
}

/** Answers with a JSON description of the request, as the origin saw it. */
export async function echo(req, res) {
  const url = new URL(req.url ?? "/", "http://origin.local");
  const body = await digestBody(req);
  const payload = JSON.stringify({
    method: req.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: req.headers,
    ...body,
  });
  res.writeHead(200, { "content-type": "application/json", "x-origin": "demo" });
  res.end(payload);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Server-sent events, written one by one with a pause between them. */
export async function sse(req, res) {
  const url = new URL(req.url ?? "/", "http://origin.local");
  const n = Math.min(Number(url.searchParams.get("n") ?? 5) || 5, 1000);
  const delay = Math.min(Number(url.searchParams.get("delay") ?? 200) || 0, 10_000);
  req.resume();
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    "x-origin": "demo",
  });
  for (let i = 1; i <= n && !res.destroyed; i++) {
    res.write(`id: ${i}\ndata: ${JSON.stringify({ i, of: n, sentAt: Date.now() })}\n\n`);
    await sleep(delay);
  }
  res.end("data: [DONE]\n\n");
}

/** The demo's request handler. */
export function handle(req, res) {
  const url = new URL(req.url ?? "/", "http://origin.local");
  if (url.pathname === "/redirect") {
    req.resume();
    res.writeHead(302, { location: "https://example.com/" }).end();
    return;
  }
  const streaming = url.pathname === "/v1/stream" || url.searchParams.get("stream") === "1";
  (streaming ? sse(req, res) : echo(req, res)).catch((err) => {
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end(`demo origin error: ${err.message}\n`);
  });
}

/**
 * Starts the demo origin on 127.0.0.1. Port 0 picks a free one.
 * @param {number} port
 * @returns {Promise<import("node:http").Server>}
 */
export function startDemoOrigin(port) {
  const server = createServer(handle);
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const port = Number(process.env.PORT ?? process.argv[2] ?? 8788);
  const server = await startDemoOrigin(port);
  const address = server.address();
  console.log(`demo origin listening on http://127.0.0.1:${address.port}`);
  const stop = () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
