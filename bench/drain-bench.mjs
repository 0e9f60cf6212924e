#!/usr/bin/env node
/**
 * What reading a blocked upload's body costs (src/gate/drain.ts; bench/README.md, Soak
 * finding 2). The built bundle under miniflare, CN uploads over Node `fetch` (keep-alive,
 * as in the soak), one at a time. Per body size: workerd CPU per upload (from /proc, so
 * other processes do not count), wall time per upload, client errors. Bodies up to 1 MiB
 * are read before the 403; `1 MiB + 1 B` is over the bound, so the gate answers at once as
 * it used to for every size: the baseline, in the same run. Rounds interleave the sizes.
 * Gate and origin are the e2e suite's (bench/harness.mjs).
 *
 *   npm run build && node bench/drain-bench.mjs      # N (uploads per size and round), ROUNDS
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadHarness } from "./harness.mjs";

const N = Number(process.env.N ?? 100);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SIZES = [64 * 1024, 256 * 1024, 1024 * 1024, 1024 * 1024 + 1];

const { startGate, startOrigin } = await loadHarness();
const origin = await startOrigin({ record: false });
const gate = await startGate({
  originUrl: origin.url,
  policy: { schema: 1, version: "drain.1", supported: ["JP"] },
  bindings: { EXPOSURE_LEDGER: "off" },
});
const url = gate.url;

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
await gate.dispose();
await origin.close();
