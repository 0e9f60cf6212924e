/**
 * A wrangler config copied elsewhere, for the `worker` tests (vitest.config.ts) and for
 * `npm start` (scripts/dev.mjs), which must choose which `.dev.vars` a Worker reads.
 * wrangler (through @cloudflare/vitest-pool-workers) loads `.dev.vars`, or else `.env`,
 * from the directory of the config it is given, and has no option to skip them; the
 * secrets `npm start` wrote there, or a developer's own, must not change test results.
 * Paths in the copy are made absolute, so it describes the same worker.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/** Copies `source` into `outDir` (created), under the same file name, and returns the copy's path. */
export function isolatedWranglerConfig(source, outDir) {
  const base = dirname(resolve(source));
  const text = readFileSync(source, "utf8").replace(
    /^(\s*(?:main|directory)\s*=\s*)"([^"]+)"/gm,
    (_, key, path) => `${key}${JSON.stringify(resolve(base, path))}`,
  );
  mkdirSync(outDir, { recursive: true });
  const target = join(outDir, basename(source));
  // Written whole then renamed: parallel vitest runs may rewrite it while another reads it.
  const temp = `${target}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, target);
  return target;
}
