/**
 * The dashboard's pages as JSX components: pure functions of the data the routes read.
 */
import type { Child } from "hono/jsx";
import type { Activation, HistoryEntry } from "../policy/history";
import { BarChart } from "./chart";
import type { RegionExposure } from "./data";
import { Page } from "./layout";
import { readableInstant } from "./phase";

/** Where the dashboard is mounted. */
export const BASE = "/__region-gate/dashboard";

const NAV = [
  ["", "Overview"],
  ["/timeline", "Timeline"],
  ["/exposure", "Exposure"],
  ["/history", "History"],
] as const;

/** A hidden CSRF field for a state-changing form. */
const Csrf = ({ token }: { token: string }) => <input type="hidden" name="csrf" value={token} />;

function Header({ csrf }: { csrf: string }) {
  return (
    <header>
      <strong>region-gate</strong>
      <nav>
        {NAV.map(([path, label], i) => (
          <>
            {i > 0 ? " · " : null}
            <a href={`${BASE}${path}`}>{label}</a>
          </>
        ))}
      </nav>
      <form method="post" action={`${BASE}/signout`}>
        <Csrf token={csrf} />
        <button type="submit">Sign out</button>
      </form>
    </header>
  );
}

/** A signed-in page: the navigation bar, a heading and the content. */
export function Shell(props: { title: string; csrf: string; children?: Child }) {
  return (
    <Page title={`${props.title} · region-gate`} header={<Header csrf={props.csrf} />}>
      <h1>{props.title}</h1>
      {props.children}
    </Page>
  );
}

export function SignIn({ next, error }: { next: string; error?: string | undefined }) {
  return (
    <Page
      title="Sign in · region-gate"
      header={
        <header>
          <strong>region-gate</strong>
        </header>
      }
    >
      <h1>Sign in</h1>
      <form method="post" action={`${BASE}/signin`} class="card">
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
        <label for="token">Admin token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required size={40} />
        <input type="hidden" name="next" value={next} />
        <p>
          <button type="submit">Sign in</button>
        </p>
        <p class="muted">The token is the gate's ADMIN_TOKEN secret. The session lasts 8 hours.</p>
      </form>
    </Page>
  );
}

/** A signed-in error page (403 CSRF, failed rollback, bad query). */
export function Problem(props: { title: string; message: string; csrf?: string; back?: string }) {
  const body = (
    <>
      <p class="error" role="alert">
        {props.message}
      </p>
      {props.back ? <a href={props.back}>Back</a> : null}
    </>
  );
  if (props.csrf)
    return (
      <Shell title={props.title} csrf={props.csrf}>
        {body}
      </Shell>
    );
  return (
    <Page title={props.title}>
      <h1>{props.title}</h1>
      {body}
    </Page>
  );
}

const Tag = ({ value }: { value: string }) => <span class={`tag ${value}`}>{value}</span>;

const Stat = (props: { label: string; value: Child }) => (
  <div class="card stat">
    <span class="muted">{props.label}</span>
    <b>{props.value}</b>
  </div>
);

export interface OverviewData {
  version: string;
  activation: (Activation & { ageText: string }) | null;
  mode: string;
  failMode: string;
  supported: number;
  carvedOut: number;
  enforcedRegions: number;
  exemptions: number;
  unknownCountry: string;
  tor: string;
  scope: { include: readonly string[]; exclude: readonly string[] };
}

export function Overview({ d, csrf }: { d: OverviewData | null; csrf: string }) {
  if (d === null) {
    return (
      <Shell title="Overview" csrf={csrf}>
        <p class="error">No valid policy is loaded. Push one with `region-gate policy push FILE`.</p>
      </Shell>
    );
  }
  return (
    <Shell title="Overview" csrf={csrf}>
      <div class="grid">
        <Stat label="Active policy" value={<code>{d.version}</code>} />
        <Stat label="Active since" value={d.activation ? d.activation.ageText : "unknown"} />
        <Stat label="Mode" value={d.mode} />
        <Stat label="Fail mode" value={d.failMode} />
        <Stat label="Supported countries" value={d.supported} />
        <Stat label="Carved-out subdivisions" value={d.carvedOut} />
        <Stat label="Regions with own dates" value={d.enforcedRegions} />
        <Stat label="Exemptions" value={d.exemptions} />
      </div>
      <div class="card">
        {d.activation ? (
          <p>
            Activated {d.activation.at} by <code>{d.activation.by}</code> ({d.activation.via}).
          </p>
        ) : null}
        <p>
          Unknown country: {d.unknownCountry} · Tor: {d.tor} · Scope: include{" "}
          <code>{d.scope.include.join(" ")}</code>
          {d.scope.exclude.length > 0 ? (
            <>
              , exclude <code>{d.scope.exclude.join(" ")}</code>
            </>
          ) : null}
        </p>
      </div>
    </Shell>
  );
}

