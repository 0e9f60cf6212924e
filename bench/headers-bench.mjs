#!/usr/bin/env node
/**
 * Cost of building the origin's request (issue 11), isolated from the network: the
 * bench/headers-worker.ts worker under miniflare builds it N times per request, one way
 * per call, ways interleaved for ROUNDS rounds; printed: workerd CPU (/proc/<pid>/stat)
 * per build, per round, and the median. The request carries the headers wrk sends in
 * bench/gate-bench.mjs plus the ones miniflare adds.
 *
 *   node bench/headers-bench.mjs          # N=40000 ROUNDS=7
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare } from "miniflare";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const N = Number(process.env.N ?? 40000);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const WAYS = (process.env.WAYS ?? "passthrough,previous,current").split(",");
const outfile = join(root, ".tmp", "headers-bench", "worker.js");

await build({
  entryPoints: [join(root, "bench", "headers-worker.ts")],
  bundle: true,
  format: "esm",
  platform: "neutral",
  outfile,
  logLevel: "warning",
});

function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

function workerdChild() {
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (comm === "workerd" && Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === process.pid)
        return d;
    } catch {
      // ended while we looked
    }
  }
  throw new Error("no workerd child found");
}

const mf = new Miniflare({
  modules: true,
  scriptPath: outfile,
  compatibilityDate: "2026-04-01",
  host: "127.0.0.1",
  port: 0,
});
const base = (await mf.ready).origin;
const pid = workerdChild();
const headers = {
  "MF-CF-Blob": '{"country":"JP"}',
  Authorization: "Bearer sk-bench-1",
  "User-Agent": "wrk",
};
const results = Object.fromEntries(WAYS.map((w) => [w, []]));
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [...WAYS].reverse() : WAYS;
    for (const way of order) {
      const before = cpuSeconds(pid);
      const res = await fetch(`${base}/?v=${way}&n=${N}`, { headers });
      if (res.status !== 200) throw new Error(`${way}: ${res.status} ${await res.text()}`);
      await res.text();
      results[way].push(((cpuSeconds(pid) - before) * 1e6) / N);
    }
    console.log(`#${round} ${WAYS.map((w) => `${w} ${results[w][round].toFixed(2)} µs`).join("  ")}`);
  }
} finally {
  await mf.dispose();
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `median of ${ROUNDS} (µs of workerd CPU per build, N=${N}): ` +
    WAYS.map((w) => `${w} ${median(results[w]).toFixed(2)}`).join(", ") +
    `; load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
);
