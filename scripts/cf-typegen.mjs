#!/usr/bin/env node
/**
 * `npm run cf-typegen` (writes worker-configuration.d.ts) and `npm run types:check` (`--check`:
 * fails when it is out of date): `wrangler types` on copies of wrangler.toml and
 * wrangler.control.toml outside the repository root, so the `.dev.vars` that `npm start`
 * writes never becomes part of `Env` (its secrets are typed, optional, by the config
 * schema). Plain `wrangler types` in the root would read it.
 */
import { spawnSync } from "node:child_process";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { isolatedWranglerConfig } from "./wrangler-config.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// Both Workers' configs, copied side by side (the gate's service binding and Durable Object
// name the control plane's); relative, since wrangler writes the command into the file's header.
const configs = ["wrangler.toml", "wrangler.control.toml"].map((c) =>
  relative(root, isolatedWranglerConfig(join(root, c), join(root, ".tmp", "types"))),
);
const run = spawnSync(
  join(root, "node_modules", ".bin", "wrangler"),
  ["types", "--strict-vars=false", ...configs.flatMap((c) => ["-c", c]), ...process.argv.slice(2)],
  {
    cwd: root,
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
    stdio: "inherit",
  },
);
process.exit(run.status ?? 1);
