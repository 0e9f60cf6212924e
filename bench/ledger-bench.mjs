#!/usr/bin/env node
/**
 * Exposure ledger cost under load (issue 4): the built bundle (`dist/index.js`) under
 * miniflare, in front of a real Node origin on 127.0.0.1, driven by a closed-loop HTTP
 * load with a mixed-country mix (examples/policy.json).
 *
 * 1. Throughput with the ledger off vs on (EXPOSURE_LEDGER=off|on), alternating rounds.
 * 2. Durable Object calls per second as the request rate grows (ledger on), read from
 *    `GET /__region-gate/exposure/stats` (batches applied per shard), and the report's
 *    total checked against the requests sent from unsupported regions.
 *
 *   npm run build && node bench/ledger-bench.mjs [--seconds 8] [--rounds 3] [--concurrency 32]
 *
 * Everything stays on 127.0.0.1. Figures go to stdout as a Markdown table.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Miniflare } from "miniflare";

const ROOT = join(import.meta.dirname, "..");
const BUNDLE = join(ROOT, "dist", "index.js");
const ADMIN_TOKEN = "bench-admin-token-0123456789";
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

if (!existsSync(BUNDLE)) {
  console.error(`${BUNDLE} is missing: run \`npm run build\` first`);
  process.exit(1);
}
const policy = readFileSync(join(ROOT, "examples", "policy.json"), "utf8");

/** 70 % supported, 30 % unsupported (block, warn, subdivision block), like production mixes. */
const MIX = [
  ...Array(14).fill({ country: "US" }),
  ...Array(10).fill({ country: "DE" }),
  ...Array(8).fill({ country: "JP" }),
  ...Array(7).fill({ country: "GB" }),
  ...Array(6).fill({ country: "IN" }),
  ...Array(5).fill({ country: "BR" }),
  ...Array(6).fill({ country: "CN" }),
  ...Array(4).fill({ country: "HK" }),
  ...Array(4).fill({ country: "RU" }),
  ...Array(3).fill({ country: "VE" }),
  ...Array(2).fill({ country: "UA", regionCode: "43" }),
  ...Array(1).fill({ country: "IR" }),
];
const UNSUPPORTED = new Set(["CN", "HK", "RU", "VE", "IR", "UA-43"]);
const KEYS = Array.from({ length: 200 }, (_, i) => `sk-bench-${i}`);
const ORGS = Array.from({ length: 50 }, (_, i) => `org-${i}`);

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

async function startGate(originUrl, ledger) {
  const mf = new Miniflare({
    modules: true,
    scriptPath: BUNDLE,
    compatibilityDate: "2026-04-01",
    compatibilityFlags: ["nodejs_compat"],
    kvNamespaces: ["POLICY"],
    durableObjects: { EXPOSURE: { className: "ExposureLedger", useSQLite: true } },
    bindings: {
      ADMIN_TOKEN,
      IDENTITY_SALT: "bench-salt",
      ORIGIN_URL: originUrl,
      EXPOSURE_LEDGER: ledger,
      EXPOSURE_FLUSH_SECONDS: "5",
    },
    host: "127.0.0.1",
    port: 0,
    cf: false,
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

/** Closed loop: `concurrency` workers, each sending its next request when the last is answered. */
async function load(url, concurrency, seconds) {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  let unsupported = 0;
  let errors = 0;
  let seq = 0;
  const worker = async () => {
    while (performance.now() < until) {
      const i = seq++;
      const cf = MIX[i % MIX.length];
      const headers = {
        "MF-CF-Blob": JSON.stringify(cf),
        "openai-organization": ORGS[i % ORGS.length],
      };
      if (i % 10 !== 0) headers.authorization = `Bearer ${KEYS[(i * 7) % KEYS.length]}`;
      try {
        const res = await fetch(`${url}/v1/chat/completions`, { method: "POST", body: "{}", headers });
        await res.arrayBuffer();
        if (res.status !== 200 && res.status !== 403) errors++;
        done++;
        if (UNSUPPORTED.has(cf.regionCode ? `${cf.country}-${cf.regionCode}` : cf.country)) unsupported++;
      } catch {
        errors++;
      }
    }
  };
  const t0 = performance.now();
  const cpu0 = workerdCpuSeconds();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  const cpuUs = ((workerdCpuSeconds() - cpu0) / done) * 1e6;
  return { done, unsupported, errors, elapsed, rps: done / elapsed, cpuUs };
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
    await load(gate.url, 4, 1); // warm-up: policy read, JIT, first Durable Objects
    if (ledger === "off") return await load(gate.url, concurrency, SECONDS);
    await sleep(6000); // the warm-up's flush lands
    const before = await ledgerState(gate.url);
    const t0 = performance.now();
    const result = await load(gate.url, concurrency, SECONDS);
    // Bounded wait for the last background flush (at most EXPOSURE_FLUSH_SECONDS later).
    let after = await ledgerState(gate.url);
    const deadline = performance.now() + 15_000;
    while (after.total - before.total < result.unsupported && performance.now() < deadline) {
      await sleep(250);
      after = await ledgerState(gate.url);
    }
    const window = (performance.now() - t0) / 1000;
    const calls = after.calls - before.calls;
    return { ...result, reported: after.total - before.total, calls, callsPerSecond: calls / window };
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
try {
  console.log(`## Ledger off vs on (concurrency ${CONCURRENCY}, ${SECONDS} s per run, ${ROUNDS} rounds)\n`);
  console.log(
    "| round | off req/s | on req/s | on/off | off workerd CPU µs/req | on workerd CPU µs/req | on: sent unsupported | on: reported |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  const ratios = [];
  const cpu = { off: [], on: [] };
  for (let r = 1; r <= ROUNDS; r++) {
    const off = await run(originUrl, "off", CONCURRENCY);
    const on = await run(originUrl, "on", CONCURRENCY);
    ratios.push(on.rps / off.rps);
    cpu.off.push(off.cpuUs);
    cpu.on.push(on.cpuUs);
    console.log(
      `| ${r} | ${off.rps.toFixed(0)} | ${on.rps.toFixed(0)} | ${(on.rps / off.rps).toFixed(3)} | ${off.cpuUs.toFixed(0)} | ${on.cpuUs.toFixed(0)} | ${on.unsupported} | ${on.reported} |`,
    );
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(
    `\nmedian on/off throughput: ${median(ratios).toFixed(3)}; median workerd CPU per request: off ${median(cpu.off).toFixed(0)} µs, on ${median(cpu.on).toFixed(0)} µs (on/off ${(median(cpu.on) / median(cpu.off)).toFixed(3)})\n`,
  );

  console.log(`## Durable Object calls as the rate grows (ledger on, ${SECONDS} s per run)\n`);
  console.log("| concurrency | req/s | unsupported req/s | DO calls | DO calls/s | reported = sent |");
  console.log("|---|---|---|---|---|---|");
  for (const c of SWEEP) {
    const on = await run(originUrl, "on", c);
    console.log(
      `| ${c} | ${on.rps.toFixed(0)} | ${(on.unsupported / on.elapsed).toFixed(0)} | ${on.calls} | ${on.callsPerSecond.toFixed(2)} | ${on.reported === on.unsupported ? "yes" : `no (${on.reported} of ${on.unsupported})`} |`,
    );
  }
} finally {
  origin.close();
}
