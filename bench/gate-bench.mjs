#!/usr/bin/env node
/**
 * Hot-path benchmark (issue 11): the gate against a bare pass-through Worker, in one run.
 *
 * Every target runs in its own workerd with identical runtime settings (the compatibility
 * date, flags, `minify` and `[observability]` of wrangler.toml are copied into the bare
 * worker's config), in front of the same fixed-answer origin: under `wrangler dev` (the
 * devtools relay off with VSCODE_INSPECTOR_OPTIONS), or with RUNTIME=miniflare each
 * target's production bundle served by miniflare itself. The wrk load (keep-alive, edge
 * facts rotating via MF-CF-Blob, see mixed.lua) runs for ROUNDS rounds per profile, after
 * INITIAL_WARMUP seconds (10) of unmeasured load on every target, and each round pairs
 * every target with the bare worker:
 *
 * - PAIRING=concurrent (default): the bare worker and the target under the same load at
 *   the same time, both servers on the same CPU, their CPU read over the same window, so
 *   the shared machine's drift (other tenants, frequency) hits both alike. An A/A run (the
 *   bare worker against itself) gave −0.6 µs [−22 … +16] over 7 rounds. Throughput and
 *   p99 of a pair say little here (the two share one CPU; whichever wrk connects first
 *   gets the long tail), so read them from a PAIRING=abba run.
 * - PAIRING=abba: bare, target, target, bare one after the other (flipped every other
 *   round), each measured alone.
 *
 * Worker CPU per request is utime + stime from /proc/<pid>/stat of the workerd process
 * that runs the worker (wrangler dev starts a second workerd for its proxy; that one is
 * reported separately and costs the same for both), over the measured window, divided by
 * the requests wrk completed.
 *
 *   node bench/gate-bench.mjs
 *   RUNTIME=miniflare ROUNDS=7 DURATION=8 WARMUP=2 PROFILES=pass,mixed node bench/gate-bench.mjs
 *   GATES=gate=bench/gate-worker.mjs,old=/tmp/old/bench/gate-worker.mjs node bench/gate-bench.mjs
 *
 * GATES (name=entry, comma-separated; `@bare` for the bare worker's config) measures
 * candidates side by side in the same run, each against the bare worker (a candidate = a
 * copy of the repo with one change, or a worker of bench/variants/). The default set is
 * the gate and the floor (bench/floor-worker.ts: the client's headers copied plus SPEC
 * section 5's and the origin timeout, with no policy or decision); every target is also
 * compared with the one named $FLOOR (default `floor`), round by round.
 *
 * Servers (wrangler and the workerd processes) are pinned to CPU $SERVER_CPU, and wrk and
 * the origin to $WRK_CPU (ORIGIN_CPU to change it: on the servers' CPU, the origin's work
 * for the gate's extra request headers competes with the workerd processes measured),
 * with taskset when the machine has two CPUs or more (PIN=0: off).
 * Ports: BENCH_PORT (default 18790) .. +5. Installs wrk with apt-get when it is missing.
 * Load goes to 127.0.0.1 only. Raw figures: bench/results/gate-bench-<time>.json.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, ".tmp", "gate-bench");
const DURATION = Number(process.env.DURATION ?? 8);
const WARMUP = Number(process.env.WARMUP ?? 2);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const INITIAL_WARMUP = Number(process.env.INITIAL_WARMUP ?? 10);
/** `concurrent` (default): bare and target loaded at the same time; `abba`: one after the other. */
const PAIRING = process.env.PAIRING ?? "concurrent";
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 16);
const PROFILES = (process.env.PROFILES ?? "pass,mixed").split(",");
const BASE_PORT = Number(process.env.BENCH_PORT ?? 18790);
// `name=entry@bare` runs a worker with the bare worker's config (no KV, no Durable Object).
const GATES = (process.env.GATES ?? "gate=bench/gate-worker.mjs,floor=bench/floor-worker.ts@bare")
  .split(",")
  .map((g) => {
    const [name, spec] = g.split("=");
    const [entry, kind] = spec.split("@");
    return { name, entry: resolve(root, entry), bare: kind === "bare" };
  });
