#!/usr/bin/env node
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import http from "node:http";
/**
 * Control for the soak's workerd RSS figure (bench/README.md, Soak): the same miniflare and
 * workerd, a bare pass-through worker instead of the gate, a similar body mix (half POST,
 * 0 B–256 KiB), 32 in flight, RSS of the workerd process every 10 s. Loopback only.
 *
 *   N=100000 node bench/soak-rss-control.mjs
 */
import { Miniflare } from "miniflare";

const origin = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => res.end(JSON.stringify({ ok: 1, pad: "x".repeat(600) })));
});
await new Promise((r) => origin.listen(0, "127.0.0.1", r));
const script = `export default { fetch(req, env) { const u = new URL(req.url); return fetch(env.O + u.pathname + u.search, { method: req.method, headers: req.headers, body: req.body, redirect: "manual" }); } }`;
const mf = new Miniflare({
  modules: true,
  script,
  compatibilityDate: "2026-04-01",
  compatibilityFlags: ["nodejs_compat"],
  bindings: { O: `http://127.0.0.1:${origin.address().port}` },
  host: "127.0.0.1",
  port: 0,
  cf: false,
});
const url = (await mf.ready).origin;
const rss = () => {
  const l = execFileSync("ps", ["-o", "pid=,rss=,comm=", "--ppid", String(process.pid)], { encoding: "utf8" })
    .split("\n")
    .find((x) => x.includes("workerd"));
  return Math.round(Number(l.trim().split(/\s+/)[1]) / 1024);
};
const sizes = [0, 64, 1024, 16384, 262144];
const weights = [10, 30, 35, 20, 5];
const bodies = sizes.map((s) => randomBytes(s));
const pickBody = () => {
  let r = Math.random() * 100;
  for (let i = 0; i < 5; i++) {
    r -= weights[i];
    if (r < 0) return bodies[i];
  }
  return bodies[0];
};
const N = Number(process.env.N ?? 100000);
let next = 0;
const samples = [rss()];
const timer = setInterval(() => samples.push(rss()), 10000);
const t0 = Date.now();
await Promise.all(
  Array.from({ length: 32 }, async () => {
    while (next < N) {
      next++;
      const post = Math.random() < 0.5;
      const r = await fetch(`${url}/v1/chat?n=${next}`, {
        method: post ? "POST" : "GET",
        body: post ? pickBody() : undefined,
      }).catch(() => null);
      if (r) await r.arrayBuffer();
    }
  }),
);
clearInterval(timer);
samples.push(rss());
console.log(
  "RESULT",
  N,
  "requests in",
  (Date.now() - t0) / 1000,
  "s; workerd RSS MiB every 10 s:",
  samples.join(" "),
);
await mf.dispose();
origin.close();
