#!/usr/bin/env node
/**
 * Soak (issue 5): the two built Workers (dist/gate/index.js, and dist/control/index.js
 * behind its CONTROL binding, as test/e2e/harness.ts's startGate() runs them) under
 * miniflare's HTTP server in front of a real Node echo origin, both on 127.0.0.1. Sends
 * REQUESTS requests with mixed countries, subdivisions, methods, paths, body sizes and
 * spoofed headers, CONCURRENCY in flight, and checks every answer against decide() run on
 * the same policy version the answer names:
 *   - blocked: exact 403 body and headers, and the origin never saw it;
 *   - passed: the origin's echo of method, target, body sha256/length and gate headers.
 * A third of the requests carry one of 8 customer keys the origin accepts, a sixth an
 * invented key it refuses (401). At the end the exposure ledger must hold exactly the
 * counted requests (observe, warn, block, monitor, exempt, judged by the version each answer
 * names) per code, keyless ones under `anonymous`, invented keys under no fingerprint of
 * their own, and each customer's accepted requests under its fingerprint (SPEC section 6).
 * Mid-run the policy changes twice: at 1/2 through the admin API (a PUT to the control plane,
 * which drops only its own isolate's cache) and at 3/4 by writing KV directly (as
 * `wrangler kv` would); the gate picks up either within POLICY_CACHE_SECONDS. Reports how
 * long until every response used the new version, and any response whose decision does
 * not match the version it claims (a "mix").
 *
 *   npm run build && node bench/soak.mjs                  # 200 000 requests, 32 in flight
 *   REQUESTS=20000 CONCURRENCY=16 CACHE_SECONDS=2 node bench/soak.mjs
 *   BODIES=passing node bench/soak.mjs   # bodies only where every version passes
 *
 * Bounded: stops after MAX_SECONDS (default 900) whatever the count. Loopback only.
 * Writes the summary to bench/results/soak-<time>.json (git-ignored).
 */
import { execFileSync } from "node:child_process";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadCore, loadHarness } from "./harness.mjs";

const root = join(import.meta.dirname, "..");
const REQUESTS = Number(process.env.REQUESTS ?? 200_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32);
const MAX_SECONDS = Number(process.env.MAX_SECONDS ?? 900);
const CACHE_SECONDS = Number(process.env.CACHE_SECONDS ?? 5);
const BODY_MODE = process.env.BODIES ?? "all";
const DAY = 86_400_000;

// The gate, origin and decision code of the e2e suite (bench/harness.mjs).
const { climbsAboveRoot, decide, compilePolicy, validatePolicy } = await loadCore();
const {
  buildBundle,
  startGate,
  startOrigin,
  TEST_ADMIN_TOKEN: ADMIN_TOKEN,
  TEST_IDENTITY_SALT,
} = await loadHarness();
if (process.env.SKIP_BUILD !== "1") buildBundle();

// ------------------------------------------------------------------ policies

const at = (days) => new Date(Date.now() + days * DAY).toISOString();
const v1 = {
  schema: 1,
  version: "soak.1",
  supported: ["BR", "DE", "FR", "GB", "IN", "JP", "UA", "US"],
  unsupportedSubdivisions: ["UA-43"],
  enforcement: {
    default: { warnFrom: at(-30), blockFrom: at(-10) },
    regions: { VE: { warnFrom: at(-1), blockFrom: at(30) }, BY: { warnFrom: at(10), blockFrom: at(20) } },
  },
  scope: { include: ["/v1/"], exclude: ["/v1/health"] },
  exemptions: [{ cidr: "203.0.113.0/24", note: "soak probes" }],
  error: { message: "Country, region, or territory not supported", docsUrl: "https://example.com/regions" },
};
// v2 moves decisions in both directions: US blocked, CN allowed, BY blocked, unknown blocked.
const v2 = {
  ...v1,
  version: "soak.2",
  supported: ["BR", "CN", "DE", "FR", "GB", "IN", "JP", "UA"],
  enforcement: { ...v1.enforcement, regions: { ...v1.enforcement.regions, BY: { blockFrom: at(-1) } } },
  unknownCountry: "block",
};
const v3 = { ...v2, version: "soak.3", mode: "monitor" };
const compiled = new Map();
for (const doc of [v1, v2, v3]) {
  const result = validatePolicy(doc);
  if (!result.ok) throw new Error(`soak policy ${doc.version} invalid: ${JSON.stringify(result.errors)}`);
  compiled.set(doc.version, compilePolicy(result.policy));
}