const ORIGIN = process.env.ORIGIN ?? "fixed";
/**
 * The worker every target is paired with (`name=entry`, run with the bare worker's config):
 * the bare pass-through worker by default. REFERENCE=floor=bench/floor-worker.ts pairs each
 * target with the floor itself, so the gate's CPU over the floor is read from one window.
 */
const [REF_NAME, REF_ENTRY] = (process.env.REFERENCE ?? "bare=bench/bare-worker.ts").split("=");
/**
 * A second reference besides the bare worker: every other target is also compared with
 * the target of this name, round by round (bench/floor-worker.ts by default: the least a
 * Worker can do that sends SPEC section 5's headers and keeps the origin timeout).
 */
const FLOOR = process.env.FLOOR ?? "floor";
/**
 * RUNTIME=wrangler (default): each target under `wrangler dev`. RUNTIME=miniflare: each
 * target's production bundle (`wrangler deploy --dry-run`) served by miniflare itself
 * (bench/mf-serve.mjs), one workerd per target and no dev-only subrequest hop (see there).
 */
const RUNTIME = process.env.RUNTIME ?? "wrangler";
const PIN = process.env.PIN !== "0" && cpus().length >= 2;
const SERVER_CPU = process.env.SERVER_CPU ?? "1";
const ORIGIN_CPU = process.env.ORIGIN_CPU ?? process.env.WRK_CPU ?? "0";
const WRK_CPU = process.env.WRK_CPU ?? "0";
const TICKS_PER_SECOND = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;
const env = {
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  // wrangler dev skips its inspector proxy (the devtools relay) when it thinks a debugger
  // terminal is attached: one less worker on the request path, the same for both.
  VSCODE_INSPECTOR_OPTIONS: "{}",
};

function ensureWrk() {
  if (spawnSync("wrk", ["--version"]).error === undefined) return;
  console.log("wrk not found: installing it with apt-get (Debian package `wrk`)…");
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", "wrk"], { stdio: "inherit" });
}

/** Runs `cmd` pinned to `cpu` (taskset) when pinning is on. */
function pinned(cpu, cmd, args) {
  return PIN ? ["taskset", ["-c", cpu, cmd, ...args]] : [cmd, args];
}

function stat(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  return {
    comm: text.slice(text.indexOf("(") + 1, text.lastIndexOf(")")),
    fields: text.slice(text.lastIndexOf(")") + 2).split(" "),
  };
}

