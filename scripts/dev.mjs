#!/usr/bin/env node
/**
 * `npm start`: the gate under `wrangler dev` in front of the demo origin, with
 * examples/policy.json seeded into the local KV. Ctrl-C stops both.
 *
 * Env: GATE_PORT (8787), DEMO_ORIGIN_PORT (8788), POLICY_FILE (examples/policy.json).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDemoOrigin } from "../demo/origin.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const gatePort = Number(process.env.GATE_PORT ?? 8787);
const originPort = Number(process.env.DEMO_ORIGIN_PORT ?? 8788);
const policyFile = process.env.POLICY_FILE ?? "examples/policy.json";
const wranglerBin = join(root, "node_modules", ".bin", "wrangler");
const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };

function fail(message) {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

function wrangler(args) {
  const run = spawnSync(wranglerBin, args, { cwd: root, env, encoding: "utf8" });
  if (run.status !== 0) {
    fail(`\`wrangler ${args.join(" ")}\` failed:\n${run.stderr || run.stdout}`);
  }
}

// Secrets for local dev only; .dev.vars is gitignored and never deployed.
const devVars = join(root, ".dev.vars");
if (!existsSync(devVars)) {
  writeFileSync(devVars, "ADMIN_TOKEN=dev-admin-token\nIDENTITY_SALT=dev-salt\n");
  console.log("wrote .dev.vars (ADMIN_TOKEN=dev-admin-token, IDENTITY_SALT=dev-salt) for local dev");
}

let version;
try {
  version = JSON.parse(readFileSync(join(root, policyFile), "utf8")).version;
} catch (e) {
  fail(`cannot read the policy ${policyFile}: ${e.message}. Set POLICY_FILE to a policy JSON file.`);
}
console.log(`seeding ${policyFile} (version ${version}) into the local KV (POLICY)…`);
for (const key of ["policy", `policy@${version}`]) {
  wrangler(["kv", "key", "put", "--binding", "POLICY", key, "--path", policyFile, "--local"]);
}

const origin = await startDemoOrigin(originPort).catch((e) =>
  fail(`the demo origin cannot listen on 127.0.0.1:${originPort} (${e.code}); set DEMO_ORIGIN_PORT`),
);
const originUrl = `http://127.0.0.1:${originPort}`;
console.log(`demo origin on ${originUrl}`);

const dev = spawn(
  wranglerBin,
  ["dev", "--var", `ORIGIN_URL:${originUrl}`, "--port", String(gatePort), "--ip", "127.0.0.1"],
  { cwd: root, env, stdio: "inherit" },
);

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  if (dev.exitCode === null) dev.kill("SIGTERM");
  origin.closeAllConnections();
  origin.close();
  process.exitCode = code;
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
dev.on("exit", (code) => {
  if (!stopping) console.error(`wrangler dev exited (${code}); stopping the demo origin`);
  stop(code ?? 0);
});

const gate = `http://127.0.0.1:${gatePort}`;
async function waitForGate() {
  for (let i = 0; i < 600 && !stopping; i++) {
    try {
      const res = await fetch(`${gate}/__region-gate/healthz`);
      await res.body?.cancel();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return false;
}

if (await waitForGate()) {
  console.log(`
region-gate is up on ${gate} in front of ${originUrl}. Try:

  # pass (JP): the origin's echo, no gate headers on the response
  curl -i --compressed ${gate}/v1/models -H 'MF-CF-Blob: {"country":"JP"}'

  # warn (VE): the origin's echo plus Sunset, Link and x-region-gate-decision: warn
  curl -i --compressed ${gate}/v1/models -H 'MF-CF-Blob: {"country":"VE"}'

  # block (CN): 403 from the gate, the origin never sees it
  curl -i --compressed ${gate}/v1/models -H 'MF-CF-Blob: {"country":"CN"}'

  # streaming through the gate (SSE, chunk by chunk)
  curl -N '${gate}/v1/stream?n=3&delay=300' -H 'MF-CF-Blob: {"country":"JP"}'

Ctrl-C stops the gate and the demo origin.
`);
}
