#!/usr/bin/env node
/**
 * Load on the ledger's shards with many isolates (issue 12 part 3). One workerd (miniflare)
 * runs the control plane (`dist/control/index.js`, which owns the `ExposureLedger`
 * namespace and serves the admin API) and N gates (`dist/gate/index.js`), each its own
 * worker (its own isolate, its own recorder buffer), all bound to that one namespace by
 * script name and to the control plane by their CONTROL service binding, as deployed.
 * Node drives them with many keys, orgs and regions, then reads the ledger back.
 *
 * Per configuration it reports, per shard: Durable Object calls per second (batches the
 * shard applied, from `GET /exposure/stats`), the callers it counted and the interval it
 * asked of them; overall: events per call, and whether the report equals what was sent.
 * Then the Durable Object's CPU per call: the workerd process's CPU over a phase of
 * `record` calls of the measured batch size, against a baseline phase of calls that write
 * nothing (a batch id already applied), in alternating rounds.
 *
 *   npm run build && node bench/ledger-isolates.mjs [--isolates 8] [--seconds 20]
 *     [--flush 1] [--budgets 1000,2] [--keys 3000] [--concurrency 32] [--rounds 3]
 *
 * `--budgets` are EXPOSURE_SHARD_CALLS_PER_SECOND values, one run each: a large one leaves
 * the isolates at their flush interval (calls/s = isolates ÷ flush), a small one makes the
 * shards pace them (calls/s ≤ budget). Everything stays on 127.0.0.1 (origin on port 20401).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Miniflare } from "miniflare";

const ROOT = join(import.meta.dirname, "..");
const GATE_BUNDLE = join(ROOT, "dist", "gate", "index.js");
const CONTROL_BUNDLE = join(ROOT, "dist", "control", "index.js");
/** The control plane's worker name: the gates' script_name and CONTROL service. */
const CONTROL = "region-gate-control";
const ADMIN_TOKEN = "bench-admin-token-0123456789-0123456789";
const ORIGIN_PORT = 20401;
const { values } = parseArgs({
  options: {
    isolates: { type: "string", default: "8" },
    seconds: { type: "string", default: "20" },
    flush: { type: "string", default: "1" },
    budgets: { type: "string", default: "1000,2" },
    keys: { type: "string", default: "3000" },
    concurrency: { type: "string", default: "32" },
    rounds: { type: "string", default: "3" },
  },
});
const ISOLATES = Number(values.isolates);
const SECONDS = Number(values.seconds);
const FLUSH = Number(values.flush);
const BUDGETS = values.budgets.split(",").map(Number);
const KEYS = Number(values.keys);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);

for (const bundle of [GATE_BUNDLE, CONTROL_BUNDLE]) {
  if (!existsSync(bundle)) {
    console.error(`${bundle} is missing: run \`npm run build\` first`);
    process.exit(1);
  }
}
const policy = readFileSync(join(ROOT, "examples", "policy.json"), "utf8");
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** Countries and their share of the load: one hot region, a few warm ones, a long tail. */
const PLACES = [
  ...Array(50).fill({ country: "CN" }),
  ...Array(10).fill({ country: "RU" }),
  ...Array(8).fill({ country: "IR" }),
  ...Array(6).fill({ country: "BY" }),
  ...Array(6).fill({ country: "VE" }),
  ...Array(4).fill({ country: "UA", regionCode: "43" }),
  ...["SY", "CU", "KP", "MM", "HK", "MO", "AF", "SD", "LY", "ER"].map((country) => ({ country })),
  ...Array(10).fill({ country: "US" }), // supported: not counted
];
const COUNTED = new Set(["observe", "warn", "block", "monitor", "exempt"]);

function rng(seed) {
  let s = seed >>> 0 || 1;
  return (m) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % m;
  };
}

function workerdPids() {
  try {
    return execFileSync("pgrep", ["-P", String(process.pid)], { encoding: "utf8" })
      .trim()
      .split("\n");
  } catch {
    return [];
  }
}

/** CPU seconds of the workerd processes this script started (Linux /proc, USER_HZ = 100). */
function workerdCpuSeconds() {
  let ticks = 0;
  for (const pid of workerdPids()) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // exited
    }
  }
  return ticks / 100;
}

function startOrigin() {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end('{"ok":true}'));
  });
  return new Promise((resolve) => server.listen(ORIGIN_PORT, "127.0.0.1", () => resolve(server)));
}

