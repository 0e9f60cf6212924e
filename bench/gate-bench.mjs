#!/usr/bin/env node
/**
 * Gate throughput benchmark (issue 2, "Performance"). In one run, the same wrk load
 * (keep-alive, edge facts rotating via MF-CF-Blob) against
 *   (a) the demo origin directly,
 *   (b) a bare pass-through worker (bench/bare-worker.ts) and
 *   (c) the gate (bench/gate-worker.mjs = src/index.ts + a stats route),
 * (b) and (c) each alone in its own workerd process under miniflare, in front of the same
 * origin. Prints req/s, p50/p99, gate/bare ratios, CPU per request of the workerd process
 * (from /proc/<pid>/stat) and the gate's KV reads per request.
 *
 *   node bench/gate-bench.mjs     # 3 s warm-up + 10 s per run; 2 profiles × (origin + 2 × bare + 2 × gate)
 *   DURATION=5 CONNECTIONS=32 REPEAT=1 PROFILES=pass node bench/gate-bench.mjs
 *
 * Installs wrk with apt-get when it is missing. Load goes to 127.0.0.1 only.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare } from "miniflare";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, ".tmp", "bench");
const DURATION = Number(process.env.DURATION ?? 10);
const WARMUP = Number(process.env.WARMUP ?? 3);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 16);
const THREADS = Number(process.env.THREADS ?? 1);
const PROFILES = (process.env.PROFILES ?? "mixed,pass").split(",");
/** Bare and gate alternate (bare first, then gate first) this many times per profile, against drift. */
const REPEAT = Number(process.env.REPEAT ?? 2);
const ORIGIN_PORT = Number(process.env.BENCH_ORIGIN_PORT ?? 18788);
const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };
const TICKS_PER_SECOND = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

function ensureWrk() {
  if (spawnSync("wrk", ["--version"]).error === undefined) return;
  console.log("wrk not found: installing it with apt-get (Debian package `wrk`)…");
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", "wrk"], { stdio: "inherit" });
}

/** utime + stime of a process, in seconds (all its threads). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** The workerd process miniflare started for us (our only workerd child at that moment). */
function workerdChild() {
  const pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (comm === "workerd" && ppid === process.pid) return Number(pid);
    } catch {
      // the process ended while we looked
    }
  }
  throw new Error("no workerd child process found; did miniflare start?");
}

