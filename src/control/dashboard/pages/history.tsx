/** Policy history: the activation table, a version's diff and document, the rollback confirmation. */
import type { HistoryEntry } from "../../../store/history";
import type { Activation } from "../../../store/meta";
import { readableInstant } from "../../ui/phase";
import { BASE, versionLink } from "../paths";
import { Csrf, count, Shell, When } from "./shell";

export interface HistoryEvent {
  version: string;
  /** `null` (with `by`) for a version stored without an activation record: seeded, written by hand. */
  at: Activation["at"] | null;
  by: Activation["by"] | null;
  via: Activation["via"] | "no activation recorded";
  /** The version active before this one, as far as the history tells. */
  previous: string | null;
}

export function History(props: {
  events: HistoryEvent[];
  versions: HistoryEntry[];
  csrf: string;
  notice?: string;
}) {
  return (
    <Shell title="Policy history" csrf={props.csrf} current="/history">
      {props.notice ? (
        <p class="card" role="status">
          {props.notice}
        </p>
      ) : null}
      <div class="scroll">
        <table class="reflow">
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
                <td data-label="When" class="nowrap">
                  {e.at === null ? "unknown" : <When at={e.at} text={readableInstant(e.at)} />}
                </td>
                <td data-label="Version">
                  <code>{e.version}</code>
                </td>
                <td data-label="How">{e.via}</td>
                <td data-label="Who" class="mono">
                  {e.by ?? "—"}
                </td>
                <td data-label="Change">
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
        {entry.activations.length === 0
          ? "no activation recorded"
          : `activated ${count(entry.activations.length, "time")}`}
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
