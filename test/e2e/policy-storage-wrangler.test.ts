/**
 * The CLI's storage (cli/wrangler.ts: `wrangler kv` commands) against the shared
 * PolicyStorage cases, on real local KV (`--local --persist-to <tmp>`).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { wranglerStorage } from "../../cli/wrangler";
import { policyStorageConformance } from "../fixtures/policy-storage-conformance";
import { BASE_ENV } from "./cli-run";
import { ROOT } from "./global-setup";

let store = "";
beforeAll(async () => {
  store = await mkdtemp(join(tmpdir(), "region-gate-conformance-"));
});
afterAll(async () => {
  await rm(store, { recursive: true, force: true });
});

// Each wrangler run takes a second or two, and a push makes several.
policyStorageConformance(
  "wrangler kv --local (wranglerStorage)",
  () => wranglerStorage({ local: true, persistTo: store, cwd: ROOT, processEnv: BASE_ENV }),
  120_000,
);
