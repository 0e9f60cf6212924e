/**
 * UTC days as `YYYY-MM-DD`: how the ledger keys its rows, and how explain's `at` and the
 * exposure queries' `from` and `to` may be written.
 */
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Midnight UTC of a day written `YYYY-MM-DD`, or null when the text is not one (a wrong
 * shape, or a date that does not exist, such as `2024-02-30`).
 *
 * @example parseDay("2024-07-09") // 1720483200000
 */
export function parseDay(text: string): number | null {
  if (!DAY.test(text)) return null;
  const ms = Date.parse(`${text}T00:00:00Z`);
  return Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text ? null : ms;
}