// ------------------------------------------------------------------ origin and gate

// The e2e echo origin, without keeping a record of each request; it refuses invented keys.
const INVENTED = "sk-soak-invented-";
const origin = await startOrigin({ record: false, acceptKeys: (key) => !key.startsWith(INVENTED) });
const gate = await startGate({
  originUrl: origin.url,
  policy: v1,
  bindings: {
    ORIGIN_TIMEOUT_MS: "10000",
    POLICY_CACHE_SECONDS: String(CACHE_SECONDS),
    ORIGIN_AUTH_SECRET: "soak-origin-secret",
  },
});
const gateUrl = gate.url;
const kv = gate.kv;

/** RSS (KiB) of the workerd process miniflare started for this run. */
function workerdRssKiB() {
  const out = execFileSync("ps", ["-o", "pid=,rss=,comm=", "--ppid", String(process.pid)], {
    encoding: "utf8",
  });
  const line = out.split("\n").find((l) => l.includes("workerd"));
  return line ? Number(line.trim().split(/\s+/)[1]) : null;
}

// ------------------------------------------------------------------ request mix

/** Deterministic PRNG (mulberry32) so a run can be repeated exactly with SEED. */
let seed = Number(process.env.SEED ?? 1);
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (weighted) => {
  let r = rand() * weighted.reduce((s, [, w]) => s + w, 0);
  for (const [value, w] of weighted) {
    r -= w;
    if (r < 0) return value;
  }
  return weighted[weighted.length - 1][0];
};

const EDGES = [
  [{ country: "JP" }, 20],
  [{ country: "US", regionCode: "CA" }, 15],
  [{ country: "DE" }, 8],
  [{ country: "BR" }, 5],
  [{ country: "CN" }, 15],
  [{ country: "RU" }, 5],
  [{ country: "VE" }, 5],
  [{ country: "BY" }, 5],
  [{ country: "UA", regionCode: "43" }, 4],
  [{ country: "UA", regionCode: "30" }, 4],
  [{}, 4],
  [{ country: "XX" }, 2],
  [{ country: "T1" }, 2],
];
const METHODS = [
  ["GET", 50],
  ["POST", 30],
  ["PUT", 10],
  ["DELETE", 5],
  ["PATCH", 5],
];
const BODY_SIZES = [
  [0, 10],
  [64, 30],
  [1024, 35],
  [16 * 1024, 20],
  [256 * 1024, 5],
];
const BODIES = new Map();
for (const [size] of BODY_SIZES) {
  const variants = [];
  for (let i = 0; i < 8; i++) {
    const buf = randomBytes(size);
    variants.push({ buf, sha: createHash("sha256").update(buf).digest("hex") });
  }
  BODIES.set(size, variants);
}
const EMPTY_SHA = createHash("sha256").digest("hex");
const PATHS = [
  [(n) => `/v1/chat/completions?n=${n}`, 45],
  [(n) => `/v1/files/f-${n}?purpose=fine%20tune&x=%2F`, 15],
  [(n) => `/v2/public/${n}`, 10],
  [() => "/v1/health", 5],
  [(n) => `//v1/models/${n}`, 5],
  [(n) => `/V1/Models/${n}`, 5],
  [(n) => `/v1%2Fchat/${n}`, 5],
  [(n) => `/x/../v1/embeddings?${n}`, 5],
  [(n) => `/v1/health/..;/chat/${n}`, 5],
  // Climb above the root once decoded: 400 invalid_request_path, bodies read first.
  [(n) => `/v1/..%2F..%2Fchat/${n}`, 2],
  [(n) => `/..%2Fv1/files/${n}`, 1],
];

