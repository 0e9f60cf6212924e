import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { AdminClient } from "../../cli/remote";

const NAMES = ["CF_ACCESS_CLIENT_ID", "CF_ACCESS_CLIENT_SECRET"] as const;
const saved = NAMES.map((name) => process.env[name]);
afterEach(() => {
  NAMES.forEach((name, i) => {
    if (saved[i] === undefined) delete process.env[name];
    else process.env[name] = saved[i];
  });
});

/** The headers of one CLI request, as a real HTTP server on an ephemeral port saw them. */
async function headersSent(
  env: Partial<Record<(typeof NAMES)[number], string>>,
): Promise<IncomingHttpHeaders> {
  for (const name of NAMES) {
    if (env[name] === undefined) delete process.env[name];
    else process.env[name] = env[name];
  }
  let seen: IncomingHttpHeaders = {};
  const server = createServer((req, res) => {
    seen = req.headers;
    res.end("{}");
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  try {
    const { port } = server.address() as AddressInfo;
    await (await new AdminClient(`http://127.0.0.1:${port}`, "tok").send("GET", "/policy")).text();
  } finally {
    server.close();
  }
  return seen;
}

describe("the CLI behind Cloudflare Access", () => {
  it("sends the service token from CF_ACCESS_CLIENT_ID / CF_ACCESS_CLIENT_SECRET with the bearer token", async () => {
    const h = await headersSent({ CF_ACCESS_CLIENT_ID: "abc.access", CF_ACCESS_CLIENT_SECRET: "s3cret" });
    expect(h["cf-access-client-id"]).toBe("abc.access");
    expect(h["cf-access-client-secret"]).toBe("s3cret");
    expect(h.authorization).toBe("Bearer tok");
  });

  it("sends neither header unless both are set", async () => {
    const h = await headersSent({ CF_ACCESS_CLIENT_ID: "abc.access" });
    expect(h["cf-access-client-id"]).toBeUndefined();
    expect(h["cf-access-client-secret"]).toBeUndefined();
  });
});
