/**
 * The Overview (on one screen: what is blocked, warned and counted now and from when, the
 * next change, and the verified customers per restricted region) and the enforcement Timeline.
 */
import { readableInstant } from "../../ui/phase";
import { entryId } from "../map";
import { phaseWords, type RegionPhase } from "../map-data";
import { BASE } from "../paths";
import type { ClassRow, NetworkRow, OverviewData, OverviewTraffic, PhaseGroup, TimelineRow } from "../views";
import { count, Shell, Tag, When } from "./shell";

/** "Blocked since 2024-07-09", "Warned since …, blocked from …": a group's phase and dates. */
const groupWords = (g: PhaseGroup) => {
  const words = phaseWords(g);
  return words.charAt(0).toUpperCase() + words.slice(1);
};

/** A group of up to this many regions is named inline; a larger one (an allow-list policy's default) is collapsed. */
const INLINE_REGIONS = 30;

function Now({ d }: { d: OverviewData }) {
  return (
    <section class="card" aria-labelledby="now-title">
      <h2 id="now-title">What the gate does now</h2>
      {d.now.length === 0 ? <p>Every country is supported: nothing is blocked, warned or counted.</p> : null}
      <ul class="now">
        {d.now.map((g) => (
          <li>
            <Tag value={g.phase} /> <b>{groupWords(g)}</b>
            {g.byDefault ? " (the default: every other unsupported country)" : ""}:{" "}
            {g.regions.length <= INLINE_REGIONS ? (
              g.regions.join(", ")
            ) : (
              <details>
                <summary>{count(g.regions.length, "region")}</summary>
                {g.regions.join(", ")}
              </details>
            )}
          </li>
        ))}
      </ul>
      <p>
        <b>Next:</b>{" "}
        {d.next ? (
          <>
            <When at={d.next.at} text={readableInstant(d.next.at)} /> (in {count(d.next.inDays, "day")}):{" "}
            {d.next.what.join("; ")}.
          </>
        ) : (
          "no change is scheduled."
        )}{" "}
        <a href={`${BASE}/timeline`}>Timeline</a> · <a href={`${BASE}/map`}>Map</a>
      </p>
    </section>
  );
}

/** The restricted regions without traffic named in the note under the table; the rest are counted. */
const QUIET_NAMED = 4;

/** A phase's date, short enough for a table cell: "since …", "blocked from …", "warned from …". */
function shortPhase(r: RegionPhase): string {
  const at = (bound: string | null) => (bound && /^\d{4}-/.test(bound) ? readableInstant(bound) : "—");
  if (r.phase === "block" || r.phase === "monitor") return `since ${at(r.blockFrom)}`;
  if (r.phase === "warn") return r.blockFrom ? `blocked from ${at(r.blockFrom)}` : "never blocked";
  if (r.phase === "observe")
    return r.warnFrom ? `warned from ${at(r.warnFrom)}` : `blocked from ${at(r.blockFrom)}`;
  return "supported";
}

