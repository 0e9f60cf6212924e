/**
 * Admin and dashboard bodies are bounded before they are buffered (issue 9 item 7): forms
 * and small JSON bodies at 8 KiB, policy documents at 4 MiB. A declared Content-Length over
 * the limit is refused without reading a byte; a body without one is cut off while it
 * streams. Either way the answer is 413 in the contract's error shape.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";

const FORM_BODY_BYTES = 8192,
  POLICY_BODY_BYTES = 4194304;

import { livePolicy, specPolicy } from "../fixtures/policies";
import { adminFetch, type Call, call, DASH, json, page, signIn } from "./call";

/** A body stream of `chunks` × `chunkBytes` that counts how many chunks were pulled from it. */
function countingStream(chunks: number, chunkBytes: number, text = "a") {
  const chunk = new TextEncoder().encode(text.repeat(chunkBytes));
  const counter = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (counter.pulled++ < chunks) controller.enqueue(chunk);
        else controller.close();
      },
    },
    { highWaterMark: 0 }, // nothing is pulled until the gate reads
  );
  return { stream, counter };
}

/** One request through the worker, its background work awaited. */
const send = (url: string, c: Call) => call(url, { ...c, wait: true });

async function expectTooLarge(res: Response): Promise<void> {
  expect(res.status).toBe(413);
  expect(res.headers.get("content-type")).toBe("application/json");
  expect((await json(res)).error).toMatchObject({
    code: "body_too_large",
    type: "invalid_request_error",
    param: null,
  });
}

const FORM = { "content-type": "application/x-www-form-urlencoded" };

describe("dashboard forms over 8 KiB", () => {
  it("refuses a 20 MiB sign-in form by its Content-Length without reading it", async () => {
    const { stream, counter } = countingStream(320, 64 * 1024);
    const res = await send(`${DASH}/signin`, {
      method: "POST",
      headers: { ...FORM, "content-length": String(20 * 1024 * 1024) },
      body: stream,
    });
    await expectTooLarge(res);
    expect(counter.pulled).toBe(0);
  });

  it("cuts off a chunked sign-in form (no Content-Length) once it passes 8 KiB", async () => {
    const { stream, counter } = countingStream(320, 1024);
    const res = await send(`${DASH}/signin`, { method: "POST", headers: FORM, body: stream });
    await expectTooLarge(res);
    // 8 KiB is 8 chunks; the 9th crosses the limit and the rest is never pulled.
    expect(counter.pulled).toBeLessThanOrEqual(10);
  });

  it("still reads a form just under the limit (a wrong token is 401, not 413)", async () => {
    const form = new URLSearchParams({ token: "wrong", next: `/x${"a".repeat(FORM_BODY_BYTES - 40)}` });
    expect(form.toString().length).toBeLessThanOrEqual(FORM_BODY_BYTES);
    const res = await send(`${DASH}/signin`, { method: "POST", headers: FORM, body: form });
    expect(res.status).toBe(401);
  });

  it("refuses an oversized form on a signed-in page (rollback) and changes nothing", async () => {
    await adminFetch("/policy", { method: "PUT", body: livePolicy({ version: "limits.1" }) });
    const before = await env.POLICY.get("policy");
    const cookie = await signIn();
    const { csrf } = await page("/history", cookie);
    const form = new URLSearchParams({ csrf, version: "limits.1", confirm: "yes", pad: "x".repeat(9000) });
    const res = await send(`${DASH}/rollback`, {
      method: "POST",
      headers: { ...FORM, cookie: `__Secure-rg-dashboard=${cookie}` },
      body: form,
    });
    await expectTooLarge(res);
    expect(await env.POLICY.get("policy")).toBe(before);
  });

  it("reads multipart forms through the same bounded reader", async () => {
    const data = new FormData();
    data.set("token", "wrong");
    expect((await send(`${DASH}/signin`, { method: "POST", body: data })).status).toBe(401);
    const big = new FormData();
    big.set("token", "x".repeat(FORM_BODY_BYTES + 1));
    await expectTooLarge(await send(`${DASH}/signin`, { method: "POST", body: big }));
  });
});

describe("admin JSON bodies", () => {
  it("refuses a rollback body over 8 KiB, declared or streamed", async () => {
    const padded = JSON.stringify({ version: "limits.1", pad: "x".repeat(FORM_BODY_BYTES) });
    await expectTooLarge(await adminFetch("/policy/rollback", { method: "POST", body: padded }));
    const { stream, counter } = countingStream(1000, 1024, " ");
    await expectTooLarge(await adminFetch("/policy/rollback", { method: "POST", body: stream }));
    expect(counter.pulled).toBeLessThanOrEqual(10);
  });

  it.each([
    ["PUT", "/policy"],
    ["POST", "/policy/validate"],
  ])("refuses a %s %s body over 4 MiB, declared or streamed", async (method, path) => {
    const before = await env.POLICY.get("policy");
    const declared = countingStream(100, 64 * 1024, " ");
    const res = await adminFetch(path, {
      method,
      body: declared.stream,
      headers: { "content-length": String(POLICY_BODY_BYTES + 1) },
    });
    await expectTooLarge(res);
    expect(declared.counter.pulled).toBe(0);
    const streamed = countingStream(100, 64 * 1024, " ");
    await expectTooLarge(await adminFetch(path, { method, body: streamed.stream }));
    expect(streamed.counter.pulled).toBeLessThanOrEqual(POLICY_BODY_BYTES / (64 * 1024) + 2);
    expect(await env.POLICY.get("policy")).toBe(before);
  });

  it("accepts a policy of 20,000 IPv6 CIDR exemptions, pretty-printed (over the old 1 MiB)", async () => {
    const exemptions = Array.from({ length: 20_000 }, (_, i) => ({
      cidr: `2001:db8:${i.toString(16)}::/48`,
      until: "2030-01-01T00:00:00Z",
      note: `partner ${i}`,
    }));
    const text = JSON.stringify(specPolicy({ version: "limits.big", exemptions }), null, 2);
    expect(text.length).toBeGreaterThan(1024 * 1024);
    const res = await adminFetch("/policy/validate", { method: "POST", body: text });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ ok: true, version: "limits.big" });
  });
});

beforeAll(async () => {
  // The dashboard pages need a policy to render; the rollback case pushes its own.
  await adminFetch("/policy", { method: "PUT", body: livePolicy({ version: "limits.0" }) });
});
