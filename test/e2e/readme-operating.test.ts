/**
 * README "Operating it" as an operator copies it: the section's `sh` blocks, read from
 * README.md (so the test breaks when the README drifts), run as one bash script against
 * `npm start`, in a folder of the checkout as the README says. Only the gate's address is
 * changed (the test's free port for 8787).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { ROOT } from "./global-setup";
import { freePort, npmStart, type Run } from "./npm-start-run";

/** The `sh` fenced blocks of the README section `heading`, in order. */
function shBlocks(heading: string): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start, `README has no section "${heading}"`).toBeGreaterThan(-1);
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

let run: Run | undefined;
let home: string | undefined;
let work: string | undefined;
afterAll(async () => {
  if (run && run.npm.exitCode === null) {
    run.npm.kill("SIGTERM");
    await run.exited;
  }
  for (const dir of [home, work]) if (dir) await rm(dir, { recursive: true, force: true });
});

test("every command of README 'Operating it' runs as printed against npm start", async () => {
  const blocks = shBlocks("Operating it");
  expect(blocks.length).toBe(2);
  const printed = blocks.join("\n");
  expect(printed).toContain("export REGION_GATE_URL=http://127.0.0.1:8787");
  expect(printed).toContain("export REGION_GATE_TOKEN=dev-admin-token-for-local-use-only ");
  expect(printed).not.toMatch(/(^|[^-])npx region-gate/m);

  home = await mkdtemp(join(tmpdir(), "region-gate-readme-"));
  const [gatePort, originPort, inspectorPort] = [await freePort(), await freePort(), await freePort()];
  run = npmStart({
    GATE_PORT: String(gatePort),
    DEMO_ORIGIN_PORT: String(originPort),
    INSPECTOR_PORT: String(inspectorPort),
    PERSIST_TO: join(home, "state"),
    DEV_VARS: join(home, "dev.vars"),
  });
  await run.waitFor("region-gate is up");

  // Inside the checkout (npx finds the package's own CLI there), in a folder git ignores.
  work = join(ROOT, ".tmp", `readme-operating-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const script = printed.replaceAll("http://127.0.0.1:8787", `http://127.0.0.1:${gatePort}`);
  const env = { ...process.env };
  for (const name of ["REGION_GATE_URL", "REGION_GATE_TOKEN", "IDENTITY_SALT"]) delete env[name];
  const ran = spawnSync("bash", ["-euo", "pipefail", "-c", script], {
    cwd: work,
    env,
    encoding: "utf8",
    timeout: 180_000,
  });
  const said = `${ran.stdout}\n${ran.stderr}`;
  expect(ran.status, said).toBe(0);
  // What the comments beside the commands promise.
  expect(ran.stdout).toContain("next-policy.json: valid policy 2026-12-07.1");
  expect(ran.stdout).toMatch(/HK: warn → block on 2027-01-15T00:00:00Z/);
  expect(ran.stdout).toContain("Pushed 2026-12-07.1");
  expect(ran.stdout).toMatch(/decision\s+block/);
  expect(ran.stdout).toMatch(/2026-12-07\.1[\s\S]*2026-12-01\.1/);
  expect(readFileSync(join(work, "id-fingerprint.csv"), "utf8")).toMatch(
    /^id,fingerprint\ncustomer-1,[0-9a-f]{16}\n$/,
  );
  readFileSync(join(work, "notices", "index.csv"), "utf8");
  const health = (await (await fetch(`http://127.0.0.1:${gatePort}/__region-gate/healthz`)).json()) as {
    policyVersion: string;
  };
  expect(health.policyVersion).toBe("2026-12-01.1");
  run.npm.kill("SIGTERM");
  await run.exited;
}, 240_000);
