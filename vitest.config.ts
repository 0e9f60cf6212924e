import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { kCurrentWorker } from "miniflare";
import { defineConfig } from "vitest/config";
import { isolatedWranglerConfig } from "./scripts/wrangler-config.mjs";

/**
 * Four suites: `unit` (pure code in Node: schema, decision, CIDR), `worker` (inside
 * workerd with real KV and Durable Objects), `e2e` (the built bundle under the
 * `miniflare` package in front of a real Node origin on 127.0.0.1) and `browser` (the
 * dashboard and self-check page in Debian's headless Chromium against that same setup).
 */
export default defineConfig({
  test: {
    // A green run reads in one screen: the logs of passing tests (the expected
    // admin_auth_failed, policy_pushed, … lines) are dropped; a failing test shows all of its own.
    silent: "passed-only",
    // One line per file; a passing test gets its own line only when it is really slow.
    slowTestThreshold: 20_000,
    projects: [
      // Timeouts are generous on purpose: they catch hangs, not slowness (speed is measured
      // in bench/, never asserted here), and a shared 2-core machine can be 4x slower.
      {
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node", testTimeout: 30_000 },
      },
      {
        plugins: [
          cloudflareTest({
            // Both planes in one test worker: the gate's entry, the control plane's as the
            // entrypoint its CONTROL binding names, and the ledger's class (test/worker/planes-entry.ts says why).
            main: "./test/worker/planes-entry.ts",
            // The control plane's bindings (KV, the Durable Object and its migration); the gate's
            // vars are set below. Not the config itself: wrangler would load the .dev.vars beside it.
            wrangler: { configPath: isolatedWranglerConfig("wrangler.control.toml", ".tmp/vitest") },
            miniflare: {
              serviceBindings: { CONTROL: { name: kCurrentWorker, entrypoint: "Control" } },
              bindings: {
                FAIL_MODE: "closed",
                ORIGIN_TIMEOUT_MS: "30000",
                EXPOSURE_FLUSH_SECONDS: "5",
                ADMIN_TOKEN: "test-admin-token-0123456789-0123456789",
                IDENTITY_SALT: "test-identity-salt",
                ORIGIN_URL: "http://origin.test",
                POLICY_CACHE_SECONDS: "30",
              },
              // Every outbound fetch of the gate goes to a real echo worker.
              outboundService: "origin",
              workers: [{ name: "origin", modules: true, scriptPath: "./test/fixtures/echo-origin.js" }],
            },
          }),
        ],
        test: { name: "worker", include: ["test/worker/**/*.test.ts"], testTimeout: 30_000 },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/e2e/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/e2e/global-setup.ts"],
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
