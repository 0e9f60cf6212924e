/**
 * Where text stops being JSON, in words a person can act on: line, column, the line with a
 * caret, and what was expected there. `parseJsonStrict` (./json.ts) reports these for text
 * that JSON.parse refuses.
 */
import type { PolicyProblem } from "./schema";

/** Line and column (1-based) of `offset`, and the text of its line. */
export function lineOf(text: string, offset: number): { line: number; column: number; text: string } {
  const start = text.lastIndexOf("\n", offset - 1) + 1;
  let end = text.indexOf("\n", offset);
  if (end < 0) end = text.length;
  let line = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < start; i = text.indexOf("\n", i + 1)) line++;
  return { line, column: offset - start + 1, text: text.slice(start, end).replace(/\r$/, "") };
}

/** Characters of the offending line shown either side of the error (minified JSON is one long line). */
const EXCERPT_SIDE = 60;

/**
 * The offending line with a caret under the error, cut around the column on long lines:
 *
 *     3 |   "mode": "enforce" "tor": "block"
 *       |                     ^
 */
export function excerptAt(text: string, offset: number): string {
  const { line, column, text: full } = lineOf(text, offset);
  const from = Math.max(0, column - 1 - EXCERPT_SIDE);
  const to = Math.min(full.length, column - 1 + EXCERPT_SIDE);
  // Control characters and tabs would shift the caret or garble a terminal: one space each.
  const shown = `${from > 0 ? "…" : ""}${full.slice(from, to).replace(/[\p{Cc}]/gu, " ")}${to < full.length ? "…" : ""}`;
  const caretAt = column - 1 - from + (from > 0 ? 1 : 0);
  const number = String(line);
  return `${number} | ${shown}\n${" ".repeat(number.length)} | ${" ".repeat(caretAt)}^`;
}

/** Why `text` is not JSON, where (line, column, the line with a caret) and how JSON.parse put it. */
export function syntaxProblem(text: string, error: Error): PolicyProblem {
  const found = locateSyntaxError(text);
  if (found === null) return { path: "$", message: `not valid JSON: ${error.message}` };
  const { line, column } = lineOf(text, found.offset);
  return {
    path: "$",
    message: `not valid JSON at line ${line}, column ${column}: ${found.reason}`,
    line,
    column,
    excerpt: excerptAt(text, found.offset),
  };
}

const WS = new Set([" ", "\t", "\n", "\r"]);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);

type SyntaxError = { offset: number; reason: string };

/** End (exclusive) of the string literal at `start`, or where and why it is malformed. */
function scanString(text: string, start: number): number | SyntaxError {
  for (let i = start + 1; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') return i + 1;
    if (ch.charCodeAt(0) < 0x20) {
      return {
        offset: i,
        reason: "a control character (a raw newline or tab?) inside a string; write it as \\n or \\t",
      };
    }
    if (ch === "\\") {
      const next = text[i + 1];
      if (next === "u") {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          return { offset: i, reason: "\\u must be followed by 4 hex digits" };
        }
        i += 5;
      } else if (next !== undefined && ESCAPES.has(next)) {
        i++;
      } else {
        return { offset: i, reason: `invalid escape \\${next ?? ""} in a string` };
      }
    }
  }
  return { offset: start, reason: 'this string is never closed (a missing ")' };
}

/**
 * Finds the first place `text` stops being JSON (RFC 8259), and says what was expected
 * there. JSON.parse reports only an offset, and not always that; this reports the offset
 * for the line/column/caret message. Iterative, so hostile nesting cannot overflow it.
 * Returns null for valid JSON.
 */
export function locateSyntaxError(text: string): SyntaxError | null {
  const stack: string[] = [];
  type Expect = "value" | "valueOrClose" | "key" | "keyOrClose" | "colon" | "commaOrClose" | "end";
  let expect: Expect = "value";
  let i = 0;
  const close = (): void => {
    stack.pop();
    i++;
    expect = stack.length > 0 ? "commaOrClose" : "end";
  };
  for (;;) {
    while (i < text.length && WS.has(text[i]!)) i++;
    if (i >= text.length) {
      if (expect === "end") return null;
      const open =
        stack.length > 0
          ? `; ${stack.length} bracket(s) still open (a missing ${stack.at(-1) === "{" ? "}" : "]"}?)`
          : "";
      return { offset: text.length, reason: `the document ends too early${open}` };
    }
    const ch = text[i]!;
    const top = stack.at(-1);
    switch (expect) {
      case "end":
        return { offset: i, reason: "unexpected text after the end of the document" };
      case "colon":
        if (ch !== ":") return { offset: i, reason: "expected ':' after the property name" };
        i++;
        expect = "value";
        continue;
      case "commaOrClose":
        if (ch === ",") {
          i++;
          expect = top === "{" ? "key" : "value";
        } else if ((ch === "}" && top === "{") || (ch === "]" && top === "[")) {
          close();
        } else {
          return {
            offset: i,
            reason:
              top === "{"
                ? "expected ',' or '}' after a property value (a missing comma?)"
                : "expected ',' or ']' after an array element (a missing comma?)",
          };
        }
        continue;
      case "key":
      case "keyOrClose": {
        if (ch === "}" && expect === "keyOrClose") {
          close();
          continue;
        }
        if (ch !== '"') {
          return {
            offset: i,
            reason:
              expect === "key" && ch === "}"
                ? "a trailing comma before '}'; remove it"
                : "expected a double-quoted property name",
          };
        }
        const end = scanString(text, i);
        if (typeof end !== "number") return end;
        i = end;
        expect = "colon";
        continue;
      }
      case "value":
      case "valueOrClose": {
        if (ch === "]" && expect === "valueOrClose") {
          close();
          continue;
        }
        if (ch === "{" || ch === "[") {
          stack.push(ch);
          i++;
          expect = ch === "{" ? "keyOrClose" : "valueOrClose";
          continue;
        }
        let end: number | SyntaxError;
        if (ch === '"') end = scanString(text, i);
        else if (text.startsWith("true", i) || text.startsWith("null", i)) end = i + 4;
        else if (text.startsWith("false", i)) end = i + 5;
        else {
          NUMBER.lastIndex = i;
          const m = NUMBER.exec(text);
          end =
            m !== null && m[0] !== "-"
              ? i + m[0].length
              : {
                  offset: i,
                  reason:
                    ch === "]" && top === "["
                      ? "a trailing comma before ']'; remove it"
                      : ch === "'"
                        ? "strings need double quotes, not single quotes"
                        : `unexpected ${JSON.stringify(ch)} where a value was expected (a string, number, object, array, true, false or null)`,
                };
        }
        if (typeof end !== "number") return end;
        i = end;
        expect = stack.length > 0 ? "commaOrClose" : "end";
        continue;
      }
    }
  }
}
