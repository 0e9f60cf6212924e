/** The Overview (counts and the active version) and the enforcement Timeline. */
import type { Child } from "hono/jsx";
import { readableInstant } from "../../ui/phase";
import type { OverviewData, TimelineRow } from "../views";
import { Shell, Tag, When } from "./shell";

const Stat = (props: { label: string; value: Child }) => (
  <div class="card stat">
    <span class="muted">{props.label}</span>
    <b>{props.value}</b>
  </div>
);

export function Overview({ d, csrf }: { d: OverviewData | null; csrf: string }) {
  if (d === null) {
    return (
      <Shell title="Overview" csrf={csrf} current="">
        <p class="error">No valid policy is loaded. Push one with `region-gate policy push FILE`.</p>
      </Shell>
    );
  }
  return (
    <Shell title="Overview" csrf={csrf} current="">
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
            Activated <When at={d.activation.at} text={readableInstant(d.activation.at)} /> by{" "}
            <code>{d.activation.by}</code> ({d.activation.via}).
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

const Bound = ({ at, never }: { at: string | null; never?: string }) =>
  at === null && never ? never : <When at={at} text={readableInstant(at)} />;

export function Timeline({ rows, csrf, monitor }: { rows: TimelineRow[]; csrf: string; monitor: boolean }) {
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
              <td data-label="Region">{r.region}</td>
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
    </Shell>
  );
}
