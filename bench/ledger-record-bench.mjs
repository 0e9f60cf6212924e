#!/usr/bin/env node
/**
 * Per-request cost of the exposure ledger: `recordExposure()` on the request path (the
 * synchronous part: identity headers, day, key, Map increment) and, for keyed requests,
 * the HMAC it schedules with `waitUntil`. Flushes are kept out (an hour's delay).
 *
 *   node bench/ledger-record-bench.mjs
 *
 * The recorder is bundled with esbuild (Node cannot run TypeScript here); it is worker code,
 * so this runner stays JavaScript rather than joining the Node typecheck.
 */
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(root, ".tmp", "bench", "ledger-record.mjs");
await build({
  stdin: {
    contents: `export { recordExposure, exposureStats } from "./src/gate/recorder.ts";
      export { factsOf } from "./src/policy/facts.ts";
      export { compilePolicy } from "./src/policy/compile.ts";
      export { validatePolicy } from "./src/policy/validate.ts";`,
    resolveDir: root,
    loader: "ts",
  },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile,
  logLevel: "warning",
});
const { recordExposure, exposureStats, factsOf, compilePolicy, validatePolicy } = await import(
  pathToFileURL(outfile).href
);

const N = 200_000;
const ROUNDS = 5;

const checked = validatePolicy({
  schema: 1,
  version: "bench.1",
  supported: ["US", "DE", "JP"],
  identity: { headers: ["openai-organization", "openai-project"] },
});
if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
const policy = compilePolicy(checked.policy);
const env = { IDENTITY_SALT: "bench-salt", EXPOSURE_FLUSH_SECONDS: "3600" };
const verdict = { decision: "block", region: "CN", country: "CN", rule: "bench" };
// The first event schedules the (hour-long) delayed flush; give it a context nobody awaits.
recordExposure({ waitUntil() {} }, env, policy, factsOf(new Request("https://gate.test/"), "/"), verdict);

function requests(keyed) {
  return Array.from({ length: 1000 }, (_, i) => {
    const headers = { "openai-organization": `org-${i % 50}`, "openai-project": `proj-${i % 7}` };
    if (keyed) headers.authorization = `Bearer sk-bench-${i % 200}-0123456789abcdef`;
    return new Request("https://gate.test/v1/chat/completions", { headers });
  });
}

async function measure(label, keyed) {
  const reqs = requests(keyed);
  const pending = [];
  const ctx = { waitUntil: (p) => void pending.push(p) };
  const syncNs = [];
  const totalNs = [];
  for (let round = 0; round < ROUNDS; round++) {
    pending.length = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      const request = reqs[i % reqs.length];
      recordExposure(ctx, env, policy, factsOf(request, "/v1/chat/completions"), verdict);
    }
    const t1 = process.hrtime.bigint();
    await Promise.all(pending);
    const t2 = process.hrtime.bigint();
    syncNs.push(Number(t1 - t0) / N);
    totalNs.push(Number(t2 - t0) / N);
  }
  const best = (xs) => Math.min(...xs).toFixed(0);
  console.log(`| ${label} | ${best(syncNs)} ns | ${best(totalNs)} ns | ${exposureStats().bufferedKeys} |`);
}

console.log(`recordExposure, ${N} calls × ${ROUNDS} rounds (best round), Node ${process.version}\n`);
console.log("| requests | on the request path | incl. background HMAC | keys buffered |");
console.log("|---|---|---|---|");
await measure("anonymous", false);
await measure("with API key", true);
process.exit(0);