function nextRequest(n) {
  const edge = pick(EDGES);
  const method = pick(METHODS);
  // BODIES=passing sends bodies only from countries every version passes: an experiment
  // that separates transport errors caused by early 403s on unread bodies (README, Findings).
  const bodyAllowed = BODY_MODE === "all" || ["JP", "DE", "BR"].includes(edge.country);
  const hasBody = bodyAllowed && (method === "POST" || method === "PUT" || method === "PATCH");
  const size = hasBody ? pick(BODY_SIZES) : 0;
  const body = hasBody ? BODIES.get(size)[Math.floor(rand() * 8)] : null;
  const url = new URL(`${gateUrl}${pick(PATHS)(n)}`);
  const headers = { "MF-CF-Blob": JSON.stringify(edge) };
  const exemptProbe = edge.country === "CN" && rand() < 0.1;
  const ip = exemptProbe ? `203.0.113.${n % 250}` : `192.0.2.${n % 250}`;
  headers["cf-connecting-ip"] = ip;
  const spoofed = rand() < 0.25;
  if (spoofed) {
    Object.assign(headers, {
      "CF-IPCountry": "US",
      "X-Forwarded-For": "203.0.113.9",
      "True-Client-IP": "203.0.113.9",
      Forwarded: "for=203.0.113.9",
      "X-Region-Gate-Decision": "pass",
      "x-region-gate-auth": "forged",
      "X-Region-Gate-Spoof": "1",
    });
  }
  if (hasBody) headers["content-type"] = "application/octet-stream";
  const keyKind = pick(KEY_KINDS);
  const key =
    keyKind === "customer"
      ? `sk-soak-customer-${Math.floor(rand() * 8)}`
      : keyKind === "invented"
        ? `${INVENTED}${n}`
        : null;
  if (key) headers.authorization = `Bearer ${key}`;
  return { n, edge, method, body, url, headers, ip, spoofed, key, invented: keyKind === "invented" };
}

const KEY_KINDS = [
  ["none", 3],
  ["customer", 2],
  ["invented", 1],
];
const LEDGER_DECISIONS = new Set(["observe", "warn", "block", "monitor", "exempt"]);
const fingerprintOf = (key) =>
  createHmac("sha256", TEST_IDENTITY_SALT).update(key).digest("hex").slice(0, 16);

/**
 * What the ledger must hold, from the verdicts: per code, all counted events, the keyless
 * ones, and per customer key its events and those the origin accepted (forwarded, so not
 * blocked: the origin accepts every customer key).
 */
const ledgerExpected = new Map();
function expectLedger(req, verdict) {
  if (!LEDGER_DECISIONS.has(verdict.decision)) return;
  const code = verdict.region ?? verdict.country ?? "XX";
  let e = ledgerExpected.get(code);
  if (!e) {
    e = { total: 0, anonymous: 0, invented: 0, customers: new Map() };
    ledgerExpected.set(code, e);
  }
  e.total++;
  if (req.key === null) e.anonymous++;
  else if (req.invented) e.invented++;
  else {
    const c = e.customers.get(req.key) ?? { all: 0, accepted: 0 };
    c.all++;
    if (verdict.decision !== "block") c.accepted++;
    e.customers.set(req.key, c);
  }
}

// ------------------------------------------------------------------ run and check

const stats = {
  requests: 0,
  errors: 0,
  misdecisions: 0,
  corruptedBodies: 0,
  headerMismatches: 0,
  unknownVersions: 0,
  byDecision: {},
  byVersion: {},
};
const problems = [];
const latencies = new Float64Array(REQUESTS);
/** [sendTime, versionIndex] per response, for the propagation figures. */
const sendTimes = new Float64Array(REQUESTS);
const versionOf = new Int8Array(REQUESTS);
const VERSIONS = ["soak.1", "soak.2", "soak.3"];

/** Failures by kind and first words, with the seconds (since start) they happened at. */
const failureKinds = {};
function failure(kind) {
  failureKinds[kind] ??= { count: 0, atSeconds: [] };
  const entry = failureKinds[kind];
  entry.count++;
  if (entry.atSeconds.length < 50) entry.atSeconds.push(Number(((performance.now() - t0) / 1000).toFixed(1)));
}

function problem(kind, req, detail) {
  if (problems.length < 20) {
    const body = req.body ? req.body.buf.length : 0;
    problems.push({
      kind,
      n: req.n,
      method: req.method,
      body,
      url: req.url.pathname,
      edge: req.edge,
      detail,
    });
  }
}

