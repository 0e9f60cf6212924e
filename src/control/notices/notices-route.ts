/**
 * `GET /exposure/notices` (SPEC section 7): one notice per customer, paged like
 * `/exposure` (`limit` notices per page, `cursor` from `next`), never splitting a notice.
 * Mounted by the admin app behind its token check.
 */

import { errorResponse } from "../../platform/errors";
import { log } from "../../platform/log";
import { getPolicy } from "../../store/store";
import { newApp } from "../app";
import { parseExposureQuery } from "../ledger/report";
import { DEFAULT_PROVIDER, type NoticeContext, noticesCsv, noticesMarkdown } from "./notice-render";
import { buildNotices, IDENTITY_NOTE } from "./notices";
import {
  decodeCursor,
  NOTICES_DEFAULT_LIMIT,
  NOTICES_MAX_LIMIT,
  readCappedDays,
  readCustomerPage,
} from "./notices-read";

export const noticeRoutes = newApp();

const FORMATS = ["json", "csv", "md"] as const;
const CONTENT_TYPES = {
  csv: "text/csv; charset=utf-8",
  md: "text/markdown; charset=utf-8",
} as const;

noticeRoutes.get("/exposure/notices", async (c) => {
  const url = new URL(c.req.url);
  const params = new URLSearchParams(url.searchParams);
  const format = params.get("format") || "json";
  if (!(FORMATS as readonly string[]).includes(format)) {
    return errorResponse(
      "invalid_exposure_query",
      `format=${JSON.stringify(format)} is not supported; use json, csv or md`,
      {
        param: "format",
      },
    );
  }
  for (const own of ["format", "limit", "cursor", "provider", "api", "contact"]) params.delete(own);
  const query = parseExposureQuery(params);
  if ("error" in query) return errorResponse("invalid_exposure_query", query.error, { param: query.param });

  const limitText = url.searchParams.get("limit");
  const limit = limitText === null || limitText === "" ? NOTICES_DEFAULT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > NOTICES_MAX_LIMIT) {
    return errorResponse(
      "invalid_exposure_query",
      `limit=${JSON.stringify(limitText)} must be a whole number from 1 to ${NOTICES_MAX_LIMIT} (notices per page)`,
      { param: "limit" },
    );
  }
  const cursorText = url.searchParams.get("cursor");
  const after = cursorText ? decodeCursor(cursorText) : null;
  if (cursorText && after === null) {
    return errorResponse(
      "invalid_cursor",
      "cursor is not one this route gave out; pass the `next` value of the previous page unchanged, or drop it to start over",
      { param: "cursor" },
    );
  }
  const provider = (url.searchParams.get("provider") ?? "").trim() || DEFAULT_PROVIDER;
  if (provider.length > 100 || /[^ -~]/.test(provider)) {
    return errorResponse("invalid_exposure_query", "provider must be at most 100 visible ASCII characters", {
      param: "provider",
    });
  }

  const api = apiOrigin(url.searchParams.get("api"), url);
  if (api === null) {
    return errorResponse(
      "invalid_exposure_query",
      "api must be the API's base URL as customers call it, e.g. https://api.example.com (the self-check link in each notice is made from it)",
      { param: "api" },
    );
  }
  const contact = (url.searchParams.get("contact") ?? "").trim() || null;
  if (contact !== null && (contact.length > 200 || /[^ -~]/.test(contact))) {
    return errorResponse(
      "invalid_exposure_query",
      "contact must be at most 200 visible ASCII characters (a URL or a mail address)",
      { param: "contact" },
    );
  }

  const policy = await getPolicy(c.env);
  if (policy === null) {
    return errorResponse(
      "region_policy_unavailable",
      "no active policy could be read, and a notice says what the policy does next; push one (region-gate policy push) or retry",
    );
  }
  let page: Awaited<ReturnType<typeof readCustomerPage>>;
  let capped: Awaited<ReturnType<typeof readCappedDays>>;
  try {
    [page, capped] = await Promise.all([
      readCustomerPage(c.env, query.filter, limit, after),
      readCappedDays(c.env, query.filter),
    ]);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log("error", "exposure_read_failed", { error: message, route: "notices" });
    return errorResponse(
      "exposure_unavailable",
      `the exposure ledger could not be read (${message}); retry, and check the EXPOSURE binding if it persists`,
    );
  }
  const now = Date.now();
  const notices = buildNotices(page.groups, policy, now, capped);
  const ctx: NoticeContext = {
    provider,
    policyVersion: policy.version,
    docsUrl: policy.docsUrl,
    checkUrl: `${api}/__region-gate/check`,
    contact,
    from: url.searchParams.get("from") || null,
    to: url.searchParams.get("to") || null,
    generatedAt: new Date(now).toISOString(),
  };
  const headers: Record<string, string> = { "cache-control": "no-store" };
  if (page.next !== null) {
    const nextUrl = new URL(url);
    nextUrl.searchParams.set("cursor", page.next);
    headers.link = `<${nextUrl.pathname}${nextUrl.search}>; rel="next"`;
  }
  if (format === "json") {
    return c.json(
      {
        meta: { ...ctx, region: query.filter.region ?? null, identityNote: IDENTITY_NOTE },
        notices,
        next: page.next,
      },
      200,
      headers,
    );
  }
  const body = format === "csv" ? noticesCsv(notices) : noticesMarkdown(notices, ctx);
  return new Response(body, {
    headers: { "content-type": CONTENT_TYPES[format as "csv" | "md"], ...headers },
  });
});

/**
 * The origin customers call the API on, for the self-check link: `api=` when given (an
 * absolute http(s) URL without credentials), else the origin this route was called on.
 * Null when `api=` is not such a URL.
 */
function apiOrigin(given: string | null, url: URL): string | null {
  if (given === null || given.trim() === "") return url.origin;
  try {
    const u = new URL(given.trim());
    if ((u.protocol !== "https:" && u.protocol !== "http:") || u.username || u.password) return null;
    return u.origin;
  } catch {
    return null;
  }
}
