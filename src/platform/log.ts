/**
 * One-line JSON logs, readable in `wrangler tail` and Workers Logs. Callers pass only
 * derived values (versions, codes, fingerprints): never tokens, keys or secrets.
 */
export function log(
  level: "info" | "warn" | "error",
  event: string,
  fields: Record<string, unknown> = {},
): void {
  const line = JSON.stringify({ level, event, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
