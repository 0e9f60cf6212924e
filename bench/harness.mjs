/**
 * The pieces bench scripts share with the tests, so that a benchmark runs the same gate,
 * origin and decision code as `npm test` (test/e2e/harness.ts, src/policy/decision.ts, ...).
 * Node 20 cannot import TypeScript, so esbuild bundles them once per run into
 * `.tmp/bench/`: two levels below the root, like test/e2e, so that the harness's paths
 * (`dist/gate/index.js`, `dist/control/index.js`), relative to its own file, still hold.
 * scripts/build.mjs (the e2e setup's build) stays its own module: it finds the repository
 * from its own place, one level below the root, which bundling would move.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..");
const out = join(root, ".tmp", "bench");

/** Leaves `scripts/build.mjs` out of the bundle, imported from where it is. */
const keepBuildScript = {
  name: "keep-build-script",
  setup(b) {
    b.onResolve({ filter: /\/scripts\/build\.mjs$/ }, (args) => ({
      path: pathToFileURL(join(args.resolveDir, args.path)).href,
      external: true,
    }));
  },
};

async function bundle(name, contents, platform) {
  const outfile = join(out, `${name}.mjs`);
  await build({
    stdin: { contents, resolveDir: root, loader: "ts" },
    bundle: true,
    format: "esm",
    platform,
    packages: "external",
    plugins: [keepBuildScript],
    outfile,
    logLevel: "error",
  });
  return import(pathToFileURL(outfile).href);
}

/**
 * `startOrigin`, `startGate`, `TEST_ADMIN_TOKEN` of test/e2e/harness.ts, and `buildBundle()`:
 * the e2e suite's own build of dist/ (`wrangler deploy --dry-run --outdir dist`).
 */
export function loadHarness() {
  return bundle(
    "harness",
    'export * from "./test/e2e/harness.ts"; export { default as buildBundle, DIST_ENTRY } from "./test/e2e/global-setup.ts";',
    "node",
  );
}

/** `decide`, `climbsAboveRoot`, `compilePolicy`, `validatePolicy`: the pure core, to check the gate's answers against. */
export function loadCore() {
  return bundle(
    "core",
    'export { climbsAboveRoot, decide } from "./src/policy/decision.ts"; export { compilePolicy } from "./src/policy/compile.ts"; export { validatePolicy } from "./src/policy/validate.ts";',
    "neutral",
  );
}
