/** The Exposure page: a range filter, per-region charts, top customers and networks, and the CSV link. */
import { IDENTITY_NOTE, type ReportNetwork } from "../../ledger/report";
import { BarChart } from "../chart";
import { entryId, MAP_CSS } from "../map";
import { phaseWords, type RegionPhase, regionLabel } from "../map-data";
import { BASE } from "../paths";
import type { ExposureView } from "../views";
import { ExposureMap } from "./exposure-map";
import { count, Shell, Tag, UtcInput } from "./shell";

function ExposureFilter({ v }: { v: ExposureView }) {
  return (
    <form method="get" action={`${BASE}/exposure`} class="card">
      <div class="grid">
        <div>
          <label for="from">From (UTC day, YYYY-MM-DD)</label>
          <UtcInput id="from" name="from" value={v.from} />
        </div>
        <div>
          <label for="to">To (UTC day)</label>
          <UtcInput id="to" name="to" value={v.to} />
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

/** The heading of a region's section: code, name, its phase now and the date of it. */
function RegionHeading({ r, phase }: { r: ExposureView["regions"][number]; phase: RegionPhase | undefined }) {
  return (
    <h2>
      {regionLabel(r.region)}
      {phase ? (
        <>
          {" "}
          <Tag value={phase.phase} /> {phaseWords(phase)}
        </>
      ) : null}
      : {count(r.customers, "customer")}, {count(r.requests, "request")} ({r.blocked} blocked)
    </h2>
  );
}

/** `AS16509 Amazon.com, cloud`: a network as notices name it; `other networks` for the rest. */
export function networkLabel(n: ReportNetwork): string {
  if (n.network === "other") return "other networks";
  return `${n.network}${n.name ? ` ${n.name}` : ""}${n.class ? `, ${n.class}` : ""}`;
}

/** The networks a region's traffic came through (all customers, all decisions). */
function TopNetworks({ r }: { r: ExposureView["regions"][number] }) {
  if (r.networks.length === 0) return null;
  return (
    <div class="scroll">
      <table>
        <caption class="muted">Top networks in {r.region} (the networks its requests came through)</caption>
        <thead>
          <tr>
            <th>Network</th>
            <th class="num">Requests</th>
          </tr>
        </thead>
        <tbody>
          {r.networks.map((n) => (
            <tr>
              <td>{networkLabel(n)}</td>
              <td class="num">{n.requests}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Exposure(props: {
  v: ExposureView;
  csrf: string;
  /** Each region's phase now (absent when no policy could be read). */
  phases?: ReadonlyMap<string, RegionPhase>;
}) {
  const { v, csrf } = props;
  const q = new URLSearchParams({ from: v.from, to: v.to, ...(v.region ? { region: v.region } : {}) });
  return (
    <Shell title="Exposure" csrf={csrf} current="/exposure" css={MAP_CSS}>
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
          <p class="muted">Note: {IDENTITY_NOTE}</p>
          {v.regions.length === 0 ? <p>No traffic from unsupported regions in these days.</p> : null}
          {props.phases ? <ExposureMap v={v} phases={props.phases} /> : null}
          {v.regions.map((r) => (
            <section id={entryId(r.region)}>
              <RegionHeading r={r} phase={props.phases?.get(r.region)} />
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
              <TopNetworks r={r} />
            </section>
          ))}
        </>
      )}
    </Shell>
  );
}