function Traffic({ t }: { t: OverviewTraffic }) {
  const q = (code: string, extra: Record<string, string> = {}) =>
    new URLSearchParams({ region: code, ...extra }).toString();
  return (
    <section class="card" aria-labelledby="traffic-title">
      <h2 id="traffic-title">
        Verified customers per restricted region, {t.from} to {t.to}
      </h2>
      {t.error ? (
        <p class="error" role="alert">
          {t.error}
        </p>
      ) : (
        <>
          <table class="reflow">
            <thead>
              <tr>
                <th>Region</th>
                <th>Now</th>
                <th class="num">Verified customers</th>
                <th class="num">Requests</th>
                <th>See</th>
              </tr>
            </thead>
            <tbody>
              {t.rows.map((r) => (
                <tr>
                  <td data-label="Region">{r.label}</td>
                  <td data-label="Now">
                    {r.phase ? (
                      <>
                        <Tag value={r.phase.phase} /> {shortPhase(r.phase)}
                      </>
                    ) : (
                      "—"
                    )}
                  </td>
                  <td data-label="Customers" class="num">
                    {r.customers}
                  </td>
                  <td data-label="Requests" class="num">
                    {r.requests}
                  </td>
                  <td data-label="See" class="nowrap">
                    {r.phase ? <a href={`${BASE}/map#${entryId(r.code)}`}>map</a> : "map"} ·{" "}
                    <a href={`${BASE}/exposure?${q(r.code)}`}>exposure</a> ·{" "}
                    <a href={`${BASE}/notices?${q(r.code, { from: t.from, to: t.to })}`}>notices</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="muted">
            {t.rows.length === 0 ? "No traffic from restricted regions in these days. " : ""}
            {t.quiet.length > 0
              ? `No traffic from ${t.quiet.slice(0, QUIET_NAMED).join(", ")}${t.quiet.length > QUIET_NAMED ? ` or ${count(t.quiet.length - QUIET_NAMED, "other restricted region")}` : ""}. `
              : ""}
            A verified customer is an API key the ledger counted; requests without a key count only as
            requests.
          </p>
        </>
      )}
    </section>
  );
}

export function Overview({ d, csrf }: { d: OverviewData | null; csrf: string }) {
  if (d === null) {
    return (
      <Shell title="Overview" csrf={csrf} current="">
        <p class="error">No valid policy is loaded. Push one with `region-gate policy push FILE`.</p>
      </Shell>
    );
  }
  return (
    <Shell title="Overview" csrf={csrf} current="" css={OVERVIEW_CSS}>
      <p>
        Policy <code>{d.version}</code>, mode {d.mode}
        {d.activation ? (
          <>
            , active since <When at={d.activation.at} text={readableInstant(d.activation.at)} /> (
            {d.activation.ageText}, {d.activation.via} by <code>{d.activation.by}</code>)
          </>
        ) : (
          ", activation not recorded"
        )}
        .
      </p>
      <Now d={d} />
      {d.traffic ? <Traffic t={d.traffic} /> : null}
      <p class="muted">
        {count(d.supported, "supported country", "supported countries")} ·{" "}
        {count(d.carvedOut, "carved-out subdivision")} · {count(d.enforcedRegions, "region")} with own dates ·{" "}
        <a href={`${BASE}/timeline#networks`}>
          {count(d.networkClasses, "network class", "network classes")},{" "}
          {count(d.unsupportedNetworks, "unsupported network")}
        </a>{" "}
        · {count(d.exemptions, "exemption")} · unknown country: {d.unknownCountry} · Tor: {d.tor} · fail mode:{" "}
        {d.failMode} · scope: include <code>{d.scope.include.join(" ")}</code>
        {d.scope.exclude.length > 0 ? (
          <>
            , exclude <code>{d.scope.exclude.join(" ")}</code>
          </>
        ) : null}
      </p>
    </Shell>
  );
}

const OVERVIEW_CSS = `
.card h2{margin-top:0}
.now{list-style:none;padding:0;margin:0}
.now li{padding:.3rem 0;border-bottom:1px solid #eef0f4}
`;

const Bound = ({ at, never }: { at: string | null; never?: string }) =>
  at === null && never ? never : <When at={at} text={readableInstant(at)} />;

/** ASNs of a class: all of them up to 40, else the first 40 and how many more. */
function asnList(asns: readonly number[]): string {
  const shown = asns.slice(0, 40).map((n) => `AS${n}`);
  return asns.length > 40 ? `${shown.join(" ")} … and ${asns.length - 40} more` : shown.join(" ");
}

/** The Timeline's networks part: unsupported networks with their dates, then the classes. */
function Networks({ networks, classes }: { networks: NetworkRow[]; classes: ClassRow[] }) {
  return (
    <>
      <h2 id="networks">Unsupported networks</h2>
      {networks.length === 0 ? (
        <p class="muted">None: networks.unsupported is empty, so no network is judged.</p>
      ) : (
        <table class="reflow">
          <thead>
            <tr>
              <th>Network</th>
              <th>Now</th>
              <th>Status</th>
              <th>Warn from</th>
              <th>Block from</th>
              <th>Dates from</th>
            </tr>
          </thead>
          <tbody>
            {networks.map((r) => (
              <tr>
                <td data-label="Network">
                  {/* One flex item: the phone layout puts the label beside the cell's children. */}
                  <span>
                    <code>{r.network}</code> <span class="muted">({r.kind})</span>
                  </span>
                </td>
                <td data-label="Now">
                  <Tag value={r.phase} />
                </td>
                <td data-label="Status">{r.summary}</td>
                <td data-label="Warn from" class="nowrap">
                  <Bound at={r.warnFrom} />
                </td>
                <td data-label="Block from" class="nowrap">
                  <Bound at={r.blockFrom} never="never" />
                </td>
                <td data-label="Dates from">
                  <code>{r.source}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2 id="classes">Network classes</h2>
      {classes.length === 0 ? (
        <p class="muted">None: networks.classes is empty.</p>
      ) : (
        <table class="reflow">
          <thead>
            <tr>
              <th>Class</th>
              <th>Judged</th>
              <th>Networks</th>
            </tr>
          </thead>
          <tbody>
            {classes.map((c) => (
              <tr>
                <td data-label="Class">
                  <code>{c.name}</code>
                </td>
                <td data-label="Judged">{c.unsupported ? "unsupported" : "label only"}</td>
                <td data-label="Networks">
                  <span>
                    {c.asns.length}: <code>{asnList(c.asns)}</code>
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function Timeline({
  rows,
  networks,
  classes,
  csrf,
  monitor,
}: {
  rows: TimelineRow[];
  networks: NetworkRow[];
  classes: ClassRow[];
  csrf: string;
  monitor: boolean;
}) {
  return (
    <Shell title="Enforcement timeline" csrf={csrf} current="/timeline">
      {monitor ? (
        <p class="card">Mode is monitor: nothing is blocked; would-be blocks are marked monitor.</p>
      ) : null}
      <table class="reflow">
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
              <td data-label="Region">
                {r.members.length > 0 ? (
                  <details>
                    <summary>
                      {r.label} ({r.members.length})
                    </summary>
                    {r.members.join(", ")}
                  </details>
                ) : (
                  r.label
                )}
              </td>
              <td data-label="Now">
                <Tag value={r.phase} />
              </td>
              <td data-label="Status">{r.summary}</td>
              <td data-label="Warn from" class="nowrap">
                <Bound at={r.warnFrom} />
              </td>
              <td data-label="Block from" class="nowrap">
                <Bound at={r.blockFrom} never="never" />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Networks networks={networks} classes={classes} />
    </Shell>
  );
}