async function start(budget) {
  const shared = {
    modules: true,
    compatibilityDate: "2026-04-01",
    kvNamespaces: { POLICY: "policy" },
  };
  const vars = {
    EXPOSURE_SHARD_CALLS_PER_SECOND: String(budget),
    EXPOSURE_FLUSH_SECONDS: String(FLUSH),
  };
  const gates = Array.from({ length: ISOLATES }, (_, i) => ({
    ...shared,
    name: `gate-${i}`,
    scriptPath: GATE_BUNDLE,
    serviceBindings: { CONTROL },
    durableObjects: { EXPOSURE: { className: "ExposureLedger", scriptName: CONTROL, useSQLite: true } },
    bindings: {
      ...vars,
      IDENTITY_SALT: "bench-salt",
      ORIGIN_URL: `http://127.0.0.1:${ORIGIN_PORT}`,
    },
  }));
  const mf = new Miniflare({
    workers: [
      ...gates,
      {
        ...shared,
        name: CONTROL,
        scriptPath: CONTROL_BUNDLE,
        durableObjects: { EXPOSURE: { className: "ExposureLedger", useSQLite: true } },
        bindings: { ...vars, ADMIN_TOKEN },
      },
    ],
    host: "127.0.0.1",
    port: 0,
    cf: false,
    handleRuntimeStdio: () => {},
  });
  await mf.ready;
  await (await mf.getKVNamespace("POLICY", "gate-0")).put("policy", policy);
  const workers = await Promise.all(gates.map((g) => mf.getWorker(g.name)));
  return { mf, workers };
}

async function adminJson(worker, path) {
  const res = await worker.fetch(`http://gate.bench/__region-gate${path}`, { headers: admin });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function run(budget) {
  const { mf, workers } = await start(budget);
  try {
    const next = rng(0x9e3779b9 ^ budget);
    const sent = new Map(); // region → { requests, customers: Set }
    let requests = 0;
    let counted = 0;
    const t0 = Date.now();
    const stop = t0 + SECONDS * 1000;
    const driver = async () => {
      while (Date.now() < stop) {
        const place = PLACES[next(PLACES.length)];
        const key = `sk-bench-${next(KEYS)}`;
        const org = `org-${next(KEYS / 3)}`;
        const res = await workers[next(workers.length)].fetch("http://gate.bench/v1/chat", {
          headers: { authorization: `Bearer ${key}`, "openai-organization": org },
          cf: place,
        });
        await res.arrayBuffer();
        requests++;
        const decision = res.headers.get("x-region-gate-decision");
        if (!COUNTED.has(decision)) continue;
        counted++;
        const region = place.regionCode ? `${place.country}-${place.regionCode}` : place.country;
        const r = sent.get(region) ?? { requests: 0, customers: new Set() };
        r.requests++;
        // A customer is a key the origin accepted (SPEC section 6): a blocked request never
        // reached it, so its key stays unverified and is not counted as one.
        if (decision !== "block" && res.status < 500 && res.status !== 401 && res.status !== 403)
          r.customers.add(key);
        sent.set(region, r);
      }
    };
    const before = await adminJson(workers[0], "/exposure/stats");
    // Halfway, the shards have counted their callers: the second half is the steady state.
    let mid = null;
    const midSample = new Promise((resolve) => setTimeout(resolve, (SECONDS * 1000) / 2)).then(async () => {
      mid = { at: Date.now(), stats: await adminJson(workers[0], "/exposure/stats") };
    });
    await Promise.all(Array.from({ length: CONCURRENCY }, driver));
    const endAt = Date.now();
    const end = await adminJson(workers[0], "/exposure/stats");
    await midSample;
    const loadSeconds = (Date.now() - t0) / 1000;
    // The last events wait in the isolates for their flush (the interval, or a shard's hint).
    let summary = [];
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      summary = (await adminJson(workers[0], "/exposure?summary=1")).summary;
      if (summary.reduce((n, s) => n + s.requests, 0) >= counted) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const drainSeconds = (Date.now() - t0) / 1000 - loadSeconds;
    const after = await adminJson(workers[0], "/exposure/stats");
    const steadySeconds = (endAt - mid.at) / 1000;
    const shards = after.shards
      .map((s, i) => ({
        ...s,
        calls: s.flushesLastHour - before.shards[i].flushesLastHour,
        steady: (end.shards[i].flushesLastHour - mid.stats.shards[i].flushesLastHour) / steadySeconds,
      }))
      .filter((s) => s.calls > 0);
    const calls = shards.reduce((n, s) => n + s.calls, 0);
    let exact = summary.length === sent.size;
    for (const s of summary) {
      const want = sent.get(s.region);
      if (!want || want.requests !== s.requests || want.customers.size !== s.customers) exact = false;
    }
    const cpu = await cpuPerCall(mf, Math.max(1, Math.round(counted / calls)));
    return { budget, requests, counted, loadSeconds, drainSeconds, shards, calls, exact, summary, cpu };
  } finally {
    await mf.dispose();
  }
}

/**
 * CPU of the workerd process per `record` call, for calls that write `rowsPerCall` rows
 * (new keys each time) and, as the baseline, calls that write nothing (a batch id already
 * applied: the dedup lookup only), alternating, `ROUNDS` rounds of 300 calls each.
 */
async function cpuPerCall(mf, rowsPerCall) {
  const ns = await mf.getDurableObjectNamespace("EXPOSURE", CONTROL);
  const stub = ns.get(ns.idFromName("exposure-shard-15"));
  const day = new Date().toISOString().slice(0, 10);
  await stub.record("cpu-seen", [], "cpu-bench");
  const before = await stub.stats();
  const per = { write: [], noop: [] };
  let n = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of round % 2 ? ["noop", "write"] : ["write", "noop"]) {
      const cpu0 = workerdCpuSeconds();
      for (let i = 0; i < 300; i++) {
        if (kind === "noop") await stub.record("cpu-seen", [], "cpu-bench");
        else {
          // Verified customer rows (the origin accepted the key; an unverified tuple's
          // identity is `{}` and folds into one row), each a 16-hex fingerprint of its own with
          // a 25-character identity: a fingerprint keeps at most MAX_IDENTITIES (8)
          // identities, and a region and day at most EXPOSURE_MAX_CUSTOMERS customers, so the
          // calls spread over 26 codes to stay under both.
          const code = `Z${String.fromCharCode(65 + (n % 26))}`;
          const tuples = Array.from({ length: rowsPerCall }, (_, j) => [
            day,
            code,
            (n * 4096 + j).toString(16).padStart(16, "0"),
            `{"openai-organization":"org-${String(j).padStart(4, "0")}-abcdefgh"}`,
            "warn",
            1,
            1,
            [],
          ]);
          n++;
          await stub.record(`cpu-${n}`, tuples, "cpu-bench");
        }
      }
      per[kind].push(((workerdCpuSeconds() - cpu0) / 300) * 1e6);
    }
  }
  const after = await stub.stats();
  // Storage growth per stored row: table row, index entry, page slack (the batch ids too).
  const bytesPerRow = (after.databaseBytes - before.databaseBytes) / (after.rows - before.rows);
  return { rowsPerCall, ...per, bytesPerRow, rows: after.rows - before.rows };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const origin = await startOrigin();
