/** CSV and identity text shared by exposure reports and notices (worker and CLI alike). */

/** RFC 4180 field: quoted when it holds a comma, quote, CR or LF. */
export function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** `name=value;name=value`, with `%`, `;` and `=` in values percent-encoded so it splits back. */
export function identityText(identity: Record<string, string>): string {
  return Object.entries(identity)
    .map(([k, v]) => `${k}=${v.replace(/[%;=]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`)
    .join(";");
}
