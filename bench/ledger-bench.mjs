#!/usr/bin/env node
/**
 * Exposure ledger cost under load (issue 4): the two built Workers (`dist/gate/index.js`
 * with its CONTROL binding and the ledger's Durable Object from `dist/control/index.js`, as
 * test/e2e/harness.ts's planesOptions() runs them) under miniflare, in front of a real Node origin on 127.0.0.1, driven by wrk with the core
 * benchmark's mixed-country load (`bench/mixed.lua mixed`: 70 % pass, 10 % warn, 15 %
 * block, 5 % unknown; 50 rotating keys) and examples/policy.json.
 *
 * 1. Throughput with the ledger off vs on (EXPOSURE_LEDGER=off|on), alternating rounds.
 * 2. Durable Object calls per second as the request rate grows (ledger on), read from
 *    `GET /__region-gate/exposure/stats` (batches applied per shard), and the report's
 *    total next to the counted requests wrk saw answered (the gate also counts the few
 *    still in flight when wrk stops, so reported ≥ expected by at most the connections).
 *
 *   npm run build && node bench/ledger-bench.mjs [--seconds 8] [--rounds 3] [--concurrency 32] [--sweep 4,16,64]
 *
 * Everything stays on 127.0.0.1. Figures go to stdout as a Markdown table.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { Miniflare } from "miniflare";
import { loadHarness } from "./harness.mjs";

const ROOT = join(import.meta.dirname, "..");
const BUNDLES = [join(ROOT, "dist", "gate", "index.js"), join(ROOT, "dist", "control", "index.js")];
const ADMIN_TOKEN = "bench-admin-token-0123456789-0123456789";
const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "8" },
    rounds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "32" },
    sweep: { type: "string", default: "4,16,64" },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);
const SWEEP = values.sweep.split(",").map(Number);

const missing = BUNDLES.find((b) => !existsSync(b));
if (missing) {
  console.error(`${missing} is missing: run \`npm run build\` first`);
  process.exit(1);
}
const { planesOptions } = await loadHarness();
const policy = readFileSync(join(ROOT, "examples", "policy.json"), "utf8");

/** Share of `mixed.lua mixed` requests that the ledger counts: VE ×2, CN, RU, UA-43 of 20. */
const COUNTED_SHARE = 5 / 20;

function startOrigin() {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"ok":true}');
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** workerd reports every connection wrk drops at the end of a run; keep everything else. */
function quietRuntime(stdout, stderr) {
  const noise = /Connection reset by peer|Broken pipe|^stack: |^\s*$/;
  for (const stream of [stdout, stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      if (!noise.test(line)) console.error(`[workerd] ${line}`);
    });
  }
}

async function startGate(originUrl, ledger) {
  const mf = new Miniflare({
    // The gate and the control plane (the admin API and the ledger's Durable Object) in one
    // workerd, joined by the CONTROL service binding, as deployed.
    ...planesOptions({
      bindings: {
        ADMIN_TOKEN,
        IDENTITY_SALT: "bench-salt",
        ORIGIN_URL: originUrl,
        EXPOSURE_LEDGER: ledger,
        EXPOSURE_FLUSH_SECONDS: "5",
      },
    }),
    host: "127.0.0.1",
    port: 0,
    cf: false,
    handleRuntimeStdio: quietRuntime,
  });
  const url = (await mf.ready).origin;
  await (await mf.getKVNamespace("POLICY")).put("policy", policy);
  return { mf, url };
}

/**
 * CPU seconds used so far by the workerd processes that miniflare started (Linux /proc):
 * less sensitive than wall-clock throughput to other work on a shared machine.
 */
function workerdCpuSeconds() {
  let pids = [];
  try {
    pids = execFileSync("pgrep", ["-P", String(process.pid)], { encoding: "utf8" })
      .trim()
      .split("\n");
  } catch {
    return Number.NaN;
  }
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime + stime
    } catch {
      // exited
    }
  }
  return ticks / 100; // USER_HZ
}

/** wrk, closed loop: `connections` keep-alive connections for `seconds`, one thread. */
function load(url, connections, seconds) {
  const args = [
    "-t1",
    `-c${connections}`,
    `-d${seconds}s`,
    "-s",
    join(ROOT, "bench", "mixed.lua"),
    url,
    "--",
    "mixed",
  ];
  const cpu0 = workerdCpuSeconds();
  return new Promise((resolve, reject) => {
    const wrk = spawn("wrk", args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    wrk.stdout.on("data", (d) => {
      out += d;
    });
    wrk.on("error", reject);
    wrk.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("WRK_JSON "));
      if (code !== 0 || !line) return reject(new Error(`wrk failed (${code}):\n${out}`));
      const r = JSON.parse(line.slice(9));
      const elapsed = r.duration_us / 1e6;
      const cpuUs = ((workerdCpuSeconds() - cpu0) / r.requests) * 1e6;
      resolve({ done: r.requests, elapsed, rps: r.requests / elapsed, p99Ms: r.p99_us / 1000, cpuUs });
    });
  });
}