function runWrk(url, profile, seconds) {
  return new Promise((resolve, reject) => {
    const args = [
      `-t${THREADS}`,
      `-c${CONNECTIONS}`,
      `-d${seconds}s`,
      "--timeout",
      "5s",
      "-s",
      join(root, "bench", "mixed.lua"),
      url,
      "--",
      profile,
    ];
    const wrk = spawn("wrk", args, { stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    wrk.stdout.on("data", (d) => {
      text += d;
    });
    wrk.on("error", reject);
    wrk.on("exit", (code) => {
      const line = text.split("\n").find((l) => l.startsWith("WRK_JSON "));
      if (code !== 0 || !line) return reject(new Error(`wrk failed (${code}):\n${text}`));
      resolve(JSON.parse(line.slice("WRK_JSON ".length)));
    });
  });
}

async function buildWorkers() {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(root, "bench", "bare-worker.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    outfile: join(out, "bare", "bare-worker.js"),
    logLevel: "warning",
  });
  // The gate goes through wrangler's own bundler, as in production.
  execFileSync(
    join(root, "node_modules", ".bin", "wrangler"),
    ["deploy", "bench/gate-worker.mjs", "--dry-run", "--outdir", ".tmp/bench/gate"],
    { cwd: root, env, stdio: "pipe" },
  );
}

function startOrigin() {
  const child = spawn(process.execPath, [join(root, "demo", "origin.mjs"), String(ORIGIN_PORT)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.stdout.once("data", () => resolve(child));
    child.once("exit", (code) =>
      reject(new Error(`demo origin exited (${code}); is port ${ORIGIN_PORT} free?`)),
    );
  });
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

function startWorker(kind, originUrl) {
  const common = {
    modules: true,
    compatibilityDate: "2026-04-01",
    compatibilityFlags: ["nodejs_compat"],
    host: "127.0.0.1",
    port: 0,
    cf: false,
    handleRuntimeStdio: quietRuntime,
  };
  if (kind === "bare") {
    return new Miniflare({
      ...common,
      scriptPath: join(out, "bare", "bare-worker.js"),
      modulesRoot: out,
      bindings: { ORIGIN_URL: originUrl },
    });
  }
  return new Miniflare({
    ...common,
    scriptPath: join(out, "gate", "gate-worker.js"),
    modulesRoot: out,
    kvNamespaces: ["POLICY"],
    durableObjects: { EXPOSURE: { className: "ExposureLedger", useSQLite: true } },
    bindings: {
      ORIGIN_URL: originUrl,
      ADMIN_TOKEN: "bench-admin-token-0123456789",
      IDENTITY_SALT: "bench-salt",
      POLICY_CACHE_SECONDS: "30",
      FAIL_MODE: "closed",
      ORIGIN_TIMEOUT_MS: "30000",
    },
  });
}

/** One target and profile: warm up, then measure requests, latency and CPU. */
async function measure(name, url, pids, profile) {
  await runWrk(url, profile, WARMUP);
  const before = pids.map(cpuSeconds);
  const result = await runWrk(url, profile, DURATION);
  const after = pids.map(cpuSeconds);
  const cpuUsPerReq = pids.map((_, i) => ((after[i] - before[i]) * 1e6) / result.requests);
  const row = {
    target: name,
    profile,
    reqPerSec: result.requests / (result.duration_us / 1e6),
    p50Ms: result.p50_us / 1000,
    p99Ms: result.p99_us / 1000,
    requests: result.requests,
    errors: result.errors,
    workerCpuUsPerReq: pids.length > 1 ? cpuUsPerReq[0] : null,
    originCpuUsPerReq: cpuUsPerReq.at(-1),
  };
  console.log(
    `  ${name.padEnd(7)} ${profile.padEnd(6)} ${row.reqPerSec.toFixed(0).padStart(7)} req/s  ` +
      `p50 ${row.p50Ms.toFixed(2)} ms  p99 ${row.p99Ms.toFixed(2)} ms  ` +
      `${row.workerCpuUsPerReq === null ? "" : `workerd ${row.workerCpuUsPerReq.toFixed(0)} µs/req  `}` +
      `origin ${row.originCpuUsPerReq.toFixed(0)} µs/req  non-2xx/3xx ${result.errors.status}`,
  );
  return row;
}

/** Starts one worker in its own workerd process, measures it, stops it. */
async function measureWorker(kind, originUrl, profile) {
  const mf = startWorker(kind, originUrl);
  try {
    const url = (await mf.ready).origin;
    if (kind === "gate") {
      const kv = await mf.getKVNamespace("POLICY");
      await kv.put("policy", readFileSync(join(root, "examples", "policy.json"), "utf8"));
    }
    const row = await measure(kind, `${url}/`, [workerdChild(), pidOf(origin)], profile);
    if (kind === "gate") {
      // Reads over the whole life of the isolate, warm-up included.
      const stats = await (await fetch(`${url}/__bench/stats`)).json();
      row.kvReads = stats.kvReads;
    }
    return row;
  } finally {
    await mf.dispose();
  }
}

let origin;
const pidOf = (child) => child.pid;

async function main() {
  ensureWrk();
  await buildWorkers();
  origin = await startOrigin();
  const originUrl = `http://127.0.0.1:${ORIGIN_PORT}`;
  const rows = [];
  console.log(
    `wrk -t${THREADS} -c${CONNECTIONS}, ${WARMUP} s warm-up + ${DURATION} s per target and profile; ` +
      `${cpus().length} CPUs, node ${process.version}`,
  );
  try {
    for (const profile of PROFILES) {
      rows.push(await measure("origin", `${originUrl}/`, [origin.pid], profile));
      for (let round = 0; round < REPEAT; round++) {
        for (const kind of round % 2 === 0 ? ["bare", "gate"] : ["gate", "bare"]) {
          const row = await measureWorker(kind, originUrl, profile);
          rows.push({ ...row, round });
        }
      }
    }
  } finally {
    origin.kill();
  }

  console.log("\nratios (gate / bare, same profile and round):");
  const summary = [];
  for (const profile of PROFILES) {
    for (let round = 0; round < REPEAT; round++) {
      const bare = rows.find((r) => r.target === "bare" && r.profile === profile && r.round === round);
      const gate = rows.find((r) => r.target === "gate" && r.profile === profile && r.round === round);
      if (!bare || !gate) continue;
      const ratio = {
        profile,
        round,
        throughput: gate.reqPerSec / bare.reqPerSec,
        p99: gate.p99Ms / bare.p99Ms,
        p50: gate.p50Ms / bare.p50Ms,
        extraCpuUsPerReq: gate.workerCpuUsPerReq - bare.workerCpuUsPerReq,
        kvReadsPerRequest: gate.kvReads / gate.requests,
      };
      summary.push(ratio);
      console.log(
        `  ${profile.padEnd(6)} #${round}  throughput ${ratio.throughput.toFixed(3)}x (target >= 0.95)  ` +
          `p99 ${ratio.p99.toFixed(3)}x (target <= 1.1)  p50 ${ratio.p50.toFixed(3)}x  ` +
          `workerd CPU +${ratio.extraCpuUsPerReq.toFixed(0)} µs/req  ` +
          `KV reads ${gate.kvReads} for ${gate.requests} measured requests (+ warm-up)`,
      );
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  for (const profile of PROFILES) {
    const rs = summary.filter((r) => r.profile === profile);
    if (rs.length < 2) continue;
    console.log(
      `  ${profile.padEnd(6)} median of ${rs.length}: throughput ${median(rs.map((r) => r.throughput)).toFixed(3)}x  ` +
        `p99 ${median(rs.map((r) => r.p99)).toFixed(3)}x  ` +
        `workerd CPU +${median(rs.map((r) => r.extraCpuUsPerReq)).toFixed(0)} µs/req`,
    );
  }
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  console.log(`load average at the end: ${load} (other processes share these CPUs)`);
  const file = join(
    root,
    "bench",
    "results",
    `gate-bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`,
  );
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify({ rows, summary, load, DURATION, WARMUP, CONNECTIONS, THREADS, REPEAT }, null, 2)}\n`,
  );
  console.log(`\nresults: ${file}`);
}

await main();
