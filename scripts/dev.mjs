#!/usr/bin/env node
/**
 * `npm start`: both Workers under one `wrangler dev` (the gate, wrangler.toml, on the port;
 * the control plane, wrangler.control.toml, behind the gate's CONTROL binding) in front of
 * the demo origin, with examples/policy.json seeded into the local KV. Ctrl-C, SIGTERM or SIGHUP (to this script
 * or to npm), or the end of the process that started it, stops everything it started.
 *
 * Env: GATE_PORT (8787), DEMO_ORIGIN_PORT (8788), INSPECTOR_PORT (wrangler's default),
 * POLICY_FILE (examples/policy.json), PERSIST_TO (the local store, .wrangler/state),
 * DEV_VARS (the local secrets file, .dev.vars).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startDemoOrigin } from "../demo/origin.mjs";
import { curlLines } from "./curl-lines.mjs";
import { isolatedWranglerConfig } from "./wrangler-config.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const gatePort = Number(process.env.GATE_PORT ?? 8787);
const originPort = Number(process.env.DEMO_ORIGIN_PORT ?? 8788);
const policyFile = process.env.POLICY_FILE ?? "examples/policy.json";
const wranglerBin = join(root, "node_modules", ".bin", "wrangler");
const inspectorPort = process.env.INSPECTOR_PORT;
const persistTo = process.env.PERSIST_TO;
const defaultDevVars = join(root, ".dev.vars");
const devVarsFile = process.env.DEV_VARS ? resolve(process.env.DEV_VARS) : defaultDevVars;
const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

// Taken first: a signal to npm during the seeding below already orphans this script.
const watched = watchedAncestors();

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

let version;
try {
  version = JSON.parse(readFileSync(join(root, policyFile), "utf8")).version;
} catch (e) {
  fail(`cannot read the policy ${policyFile}: ${e.message}. Set POLICY_FILE to a policy JSON file.`);
}
console.log(`seeding ${policyFile} (version ${version}) into the local KV (POLICY)…`);
for (const key of ["policy", `policy@${version}`]) {
  const put = ["kv", "key", "put", "--binding", "POLICY", key, "--path", policyFile, "--local"];
  wrangler(persistTo ? [...put, "--persist-to", persistTo] : put);
}

const origin = await startDemoOrigin(originPort).catch((e) =>
  fail(`the demo origin cannot listen on 127.0.0.1:${originPort} (${e.code}); set DEMO_ORIGIN_PORT`),
);
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
  stdio: ["ignore", "inherit", "inherit"],
  detached: true,
});

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

${curlLines(gate)}

Keep --compressed: like Cloudflare, wrangler dev compresses answers (br) even for a client
that asks for none, and curl prints them as binary without it. Requests without MF-CF-Blob
are judged as from US (wrangler dev's placeholder edge facts).
Ctrl-C (or a signal to npm) stops the gate and the demo origin.
`);
}