export interface TimelineRow {
  region: string;
  warnFrom: string | null;
  blockFrom: string | null;
  phase: string;
  summary: string;
}

export function Timeline({ rows, csrf, monitor }: { rows: TimelineRow[]; csrf: string; monitor: boolean }) {
  return (
    <Shell title="Enforcement timeline" csrf={csrf}>
      {monitor ? (
        <p class="card">Mode is monitor: nothing is blocked; would-be blocks are marked monitor.</p>
      ) : null}
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>Region</th>
              <th>Now</th>
              <th>Status</th>
              <th>Warn from</th>
              <th>Block from</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr>
                <td>{r.region}</td>
                <td>
                  <Tag value={r.phase} />
                </td>
                <td>{r.summary}</td>
                <td class="nowrap">{readableInstant(r.warnFrom)}</td>
                <td class="nowrap">{r.blockFrom === null ? "never" : readableInstant(r.blockFrom)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Shell>
  );
}

export interface ExposureView {
  from: string;
  to: string;
  region: string;
  days: string[];
  regions: RegionExposure[];
  error?: string;
}

function ExposureFilter({ v }: { v: ExposureView }) {
  return (
    <form method="get" action={`${BASE}/exposure`} class="card">
      <div class="grid">
        <div>
          <label for="from">From (UTC day)</label>
          <input id="from" name="from" type="date" value={v.from} />
        </div>
        <div>
          <label for="to">To</label>
          <input id="to" name="to" type="date" value={v.to} />
        </div>
        <div>
          <label for="region">Region (blank: all)</label>
          <input id="region" name="region" value={v.region} size={6} placeholder="CN" />
        </div>
      </div>
      <p>
        <button type="submit" class="secondary">
          Show
        </button>
      </p>
    </form>
  );
}

export function Exposure({ v, csrf }: { v: ExposureView; csrf: string }) {
  const q = new URLSearchParams({ from: v.from, to: v.to, ...(v.region ? { region: v.region } : {}) });
  return (
    <Shell title="Exposure" csrf={csrf}>
      <ExposureFilter v={v} />
      {v.error ? (
        <p class="error" role="alert">
          {v.error}
        </p>
      ) : (
        <>
          <p>
            <a class="button" href={`${BASE}/exposure.csv?${q}`} download>
              Download CSV
            </a>{" "}
            <span class="muted">(the rows of `region-gate exposure report --format csv` for these days)</span>
          </p>
          {v.regions.length === 0 ? <p>No traffic from unsupported regions in these days.</p> : null}
          {v.regions.map((r) => (
            <section>
              <h2>
                {r.region}: {r.customers} customer{r.customers === 1 ? "" : "s"}, {r.requests} requests (
                {r.blocked} blocked)
              </h2>
              <div class="charts">
                <div class="card">
                  <BarChart
                    id={`req-${r.region}`}
                    title={`Requests per day from ${r.region}`}
                    days={v.days}
                    values={r.requestsPerDay}
                    unit="requests"
                  />
                </div>
                <div class="card">
                  <BarChart
                    id={`cust-${r.region}`}
                    title={`Distinct customers per day from ${r.region}`}
                    days={v.days}
                    values={r.customersPerDay}
                    unit="customers"
                  />
                </div>
              </div>
              <div class="scroll">
                <table>
                  <caption class="muted">Top customers in {r.region}</caption>
                  <thead>
                    <tr>
                      <th>Key fingerprint</th>
                      <th>Identity</th>
                      <th class="num">Requests</th>
                      <th class="num">Blocked</th>
                      <th class="num">Days</th>
                      <th>Last seen</th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.top.map((t) => (
                      <tr>
                        <td class="mono">{t.fingerprint}</td>
                        <td>{t.identity || "—"}</td>
                        <td class="num">{t.requests}</td>
                        <td class="num">{t.blocked}</td>
                        <td class="num">{t.days}</td>
                        <td class="nowrap">{t.lastDay}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
          ))}
        </>
      )}
    </Shell>
  );
}

export interface HistoryEvent extends Activation {
  version: string;
  /** The version active before this activation, when recorded. */
  previous: string | null;
}

const versionLink = (version: string, against?: string | null) =>
  `${BASE}/history/${encodeURIComponent(version)}${against ? `?against=${encodeURIComponent(against)}` : ""}`;

export function History(props: {
  events: HistoryEvent[];
  versions: HistoryEntry[];
  csrf: string;
  notice?: string;
}) {
  return (
    <Shell title="Policy history" csrf={props.csrf}>
      {props.notice ? (
        <p class="card" role="status">
          {props.notice}
        </p>
      ) : null}
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>When (UTC)</th>
              <th>Version</th>
              <th>How</th>
              <th>Who</th>
              <th>Change</th>
            </tr>
          </thead>
          <tbody>
            {props.events.map((e) => (
              <tr>
                <td class="nowrap">{readableInstant(e.at)}</td>
                <td>
                  <code>{e.version}</code>
                </td>
                <td>{e.via}</td>
                <td class="mono">{e.by}</td>
                <td>
                  <a href={versionLink(e.version, e.previous)}>
                    {e.previous ? `diff from ${e.previous}` : "view"}
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Stored versions</h2>
      <ul>
        {props.versions.map((v) => (
          <li>
            <a href={versionLink(v.version)}>{v.version}</a>{" "}
            {v.active ? <span class="tag pass">active</span> : null}{" "}
            <span class="muted mono">{v.sha256.slice(0, 12)}</span>
          </li>
        ))}
      </ul>
    </Shell>
  );
}

/** The lines of `region-gate policy diff`, coloured by their marker (`+`, `-`, `~`). */
export function ChangeList({ lines }: { lines: readonly string[] }) {
  const kind = (line: string) => {
    const marker = line.trimStart()[0];
    return marker === "+" ? "add" : marker === "-" ? "del" : marker === "~" ? "chg" : undefined;
  };
  return (
    <pre class="diff">
      {lines.map((line) => (
        <span class={kind(line)}>{`${line}\n`}</span>
      ))}
    </pre>
  );
}

export function VersionPage(props: {
  entry: HistoryEntry;
  against: string | null;
  changes: readonly string[] | null;
  document: string;
  csrf: string;
}) {
  const { entry } = props;
  return (
    <Shell title={`Version ${entry.version}`} csrf={props.csrf}>
      <p>
        sha256 <code>{entry.sha256.slice(0, 16)}</code> · {entry.active ? "active now" : "not active"} ·
        activated {entry.activations.length} time{entry.activations.length === 1 ? "" : "s"}
      </p>
      <h2>{props.against ? `Changes from ${props.against}` : "Changes"}</h2>
      {props.changes ? (
        <ChangeList lines={props.changes} />
      ) : (
        <p>No earlier version recorded to compare with.</p>
      )}
      {entry.active ? null : (
        <form method="post" action={`${BASE}/rollback`}>
          <Csrf token={props.csrf} />
          <input type="hidden" name="version" value={entry.version} />
          <p>
            <button type="submit" class="danger">
              Roll back to {entry.version}…
            </button>
          </p>
        </form>
      )}
      <details>
        <summary>Document</summary>
        <pre class="diff">{props.document}</pre>
      </details>
    </Shell>
  );
}

export function ConfirmRollback(props: {
  version: string;
  active: string | null;
  etag: string | null;
  changes: readonly string[];
  csrf: string;
}) {
  return (
    <Shell title={`Roll back to ${props.version}?`} csrf={props.csrf}>
      <p>
        This makes <code>{props.version}</code> the active policy again
        {props.active ? (
          <>
            , replacing <code>{props.active}</code>
          </>
        ) : null}
        . Every isolate picks it up within POLICY_CACHE_SECONDS. These are the changes it makes:
      </p>
      <ChangeList lines={props.changes} />
      <form method="post" action={`${BASE}/rollback`}>
        <Csrf token={props.csrf} />
        <input type="hidden" name="version" value={props.version} />
        <input type="hidden" name="confirm" value="yes" />
        {props.etag ? <input type="hidden" name="etag" value={props.etag} /> : null}
        <p>
          <button type="submit" class="danger">
            Yes, roll back to {props.version}
          </button>{" "}
          <a href={versionLink(props.version)}>Cancel</a>
        </p>
      </form>
    </Shell>
  );
}
