#!/usr/bin/env node
/**
 * Startup of each deploy artefact (issue 19): the CPU a fresh isolate spends loading the
 * Worker's module (parse, compile, top-level evaluation) before it can serve a request.
 *
 *   node bench/startup.mjs
 *   SAMPLES=15 BEFORE=/tmp/old-6f35ad0 node bench/startup.mjs
 *
 * Artefacts: the gate (wrangler.toml), the control plane (wrangler.control.toml) and, with
 * BEFORE=<checkout of an older commit>, that checkout's wrangler.toml (the one Worker before
 * the split), each built once with `wrangler deploy --dry-run --outfile` (the multipart
 * upload that `wrangler check startup --worker` reads). Then, SAMPLES times each, the
 * artefacts taking turns so that the shared machine's drift hits all alike:
 *
 * - `wrangler check startup --worker <bundle>`: wrangler's own profile (miniflare starts the
 *   bundle behind a wrapper whose fetch does `await import(main)`, with workerd's V8
 *   profiler on). Its default sampling interval leaves 2–4 samples per profile, so only the
 *   profile's span (Profiler.start → stop, which includes the request round trip) is
 *   summarised from it;
 * - the same wrapper and profiler with the sampling interval set to INTERVAL_US (100 µs),
 *   from which the time in samples whose stack holds the bundle's module, and the non-idle
 *   time, are read (DevTools' convention: a sample owns the time up to the next one).
 *
 * - the CPU it costs workerd to load the module: one miniflare with ISOLATES (20) workers
 *   of the artefact (each its own isolate: workerd parses, compiles and evaluates every
 *   worker's main module when it starts, to learn its exports), against the same number of
 *   one-line workers, in turns; utime + stime of the workerd process from its start to
 *   ready, the difference divided by ISOLATES. CPU time, so time spent descheduled on the
 *   shared machine does not count (the profiles' spans above are wall time).
 *
 * A local CPU profile on this machine's CPU, not Cloudflare's startup figure. Profiles go
 * to bench/results/startup/ (gitignored); the summary is printed and written beside them.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import WebSocket from "ws";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "bench", "results", "startup");
const SAMPLES = Number(process.env.SAMPLES ?? 11);
const INTERVAL_US = Number(process.env.INTERVAL_US ?? 100);
const ISOLATES = Number(process.env.ISOLATES ?? 20);
const TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
const BEFORE = process.env.BEFORE ? resolve(process.env.BEFORE) : null;
const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };
const wranglerJs = join(root, "node_modules", "wrangler", "bin", "wrangler.js");

const artefacts = [
  { name: "gate", cwd: root, config: "wrangler.toml" },
  { name: "control", cwd: root, config: "wrangler.control.toml" },
  ...(BEFORE ? [{ name: "before", cwd: BEFORE, config: "wrangler.toml" }] : []),
];

/** Builds the upload form (for wrangler check startup) and the plain module (for the fine profile). */
function build(a) {
  a.bundle = join(out, `${a.name}.bundle`);
  a.outdir = join(out, `${a.name}-dist`);
  const run = (args) =>
    execFileSync(process.execPath, [wranglerJs, ...args], { cwd: a.cwd, env, stdio: "pipe" });
  run(["deploy", "--dry-run", "-c", a.config, "--outfile", a.bundle]);
  run(["deploy", "--dry-run", "-c", a.config, "--outdir", a.outdir]);
  a.module = readFileSync(join(a.outdir, "index.js"));
  const toml = readFileSync(join(a.cwd, a.config), "utf8");
  a.compatibilityDate = toml.match(/^compatibility_date\s*=\s*"([^"]+)"/m)?.[1];
  a.compatibilityFlags = JSON.parse(toml.match(/^compatibility_flags\s*=\s*(\[[^\]]*\])/m)?.[1] ?? "[]");
}

/** `wrangler check startup` itself; returns its profile. */
function wranglerCheck(a, i) {
  const file = join(out, `${a.name}-wrangler-${i}.cpuprofile`);
  execFileSync(process.execPath, [wranglerJs, "check", "startup", "--worker", a.bundle, "--outfile", file], {
    cwd: root,
    env,
    stdio: "pipe",
  });
  return JSON.parse(readFileSync(file, "utf8"));
}

/** What wrangler check startup does (wrangler's analyseBundle), with a finer sampling interval. */
async function fineProfile(a, i) {
  const mainPath = "/bundle/index.js";
  const mf = new Miniflare({
    name: "profiler",
    compatibilityDate: a.compatibilityDate,
    compatibilityFlags: a.compatibilityFlags,
    modulesRoot: "/",
    modules: [
      {
        type: "ESModule",
        path: "/startup-wrapper.js",
        contents: `export default { async fetch() { await import(${JSON.stringify(mainPath)}); return new Response("ok"); } };`,
      },
      { type: "ESModule", path: mainPath, contents: a.module },
    ],
    inspectorPort: 0,
  });
  await mf.ready;
  const inspector = await mf.getInspectorURL();
  const ws = new WebSocket(new URL("/core:user:profiler", inspector.href));
  await new Promise((r, j) => {
    ws.once("open", r);
    ws.once("error", j);
  });
  let id = 0;
  const pending = new Map();
  ws.on("message", (d) => {
    const m = JSON.parse(String(d));
    pending.get(m.id)?.(m.result);
  });
  const send = (method, params = {}) =>
    new Promise((r) => {
      pending.set(++id, r);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: INTERVAL_US });
  await send("Profiler.start");
  await (await mf.dispatchFetch("https://example.com")).text();
  const { profile } = await send("Profiler.stop");
  ws.close();
  await mf.dispose();
  writeFileSync(join(out, `${a.name}-fine-${i}.cpuprofile`), JSON.stringify(profile));
  return profile;
}

