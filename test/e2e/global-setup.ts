/**
 * Builds `dist/` once for the e2e suite with the production build command, so the tests
 * run the bundle that `wrangler deploy` would upload, not the sources.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");
/**
 * The bundle under test. `E2E_BUNDLE` (a path inside the repo, e.g. `.tmp/mutant.js`) points
 * the suite at another build and skips building: how the tests were shown to catch a
 * buffering or header-leaking gate.
 */
export const DIST_ENTRY = process.env.E2E_BUNDLE ?? join(ROOT, "dist", "index.js");

export default function setup(): void {
  if (process.env.E2E_BUNDLE) return;
  const wrangler = join(ROOT, "node_modules", ".bin", "wrangler");
  try {
    execFileSync(wrangler, ["deploy", "--dry-run", "--outdir", "dist"], {
      cwd: ROOT,
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
      stdio: "pipe",
    });
  } catch (e) {
    const err = e as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(
      `e2e setup: \`wrangler deploy --dry-run --outdir dist\` failed; run \`npm run build\` to see why.\n${err.stderr ?? ""}${err.stdout ?? ""}`,
    );
  }
  if (!existsSync(DIST_ENTRY)) throw new Error(`e2e setup: the build did not write ${DIST_ENTRY}`);
}
