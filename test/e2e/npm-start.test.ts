/**
 * `npm start` as an operator runs it: the real npm, scripts/dev.mjs, wrangler dev and its
 * workerd processes, on free ports with a throwaway store and secrets file. A signal to the
 * npm process must stop everything it started and free the ports; a restart keeps the
 * local store; an invalid POLICY_FILE starts nothing.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { curlLines } from "../../scripts/curl-lines.mjs";
import { ROOT } from "./global-setup";
import { descendants, freePort, isLive, npmStart, type Run, refuses } from "./npm-start-run";

let npm: ChildProcess | undefined;
let started: number[] = [];
let dir: string | undefined;
afterAll(async () => {
  // Only if the test failed half-way: nothing of ours may outlive it.
  for (const pid of [...started, ...(npm?.pid ? [npm.pid] : [])]) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone, as it should be.
    }
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

test.skipIf(!existsSync("/proc"))(
  "SIGTERM to npm stops dev.mjs, wrangler and both workerd processes and frees the ports",
  async () => {
    dir = await mkdtemp(join(tmpdir(), "region-gate-start-"));
    const [gatePort, originPort, inspectorPort] = [await freePort(), await freePort(), await freePort()];
    npm = spawn("npm", ["start"], {
      cwd: ROOT,
      env: {
        ...process.env,
        GATE_PORT: String(gatePort),
        DEMO_ORIGIN_PORT: String(originPort),
        INSPECTOR_PORT: String(inspectorPort),
        PERSIST_TO: join(dir, "state"),
        DEV_VARS: join(dir, "dev.vars"),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    npm.stdout!.setEncoding("utf8").on("data", (d: string) => (output += d));
    npm.stderr!.setEncoding("utf8").on("data", (d: string) => (output += d));
    const exited = new Promise<number | null>((resolve) => npm!.on("exit", (code) => resolve(code)));

    for (let i = 0; i < 600 && !output.includes("region-gate is up"); i++) {
      if (npm.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(output).toContain("region-gate is up");
    const gate = `http://127.0.0.1:${gatePort}`;
    // What it prints is what README "Try it locally" shows (test/unit/docs.test.ts).
    expect(output).toContain(curlLines(gate));
    const health = await fetch(`${gate}/__region-gate/healthz`);
    expect(((await health.json()) as { policyVersion: string }).policyVersion).toBe("2026-12-01.1");

    started = descendants(npm.pid!);
    const commands = started.map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      } catch {
        return "";
      }
    });
    expect(commands.some((c) => c.includes("scripts/dev.mjs"))).toBe(true);
    expect(commands.filter((c) => c.includes("workerd serve")).length).toBe(2);

    npm.kill("SIGTERM");
    await exited;
    // dev.mjs outlives npm by the time it takes to stop the group; give it that.
    for (let i = 0; i < 100 && started.some(isLive); i++) await new Promise((r) => setTimeout(r, 100));
    expect(started.flatMap((pid, i) => (isLive(pid) ? [`${pid} ${commands[i]}`] : []))).toEqual([]);
    expect(output).toContain("npm start: stopped gate and demo origin");
    expect(await refuses(gatePort)).toBe(true);
    expect(await refuses(originPort)).toBe(true);
  },
  240_000,
);

describe.skipIf(!existsSync("/proc"))("the local store survives restarts", () => {
  let home: string;
  const runs: Run[] = [];
  afterAll(async () => {
    for (const run of runs) {
      for (const pid of [...descendants(run.npm.pid!), run.npm.pid!]) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Gone, as it should be.
        }
      }
    }
    if (home) await rm(home, { recursive: true, force: true });
  });

  async function stopped(run: Run): Promise<void> {
    run.npm.kill("SIGTERM");
    await run.exited;
    await run.waitFor("npm start: stopped gate and demo origin");
  }

  test("npm start twice with a policy push in between keeps the pushed policy; a start that fails changes nothing; --reset starts over", async () => {
    home = await mkdtemp(join(tmpdir(), "region-gate-restart-"));
    const [gatePort, originPort, inspectorPort] = [await freePort(), await freePort(), await freePort()];
    // An absolute POLICY_FILE outside the checkout.
    const policyFile = join(home, "policy.json");
    const example = JSON.parse(readFileSync(join(ROOT, "examples", "policy.json"), "utf8"));
    writeFileSync(policyFile, JSON.stringify(example, null, 2));
    const next = join(home, "next-policy.json");
    writeFileSync(
      next,
      JSON.stringify(
        {
          ...example,
          version: "2026-12-07.1",
          supported: [...example.supported, "VE"],
          enforcement: {
            ...example.enforcement,
            regions: Object.fromEntries(
              Object.entries(example.enforcement.regions).filter(([code]) => code !== "VE"),
            ),
          },
        },
        null,
        2,
      ),
    );
    const env = {
      GATE_PORT: String(gatePort),
      DEMO_ORIGIN_PORT: String(originPort),
      INSPECTOR_PORT: String(inspectorPort),
      PERSIST_TO: join(home, "state"),
      DEV_VARS: join(home, "dev.vars"),
      POLICY_FILE: policyFile,
    };
    const gate = `http://127.0.0.1:${gatePort}`;
    const admin = { authorization: "Bearer dev-admin-token-for-local-use-only" };
    const active = async () =>
      ((await (await fetch(`${gate}/__region-gate/healthz`)).json()) as { policyVersion: string })
        .policyVersion;
    const history = async () =>
      (
        (await (await fetch(`${gate}/__region-gate/policy/history`, { headers: admin })).json()) as {
          versions: { version: string; activations: unknown[] }[];
        }
      ).versions;

    const first = npmStart(env);
    runs.push(first);
    await first.waitFor("region-gate is up");
    expect(first.output()).toContain(
      `seeded ${policyFile} (version 2026-12-01.1) into the empty local store`,
    );
    expect(await active()).toBe("2026-12-01.1");

    const push = spawnSync(
      process.execPath,
      [join(ROOT, "bin", "region-gate.mjs"), "policy", "push", next, "--yes"],
      {
        cwd: home,
        env: {
          ...process.env,
          REGION_GATE_URL: gate,
          REGION_GATE_TOKEN: "dev-admin-token-for-local-use-only",
        },
        encoding: "utf8",
      },
    );
    expect(push.status, push.stderr).toBe(0);
    expect(await active()).toBe("2026-12-07.1");

    // A second start on the same ports fails before it touches anything.
    const busy = npmStart(env);
    runs.push(busy);
    expect(await busy.exited).not.toBe(0);
    expect(busy.output()).toContain(`the gate cannot listen on 127.0.0.1:${gatePort} (EADDRINUSE)`);
    expect(busy.output()).not.toContain("into the empty local store");
    expect(await active()).toBe("2026-12-07.1");
    await stopped(first);

    const second = npmStart(env);
    runs.push(second);
    await second.waitFor("region-gate is up");
    expect(second.output()).toContain("kept the local store's active policy 2026-12-07.1");
    expect(second.output()).not.toContain("into the empty local store");
    expect(await active()).toBe("2026-12-07.1");
    // Both versions, each with its activation recorded: the seed went through the admin API too.
    const versions = await history();
    expect(versions.map((v) => v.version)).toEqual(["2026-12-07.1", "2026-12-01.1"]);
    for (const v of versions) expect(v.activations.length).toBe(1);
    await stopped(second);

    const reset = npmStart(env, ["--reset"]);
    runs.push(reset);
    await reset.waitFor("region-gate is up");
    expect(reset.output()).toContain("--reset: emptied the local store");
    expect(reset.output()).toContain("into the empty local store");
    expect(await active()).toBe("2026-12-01.1");
    expect((await history()).map((v) => v.version)).toEqual(["2026-12-01.1"]);
    await stopped(reset);
  }, 240_000);

  test.each([
    ["a JSON typo", '{\n  "schema": 1\n  "version": "x.1",\n  "supported": ["JP"]\n}\n', "line 3, column 3"],
    ["an invalid document", '{ "schema": 1, "version": "x.1", "supported": ["jp"] }', '$.supported[0]: "jp"'],
  ])(
    "an invalid POLICY_FILE (%s): policy validate's report, exit 1, nothing written or left running",
    async (_, text, where) => {
      home ??= await mkdtemp(join(tmpdir(), "region-gate-restart-"));
      const bad = join(home, "bad-policy.json");
      writeFileSync(bad, text);
      const [gatePort, originPort] = [await freePort(), await freePort()];
      const env = {
        GATE_PORT: String(gatePort),
        DEMO_ORIGIN_PORT: String(originPort),
        PERSIST_TO: join(home, "bad-state"),
        DEV_VARS: join(home, "bad.vars"),
        POLICY_FILE: bad,
      };
      const run = npmStart(env);
      runs.push(run);
      expect(await run.exited).toBe(1);
      const validate = spawnSync(
        process.execPath,
        [join(ROOT, "bin", "region-gate.mjs"), "policy", "validate", bad],
        {
          cwd: ROOT,
          encoding: "utf8",
        },
      );
      expect(validate.status).toBe(1);
      expect(validate.stderr).toContain(where);
      expect(run.output()).toContain(validate.stderr);
      expect(run.output()).toContain("Nothing was started.");
      expect(run.output()).not.toContain("region-gate is up");
      expect(existsSync(env.DEV_VARS)).toBe(false);
      expect(existsSync(env.PERSIST_TO)).toBe(false);
      expect(await refuses(gatePort)).toBe(true);
      expect(await refuses(originPort)).toBe(true);
    },
    60_000,
  );
});
