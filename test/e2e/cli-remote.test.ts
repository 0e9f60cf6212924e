/**
 * `region-gate --url --token` against the built gate under miniflare (real KV, real
 * Durable Objects) in front of a real origin: every policy command, explain, exposure and
 * key fingerprint, with exit codes and output.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fingerprint } from "../../src/platform/fingerprint";
import { canonicalPolicy } from "../../src/store/etag";
import { specPolicy } from "../fixtures/policies";
import { policyFile, runBin, runInProcess } from "./cli-run";
import {
  refusingPort,
  startGate,
  startOrigin,
  TEST_ADMIN_TOKEN,
  TEST_IDENTITY_SALT,
  type TestGate,
  type TestOrigin,
} from "./harness";

let origin: TestOrigin;
let gate: TestGate;
let remote: Record<string, string>;

beforeAll(async () => {
  origin = await startOrigin();
  gate = await startGate({ originUrl: origin.url, policy: null });
  remote = { REGION_GATE_URL: gate.url, REGION_GATE_TOKEN: TEST_ADMIN_TOKEN };
});
afterAll(async () => {
  await gate?.dispose();
  await origin?.close();
});

const v1 = specPolicy({ version: "e2e.1" });
// HK gets its own, later dates: the walkthrough's change.
const v2 = specPolicy({
  version: "e2e.2",
  enforcement: {
    ...v1.enforcement,
    regions: {
      ...v1.enforcement?.regions,
      HK: { warnFrom: "2024-06-25T00:00:00Z", blockFrom: "2024-09-01T00:00:00Z" },
    },
  },
});
const activeText = async () =>
  (
    await gate.fetch("/__region-gate/policy", { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })
  ).text();

describe("policy commands through the admin API", () => {
  test("push stores the first policy, exit 0, and the gate serves it byte for byte", async () => {
    const r = await runBin(["policy", "push", await policyFile(v1), "--yes"], { env: remote });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("No active policy yet: e2e.1 would be the first one.");
    expect(r.stdout).toContain("Pushed e2e.1");
    expect(await activeText()).toBe(canonicalPolicy(v1));
  });

  test("diff shows the moved date and its effect per region", async () => {
    const r = await runBin(["policy", "diff", await policyFile(v2), "--at", "2024-07-01T00:00:00Z"], {
      env: remote,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("  ~ version: e2e.1 → e2e.2");
    expect(r.stdout).toContain(
      "  + HK: enforcement added (warnFrom 2024-06-25T00:00:00Z, blockFrom 2024-09-01T00:00:00Z)",
    );
    expect(r.stdout).toContain("Effect, from 2024-07-01T00:00:00Z:");
    expect(r.stdout).toContain(
      "  HK: warn → block on 2024-09-01T00:00:00Z   (before: warn → block on 2024-07-09T00:00:00Z)",
    );
  });

  test("push without --yes and without a terminal is not confirmed: exit 5, nothing changes", async () => {
    const r = await runBin(["policy", "push", await policyFile(v2)], { env: remote });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("pass --yes");
    expect(await activeText()).toBe(canonicalPolicy(v1));
    const no = await runInProcess(["policy", "push", await policyFile(v2)], {
      env: remote,
      confirm: async () => false,
    });
    expect(no.code).toBe(5);
  });

  test("push fails with exit 4 when the active policy changes while the operator reads the diff", async () => {
    const r = await runInProcess(["policy", "push", await policyFile(v2)], {
      env: remote,
      confirm: async () => {
        // Someone else pushes between the diff and the answer.
        const other = await runInProcess(
          ["policy", "push", await policyFile(specPolicy({ version: "e2e.other" })), "--yes"],
          { env: remote },
        );
        expect(other.code).toBe(0);
        return true;
      },
    });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/412 policy_changed.*fetch it again/);
    expect(JSON.parse(await activeText()).version).toBe("e2e.other");
  });

  test("push then show: exit 0, show prints exactly the stored document", async () => {
    expect((await runBin(["policy", "push", await policyFile(v2), "--yes"], { env: remote })).code).toBe(0);
    const r = await runBin(["policy", "show", "--url", gate.url, "--token", TEST_ADMIN_TOKEN]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(canonicalPolicy(v2));
    expect(r.stderr).toContain("version e2e.2");
  });

  test("a version reused with other content is refused: exit 4 with the 409 reason", async () => {
    const r = await runBin(["policy", "push", await policyFile({ ...v1, mode: "monitor" }), "--yes"], {
      env: remote,
    });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("already stored with a different document");
  });

  test("an invalid file: exit 1, every problem path first, the same list the gate's 422 gives", async () => {
    const bad = { ...v1, supported: ["DE", "XX"], tor: "maybe", extra: true };
    const file = await policyFile(bad);
    const r = await runBin(["policy", "push", file, "--yes"], { env: remote });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is not a valid policy (6 problems); nothing was changed:");
    expect(r.stderr).toContain('  $.supported[1]: "XX" is not an ISO 3166-1 alpha-2 code');
    const json = await runBin(["policy", "validate", file, "--json"]);
    expect(json.code).toBe(1);
    const put = await gate.fetch("/__region-gate/policy", {
      method: "PUT",
      body: JSON.stringify(bad),
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(put.status).toBe(422);
    expect(JSON.parse(json.stdout).errors).toEqual(((await put.json()) as { errors: unknown }).errors);
  });

  test("a file with a duplicated key is refused like the admin API refuses it: exit 1, path first", async () => {
    const text = JSON.stringify(v1).replace('"schema":1', '"mode":"monitor","mode":"enforce","schema":1');
    const file = await policyFile(text);
    const r = await runBin(["policy", "validate", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\$\.mode: duplicate key/);
  });

  test("history lists versions newest first and says what was active when", async () => {
    const r = await runBin(["policy", "history", "--json"], { env: remote });
    expect(r.code).toBe(0);
    const view = JSON.parse(r.stdout) as {
      versions: Array<{ version: string; activations: Array<{ at: string }> }>;
    };
    expect(view.versions.map((v) => v.version)).toEqual(["e2e.2", "e2e.other", "e2e.1"]);
    const otherAt = view.versions[1]!.activations[0]!.at;
    const at = await runBin(["policy", "history", "--at", otherAt], { env: remote });
    expect(at.stdout).toMatch(/^\*\s+e2e\.2\s/m);
    expect(at.stdout).toContain(`the active policy was e2e.other.`);
  });

  test("rollback restores the stored bytes; an unknown version exits 4", async () => {
    const r = await runBin(["policy", "rollback", "e2e.1", "--yes"], { env: remote });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Rolled back: e2e.1 is active again");
    expect(await activeText()).toBe(canonicalPolicy(v1));
    const missing = await runBin(["policy", "rollback", "nope", "--yes"], { env: remote });
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain("policy history");
  });

  test("explain prints the decision and the rule, from the gate's policy or a file", async () => {
    const active = await runBin(["explain", "--country", "UA", "--region", "43", "--at", "2024-07-01"], {
      env: remote,
    });
    expect(active.code).toBe(0);
    expect(active.stdout).toContain("UA-43 on /v1/ at 2024-07-01T00:00:00.000Z (policy e2e.1):");
    expect(active.stdout).toMatch(
      /decision\s+block\n\s+region\s+UA-43\n\s+rule\s+enforcement\.regions\.UA-43\.blockFrom=2022-03-01/,
    );
    const file = await runBin([
      "explain",
      "--country",
      "HK",
      "--at",
      "2024-08-01",
      "--policy",
      await policyFile(v2),
    ]);
    expect(file.stdout).toMatch(/decision\s+warn/);
    const bad = await runBin([
      "explain",
      "--country",
      "Hong Kong",
      "--at",
      "soon",
      "--policy",
      await policyFile(v2),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--country:");
    expect(bad.stderr).toContain("--at:");
  });

  test.each([
    [["--country", "UK"], '  --country: "UK" is not an ISO 3166-1 alpha-2 code; did you mean GB?'],
    [["--country", "jp"], '  --country: "jp" is not an ISO 3166-1 alpha-2 code; did you mean JP?'],
    [
      ["--country", "UA", "--region", "99"],
      '  --region: "99" is not an ISO 3166-2 subdivision of UA; its codes are',
    ],
  ])("explain %j is refused with the code meant: exit 2, the gate's policy not read", async (flags, line) => {
    const r = await runBin(["explain", ...flags], { env: remote });
    expect(r.stderr).toContain("region-gate: the case is not valid; fix these options:\n");
    expect(r.stderr).toContain(line);
    expect(r.stdout).toBe("");
    expect(r.code).toBe(2);
  });
});

describe("errors say what is wrong and how to fix it", () => {
  test("a wrong token exits 3 and names the secret", async () => {
    const r = await runBin(["policy", "show"], { env: { ...remote, REGION_GATE_TOKEN: "wrong" } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("refused the admin token (401");
  });

  test("an unreachable gate exits 3", async () => {
    const r = await runBin([
      "policy",
      "history",
      "--url",
      `http://127.0.0.1:${await refusingPort()}`,
      "--token",
      "x",
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("cannot reach");
  });

  test("a gate without ADMIN_TOKEN answers 404 on every admin route, and the CLI says to set it", async () => {
    const bare = await startGate({ originUrl: origin.url, policy: v1, bindings: { ADMIN_TOKEN: "" } });
    try {
      for (const path of ["/policy", "/policy/history", "/explain?country=CN", "/exposure"]) {
        const res = await bare.fetch(`/__region-gate${path}`, { headers: { authorization: "Bearer " } });
        expect(res.status).toBe(404);
      }
      const r = await runBin(["policy", "show", "--url", bare.url, "--token", TEST_ADMIN_TOKEN]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain("ADMIN_TOKEN secret is set");
    } finally {
      await bare.dispose();
    }
  });

  test("usage errors exit 2 and point at --help; --help works on every command", async () => {
    expect((await runBin(["policy", "frobnicate"])).code).toBe(2);
    const noFile = await runBin(["policy", "validate", "/nonexistent.json"]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain("no such file");
    const noToken = await runBin(["policy", "show", "--url", gate.url]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain("REGION_GATE_TOKEN");
    for (const cmd of [
      "policy validate",
      "policy push",
      "policy show",
      "policy diff",
      "policy history",
      "policy rollback",
      "explain",
      "exposure report",
      "exposure notices",
      "key fingerprint",
    ]) {
      const r = await runInProcess([...cmd.split(" "), "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: region-gate ${cmd}`);
    }
    const top = await runBin(["--help"]);
    expect(top.stdout).toContain("Exit codes:");
  });
});

describe("exposure and keys", () => {
  test("key fingerprint reads stdin and matches the gate's HMAC", async () => {
    const r = await runBin(["key", "fingerprint"], {
      input: "sk-e2e-customer\n",
      env: { IDENTITY_SALT: TEST_IDENTITY_SALT },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${await fingerprint(TEST_IDENTITY_SALT, "sk-e2e-customer")}\n`);
    const noSalt = await runBin(["key", "fingerprint"], { input: "sk" });
    expect(noSalt.code).toBe(2);
    expect(noSalt.stderr).toContain("IDENTITY_SALT is not set");
  });

  test("exposure report lists the customer who sent traffic from an unsupported region", async () => {
    // Warn-only: the customer keeps being served, and is counted in the ledger.
    const push = await runInProcess(
      [
        "policy",
        "push",
        await policyFile(
          specPolicy({
            version: "e2e.warn",
            enforcement: { default: { warnFrom: "2024-01-01T00:00:00Z", blockFrom: null } },
          }),
        ),
        "--yes",
      ],
      { env: remote },
    );
    expect(push.code).toBe(0);
    for (let i = 0; i < 3; i++) {
      const res = await gate.fetch("/v1/chat", {
        cf: { country: "CN" },
        headers: { authorization: "Bearer sk-e2e-customer" },
      });
      expect(res.headers.get("x-region-gate-decision")).toBe("warn");
      await res.arrayBuffer();
    }
    const fp = await fingerprint(TEST_IDENTITY_SALT, "sk-e2e-customer");
    let csv = "";
    for (let i = 0; i < 100 && !csv.includes(fp); i++) {
      csv = (await runInProcess(["exposure", "report", "--format", "csv", "--region", "CN"], { env: remote }))
        .stdout;
      if (!csv.includes(fp)) await new Promise((r) => setTimeout(r, 100));
    }
    expect(csv.split("\r\n")[0]).toMatch(/^day,region,fingerprint,/);
    expect(csv).toContain(`,CN,${fp},`);
    const table = await runBin(["exposure", "report", "--summary"], { env: remote });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/REGION\s+CUSTOMERS/);
    expect(table.stdout).toMatch(/\nCN\s+1\s+3\s/);
    const local = await runBin(["exposure", "report"]);
    expect(local.code).toBe(2);
    expect(local.stderr).toContain("REGION_GATE_URL");
  });
});