/** The fields checked, from the e2e origin's record of what it received. */
function originSaw(record) {
  const h = record.headers;
  return {
    method: record.method,
    target: record.target,
    len: record.bodyLength,
    sha: record.bodySha256,
    decision: h["x-region-gate-decision"],
    country: h["x-region-gate-country"],
    region: h["x-region-gate-region"],
    policy: h["x-region-gate-policy"],
    cfCountry: h["cf-ipcountry"],
    xff: h["x-forwarded-for"],
    trueClientIp: h["true-client-ip"],
    forwarded: h.forwarded,
    auth: h["x-region-gate-auth"],
    spoof: h["x-region-gate-spoof"],
  };
}

async function one(req) {
  const sent = performance.now();
  sendTimes[req.n] = sent;
  const res = await fetch(req.url, {
    method: req.method,
    headers: req.headers,
    body: req.body ? req.body.buf : undefined,
    redirect: "manual",
  });
  const text = await res.text();
  latencies[req.n] = performance.now() - sent;
  if (climbsAboveRoot(req.url.pathname)) {
    stats.byDecision.invalid_request_path = (stats.byDecision.invalid_request_path ?? 0) + 1;
    versionOf[req.n] = -1;
    if (res.status !== 400 || JSON.parse(text).error?.code !== "invalid_request_path") {
      stats.misdecisions++;
      problem("misdecision", req, { expected: "400 invalid_request_path", status: res.status });
    }
    return;
  }
  // The origin refuses an invented key with 401 and the record of what it saw.
  const refused = res.status === 401 && res.headers.get("x-origin-refused") === "invalid_api_key";
  const echo = res.status === 200 || refused ? originSaw(JSON.parse(text)) : null;
  const version = res.status === 403 ? res.headers.get("x-region-gate-policy") : echo?.policy;
  const policy = compiled.get(version);
  versionOf[req.n] = VERSIONS.indexOf(version);
  stats.byVersion[version] = (stats.byVersion[version] ?? 0) + 1;
  if (!policy) {
    stats.unknownVersions++;
    stats.errors++;
    failure(`${res.status} ${text.replace(/^\{"error":\{"message":"/, "").slice(0, 60)}`);
    problem("unknown_version", req, { status: res.status, text: text.slice(0, 200) });
    return;
  }
  const verdict = decide(
    policy,
    {
      path: req.url.pathname,
      country: req.edge.country ?? null,
      regionCode: req.edge.regionCode ?? null,
      ip: req.ip,
    },
    Date.now(),
  );
  stats.byDecision[verdict.decision] = (stats.byDecision[verdict.decision] ?? 0) + 1;
  expectLedger(req, verdict);
  if (verdict.decision === "block") {
    const ok =
      res.status === 403 &&
      text === policy.blockBody &&
      res.headers.get("x-region-gate-decision") === "block" &&
      res.headers.get("x-region-gate-region") === verdict.region;
    if (!ok) {
      stats.misdecisions++;
      problem("misdecision", req, { expected: verdict, status: res.status, version });
    }
    return;
  }
  if (res.status !== (req.invented ? 401 : 200) || echo === null) {
    stats.misdecisions++;
    problem("misdecision", req, { expected: verdict.decision, status: res.status, text: text.slice(0, 200) });
    return;
  }
  const clientDecision = res.headers.get("x-region-gate-decision");
  const expectClient =
    verdict.decision === "pass" || verdict.decision === "out_of_scope" ? null : verdict.decision;
  if (echo.decision !== verdict.decision || clientDecision !== expectClient) {
    stats.misdecisions++;
    problem("misdecision", req, {
      expected: verdict.decision,
      origin: echo.decision,
      client: clientDecision,
      version,
    });
    return;
  }
  const sha = req.body ? req.body.sha : EMPTY_SHA;
  const len = req.body ? req.body.buf.length : 0;
  if (echo.sha !== sha || echo.len !== len) {
    stats.corruptedBodies++;
    problem("body", req, { sent: [len, sha], seen: [echo.len, echo.sha] });
  }
  const expectHeaders = {
    method: req.method,
    target: `${req.url.pathname}${req.url.search}`,
    country: verdict.country ?? undefined,
    region: verdict.region ?? undefined,
    cfCountry: verdict.country ?? undefined,
    xff: req.ip,
    trueClientIp: req.spoofed ? req.ip : undefined,
    forwarded: undefined,
    auth: "soak-origin-secret",
    spoof: undefined,
  };
  for (const [key, want] of Object.entries(expectHeaders)) {
    if (echo[key] !== want) {
      stats.headerMismatches++;
      problem("header", req, { key, want, seen: echo[key] });
      break;
    }
  }
}

