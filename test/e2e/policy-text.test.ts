/**
 * The same policy bytes get the same answer on every way in: the CLI (`policy validate`,
 * `--json`, `push`), the admin API, and the gate's store reading KV.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parsePolicy } from "../../src/policy/parse";
import { livePolicy } from "../fixtures/policies";
import { POLICY_TEXTS } from "../fixtures/policy-texts";
import { policyFile, runInProcess } from "./cli-run";
import { startGate, startOrigin, TEST_ADMIN_TOKEN, type TestGate, type TestOrigin } from "./harness";

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

describe("a document that is not safe to serve", () => {
  const unsafe = {
    ...livePolicy({ version: "2024-07-09\nrc1" }),
    error: { docsUrl: "https://example.com/a\nb" },
    scope: { include: ["/v1/"], exclude: ["/v1"] },
    identity: { headers: ["x-api-key"] },
  };
  const paths = ["$.error.docsUrl", "$.identity.headers[0]", "$.scope.include", "$.version"];

  test("policy validate and push refuse it with every path, exit 1; nothing is stored", async () => {
    const file = await policyFile(unsafe);
    const validate = await runInProcess(["policy", "validate", file]);
    expect(validate.code).toBe(1);
    for (const path of paths) expect(validate.stderr).toContain(`  ${path}: `);
    const json = await runInProcess(["policy", "validate", file, "--json"]);
    expect(json.code).toBe(1);
    expect(
      JSON.parse(json.stdout)
        .errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(paths);
    const push = await runInProcess(["policy", "push", file, "--yes"], { env: remote });
    expect(push.code).toBe(1);
    expect(await gate.kv.get("policy")).toBeNull();
  });
});

describe.each(POLICY_TEXTS)("$name: the CLI answers as parsePolicy and the gate do", ({ text, version }) => {
  const expected = parsePolicy(text);

  test("policy validate, validate --json and push", async () => {
    const file = await policyFile(text);
    const plain = await runInProcess(["policy", "validate", file]);
    expect(plain.code).toBe(expected.ok ? 0 : 1);
    if (!expected.ok) for (const e of expected.errors) expect(plain.stderr).toContain(e.message);

    const json = await runInProcess(["policy", "validate", file, "--json"]);
    expect(json.code).toBe(expected.ok ? 0 : 1);
    expect(JSON.parse(json.stdout)).toEqual(
      expected.ok ? { ok: true, version } : { ok: false, errors: expected.errors },
    );

    const push = await runInProcess(["policy", "push", file, "--yes"], { env: remote });
    expect(push.code).toBe(expected.ok ? 0 : 1);
    const put = await gate.fetch("/__region-gate/policy/validate", {
      method: "POST",
      body: text,
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(put.status).toBe(expected.ok ? 200 : expected.stage === "schema" ? 422 : 400);
    if (!expected.ok) expect(((await put.json()) as { errors: unknown }).errors).toEqual(expected.errors);
  });
});

test("a syntax error names line and column and shows the line with a caret", async () => {
  const broken = POLICY_TEXTS.find((c) => c.version === "text.syntax")!.text;
  const r = await runInProcess(["policy", "validate", await policyFile(broken)]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/policy\.json is not valid JSON at line 3, column 3: expected ',' or '}'/);
  expect(r.stderr).toContain('    3 |   "version": "text.syntax",\n      |   ^\n');
});