/** utime + stime of a process (all its threads), in seconds. */
function cpuSeconds(pid) {
  const { fields } = stat(pid);
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function descendants(pid) {
  const children = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(stat(d).fields[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // ended while we looked
    }
  }
  const all = [];
  const walk = (p) => {
    for (const c of children.get(p) ?? []) {
      all.push(c);
      walk(c);
    }
  };
  walk(pid);
  return all;
}

/**
 * The two workerd processes of one `wrangler dev`: the one serving `port` is the proxy.
 * Under miniflare alone there is one, and no proxy.
 */
function workerdPids(wranglerPid, port) {
  const workerds = descendants(wranglerPid).filter((p) => stat(p).comm === "workerd");
  if (RUNTIME === "miniflare") {
    if (workerds.length !== 1)
      throw new Error(`expected one workerd under ${wranglerPid}, found ${workerds}`);
    return { proxy: null, worker: workerds[0] };
  }
  const cmdline = (p) => readFileSync(`/proc/${p}/cmdline`, "utf8");
  const proxy = workerds.find((p) => cmdline(p).includes(`entry=127.0.0.1:${port}`));
  const worker = workerds.find((p) => p !== proxy);
  if (!proxy || !worker)
    throw new Error(`expected two workerd processes under wrangler ${wranglerPid}, found ${workerds}`);
  return { proxy, worker };
}

function runWrk(url, profile, seconds) {
  const [cmd, args] = pinned(WRK_CPU, "wrk", [
    "-t1",
    `-c${CONNECTIONS}`,
    `-d${seconds}s`,
    "--timeout",
    "5s",
    "-s",
    join(root, "bench", "mixed.lua"),
    url,
    "--",
    profile,
  ]);
  return new Promise((resolveRun, reject) => {
    const wrk = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    wrk.stdout.on("data", (d) => {
      text += d;
    });
    wrk.on("error", reject);
    wrk.on("exit", (code) => {
      const line = text.split("\n").find((l) => l.startsWith("WRK_JSON "));
      if (code !== 0 || !line) return reject(new Error(`wrk failed (${code}):\n${text}`));
      resolveRun(JSON.parse(line.slice("WRK_JSON ".length)));
    });
  });
}

/** The bare worker's config: wrangler.toml's runtime settings, nothing else. */
function bareConfig() {
  const toml = readFileSync(join(root, "wrangler.toml"), "utf8");
  const keep = toml.split("\n").filter((l) => /^(compatibility_date|compatibility_flags|minify)\s*=/.test(l));
  const observability = toml.match(/^\[observability\][^[]*/m)?.[0] ?? "";
  const file = join(out, "bare.toml");
  writeFileSync(
    file,
    [
      `name = "bare"`,
      `main = ${JSON.stringify(join(root, "bench", "bare-worker.ts"))}`,
      ...keep,
      "",
      observability,
    ].join("\n"),
  );
  return file;
}

async function waitReady(url, child, what) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null)
      throw new Error(`${what} exited (${child.exitCode}); see ${out}/${what}.log`);
    try {
      // wrangler's proxy holds requests while the worker builds: never wait on one for long.
      const res = await fetch(url, {
        headers: { "MF-CF-Blob": '{"country":"JP"}' },
        signal: AbortSignal.timeout(5000),
      });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} not ready at ${url}`);
}

const children = [];

function start(what, cmd, args, cpu = SERVER_CPU) {
  const [c, a] = pinned(cpu, cmd, args);
  const log = join(out, `${what}.log`);
  writeFileSync(log, "");
  const child = spawn(c, a, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  for (const s of [child.stdout, child.stderr]) s.on("data", (d) => writeFileSync(log, d, { flag: "a" }));
  children.push(child);
  return child;
}

/**
 * Each target gets its own copy of the local state (the policy in KV): workerd processes
 * sharing one persist directory sometimes failed to start.
 */
function stateFor(what) {
  const dir = join(out, `state-${what}`);
  cpSync(join(out, "state"), dir, { recursive: true });
  return dir;
}

/** Builds the target's production bundle and serves it with bench/mf-serve.mjs. */
function miniflareServe(what, config, entry, port, vars, kv) {
  const outdir = join(out, `build-${what}`);
  const wranglerJs = join(root, "node_modules", "wrangler", "bin", "wrangler.js");
  const args = [
    wranglerJs,
    "deploy",
    ...(entry ? [entry] : []),
    "-c",
    config,
    "--dry-run",
    "--outdir",
    outdir,
  ];
  execFileSync(process.execPath, args, { cwd: root, env, stdio: "pipe" });
  const bundle = readdirSync(outdir).find((f) => f.endsWith(".js"));
  const toml = readFileSync(config, "utf8");
  const options = {
    compatibilityDate: toml.match(/^compatibility_date\s*=\s*"([^"]+)"/m)?.[1],
    compatibilityFlags: JSON.parse(toml.match(/^compatibility_flags\s*=\s*(\[[^\]]*\])/m)?.[1] ?? "[]"),
    kv,
    policyFile: kv ? join(root, "examples", "policy.json") : undefined,
    bindings: { ...(kv ? tomlVars(toml) : {}), ...vars },
  };
  return start(what, process.execPath, [
    join(root, "bench", "mf-serve.mjs"),
    join(outdir, bundle),
    String(port),
    JSON.stringify(options),
  ]);
}

/**
 * The gate's config for a one-Worker benchmark: wrangler.toml with the ledger's class
 * defined by the benchmarked script itself (bench/gate-worker.mjs exports it) instead of
 * bound from region-gate-control, and without the CONTROL binding (no admin traffic here).
 */
function gateConfig() {
  const toml = readFileSync(join(root, "wrangler.toml"), "utf8")
    .replace(/^main\s*=.*$/m, `main = ${JSON.stringify(join(root, "src", "gate", "index.ts"))}`)
    .replace(/^script_name\s*=.*\n/m, "")
    .replace(/^\[\[services\]\]\n(?:[a-z_]+\s*=.*\n)*/m, "");
  const file = join(out, "gate.toml");
  writeFileSync(file, `${toml}\n[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["ExposureLedger"]\n`);
  return file;
}

/** The `[vars]` of a wrangler.toml (flat `KEY = "value"` lines). */
function tomlVars(toml) {
  const section = toml.match(/^\[vars\]\n([^[]*)/m)?.[1] ?? "";
  return Object.fromEntries([...section.matchAll(/^([A-Z_]+)\s*=\s*"([^"]*)"/gm)].map((m) => [m[1], m[2]]));
}

function wranglerDev(what, config, entry, port, vars) {
  const args = [join(root, "node_modules", "wrangler", "bin", "wrangler.js"), "dev"];
  if (entry) args.push(entry);
  args.push("-c", config, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(port + 1));
  args.push("--persist-to", stateFor(what), "--log-level", "warn", "--show-interactive-dev-session=false");
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  return start(what, process.execPath, args);
}

async function measure(target, profile) {
  const url = `${target.url}/`;
  await runWrk(url, profile, WARMUP);
  const pids = [target.pids.worker, target.pids.proxy ?? process.pid, origin.pid];
  const before = pids.map(cpuSeconds);
  const r = await runWrk(url, profile, DURATION);
  const after = pids.map(cpuSeconds);
  const [worker, proxy, originCpu] = pids.map((_, i) => ((after[i] - before[i]) * 1e6) / r.requests);
  return rowOf(target, profile, r, { worker, proxy, origin: originCpu });
}

/** One measurement: wrk's figures and the CPU per request of the target's processes. */
function rowOf(target, profile, r, cpu) {
  return {
    target: target.name,
    profile,
    reqPerSec: r.requests / (r.duration_us / 1e6),
    p50Ms: r.p50_us / 1000,
    p99Ms: r.p99_us / 1000,
    requests: r.requests,
    errors: r.errors,
    workerCpuUs: cpu.worker,
    proxyCpuUs: target.pids.proxy ? cpu.proxy : Number.NaN,
    originCpuUs: cpu.origin,
  };
}

/**
 * PAIRING=concurrent: the bare worker and the target under the same load at the same
 * time (one wrk each, both servers on the same CPU), their CPU read over the same window.
 * Whatever the shared machine does in that window (frequency, other tenants, cache), it
 * does to both; the ratio of their CPU per request is what is left.
 */
async function measurePair(bare, target, profile) {
  const both = [bare, target];
  await Promise.all(both.map((t) => runWrk(`${t.url}/`, profile, WARMUP)));
  const pids = both.flatMap((t) => [t.pids.worker, t.pids.proxy ?? process.pid]);
  const before = pids.map(cpuSeconds);
  const results = await Promise.all(both.map((t) => runWrk(`${t.url}/`, profile, DURATION)));
  const after = pids.map(cpuSeconds);
  const perRequest = (i, r) => ((after[i] - before[i]) * 1e6) / r.requests;
  return both.map((t, k) => {
    const r = results[k];
    const worker = perRequest(2 * k, r);
    return rowOf(t, profile, r, { worker, proxy: perRequest(2 * k + 1, r), origin: Number.NaN });
  });
}

/**
 * measurePair, measured again (at most twice more) when a wrk run ends without its summary:
 * seen once in a 7-round run on the loaded machine (wrk exit code 0, empty output), which
 * voided the whole run. A pair is only ever kept whole, both runs from one window.
 */
async function measurePairRetrying(bare, target, profile) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await measurePair(bare, target, profile);
    } catch (e) {
      if (attempt === 3) throw e;
      console.log(`  (${target.name} ${profile}: ${e.message.split("\n")[0]}; measuring the pair again)`);
    }
  }
}

/** The mean of one target's measurements in one ABBA block. */
function meanRow(rows) {
  const mean = (k) => rows.reduce((sum, r) => sum + r[k], 0) / rows.length;
  const errors = {};
  for (const r of rows) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  return {
    ...rows[0],
    reqPerSec: mean("reqPerSec"),
    p50Ms: mean("p50Ms"),
    p99Ms: mean("p99Ms"),
    requests: mean("requests") * rows.length,
    errors,
    workerCpuUs: mean("workerCpuUs"),
    proxyCpuUs: mean("proxyCpuUs"),
    originCpuUs: mean("originCpuUs"),
  };
}

let origin;

async function main() {
  ensureWrk();
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const originPort = BASE_PORT;
  const barePort = BASE_PORT + 1;
  const originUrl = `http://127.0.0.1:${originPort}`;
  const wranglerJs = join(root, "node_modules", "wrangler", "bin", "wrangler.js");
  execFileSync(
    process.execPath,
    [
      wranglerJs,
      "kv",
      "key",
      "put",
      "--binding",
      "POLICY",
      "policy",
      "--path",
      "examples/policy.json",
      "--local",
    ].concat(["--persist-to", join(out, "state")]),
    { cwd: root, env, stdio: "pipe" },
  );
  // ORIGIN=fixed (default): the same answer whatever the request (bench/fixed-origin.mjs).
  // ORIGIN=echo: the demo origin, whose answer echoes every request header, so the gate's
  // forwarded headers (SPEC section 5) come back as a longer body for it to stream.
  const originScript =
    ORIGIN === "echo" ? join(root, "demo", "origin.mjs") : join(root, "bench", "fixed-origin.mjs");
  origin = start("origin", process.execPath, [originScript, String(originPort)], ORIGIN_CPU);
  const targets = [
    {
      name: REF_NAME,
      port: barePort,
      config: bareConfig(),
      entry: resolve(root, REF_ENTRY),
      kv: false,
      vars: { ORIGIN_URL: originUrl },
    },
    ...GATES.map((g, i) => ({
      name: g.name,
      port: BASE_PORT + 3 + 2 * i,
      config: g.bare ? bareConfig() : gateConfig(),
      entry: g.entry,
      kv: !g.bare,
      vars: g.bare
        ? { ORIGIN_URL: originUrl }
        : {
            ORIGIN_URL: originUrl,
            ADMIN_TOKEN: "bench-admin-token-0123456789-0123456789",
            IDENTITY_SALT: "bench-salt",
          },
    })),
  ];
  // One at a time: several wrangler builds and workerd starts at once on two CPUs can
  // outlast wrangler's runtime start-up timeout.
  for (const t of targets) {
    t.url = `http://127.0.0.1:${t.port}`;
    t.child =
      RUNTIME === "miniflare"
        ? miniflareServe(t.name, t.config, t.entry, t.port, t.vars, t.kv)
        : wranglerDev(t.name, t.config, t.entry, t.port, t.vars);
    await waitReady(`${t.url}/v1/models`, t.child, t.name);
    t.pids = workerdPids(t.child.pid, t.port);
  }
  console.log(
    `wrk -t1 -c${CONNECTIONS}, ${WARMUP} s warm-up + ${DURATION} s per target, ${ROUNDS} rounds per profile, ` +
      `${cpus().length} CPUs${PIN ? `, servers on CPU ${SERVER_CPU}, wrk on CPU ${WRK_CPU}, origin on CPU ${ORIGIN_CPU}` : ""}, node ${process.version}, ` +
      `runtime ${RUNTIME}, origin ${ORIGIN}, gates ${GATES.map((g) => `${g.name}=${relative(root, g.entry)}`).join(" ")}, ` +
      `load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
  );
  // The first seconds of load find V8 still compiling and caches cold: every target first
  // gets INITIAL_WARMUP seconds of each profile, unmeasured.
  for (const t of targets) for (const profile of PROFILES) await runWrk(`${t.url}/`, profile, INITIAL_WARMUP);
  const bare = targets[0];
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const profile of PROFILES) {
      // Each target is measured against the bare worker in an ABBA block (bare, target,
      // target, bare; flipped every other round), so every pair is adjacent in time and a
      // linear drift of the machine cancels; the order of the targets rotates with the round.
      const gates = targets.slice(1);
      const rotated = gates.map((_, i) => gates[(i + round) % gates.length]);
      const rows = {};
      const bares = {};
      for (const t of rotated) {
        const seen = [];
        if (PAIRING === "concurrent") seen.push(...(await measurePairRetrying(bare, t, profile)));
        else
          for (const x of round % 2 === 0 ? [bare, t, t, bare] : [t, bare, bare, t])
            seen.push(await measure(x, profile));
        rows[t.name] = meanRow(seen.filter((r) => r.target === t.name));
        bares[t.name] = meanRow(seen.filter((r) => r.target === bare.name));
      }
      for (const { name } of GATES) {
        const g = rows[name];
        const b = bares[name];
        const r = {
          round,
          profile,
          gate: name,
          bare: b,
          measured: g,
          cpuDiffUs: g.workerCpuUs - b.workerCpuUs,
          cpuRatio: g.workerCpuUs / b.workerCpuUs,
          // wrangler's proxy workerd does the same work for both: its CPU per request is an
          // in-run control for how much the shared machine inflated CPU time in each window.
          normRatio: g.workerCpuUs / g.proxyCpuUs / (b.workerCpuUs / b.proxyCpuUs),
          normDiffUs: g.workerCpuUs - b.workerCpuUs * (g.proxyCpuUs / b.proxyCpuUs),
          throughput: g.reqPerSec / b.reqPerSec,
          p99: g.p99Ms / b.p99Ms,
        };
        const f = rows[FLOOR];
        if (f && name !== FLOOR) {
          r.floorDiffUs = g.workerCpuUs - f.workerCpuUs;
          // Each net of the reference it was paired with: what is left of the two windows' drift.
          r.floorNetDiffUs = r.cpuDiffUs - (f.workerCpuUs - bares[FLOOR].workerCpuUs);
          r.floorRatio = g.workerCpuUs / f.workerCpuUs;
          r.floorNormRatio = g.workerCpuUs / g.proxyCpuUs / (f.workerCpuUs / f.proxyCpuUs);
        }
        rounds.push(r);
        console.log(
          `#${round} ${profile.padEnd(5)} ${name}: worker CPU ${bare.name} ${b.workerCpuUs.toFixed(0)} ${name} ${g.workerCpuUs.toFixed(0)} µs/req ` +
            `(${r.cpuDiffUs >= 0 ? "+" : ""}${r.cpuDiffUs.toFixed(1)} µs, ${r.cpuRatio.toFixed(3)}x)  ` +
            `req/s ${b.reqPerSec.toFixed(0)} / ${g.reqPerSec.toFixed(0)} (${r.throughput.toFixed(3)}x)  ` +
            `p99 ${b.p99Ms.toFixed(2)} / ${g.p99Ms.toFixed(2)} ms (${r.p99.toFixed(3)}x)  ` +
            (RUNTIME === "miniflare"
              ? ""
              : `proxy workerd ${b.proxyCpuUs.toFixed(0)} / ${g.proxyCpuUs.toFixed(0)} µs/req ` +
                `(normalised: ${r.normDiffUs >= 0 ? "+" : ""}${r.normDiffUs.toFixed(1)} µs, ${r.normRatio.toFixed(3)}x)  `) +
            `non-2xx/3xx ${b.errors.status} / ${g.errors.status}`,
        );
      }
    }
  }
  const kvReads = {};
  for (const t of targets.slice(1))
    kvReads[t.name] = (await (await fetch(`${t.url}/__bench/stats`)).json()).kvReads;
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const spread = (xs, digits) =>
    `${median(xs).toFixed(digits)} [${Math.min(...xs).toFixed(digits)} … ${Math.max(...xs).toFixed(digits)}]`;
  console.log(
    `\nmedian [min … max] over ${ROUNDS} rounds (target / ${targets[0].name}; targets: CPU <= 1.05x and <= +25 µs, req/s >= 0.95x, p99 <= 1.10x):`,
  );
  const summary = {};
  for (const { name } of GATES) {
    for (const profile of PROFILES) {
      const rs = rounds.filter((r) => r.profile === profile && r.gate === name);
      const of = (key) => rs.map(key);
      const keys = {
        bareCpuUs: (r) => r.bare.workerCpuUs,
        gateCpuUs: (r) => r.measured.workerCpuUs,
        cpuDiffUs: (r) => r.cpuDiffUs,
        cpuRatio: (r) => r.cpuRatio,
        normDiffUs: (r) => r.normDiffUs,
        normRatio: (r) => r.normRatio,
        throughput: (r) => r.throughput,
        p99: (r) => r.p99,
      };
      const againstFloor = rs.length > 0 && rs[0].floorRatio !== undefined;
      if (againstFloor) {
        keys.floorDiffUs = (r) => r.floorDiffUs;
        keys.floorNetDiffUs = (r) => r.floorNetDiffUs;
        keys.floorRatio = (r) => r.floorRatio;
        keys.floorNormRatio = (r) => r.floorNormRatio;
      }
      summary[`${name}/${profile}`] = Object.fromEntries(
        Object.entries(keys).map(([k, f]) => [k, { median: median(of(f)), values: of(f) }]),
      );
      const show = (k, digits) => spread(of(keys[k]), digits);
      console.log(
        [
          `  ${name} ${profile}: worker CPU ${bare.name} ${show("bareCpuUs", 0)} µs/req, ${name} ${show("gateCpuUs", 0)} µs/req`,
          `    difference ${show("cpuDiffUs", 1)} µs, ratio ${show("cpuRatio", 3)}x`,
          ...(RUNTIME === "miniflare"
            ? []
            : [
                `    normalised by the proxy workerd: difference ${show("normDiffUs", 1)} µs, ratio ${show("normRatio", 3)}x`,
              ]),
          `    req/s ratio ${show("throughput", 3)}x, p99 ratio ${show("p99", 3)}x`,
          ...(againstFloor
            ? [
                `    against ${FLOOR}: difference ${show("floorDiffUs", 1)} µs, ratio ${show("floorRatio", 3)}x, ` +
                  `each net of its ${bare.name} pair ${show("floorNetDiffUs", 1)} µs` +
                  (RUNTIME === "miniflare" ? "" : `, normalised ${show("floorNormRatio", 3)}x`),
              ]
            : []),
        ].join("\n"),
      );
    }
  }
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  console.log(
    `KV reads per gate isolate (whole run): ${JSON.stringify(kvReads)}; load average at the end: ${load}`,
  );
  const file = join(
    root,
    "bench",
    "results",
    `gate-bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`,
  );
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify({ rounds, summary, kvReads, load, gates: GATES, DURATION, WARMUP, CONNECTIONS, ROUNDS, PIN }, null, 2)}\n`,
  );
  console.log(`results: ${file}`);
}

function stopAll() {
  for (const c of children) {
    try {
      process.kill(-c.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    stopAll();
    process.exit(130);
  });
}
try {
  await main();
} finally {
  stopAll();
}