const changes = [];
async function changePolicy(kind) {
  const started = performance.now();
  if (kind === "admin") {
    const res = await fetch(`${gateUrl}/__region-gate/policy`, {
      method: "PUT",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(v2),
    });
    if (res.status !== 200 && res.status !== 201)
      throw new Error(`admin PUT: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    changes.push({
      kind: "admin PUT",
      version: "soak.2",
      index: 1,
      at: performance.now(),
      tookMs: performance.now() - started,
    });
  } else {
    await kv.put("policy", JSON.stringify(v3));
    changes.push({
      kind: "KV put",
      version: "soak.3",
      index: 2,
      at: performance.now(),
      tookMs: performance.now() - started,
    });
  }
}

/**
 * Waits (bounded) until the ledger holds every counted request, then compares it with what
 * was sent. Returns the figures and every difference found.
 */
async function checkLedger() {
  const expectedTotal = [...ledgerExpected.values()].reduce((n, e) => n + e.total, 0);
  const get = async (path) =>
    (
      await fetch(`${gateUrl}/__region-gate${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).json();
  let landed = 0;
  for (const until = performance.now() + 60_000; performance.now() < until; ) {
    const { summary } = await get("/exposure?summary=1");
    landed = summary.reduce((n, s) => n + s.requests, 0);
    if (landed >= expectedTotal) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const rows = [];
  for (let cursor = null; ; ) {
    const page = await get(`/exposure?limit=10000${cursor ? `&cursor=${cursor}` : ""}`);
    rows.push(...page.rows);
    cursor = page.next;
    if (!cursor) break;
  }
  const mismatches = [];
  const sum = (code, test) =>
    rows.filter((r) => r.region === code && test(r)).reduce((n, r) => n + r.requests, 0);
  const codes = new Set([...ledgerExpected.keys(), ...rows.map((r) => r.region)]);
  for (const code of codes) {
    const e = ledgerExpected.get(code) ?? { total: 0, anonymous: 0, invented: 0, customers: new Map() };
    const got = sum(code, () => true);
    if (got !== e.total) mismatches.push({ code, what: "total", expected: e.total, got });
    const anonymous = sum(code, (r) => r.fingerprint === "anonymous");
    if (anonymous !== e.anonymous)
      mismatches.push({ code, what: "anonymous", expected: e.anonymous, got: anonymous });
    let keyed = 0;
    for (const [key, c] of e.customers) {
      const mine = sum(code, (r) => r.fingerprint === fingerprintOf(key));
      keyed += c.all;
      // Accepted requests always count under the key; blocked ones too once it was verified there.
      if (mine < c.accepted || mine > c.all)
        mismatches.push({ code, what: `customer ${key}`, expected: `${c.accepted}..${c.all}`, got: mine });
    }
    const unverified = sum(code, (r) => r.fingerprint === "unverified");
    const customers = sum(code, (r) => /^[0-9a-f]{16}$/.test(r.fingerprint));
    if (unverified + customers !== keyed + e.invented)
      mismatches.push({ code, what: "keyed", expected: keyed + e.invented, got: unverified + customers });
  }
  const invented = rows.filter((r) => r.fingerprint.length === 16 && !r.verified);
  if (invented.length > 0)
    mismatches.push({ what: "unverified fingerprints with rows", got: invented.length });
  const overflow = rows.filter((r) => r.fingerprint === "overflow").length;
  if (overflow > 0) mismatches.push({ what: "overflow rows", got: overflow });
  return {
    expectedEvents: expectedTotal,
    ledgerEvents: landed,
    rows: rows.length,
    exact: mismatches.length === 0,
    mismatches: mismatches.slice(0, 20),
  };
}

const rssStart = workerdRssKiB();
const rssSamples = [rssStart];
const rssTimer = setInterval(() => rssSamples.push(workerdRssKiB()), 10_000);
let issued = 0;
let pendingChange = Promise.resolve();
const t0 = performance.now();
const deadline = t0 + MAX_SECONDS * 1000;

async function worker() {
  while (issued < REQUESTS && performance.now() < deadline) {
    const n = issued++;
    if (n === Math.floor(REQUESTS / 2)) pendingChange = changePolicy("admin");
    if (n === Math.floor((REQUESTS * 3) / 4)) pendingChange = changePolicy("kv");
    const req = nextRequest(n);
    try {
      await one(req);
    } catch (e) {
      stats.errors++;
      latencies[n] = Number.NaN;
      versionOf[n] = -1;
      problem("error", req, String(e?.cause?.message ?? e?.message ?? e));
      failure(`client: ${e?.cause?.message ?? e?.message ?? e}`);
    }
    stats.requests++;
  }
}
const progress = setInterval(() => {
  const s = (performance.now() - t0) / 1000;
  process.stderr.write(
    `\r${stats.requests} requests, ${(stats.requests / s).toFixed(0)} req/s, errors ${stats.errors}, misdecisions ${stats.misdecisions}   `,
  );
}, 2000);
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
await pendingChange;
const seconds = (performance.now() - t0) / 1000;
clearInterval(progress);
clearInterval(rssTimer);
const rssEnd = workerdRssKiB();
process.stderr.write("\n");

// Propagation: after a change returned, the last request *sent* later that still got an
// older version, and how many did.
const propagation = changes.map((c) => {
  let lastStale = null;
  let stale = 0;
  for (let i = 0; i < stats.requests; i++) {
    if (sendTimes[i] > c.at && versionOf[i] >= 0 && versionOf[i] < c.index) {
      stale++;
      lastStale = Math.max(lastStale ?? 0, sendTimes[i] - c.at);
    }
  }
  return {
    change: c.kind,
    to: c.version,
    writeMs: Number(c.tookMs.toFixed(1)),
    staleResponsesSentAfterWrite: stale,
    allNewAfterMs: lastStale === null ? 0 : Number(lastStale.toFixed(1)),
  };
});

const sorted = Array.from(latencies.subarray(0, stats.requests))
  .filter(Number.isFinite)
  .sort((a, b) => a - b);
const q = (p) =>
  Number((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN).toFixed(2));
const ledger = await checkLedger();
const summary = {
  when: new Date().toISOString(),
  config: {
    REQUESTS,
    CONCURRENCY,
    CACHE_SECONDS,
    MAX_SECONDS,
    BODIES: BODY_MODE,
    seed: Number(process.env.SEED ?? 1),
  },
  requests: stats.requests,
  seconds: Number(seconds.toFixed(1)),
  throughputRps: Number((stats.requests / seconds).toFixed(0)),
  latencyMs: { p50: q(0.5), p99: q(0.99), max: q(1) },
  errors: stats.errors,
  misdecisions: stats.misdecisions,
  corruptedBodies: stats.corruptedBodies,
  headerMismatches: stats.headerMismatches,
  ledger,
  byDecision: stats.byDecision,
  byVersion: stats.byVersion,
  propagation,
  workerdRssMiB: {
    start: rssStart && Number((rssStart / 1024).toFixed(1)),
    end: rssEnd && Number((rssEnd / 1024).toFixed(1)),
    max: Number((Math.max(...rssSamples.filter(Boolean)) / 1024).toFixed(1)),
    every10s: rssSamples.map((k) => k && Math.round(k / 1024)),
  },
  failureKinds,
  problems,
};
console.log(JSON.stringify(summary, null, 2));
mkdirSync(join(root, "bench", "results"), { recursive: true });
writeFileSync(
  join(root, "bench", "results", `soak-${summary.when.replaceAll(":", "-")}.json`),
  `${JSON.stringify(summary, null, 2)}\n`,
);
await gate.dispose();
await origin.close();
const failed =
  stats.errors + stats.misdecisions + stats.corruptedBodies + stats.headerMismatches > 0 || !ledger.exact;
process.exit(failed ? 1 : 0);
