#!/usr/bin/env node
/**
 * What reading a blocked upload's body costs (src/gate/drain.ts; bench/README.md, Soak
 * finding 2). The built bundle under miniflare, CN uploads over Node `fetch` (keep-alive,
 * as in the soak), one at a time. Per body size: workerd CPU per upload (from /proc, so
 * other processes do not count), wall time per upload, client errors. Bodies up to 1 MiB
 * are read before the 403; `1 MiB + 1 B` is over the bound, so the gate answers at once as
 * it used to for every size: the baseline, in the same run. Rounds interleave the sizes.
 *
 *   npm run build && node bench/drain-bench.mjs      # N (uploads per size and round), ROUNDS
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { Miniflare } from "miniflare";

const N = Number(process.env.N ?? 100);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SIZES = [64 * 1024, 256 * 1024, 1024 * 1024, 1024 * 1024 + 1];

const origin = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => res.end("{}"));
});
await new Promise((r) => origin.listen(0, "127.0.0.1", r));
const mf = new Miniflare({
  modules: true,
  scriptPath: join(import.meta.dirname, "..", "dist", "index.js"),
  compatibilityDate: "2026-04-01",
  compatibilityFlags: ["nodejs_compat"],
  kvNamespaces: ["POLICY"],
  durableObjects: { EXPOSURE: { className: "ExposureLedger", useSQLite: true } },
  bindings: {
    ORIGIN_URL: `http://127.0.0.1:${origin.address().port}`,
    IDENTITY_SALT: "bench-salt",
    EXPOSURE_LEDGER: "off",
  },
  host: "127.0.0.1",
  port: 0,
  cf: false,
});
const url = (await mf.ready).origin;
const kv = await mf.getKVNamespace("POLICY");
await kv.put("policy", JSON.stringify({ schema: 1, version: "drain.1", supported: ["JP"] }));

const workerd = execFileSync("ps", ["-o", "pid=,comm=", "--ppid", String(process.pid)], { encoding: "utf8" })
  .split("\n")
  .find((l) => l.includes("workerd"))
  .trim()
  .split(/\s+/)[0];
const TICK_MS = 1000 / Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
/** User + system CPU of the workerd process, in ms. */
const cpuMs = () => {
  const f = readFileSync(`/proc/${workerd}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
};

const headers = { "MF-CF-Blob": JSON.stringify({ country: "CN" }) };
await (await fetch(`${url}/v1/warm`, { headers })).arrayBuffer();
const rows = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const size of SIZES) {
    const body = Buffer.alloc(size, 0x61);
    let errors = 0;
    const c0 = cpuMs();
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      try {
        const res = await fetch(`${url}/v1/files`, { method: "POST", body, headers });
        await res.arrayBuffer();
      } catch {
        errors++;
      }
    }
    rows.push({
      round,
      size,
      drained: size <= 1024 * 1024,
      cpuMsPerUpload: Number(((cpuMs() - c0) / N).toFixed(2)),
      wallMsPerUpload: Number(((performance.now() - t0) / N).toFixed(2)),
      errors,
    });
  }
}
console.table(rows);
await mf.dispose();
origin.close();
