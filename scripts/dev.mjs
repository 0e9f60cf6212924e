#!/usr/bin/env node
/**
 * `npm start`: both Workers under one `wrangler dev` (the gate, wrangler.toml, on the port;
 * the control plane, wrangler.control.toml, behind the gate's CONTROL binding) in front of
 * the demo origin, on the local store (`.wrangler/state`). The store is never overwritten:
 * POLICY_FILE (examples/policy.json) is seeded only into a store that has no active policy,
 * through the admin API once the gate answers, so a failed start changes nothing and a
 * policy pushed meanwhile survives a restart. `npm start -- --reset` empties the local store
 * (policy, history and ledger) first. Ctrl-C, SIGTERM or SIGHUP (to this script or to npm),
 * or the end of the process that started it, stops everything it started.
 *
 * Env: GATE_PORT (8787), DEMO_ORIGIN_PORT (8788), INSPECTOR_PORT (wrangler's default),
 * POLICY_FILE (examples/policy.json; relative to the repository root, or absolute),
 * PERSIST_TO (the local store, .wrangler/state), DEV_VARS (the local secrets file, .dev.vars).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, relative, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { startDemoOrigin } from "../demo/origin.mjs";
import { curlLines } from "./curl-lines.mjs";
import { isolatedWranglerConfig } from "./wrangler-config.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const gatePort = Number(process.env.GATE_PORT ?? 8787);
const originPort = Number(process.env.DEMO_ORIGIN_PORT ?? 8788);
const policyFile = process.env.POLICY_FILE || "examples/policy.json";
const policyPath = resolve(root, policyFile);
const wranglerBin = join(root, "node_modules", ".bin", "wrangler");
const cliBin = join(root, "bin", "region-gate.mjs");
const inspectorPort = process.env.INSPECTOR_PORT;
const persistTo = process.env.PERSIST_TO;
const defaultDevVars = join(root, ".dev.vars");
const devVarsFile = process.env.DEV_VARS ? resolve(process.env.DEV_VARS) : defaultDevVars;
const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const shown = (path) => (path.startsWith(`${root}/`) ? relative(root, path) : path);

const USAGE = `Usage: npm start [-- --reset]

  --reset   empty the local store first (${shown(resolve(root, persistTo ?? ".wrangler/state"))}/v3: the
            policy, its history and the exposure ledger), then seed POLICY_FILE

Without --reset the local store is kept as it is; POLICY_FILE (${policyFile}) is
seeded only when the store has no active policy.`;

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}

/**
 * The processes whose end stops this script: its parent and, when the parent is a
 * `sh -c` that a script runner put in between (yarn, pnpm, an npm script without `exec`),
 * the runner above it (Linux; elsewhere the parent alone).
 */
