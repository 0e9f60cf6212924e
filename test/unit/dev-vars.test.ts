/**
 * The worker tests and the generated types never read `.dev.vars`: wrangler's own loader
 * (the one @cloudflare/vitest-pool-workers and `wrangler types` call) reads it beside the
 * given config, so they get a copy of wrangler.toml elsewhere (scripts/wrangler-config.mjs).
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { isolatedWranglerConfig } from "../../scripts/wrangler-config.mjs";

const ROOT = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "region-gate-devvars-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bindingsOf = (config: string) =>
  unstable_getMiniflareWorkerOptions(config).workerOptions.bindings as Record<string, unknown>;

it("a .dev.vars beside wrangler.toml (another ADMIN_TOKEN, FAIL_MODE=open) does not reach the tests' bindings", () => {
  const beside = join(dir, "wrangler.toml");
  copyFileSync(join(ROOT, "wrangler.toml"), beside);
  writeFileSync(join(dir, ".dev.vars"), "ADMIN_TOKEN=dev-admin-token-of-someone\nFAIL_MODE=open\n");
  // wrangler does read it when given the config beside it: the case the copy avoids.
  expect(bindingsOf(beside)).toMatchObject({ ADMIN_TOKEN: "dev-admin-token-of-someone", FAIL_MODE: "open" });

  const isolated = isolatedWranglerConfig(beside, join(dir, "isolated"));
  const bindings = bindingsOf(isolated);
  expect(bindings.ADMIN_TOKEN).toBeUndefined();
  expect(bindings.FAIL_MODE).toBe("closed");
});

it("the copy describes the same worker: same main, bindings and vars", () => {
  const copy = isolatedWranglerConfig(join(ROOT, "wrangler.toml"), join(dir, "same"));
  // The original's view without any .dev.vars: wrangler.toml alone in an empty directory.
  const plain = join(mkdtempSync(join(dir, "plain-")), "wrangler.toml");
  copyFileSync(join(ROOT, "wrangler.toml"), plain);
  const a = unstable_getMiniflareWorkerOptions(copy);
  const b = unstable_getMiniflareWorkerOptions(plain);
  expect(a.main).toBe(join(ROOT, "src", "gate", "index.ts"));
  expect(a.workerOptions.kvNamespaces).toEqual(b.workerOptions.kvNamespaces);
  expect(a.workerOptions.durableObjects).toEqual(b.workerOptions.durableObjects);
  expect(bindingsOf(copy)).toEqual(bindingsOf(plain));
});

it("npm run types:check passes with npm start's .dev.vars beside wrangler.toml, where plain `wrangler types --check` fails", () => {
  const devVars = join(ROOT, ".dev.vars");
  const made = !existsSync(devVars);
  if (made)
    writeFileSync(devVars, "ADMIN_TOKEN=dev-admin-token-for-local-use-only\nIDENTITY_SALT=dev-salt\n");
  const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };
  try {
    const ours = spawnSync(process.execPath, ["scripts/cf-typegen.mjs", "--check"], {
      cwd: ROOT,
      env,
      encoding: "utf8",
    });
    expect(ours.status, ours.stdout + ours.stderr).toBe(0);
    if (/^\s*\w+\s*=/m.test(readFileSync(devVars, "utf8"))) {
      const plain = spawnSync(
        join(ROOT, "node_modules", ".bin", "wrangler"),
        ["types", "--strict-vars=false", "--check"],
        { cwd: ROOT, env, encoding: "utf8" },
      );
      expect(plain.status).toBe(1);
    }
  } finally {
    if (made) rmSync(devVars);
  }
});
