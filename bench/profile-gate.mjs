#!/usr/bin/env node
/**
 * Where a worker's CPU goes under load: serves a built bundle with miniflare and its V8
 * inspector, runs wrk (bench/mixed.lua, one profile) against it while the V8 sampling
 * profiler records, and prints self time by function (and by kind: GC, runtime, idle).
 *
 *   node bench/profile-gate.mjs <bundle.js> [pass|mixed] [seconds]
 *
 * The bundle gets the gate's bindings (KV with examples/policy.json, the ledger Durable
 * Object) when it reads a POLICY binding, ORIGIN_URL in every case. The ledger's class comes
 * from the bundle itself when it exports ExposureLedger (bench/gate-worker.mjs does), else
 * from the control plane's build (dist/control/index.js, a second worker in the same
 * workerd, as test/e2e/harness.ts's planesOptions() runs the deploy artefacts): so
 * `node bench/profile-gate.mjs dist/gate/index.js` profiles the data plane's artefact
 * itself. Only the first worker's isolate is profiled. Load goes to 127.0.0.1 only.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import WebSocket from "ws";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [bundle, profile = "pass", seconds = "8"] = process.argv.slice(2);
const ORIGIN_PORT = 19890;
const PORT = 19891;
const INSPECTOR = 19892;

const origin = spawn(process.execPath, [join(root, "bench", "fixed-origin.mjs"), String(ORIGIN_PORT)], {
  stdio: "ignore",
});
const source = readFileSync(bundle, "utf8");
const gateLike = source.includes("POLICY");
/** The bundle defines the ledger's class itself (bench/gate-worker.mjs), or binds it from the control plane. */
const ownsLedger = source.includes("ExposureLedger");
const CONTROL = "region-gate-control";
const controlBundle = join(root, "dist", "control", "index.js");
const profiled = {
  name: "profiled",
  modules: true,
  scriptPath: bundle,
  compatibilityDate: "2026-04-01",
  // Outgoing fetches go straight out, without miniflare's dev-only header-copying hop (see bench/mf-serve.mjs).
  stripCfConnectingIp: false,
  ...(gateLike
    ? {
        kvNamespaces: { POLICY: "policy" },
        durableObjects: {
          EXPOSURE: ownsLedger
            ? { className: "ExposureLedger", useSQLite: true }
            : { className: "ExposureLedger", scriptName: CONTROL, useSQLite: true },
        },
        ...(ownsLedger ? {} : { serviceBindings: { CONTROL } }),
      }
    : {}),
  bindings: {
    ORIGIN_URL: `http://127.0.0.1:${ORIGIN_PORT}`,
    ...(gateLike
      ? { IDENTITY_SALT: "bench-salt", ADMIN_TOKEN: "bench-admin-token-0123456789-0123456789" }
      : {}),
  },
};
const control = {
  name: CONTROL,
  modules: true,
  scriptPath: controlBundle,
  compatibilityDate: "2026-04-01",
  kvNamespaces: { POLICY: "policy" },
  durableObjects: { EXPOSURE: { className: "ExposureLedger", useSQLite: true } },
};
const mf = new Miniflare({
  workers: gateLike && !ownsLedger ? [profiled, control] : [profiled],
  inspectorPort: INSPECTOR,
  host: "127.0.0.1",
  port: PORT,
  cf: false,
});
await mf.ready;
if (gateLike) {
  const kv = await mf.getKVNamespace("POLICY", "profiled");
  await kv.put("policy", readFileSync(join(root, "examples", "policy.json"), "utf8"));
}

function wrk(secs) {
  return new Promise((resolve) => {
    const p = spawn(
      "wrk",
      [
        "-t1",
        "-c16",
        `-d${secs}s`,
        "-s",
        join(root, "bench", "mixed.lua"),
        `http://127.0.0.1:${PORT}/`,
        "--",
        profile,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.on("exit", () => resolve(out));
  });
}

const targets = await (await fetch(`http://127.0.0.1:${INSPECTOR}/json`)).json();
const target = targets.find((t) => t.title?.includes("core:user:profiled")) ?? targets[0];
const ws = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((r) => ws.on("open", r));
let id = 0;
const pending = new Map();
ws.on("message", (m) => {
  const msg = JSON.parse(m);
  if (msg.id && pending.has(msg.id)) {
    pending.get(msg.id)(msg.result);
    pending.delete(msg.id);
  }
});
const call = (method, params = {}) =>
  new Promise((r) => {
    const n = ++id;
    pending.set(n, r);
    ws.send(JSON.stringify({ id: n, method, params }));
  });

await wrk(3); // warm-up
await call("Profiler.enable");
await call("Profiler.setSamplingInterval", { interval: 100 });
await call("Profiler.start");
const wrkOut = await wrk(Number(seconds));
const { profile: cpu } = await call("Profiler.stop");
ws.close();
await mf.dispose();
origin.kill();

const self = new Map();
const byId = new Map(cpu.nodes.map((n) => [n.id, n]));
const counts = new Map();
for (const s of cpu.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
let total = 0;
for (const [nodeId, n] of counts) {
  const node = byId.get(nodeId);
  const f = node.callFrame;
  const key = `${f.functionName || "(anonymous)"} ${f.url ? `${f.url.split("/").pop()}:${f.lineNumber + 1}` : ""}`;
  self.set(key, (self.get(key) ?? 0) + n);
  total += n;
}
const requests = Number(/(\d+) requests in/.exec(wrkOut)?.[1] ?? 0);
const us = (n) => (((n / total) * (cpu.endTime - cpu.startTime)) / requests).toFixed(2);
console.log(`${requests} requests, ${total} samples; self time per request (µs of the isolate's thread):`);
for (const [k, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40))
  console.log(`${us(n).padStart(8)}  ${((100 * n) / total).toFixed(1).padStart(5)}%  ${k}`);
