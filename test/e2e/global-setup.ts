/**
 * Builds both deploy artefacts once for the e2e suite with the production build
 * (`npm run build`: scripts/build.mjs, `wrangler deploy --dry-run` for each Worker), so the
 * tests run the bundles that `wrangler deploy` would upload, not the sources.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { build } from "../../scripts/build.mjs";

export const ROOT = join(import.meta.dirname, "..", "..");
/**
 * The data plane's bundle under test. `E2E_BUNDLE` (a path inside the repo, e.g.
 * `.tmp/mutant.js`) points the suite at another gate build and skips building: how the
 * tests were shown to catch a buffering or header-leaking gate.
 */
export const DIST_ENTRY = process.env.E2E_BUNDLE ?? join(ROOT, "dist", "gate", "index.js");
/** The control plane's bundle (admin API, dashboard, self-check, the ledger's Durable Object). */
export const DIST_CONTROL = join(ROOT, "dist", "control", "index.js");

export default function setup(): void {
  if (!process.env.E2E_BUNDLE) {
    try {
      build();
    } catch (e) {
      throw new Error(`e2e setup: ${(e as Error).message}\n(run \`npm run build\` to see it again)`);
    }
  }
  for (const entry of [DIST_ENTRY, DIST_CONTROL]) {
    if (!existsSync(entry))
      throw new Error(`e2e setup: the build did not write ${entry}; run \`npm run build\``);
  }
}
