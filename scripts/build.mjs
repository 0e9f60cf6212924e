#!/usr/bin/env node
/**
 * `npm run build`: both deploy artefacts, as `wrangler deploy --dry-run` writes them (SPEC
 * section 1): the data plane (wrangler.toml) into dist/gate/, the control plane
 * (wrangler.control.toml) into dist/control/. Prints each bundle's size, raw and gzip; the
 * gate's budget is in README "Tests, benchmarks, bundle size".
 *
 *   node scripts/build.mjs [--quiet]
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Each plane: its wrangler config, where its artefact goes, and the entry file in it. */
export const PLANES = [
  { name: "region-gate-control", config: "wrangler.control.toml", outdir: "dist/control" },
  { name: "region-gate", config: "wrangler.toml", outdir: "dist/gate" },
].map((p) => ({ ...p, entry: join(ROOT, p.outdir, "index.js") }));

/** Builds both planes; returns their sizes in bytes. Throws with wrangler's output when a build fails. */
export function build() {
  const wrangler = join(ROOT, "node_modules", ".bin", "wrangler");
  return PLANES.map((plane) => {
    try {
      execFileSync(wrangler, ["deploy", "--dry-run", "-c", plane.config, "--outdir", plane.outdir], {
        cwd: ROOT,
        env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
        stdio: "pipe",
      });
    } catch (e) {
      throw new Error(
        `build of ${plane.name} (${plane.config}) failed:\n${e.stderr ?? ""}${e.stdout ?? ""}`.trimEnd(),
      );
    }
    const code = readFileSync(plane.entry);
    return { ...plane, bytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length };
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const sizes = build();
    if (!process.argv.includes("--quiet")) {
      for (const s of sizes) {
        const kib = (n) => (n / 1024).toFixed(1);
        console.log(
          `${s.name.padEnd(20)} ${s.outdir}/index.js  ${kib(s.bytes)} KiB, ${kib(s.gzipBytes)} KiB gzip`,
        );
      }
    }
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
