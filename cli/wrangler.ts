/**
 * `PolicyStorage` through `wrangler kv` commands, so the CLI writes the same keys and
 * metadata as the admin API without needing a deployed gate. One `kv key list` per run
 * gives every key's metadata; values are read with `kv key get`; writes are a single
 * `kv bulk put`, history entry first.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POLICY_KEY } from "../src/store/keys";
import type { PolicyStorage } from "../src/store/storage";
import { CliError, EXIT } from "./errors";

export interface WranglerTarget {
  /** `--local`: the dev store (`.wrangler/state`, or `persistTo`); otherwise `--remote`. */
  local: boolean;
  env?: string | undefined;
  config?: string | undefined;
  persistTo?: string | undefined;
  cwd: string;
  processEnv: Record<string, string | undefined>;
}

// Colour codes in wrangler's output (ESC [ ... m).
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

function wranglerEntry(): string {
  try {
    return createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");
  } catch {
    throw new CliError(
      EXIT.backend,
      "wrangler is not installed here; run `npm ci` in the region-gate checkout",
    );
  }
}

/** Lines of wrangler's output that are its own boilerplate, not the reason it failed. */
const NOISE =
  /^(If you think this is a bug|Note that there is a newer version|\? Would you like to report|🤖|🪵|\s*$|─+$|.*wrangler \d+\.\d+\.\d+)/u;

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `wrangler kv ...` (one at a time: concurrent local runs can trip over the same
 * store) and returns its stdout; exit 3 with wrangler's own words on failure.
 */
function wrangler(target: WranglerTarget, args: string[]): Promise<string> {
  const run = queue.then(() => runWrangler(target, args));
  queue = run.catch(() => undefined);
  return run;
}

async function runWrangler(target: WranglerTarget, args: string[]): Promise<string> {
  const full = [...args, "--binding", "POLICY", target.local ? "--local" : "--remote"];
  if (target.local && target.persistTo) full.push("--persist-to", target.persistTo);
  if (target.env) full.push("--env", target.env);
  if (target.config) full.push("--config", target.config);
  const started = Date.now();
  const child = spawn(process.execPath, [wranglerEntry(), ...full], {
    cwd: target.cwd,
    env: target.processEnv as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  if (target.processEnv.REGION_GATE_DEBUG) {
    process.stderr.write(
      `[region-gate] wrangler ${full.join(" ")} → exit ${code} in ${Date.now() - started} ms\n`,
    );
  }
  if (code !== 0) {
    const said = `${stderr}\n${stdout}`
      .replace(ANSI, "")
      .split("\n")
      .filter((line) => !NOISE.test(line.trim()))
      .slice(0, 8)
      .join("\n    ");
    throw new CliError(
      EXIT.backend,
      `\`wrangler ${args.slice(0, 3).join(" ")}\` failed (exit ${code}). Check that wrangler.toml declares the POLICY KV namespace${target.local ? "" : ", and that you are logged in (npx wrangler login) or use --local for the dev store, or --url/--token for a deployed gate"}.`,
      [`  wrangler said:\n    ${said}`],
    );
  }
  return stdout;
}

/** The storage of a wrangler target. */
export function wranglerStorage(target: WranglerTarget): PolicyStorage {
  let listing: Promise<Map<string, unknown>> | null = null;
  // Each wrangler run costs about two seconds: read every key at most once per command.
  const values = new Map<string, Promise<string>>();
  const all = () => {
    listing ??= wrangler(target, ["kv", "key", "list", "--prefix", POLICY_KEY]).then((out) => {
      let keys: Array<{ name: string; metadata?: unknown }>;
      try {
        keys = JSON.parse(out);
      } catch {
        throw new CliError(
          EXIT.backend,
          `\`wrangler kv key list\` printed something that is not JSON: ${out.slice(0, 200)}`,
        );
      }
      return new Map(keys.map((k) => [k.name, k.metadata ?? null]));
    });
    return listing;
  };
  return {
    async head(key) {
      const keys = await all();
      return keys.has(key) ? { meta: keys.get(key) } : null;
    },
    async read(key) {
      const keys = await all();
      if (!keys.has(key)) return null;
      let value = values.get(key);
      if (value === undefined) {
        // wrangler prints the value followed by one newline of its own.
        value = wrangler(target, ["kv", "key", "get", key, "--text"]).then((out) =>
          out.endsWith("\n") ? out.slice(0, -1) : out,
        );
        values.set(key, value);
      }
      return { value: await value, meta: keys.get(key) };
    },
    async list(prefix) {
      const keys = await all();
      return [...keys].filter(([name]) => name.startsWith(prefix)).map(([name, meta]) => ({ name, meta }));
    },
    async write(entries) {
      const dir = await mkdtemp(join(tmpdir(), "region-gate-"));
      try {
        const file = join(dir, "bulk.json");
        await writeFile(
          file,
          JSON.stringify(entries.map((e) => ({ key: e.key, value: e.value, metadata: e.meta }))),
        );
        await wrangler(target, ["kv", "bulk", "put", file]);
      } finally {
        await rm(dir, { recursive: true, force: true });
        listing = null;
        values.clear();
      }
    },
  };
}
