/**
 * Running `npm start` in tests: free ports, its process tree from /proc, and one run's
 * output with a wait for a line of it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { ROOT } from "./global-setup";

export async function freePort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Every live (not zombie) descendant of `pid`, from /proc. */
export function descendants(pid: number): number[] {
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

export const isLive = (pid: number) => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
};

export const refuses = (port: number) =>
  fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000) }).then(
    async (res) => {
      await res.body?.cancel();
      return false;
    },
    () => true,
  );

/** One `npm start` run: its output so far, its exit, and a wait for a line of it. */
export interface Run {
  npm: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** Resolves once the output contains `text`; throws with the output if npm exits first. */
  waitFor(text: string): Promise<void>;
}

export function npmStart(env: Record<string, string>, args: string[] = []): Run {
  const npm = spawn("npm", ["start", ...(args.length > 0 ? ["--", ...args] : [])], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  npm.stdout!.setEncoding("utf8").on("data", (d: string) => (output += d));
  npm.stderr!.setEncoding("utf8").on("data", (d: string) => (output += d));
  const exited = new Promise<number | null>((resolve) => npm.on("exit", (code) => resolve(code)));
  return {
    npm,
    output: () => output,
    exited,
    async waitFor(text) {
      for (let i = 0; i < 600 && !output.includes(text); i++) {
        if (npm.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      if (!output.includes(text))
        throw new Error(`npm start never printed ${JSON.stringify(text)}:\n${output}`);
    },
  };
}