try {
  console.log(
    `# ${ISOLATES} gate isolates, flush ${FLUSH} s, ${SECONDS} s of load, ${KEYS} keys, concurrency ${CONCURRENCY}\n`,
  );
  for (const budget of BUDGETS) {
    const r = await run(budget);
    const model = Math.min(ISOLATES / FLUSH, budget);
    console.log(`## EXPOSURE_SHARD_CALLS_PER_SECOND=${budget}\n`);
    console.log(
      `${r.requests} requests in ${r.loadSeconds.toFixed(1)} s (${Math.round(r.requests / r.loadSeconds)} req/s), ` +
        `${r.counted} counted; last flush landed ${r.drainSeconds.toFixed(1)} s after the load stopped. ` +
        `Report equals what was sent (requests and distinct customers per region): **${r.exact ? "yes" : "NO"}**.\n`,
    );
    console.log(
      "| shard | regions | calls | calls/s, whole run | calls/s, second half | callers | interval asked (ms) | events/call |",
    );
    console.log("|---|---|---|---|---|---|---|---|");
    for (const s of r.shards) {
      const regions = r.summary.filter((x) => r.shards.length && shardOfRegion(x.region) === s.shard);
      const events = regions.reduce((n, x) => n + x.requests, 0);
      console.log(
        `| ${s.shard} | ${regions.map((x) => x.region).join(" ")} | ${s.calls} | ${(s.calls / r.loadSeconds).toFixed(2)} | ${s.steady.toFixed(2)} | ${s.callers} | ${s.flushAfterMs} | ${(events / s.calls).toFixed(1)} |`,
      );
    }
    const hottest = Math.max(...r.shards.map((s) => s.calls / r.loadSeconds));
    const hottestSteady = Math.max(...r.shards.map((s) => s.steady));
    console.log(
      `\nAll shards: ${r.calls} calls, ${(r.counted / r.calls).toFixed(1)} events per call; hottest shard ${hottest.toFixed(2)} calls/s ` +
        `over the run, ${hottestSteady.toFixed(2)} in its second half ` +
        `(model: min(isolates ÷ flush, budget) = ${model.toFixed(2)}).\n`,
    );
    console.log(
      `DO CPU per call (workerd process, ${ROUNDS} rounds × 300 calls; per round): writing ${r.cpu.rowsPerCall} new rows ` +
        `${r.cpu.write.map((x) => x.toFixed(0)).join(", ")} µs (median ${median(r.cpu.write).toFixed(0)}); ` +
        `baseline, a call that writes nothing ${r.cpu.noop.map((x) => x.toFixed(0)).join(", ")} µs (median ${median(r.cpu.noop).toFixed(0)}); ` +
        `ratio ${(median(r.cpu.write) / median(r.cpu.noop)).toFixed(2)}. Storage: ${r.cpu.bytesPerRow.toFixed(0)} bytes per row ` +
        `(database growth over ${r.cpu.rows} rows written).\n`,
    );
  }
} finally {
  origin.close();
}

/** The ledger's region → shard map (FNV-1a mod 16), as in src/exposure/model.ts. */
function shardOfRegion(region) {
  let h = 0x811c9dc5;
  for (let i = 0; i < region.length; i++) {
    h ^= region.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % 16;
}
