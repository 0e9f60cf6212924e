/**
 * Request-body readers for the admin API and the dashboard's forms: bounded before a byte
 * is buffered, strict JSON. Their errors are the shared envelope of ../platform/errors.ts.
 */
import { errorResponse } from "../platform/errors";
import { parseJsonStrict } from "../policy/json";
import type { PolicyProblem } from "../policy/schema";

/**
 * Body limits, enforced before a byte is buffered: by `Content-Length` when it is declared,
 * and by counting while reading when it is not (chunked uploads). Dashboard forms and small
 * JSON bodies (a rollback's `{"version"}`) are tiny; a policy document can legitimately be
 * large: 20,000 CIDR exemptions with `until` and `note`, pretty-printed, are 2.6 MB.
 */
export const FORM_BODY_BYTES = 8 * 1024;
export const POLICY_BODY_BYTES = 4 * 1024 * 1024;

const tooLarge = (limit: number) =>
  errorResponse(
    "body_too_large",
    `request body is over ${limit} bytes, this route's limit (${POLICY_BODY_BYTES} for a policy document, ${FORM_BODY_BYTES} for a form or any other admin body); nothing was read or stored`,
  );

/**
 * The bytes of `request`'s body, at most `limit` of them: a larger declared length is
 * refused unread, and a body without one is cut off (and cancelled) once it passes the limit.
 */
export async function readBodyBytes(
  request: Request,
  limit: number,
): Promise<{ bytes: Uint8Array } | { error: Response }> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) return { error: tooLarge(limit) };
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        return { error: tooLarge(limit) };
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
  return { bytes };
}

const FORM_TYPE = /^\s*(application\/x-www-form-urlencoded|multipart\/form-data)\s*(;|$)/i;

/**
 * A dashboard form of at most `FORM_BODY_BYTES`, as name → value (the last of repeated
 * names wins, as with Hono's `parseBody`). A body that is not a form reads as an empty form,
 * so it fails the sign-in or CSRF check like any other wrong form.
 */
export async function readFormBody(
  request: Request,
): Promise<{ form: Record<string, string | File> } | { error: Response }> {
  const body = await readBodyBytes(request, FORM_BODY_BYTES);
  if ("error" in body) return body;
  const type = request.headers.get("content-type") ?? "";
  if (!FORM_TYPE.test(type)) return { form: {} };
  try {
    const data = await new Response(body.bytes, { headers: { "content-type": type } }).formData();
    return { form: Object.fromEntries(data) };
  } catch {
    return {
      error: errorResponse("invalid_form", "the form body is malformed; reload the page and submit again"),
    };
  }
}

/**
 * Reads a UTF-8 text body of at most `limit` bytes (`FORM_BODY_BYTES` unless the route
 * takes a policy document). Returns the text, or the error response.
 */
export async function readTextBody(
  request: Request,
  limit = FORM_BODY_BYTES,
): Promise<{ text: string } | { error: Response }> {
  const body = await readBodyBytes(request, limit);
  if ("error" in body) return body;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body.bytes);
  } catch {
    return { error: errorResponse("invalid_json", "request body is not UTF-8 text; send a JSON document") };
  }
  if (text.trim() === "") {
    return { error: errorResponse("invalid_json", "request body is empty; send a JSON document") };
  }
  return { text };
}

/**
 * The 400 for a body that is not JSON, or JSON that would not mean what it says (a
 * duplicated key, `__proto__`, deep nesting): nothing is stored. A syntax error names its
 * line and column, and `errors[0]` carries the line with a caret (`excerpt`).
 */
export function invalidJson(errors: PolicyProblem[]): Response {
  const [first] = errors;
  if (errors.length === 1 && first?.path === "$" && first.message.startsWith("not valid JSON")) {
    return errorResponse(
      "invalid_json",
      `request body is ${first.message}; send the policy document as JSON with content-type: application/json`,
      { errors },
    );
  }
  return errorResponse(
    "invalid_json",
    `request body has ${errors.length} problem(s) JSON.parse would hide (${first?.path}: ${first?.message}); nothing was stored`,
    { errors },
  );
}

/** Reads a strict JSON body (see `parseJsonStrict`) of at most `limit` bytes; the value, or the error response. */
export async function readJsonBody(
  request: Request,
  limit = FORM_BODY_BYTES,
): Promise<{ value: unknown } | { error: Response }> {
  const body = await readTextBody(request, limit);
  if ("error" in body) return body;
  const parsed = parseJsonStrict(body.text);
  return parsed.ok ? { value: parsed.value } : { error: invalidJson(parsed.errors) };
}