function watchedAncestors() {
  const pids = [process.ppid];
  try {
    const shell = readFileSync(`/proc/${process.ppid}/cmdline`, "utf8").split("\0");
    if (/(^|\/)(sh|dash|bash)$/.test(shell[0] ?? "") && shell[1] === "-c") {
      const stat = readFileSync(`/proc/${process.ppid}/stat`, "utf8");
      pids.push(Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    }
  } catch {
    // No /proc: the parent alone.
  }
  return pids;
}

// Taken first: a signal to npm during the checks below already orphans this script.
const watched = watchedAncestors();

function fail(message) {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  console.log(USAGE);
  process.exit(0);
}
const unknown = args.filter((a) => a !== "--reset");
if (unknown.length > 0) fail(`unknown argument ${unknown.join(" ")}\n${USAGE}`);
const reset = args.includes("--reset");

// Checks first, in the order they can fail; nothing is written or started before all pass.
// 1. The policy, with \`region-gate policy validate\`'s own report (line, column and caret for
//    a JSON typo; every problem with its path otherwise).
const validation = spawnSync(process.execPath, [cliBin, "policy", "validate", policyFile], {
  cwd: root,
  env,
  encoding: "utf8",
});
if (validation.status !== 0) {
  process.stderr.write(validation.stderr || validation.stdout);
  fail(
    `POLICY_FILE ${policyFile} is not a policy to start with; fix it (or unset POLICY_FILE). Nothing was started.`,
  );
}
const version = JSON.parse(readFileSync(policyPath, "utf8")).version;

// 2. The ports: the gate's (wrangler would fail later, after the origin started) and the origin's.
function portFree(port) {
  return new Promise((done) => {
    const probe = createServer();
    probe.once("error", (e) => done(e.code));
    probe.listen(port, "127.0.0.1", () => probe.close(() => done(null)));
  });
}
const gateBusy = await portFree(gatePort);
if (gateBusy)
  fail(`the gate cannot listen on 127.0.0.1:${gatePort} (${gateBusy}); set GATE_PORT. Nothing was started.`);
const origin = await startDemoOrigin(originPort).catch((e) =>
  fail(
    `the demo origin cannot listen on 127.0.0.1:${originPort} (${e.code}); set DEMO_ORIGIN_PORT. Nothing was started.`,
  ),
);

// Secrets for local dev only; .dev.vars is gitignored and never deployed.
const shownVars = devVarsFile.startsWith(`${root}/`) ? relative(root, devVarsFile) : devVarsFile;
if (!existsSync(devVarsFile)) {
  writeFileSync(devVarsFile, "ADMIN_TOKEN=dev-admin-token-for-local-use-only\nIDENTITY_SALT=dev-salt\n");
  console.log(
    `wrote ${shownVars} (ADMIN_TOKEN=dev-admin-token-for-local-use-only, IDENTITY_SALT=dev-salt) for local dev`,
  );
} else {
  // An ADMIN_TOKEN under 32 characters makes every admin route answer 503 admin_misconfigured.
  const token = /^ADMIN_TOKEN=(.*)$/m.exec(readFileSync(devVarsFile, "utf8"))?.[1]?.trim();
  if (token !== undefined && token !== "" && [...token].length < 32) {
    console.warn(
      `npm start: ADMIN_TOKEN in ${shownVars} is ${[...token].length} characters; the admin API needs at least 32 (delete the file to get a new one)`,
    );
  }
}
/** ADMIN_TOKEN from the secrets file (KEY=VALUE lines, optional quotes), for seeding through the admin API. */
function adminToken() {
  for (const line of readFileSync(devVarsFile, "utf8").split("\n")) {
    const m = /^\s*ADMIN_TOKEN\s*=\s*(["']?)(.*)\1\s*$/.exec(line);
    if (m) return m[2];
  }
  return null;
}

const token = adminToken();
if (!token)
  fail(`${shownVars} has no ADMIN_TOKEN line; add one (npm start seeds the policy through the admin API)`);

if (reset) {
  // wrangler keeps everything local (KV, Durable Objects, caches) under <persist root>/v3.
  const state = join(resolve(root, persistTo ?? ".wrangler/state"), "v3");
  rmSync(state, { recursive: true, force: true });
  console.log(`--reset: emptied the local store (${shown(state)})`);
}

const originUrl = `http://127.0.0.1:${originPort}`;
console.log(`demo origin on ${originUrl}`);

// wrangler runs in its own process group with everything it starts (its bundler, both
// workerd processes), so stopping kills the whole tree; its stdin is not the terminal, so
// Ctrl-C reaches this script, which stops the group.
// Both configs run from copies in .tmp/dev with the dev secrets beside them: wrangler dev
// gives `--env-file` to the first Worker only, and each Worker reads the `.dev.vars` beside
// its own config. The first config gets the port; the service binding, the cross-script
// Durable Object and the shared KV id resolve between the two in one process. The store
// stays where the CLI's `--local` looks for it (.wrangler/state, or PERSIST_TO).
const devDir = join(root, ".tmp", "dev");
const configs = ["wrangler.toml", "wrangler.control.toml"].map((c) =>
  isolatedWranglerConfig(join(root, c), devDir),
);
writeFileSync(join(devDir, ".dev.vars"), readFileSync(devVarsFile));
const devArgs = ["dev", ...configs.flatMap((c) => ["-c", c])];
devArgs.push("--var", `ORIGIN_URL:${originUrl}`, "--port", String(gatePort), "--ip", "127.0.0.1");
devArgs.push("--persist-to", persistTo ?? join(root, ".wrangler", "state"));
if (inspectorPort) devArgs.push("--inspector-port", inspectorPort);
devArgs.push("--show-interactive-dev-session=false");
const dev = spawn(wranglerBin, devArgs, {
  cwd: root,
  env,
  stdio: ["ignore", "pipe", "inherit"],
  detached: true,
});
// wrangler dev compares worker-configuration.d.ts with types that include the secrets in
// .dev.vars, so it suggests `wrangler types` whenever that file exists; run as suggested it
// would make them required fields of Env and break `npm run typecheck`. Point to the
// project's commands instead, which leave .dev.vars out (scripts/cf-typegen.mjs).
const TYPES_HINT = /Re-run `wrangler types` to ensure your types are correct\./;
createInterface({ input: dev.stdout }).on("line", (line) =>
  console.log(
    line.replace(
      TYPES_HINT,
      "wrangler counts .dev.vars' secrets here, so this shows whenever that file exists: `npm run types:check` tells whether they are, `npm run cf-typegen` regenerates them (not `wrangler types`, which would type the secrets).",
    ),
  ),
);

/** Signals every process of wrangler's group; false when none is left. */
function signalGroup(signal) {
  try {
    process.kill(-dev.pid, signal);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}

let stopping = false;
let watch;
/** Stops wrangler's whole process group (SIGTERM, SIGKILL after 5 s) and the demo origin, then exits. */
async function stop(why, code = 0) {
  if (stopping) return;
  stopping = true;
  clearInterval(watch);
  console.error(`npm start: ${why}; stopping the gate and the demo origin`);
  signalGroup("SIGTERM");
  for (let waited = 0; signalGroup(0) && waited < 5000; waited += 100) await sleep(100);
  if (signalGroup(0)) signalGroup("SIGKILL");
  origin.closeAllConnections();
  await new Promise((done) => origin.close(done));
  console.error("npm start: stopped gate and demo origin");
  process.exit(code);
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => stop(signal));
dev.on("exit", (code, signal) => stop(`wrangler dev exited (${signal ?? code})`, code || 1));

// npm passes SIGINT and SIGTERM to its child, which is this script (`exec` in package.json;
// without it a shell would take them and die, or ignore them, and leave this running). npm
// itself dies of SIGHUP or SIGKILL without a word, so watch the parent too.
watch = setInterval(() => {
  const gone = watched.find((pid) => !alive(pid)) ?? (process.ppid === watched[0] ? undefined : watched[0]);
  if (gone !== undefined) stop(`the process that started it (pid ${gone}) has exited`);
}, 500);

const gate = `http://127.0.0.1:${gatePort}`;

const asAdmin = { headers: { authorization: `Bearer ${token}` } };

/**
 * Waits until the gate answers, asking for the local store's active policy (an admin
 * route: unlike a judged request or healthz, it logs no error while the store is empty).
 * The answer, or null when stopping.
 */
async function waitForGate() {
  for (let i = 0; i < 600 && !stopping; i++) {
    try {
      const res = await fetch(`${gate}/__region-gate/policy`, asAdmin);
      return { status: res.status, text: await res.text() };
    } catch {
      await sleep(250);
    }
  }
  return null;
}

/**
 * Seeds POLICY_FILE through the admin API (as `region-gate policy push` does, so history
 * records the activation) when the local store has no active policy (`active`: the answer
 * of GET /policy), and says in one line which happened. False when that failed.
 */
function seedIfEmpty(active) {
  if (active.status === 200) {
    let kept = "whose version cannot be read";
    try {
      kept = JSON.parse(active.text).version;
    } catch {}
    console.log(
      `kept the local store's active policy ${kept}; ${policyFile} is seeded only into an empty store (\`npm start -- --reset\` empties it)`,
    );
    return true;
  }
  if (active.status !== 404) {
    console.error(`npm start: reading the local store's policy answered ${active.status}: ${active.text}`);
    return false;
  }
  const push = spawnSync(process.execPath, [cliBin, "policy", "push", policyFile, "--yes"], {
    cwd: root,
    env: { ...env, REGION_GATE_URL: gate, REGION_GATE_TOKEN: token },
    encoding: "utf8",
  });
  if (push.status !== 0) {
    console.error(`npm start: seeding ${policyFile} failed:\n${push.stderr || push.stdout}`);
    return false;
  }
  console.log(`seeded ${policyFile} (version ${version}) into the empty local store`);
  return true;
}

const active = await waitForGate();
if (active && !seedIfEmpty(active)) await stop("the policy could not be seeded", 1);
if (!stopping) {
  console.log(`
region-gate is up on ${gate} in front of ${originUrl}. Try:

${curlLines(gate)}

Keep --compressed: like Cloudflare, wrangler dev compresses answers (br) even for a client
that asks for none, and curl prints them as binary without it. Requests without MF-CF-Blob
are judged as from US (wrangler dev's placeholder edge facts).
Ctrl-C (or a signal to npm) stops the gate and the demo origin.
`);
}
