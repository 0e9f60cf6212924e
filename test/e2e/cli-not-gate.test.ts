/**
 * `region-gate --url` pointed at something that answers but is not a region-gate: the real
 * demo origin (demo/origin.mjs), which echoes every request as JSON with status 200. Every
 * remote command must name the mistake and exit 3, never print the echo as a policy or
 * crash on a missing field.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startDemoOrigin } from "../../demo/origin.mjs";
import { specPolicy } from "../fixtures/policies";
import { policyFile, runBin } from "./cli-run";

const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const close = (server: Server | undefined) =>
  new Promise<void>((resolve) => {
    server?.closeAllConnections();
    server?.close(() => resolve());
    if (!server) resolve();
  });

let demo: Server;
let other: Server;

beforeAll(async () => {
  demo = await startDemoOrigin(0);
  // A region-gate of another version: its healthz is right, its history is not what this CLI reads.
  other = createServer((req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      req.url === "/__region-gate/healthz"
        ? JSON.stringify({ ok: true, policyVersion: "v", policyAgeSeconds: 1 })
        : JSON.stringify({ entries: [] }),
    );
  });
  await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  await close(demo);
  await close(other);
});

describe("the CLI against the demo origin instead of a gate", () => {
  const commands: Array<[string, () => Promise<string[]>]> = [
    ["policy history", async () => ["policy", "history"]],
    ["policy show", async () => ["policy", "show"]],
    [
      "policy push",
      async () => ["policy", "push", await policyFile(specPolicy({ version: "ng.1" })), "--yes"],
    ],
    ["policy rollback", async () => ["policy", "rollback", "ng.1", "--yes"]],
    ["explain", async () => ["explain", "--country", "CN"]],
    ["exposure report", async () => ["exposure", "report"]],
    ["exposure report --format csv", async () => ["exposure", "report", "--format", "csv"]],
    ["exposure notices", async () => ["exposure", "notices"]],
  ];

  test.each(commands)("%s says it is not a region-gate admin API, exit 3", async (_name, argv) => {
    const url = urlOf(demo);
    const r = await runBin(await argv(), { env: { REGION_GATE_URL: `${url}/`, REGION_GATE_TOKEN: "t" } });
    expect(r.stderr).toContain(
      `region-gate: ${url}: this is not a region-gate admin API (no /__region-gate/healthz)`,
    );
    expect(r.stderr).toContain("Check --url (or REGION_GATE_URL)");
    expect(r.stderr).not.toMatch(/unexpected error|TypeError|undefined/);
    expect(r.stdout).not.toContain('"method"');
    expect(r.code).toBe(3);
  });

  test("a plain 404 from something else is named the same way", async () => {
    // A 404 page without the admin API's error envelope, as a web server in front would send.
    const notFound = createServer((_req, res) =>
      res.writeHead(404, { "content-type": "text/html" }).end("<h1>Not Found</h1>"),
    );
    await new Promise<void>((resolve) => notFound.listen(0, "127.0.0.1", resolve));
    try {
      const r = await runBin(["policy", "history"], {
        env: { REGION_GATE_URL: urlOf(notFound), REGION_GATE_TOKEN: "t" },
      });
      expect(r.stderr).toContain(`${urlOf(notFound)}: this is not a region-gate admin API`);
      expect(r.code).toBe(3);
    } finally {
      await close(notFound);
    }
  });

  test("a gate whose answer has another shape is told apart from a non-gate: exit 3, versions named", async () => {
    const r = await runBin(["policy", "history"], {
      env: { REGION_GATE_URL: urlOf(other), REGION_GATE_TOKEN: "t" },
    });
    expect(r.stderr).toContain("answered 200 (application/json) without the admin API's fields");
    expect(r.stderr).toContain("another region-gate version than this CLI");
    expect(r.stderr).not.toContain("this is not a region-gate");
    expect(r.code).toBe(3);
  });
});
