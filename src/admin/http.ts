/**
 * The admin API's one error envelope and its request-body reader. Every admin error is
 * `{"error":{"message","type","param","code"}}` (the gate's own error shape); a 422 adds
 * `errors: [{path, message}]` as SPEC section 7 says.
 */
import { parseJsonStrict } from "../policy/json";

/** Larger admin bodies are refused with 413 before they are buffered. */
export const MAX_BODY_BYTES = 1024 * 1024;

const TYPES: Record<number, string> = {
  401: "authentication_error",
  500: "server_error",
  503: "server_error",
};

/** A JSON error response in the admin envelope. */
export function adminError(
  status: number,
  code: string,
  message: string,
  extra: { param?: string | null; errors?: unknown; headers?: HeadersInit } = {},
): Response {
  const body: Record<string, unknown> = {
    error: { message, type: TYPES[status] ?? "invalid_request_error", param: extra.param ?? null, code },
  };
  if (extra.errors !== undefined) body.errors = extra.errors;
  const headers = new Headers(extra.headers);
  headers.set("content-type", "application/json");
  headers.set("cache-control", "no-store");
  return new Response(JSON.stringify(body), { status, headers });
}

const tooLarge = () =>
  adminError(
    413,
    "body_too_large",
    `request body is over ${MAX_BODY_BYTES} bytes; a policy document is far smaller, check that you sent the right file`,
  );

/**
 * Reads a JSON body of at most `MAX_BODY_BYTES`, counting bytes as they arrive so a huge
 * or endless body never gets buffered. Returns the parsed value, or the error response.
 */
export async function readJsonBody(request: Request): Promise<{ value: unknown } | { error: Response }> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) return { error: tooLarge() };
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        await reader.cancel();
        return { error: tooLarge() };
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return { error: adminError(400, "invalid_json", "request body is not UTF-8 text; send a JSON document") };
  }
  if (text.trim() === "") {
    return { error: adminError(400, "invalid_json", "request body is empty; send a JSON document") };
  }
  // Strict: a duplicated key would otherwise silently keep its last value (see policy/json.ts).
  const parsed = parseJsonStrict(text);
  if (parsed.ok) return { value: parsed.value };
  const [first] = parsed.errors;
  if (parsed.errors.length === 1 && first?.path === "$" && first.message.startsWith("not valid JSON")) {
    return {
      error: adminError(
        400,
        "invalid_json",
        `request body is ${first.message}; send the policy document as JSON with content-type: application/json`,
      ),
    };
  }
  return {
    error: adminError(
      400,
      "invalid_json",
      `request body has ${parsed.errors.length} problem(s) JSON.parse would hide (${first?.path}: ${first?.message}); nothing was stored`,
      { errors: parsed.errors },
    ),
  };
}