async function admin(url, path) {
  const res = await fetch(`${url}/__region-gate${path}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function run(originUrl, ledger, concurrency) {
  const gate = await startGate(originUrl, ledger);
  try {
    await load(gate.url, 4, 2); // warm-up: policy read, JIT, first Durable Objects
    await sleep(6000); // the warm-up's flush lands (both modes wait, so both start alike)
    if (ledger === "off") return await load(gate.url, concurrency, SECONDS);
    const before = await ledgerState(gate.url);
    const result = await load(gate.url, concurrency, SECONDS);
    // The last flush lands at most EXPOSURE_FLUSH_SECONDS (5) after the last request;
    // then wait (bounded) until the total stops moving.
    await sleep(5500);
    let after = await ledgerState(gate.url);
    for (let i = 0; i < 10; i++) {
      await sleep(1500);
      const again = await ledgerState(gate.url);
      if (again.total === after.total && again.calls === after.calls) break;
      after = again;
    }
    const calls = after.calls - before.calls;
    const expected = Math.round(result.done * COUNTED_SHARE);
    return {
      ...result,
      expected,
      reported: after.total - before.total,
      calls,
      // Calls over the time in which they could happen: the load plus the last flush delay.
      callsPerSecond: calls / (result.elapsed + 5),
    };
  } finally {
    await gate.mf.dispose();
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Requests in the report, and Durable Object calls (batches applied) so far. */
async function ledgerState(url) {
  const { summary } = await admin(url, "/exposure?summary=1");
  const { shards } = await admin(url, "/exposure/stats");
  return {
    total: summary.reduce((sum, s) => sum + s.requests, 0),
    calls: shards.reduce((sum, s) => sum + s.flushesLastHour, 0),
  };
}

const origin = await startOrigin();
const originUrl = `http://127.0.0.1:${origin.address().port}`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  if (ROUNDS > 0) {
    console.log(
      `## Ledger off vs on (wrk -c${CONCURRENCY}, mixed, ${SECONDS} s per run, ${ROUNDS} rounds)\n`,
    );
    console.log(
      "| round | off req/s | on req/s | on/off | off p99 ms | on p99 ms | off CPU µs/req | on CPU µs/req |",
    );
    console.log("|---|---|---|---|---|---|---|---|");
    const ratios = [];
    const cpu = { off: [], on: [] };
    for (let r = 1; r <= ROUNDS; r++) {
      // Alternate the order, so slow drift in machine load does not always favour one side.
      const order = r % 2 ? ["off", "on"] : ["on", "off"];
      const res = {};
      for (const mode of order) res[mode] = await run(originUrl, mode, CONCURRENCY);
      const { off, on } = res;
      ratios.push(on.rps / off.rps);
      cpu.off.push(off.cpuUs);
      cpu.on.push(on.cpuUs);
      console.log(
        `| ${r} | ${off.rps.toFixed(0)} | ${on.rps.toFixed(0)} | ${(on.rps / off.rps).toFixed(3)} | ${off.p99Ms.toFixed(1)} | ${on.p99Ms.toFixed(1)} | ${off.cpuUs.toFixed(0)} | ${on.cpuUs.toFixed(0)} |`,
      );
    }
    console.log(
      `\nmedian on/off throughput ${median(ratios).toFixed(3)}; median workerd CPU per request off ${median(cpu.off).toFixed(0)} µs, on ${median(cpu.on).toFixed(0)} µs (on/off ${(median(cpu.on) / median(cpu.off)).toFixed(3)})\n`,
    );
  }

  console.log(`## Durable Object calls as the rate grows (ledger on, ${SECONDS} s per run)\n`);
  console.log(
    "| wrk connections | req/s | counted req/s | DO calls | DO calls/s | reported (wrk-completed × 5/20) |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const c of SWEEP) {
    const on = await run(originUrl, "on", c);
    console.log(
      `| ${c} | ${on.rps.toFixed(0)} | ${(on.expected / on.elapsed).toFixed(0)} | ${on.calls} | ${on.callsPerSecond.toFixed(2)} | ${on.reported} (${on.expected}) |`,
    );
  }
} finally {
  origin.close();
}
