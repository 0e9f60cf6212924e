/** CSV and identity text shared by exposure reports and notices (worker and CLI alike). */

const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * RFC 4180 field: quoted when it holds a comma, quote, CR or LF. A text that begins with
 * `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'` first (SPEC section 6),
 * so a spreadsheet opening the file shows it as text instead of running it as a formula.
 *
 * @example csvField("=HYPERLINK(\"x\")") // "'=HYPERLINK(""x"")" quoted
 */
export function csvField(value: string | number): string {
  let s = String(value);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** `name=value;name=value`, with `%`, `;` and `=` in values percent-encoded so it splits back. */
export function identityText(identity: Record<string, string>): string {
  return Object.entries(identity)
    .map(([k, v]) => `${k}=${v.replace(/[%;=]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`)
    .join(";");
}
