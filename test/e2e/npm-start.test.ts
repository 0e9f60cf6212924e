/**
 * `npm start` as an operator runs it: the real npm, scripts/dev.mjs, wrangler dev and its
 * workerd processes, on free ports with a throwaway store and secrets file. A signal to the
 * npm process must stop everything it started and free the ports.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { curlLines } from "../../scripts/curl-lines.mjs";
import { ROOT } from "./global-setup";

async function freePort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Every live (not zombie) descendant of `pid`, from /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (state === "Z") continue;
      const list = children.get(Number(ppid)) ?? [];
      list.push(Number(name));
      children.set(Number(ppid), list);
    } catch {
      // Exited while we looked.
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

const isLive = (pid: number) => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
};

const refuses = (port: number) =>
  fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000) }).then(
    async (res) => {
      await res.body?.cancel();
      return false;
    },
    () => true,
  );

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
    expect(((await health.json()) as { policyVersion: string }).policyVersion).toBe("2026-11-25.1");

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