/** utime + stime (s) of the workerd processes this script started. */
function workerdCpuSeconds() {
  let pids = [];
  try {
    pids = execFileSync("pgrep", ["-P", String(process.pid), "workerd"], { encoding: "utf8" })
      .trim()
      .split("\n");
  } catch {
    return 0;
  }
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / TICKS_PER_SECOND;
}

/** workerd CPU (ms) from start to ready with ISOLATES workers of `contents` (no bindings: loading only). */
async function loadCpuMs(a, contents) {
  const mf = new Miniflare({
    workers: Array.from({ length: ISOLATES }, (_, k) => ({
      name: `w${k}`,
      compatibilityDate: a.compatibilityDate,
      compatibilityFlags: a.compatibilityFlags,
      modulesRoot: "/",
      modules: [{ type: "ESModule", path: "/index.js", contents }],
    })),
  });
  await mf.ready;
  const ms = workerdCpuSeconds() * 1000;
  await mf.dispose();
  return ms;
}

const TRIVIAL = 'export default { fetch() { return new Response("ok"); } };';

/** Span, time in the bundle's frames and non-idle time of one profile, in ms. */
function summarise(profile, urlPart) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inBundle = (nodeId) => {
    for (let n = nodeId; n !== undefined; n = parent.get(n))
      if (byId.get(n).callFrame.url.includes(urlPart)) return true;
    return false;
  };
  const times = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) {
    t += d;
    times.push(t);
  }
  let bundleUs = 0;
  let busyUs = 0;
  profile.samples.forEach((s, i) => {
    const owned = (times[i + 1] ?? profile.endTime) - times[i];
    if (inBundle(s)) bundleUs += owned;
    if (byId.get(s).callFrame.functionName !== "(idle)") busyUs += owned;
  });
  return {
    spanMs: (profile.endTime - profile.startTime) / 1000,
    bundleMs: bundleUs / 1000,
    busyMs: busyUs / 1000,
    samples: profile.samples.length,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const spread = (xs) =>
  `${median(xs).toFixed(1)} [${Math.min(...xs).toFixed(1)} … ${Math.max(...xs).toFixed(1)}]`;

mkdirSync(out, { recursive: true });
for (const a of artefacts) build(a);
const rows = [];
for (let i = 0; i < SAMPLES; i++) {
  const order = artefacts.map((_, k) => artefacts[(k + i) % artefacts.length]);
  for (const a of order) {
    const coarse = summarise(wranglerCheck(a, i), "index.js");
    const fine = summarise(await fineProfile(a, i), "bundle/index.js");
    const baseMs = await loadCpuMs(a, TRIVIAL);
    const loadMs = await loadCpuMs(a, a.module);
    rows.push({
      artefact: a.name,
      i,
      coarse,
      fine,
      load: { baseMs, loadMs, perIsolateMs: (loadMs - baseMs) / ISOLATES },
    });
  }
}
const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
console.log(
  `${SAMPLES} samples per artefact, fine sampling interval ${INTERVAL_US} µs, ${ISOLATES} isolates per load sample, load average at the end ${load}; median [min … max] in ms`,
);
const summary = {};
for (const a of artefacts) {
  const rs = rows.filter((r) => r.artefact === a.name);
  const gz = execFileSync("gzip", ["-9c"], { input: a.module }).length;
  summary[a.name] = {
    bytes: a.module.length,
    gzipBytes: gz,
    wranglerSpanMs: median(rs.map((r) => r.coarse.spanMs)),
    wranglerSamples: median(rs.map((r) => r.coarse.samples)),
    wranglerBundleMs: median(rs.map((r) => r.coarse.bundleMs)),
    fineSamples: median(rs.map((r) => r.fine.samples)),
    bundleMs: median(rs.map((r) => r.fine.bundleMs)),
    busyMs: median(rs.map((r) => r.fine.busyMs)),
    loadCpuPerIsolateMs: median(rs.map((r) => r.load.perIsolateMs)),
  };
  console.log(
    `${a.name.padEnd(8)} ${(a.module.length / 1024).toFixed(1)} KiB (${(gz / 1024).toFixed(1)} KiB gzip): ` +
      `wrangler check startup span ${spread(rs.map((r) => r.coarse.spanMs))} (${median(rs.map((r) => r.coarse.samples))} samples per profile), in the bundle's frames ${spread(rs.map((r) => r.coarse.bundleMs))}; ` +
      `fine profile: in the bundle's frames ${spread(rs.map((r) => r.fine.bundleMs))}, ` +
      `non-idle ${spread(rs.map((r) => r.fine.busyMs))}, span ${spread(rs.map((r) => r.fine.spanMs))} (${median(rs.map((r) => r.fine.samples))} samples per profile); ` +
      `workerd CPU to load it, per isolate over a one-line worker ${spread(rs.map((r) => r.load.perIsolateMs))}`,
  );
}
writeFileSync(
  join(out, `startup-${new Date().toISOString().replace(/[:.]/g, "-")}.json`),
  `${JSON.stringify({ SAMPLES, INTERVAL_US, ISOLATES, BEFORE, load, summary, rows }, null, 2)}\n`,
);
