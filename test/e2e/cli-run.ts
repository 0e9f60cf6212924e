/**
 * Running `region-gate` in the e2e tests: as the real binary (a Node process, checked for
 * exit codes and output) or in-process through `runCli` (fast, for property tests).
 */
import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildCli } from "../../cli/build.mjs";
import type { CliIO } from "../../cli/io";
import { runCli } from "../../cli/main";
import { ROOT } from "./global-setup";

export const BIN = join(ROOT, "bin", "region-gate.mjs");

/** Environment of every CLI run: no metrics, no cf download, no ambient gate URL. */
export const BASE_ENV: Record<string, string | undefined> = {
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  REGION_GATE_URL: undefined,
  REGION_GATE_TOKEN: undefined,
  NO_COLOR: "1",
};

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

let built: Promise<void> | undefined;
/** Builds cli/dist once per test file, so the binary runs the current sources. */
export const buildOnce = () => {
  built ??= buildCli();
  return built;
};

/** Runs `node bin/region-gate.mjs ...args` in the repository (where wrangler.toml is). */
export async function runBin(
  args: string[],
  options: { env?: Record<string, string | undefined>; input?: string } = {},
): Promise<CliResult> {
  await buildOnce();
  const env = Object.fromEntries(
    Object.entries({ ...BASE_ENV, ...options.env }).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  child.stdin.end(options.input ?? "");
  const code = await new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (c) => resolve(c ?? -1));
  });
  return { code, stdout, stderr };
}

/**
 * Runs the CLI in this process. `confirm` answers the confirmation prompt (default: no
 * terminal, like CI).
 */
export async function runInProcess(
  args: string[],
  options: { env?: Record<string, string | undefined>; confirm?: CliIO["confirm"]; input?: string } = {},
): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
    env: { ...BASE_ENV, ...options.env },
    cwd: ROOT,
    readStdin: async () => options.input ?? "",
    confirm: options.confirm ?? (async () => null),
  });
  return { code, stdout, stderr };
}

/** Writes `doc` as JSON into a fresh temporary directory and returns the file's path. */
export async function policyFile(doc: unknown, name = "policy.json"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "region-gate-cli-"));
  const file = join(dir, name);
  await writeFile(file, typeof doc === "string" ? doc : JSON.stringify(doc, null, 2));
  return file;
}
