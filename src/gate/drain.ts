/**
 * Answers of the gate's own (403, 400, 503) are sent after the request body was read.
 *
 * workerd closes a connection whose request body the Worker left unread, at once and
 * without `Connection: close` (it also drops a `Connection` header a Worker sets). A
 * keep-alive client then reuses the dead socket for its next request ("other side
 * closed"), or gets a reset before it read the answer (ECONNRESET; EPIPE for a body of
 * megabytes). Reading and discarding the body first keeps the connection reusable, which is
 * what the soak's Node `fetch` client needed (bench/README.md, Soak). The bound keeps a
 * blocked client from making the gate wait on a large or slow upload: past it the runtime
 * closes the connection as before.
 */

/** Bodies up to this many bytes are read before the gate answers. */
export const DRAIN_LIMIT_BYTES = 1024 * 1024;
/** ...and for at most this long. */
export const DRAIN_LIMIT_MS = 2000;

export async function afterBody(request: Request, response: Response): Promise<Response> {
  const body = request.body;
  if (body === null || body.locked) return response;
  // A client waiting for `100 Continue` sends no body after a final answer: nothing to read,
  // and reading would ask for the upload the answer refuses.
  if (request.headers.get("expect")?.toLowerCase() === "100-continue") return response;
  // Reading part of a body that will not fit would not save the connection; answer at once.
  if (Number(request.headers.get("content-length")) > DRAIN_LIMIT_BYTES) return response;
  const reader = body.getReader();
  let expire: (value: "expired") => void = () => {};
  const expired = new Promise<"expired">((resolve) => {
    expire = resolve;
  });
  const timer = setTimeout(() => expire("expired"), DRAIN_LIMIT_MS);
  try {
    for (let read = 0; read <= DRAIN_LIMIT_BYTES; ) {
      const chunk = await Promise.race([reader.read(), expired]);
      if (chunk === "expired" || chunk.done) break;
      read += chunk.value.byteLength;
    }
  } catch {
    // The client went away mid-body: the answer is sent (or dropped) all the same.
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(() => {});
  }
  return response;
}
