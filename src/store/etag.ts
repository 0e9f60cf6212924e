/**
 * What a stored policy's bytes are and how they are named. Documents are stored as
 * canonical JSON (`canonicalPolicy`): two-space indent and a final newline, keys in the
 * order the author wrote them. So the same document pushed from a file, from the admin API
 * or from a rollback is the same bytes with the same SHA-256 and strong ETag.
 */

/** The bytes stored for a document. */
export function canonicalPolicy(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Lower-case hex SHA-256 of the UTF-8 bytes of `text` (WebCrypto: worker and Node alike). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The strong ETag of a stored document. */
export const etagOf = (sha256: string): string => `"${sha256}"`;

/** True when an `If-Match` header value names `sha256` (or is `*` and a policy exists). */
export function ifMatchAccepts(header: string, sha256: string | null): boolean {
  if (sha256 === null) return false;
  return header.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t === etagOf(sha256);
  });
}

/** Hash of the document a text holds, whatever its formatting (of the bytes when not JSON). */
export async function documentSha(text: string): Promise<string> {
  try {
    return await sha256Hex(canonicalPolicy(JSON.parse(text)));
  } catch {
    return sha256Hex(text);
  }
}
