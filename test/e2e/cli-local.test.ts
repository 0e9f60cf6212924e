/**
 * `region-gate` against real local KV through wrangler (`--local --persist-to <tmp>`), then
 * the built gate opened on that same store: what the CLI writes is what the gate reads.
 * Each wrangler run costs a second or two, so this file walks one scenario in order.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { canonicalPolicy } from "../../src/store/etag";
import { specPolicy } from "../fixtures/policies";
import { policyFile, runBin } from "./cli-run";
import { planesOptions, TEST_ADMIN_TOKEN, TEST_IDENTITY_SALT } from "./harness";

let store: string;
let local: string[];

beforeAll(async () => {
  store = await mkdtemp(join(tmpdir(), "region-gate-kv-"));
  local = ["--local", "--persist-to", store];
});
afterAll(async () => {
  await rm(store, { recursive: true, force: true });
});

const v1 = specPolicy({ version: "local.1" });
const v2 = specPolicy({
  version: "local.2",
  enforcement: {
    ...v1.enforcement,
    regions: {
      ...v1.enforcement?.regions,
      HK: { warnFrom: "2024-06-25T00:00:00Z", blockFrom: "2024-09-01T00:00:00Z" },
    },
  },
});

describe("policy commands on local KV through wrangler", () => {
  test("push stores the first policy", async () => {
    const r = await runBin(["policy", "push", await policyFile(v1), ...local, "--yes"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`→ local KV in ${store} (wrangler)`);
    expect(r.stdout).toContain("Pushed local.1");
  });

  test("push of a change shows its diff and effect, then stores it", async () => {
    const r = await runBin(["policy", "push", await policyFile(v2), ...local, "--yes", "--at", "2024-07-01"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "  HK: warn → block on 2024-09-01T00:00:00Z   (before: warn → block on 2024-07-09T00:00:00Z)",
    );
    expect(r.stdout).toContain("Pushed local.2");
  });

  test("show prints the stored document byte for byte", async () => {
    const r = await runBin(["policy", "show", ...local]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(canonicalPolicy(v2));
  });

  test("history lists both versions, newest first, with who pushed them", async () => {
    const r = await runBin(["policy", "history", ...local, "--json"]);
    expect(r.code).toBe(0);
    const view = JSON.parse(r.stdout) as {
      active: { version: string };
      versions: Array<{ version: string; activations: Array<{ by: string; via: string }> }>;
    };
    expect(view.active.version).toBe("local.2");
    expect(view.versions.map((v) => v.version)).toEqual(["local.2", "local.1"]);
    expect(view.versions[1]!.activations).toEqual([
      expect.objectContaining({ by: `cli:${userInfo().username}`, via: "push" }),
    ]);
  });

  test("rollback restores the earlier bytes", async () => {
    const r = await runBin(["policy", "rollback", "local.1", ...local, "--yes"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Rolled back: local.1 is active again");
    // The bytes are checked through the gate below.
  });

  test("explain decides with the active local policy", async () => {
    const r = await runBin(["explain", "--country", "HK", "--at", "2024-08-01", ...local]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("(policy local.1)");
    expect(r.stdout).toMatch(
      /decision\s+block\n\s+region\s+HK\n\s+rule\s+enforcement\.default\.blockFrom=2024-07-09/,
    );
  });

  test("the gate opened on the same store serves the CLI's policy and history", async () => {
    const mf = new Miniflare({
      ...planesOptions({ bindings: { ADMIN_TOKEN: TEST_ADMIN_TOKEN, IDENTITY_SALT: TEST_IDENTITY_SALT } }),
      // wrangler's --persist-to layout.
      kvPersist: join(store, "v3", "kv"),
    });
    try {
      const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
      const active = await mf.dispatchFetch("http://gate.test/__region-gate/policy", { headers: auth });
      expect(await active.text()).toBe(canonicalPolicy(v1));
      const history = (await (
        await mf.dispatchFetch("http://gate.test/__region-gate/policy/history", { headers: auth })
      ).json()) as {
        versions: Array<{ version: string; activations: Array<{ via: string }> }>;
      };
      expect(history.versions.map((v) => v.version)).toEqual(["local.1", "local.2"]);
      expect(history.versions[0]!.activations.map((a) => a.via)).toEqual(["push", "rollback"]);
      const blocked = await mf.dispatchFetch("http://gate.test/v1/chat", { cf: { country: "CN" } });
      expect(blocked.status).toBe(403);
      expect(blocked.headers.get("x-region-gate-policy")).toBe("local.1");
    } finally {
      await mf.dispose();
    }
  });

  test("a wrangler failure exits 3 with wrangler's reason and a fix", async () => {
    const r = await runBin(["policy", "show", ...local, "--config", "/nonexistent/wrangler.toml"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("`wrangler kv key list` failed");
    expect(r.stderr).toContain("wrangler said:");
  });
});
