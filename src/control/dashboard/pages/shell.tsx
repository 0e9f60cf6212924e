/**
 * The frame of every signed-in page (navigation with the current page marked, sign-out),
 * the sign-in form, the error page and the small pieces the pages share.
 */
import type { Child } from "hono/jsx";
import { Page } from "../../ui/layout";
import { BASE, NAV, type NavPath } from "../paths";

/** A hidden CSRF field for a state-changing form. */
export const Csrf = ({ token }: { token: string }) => <input type="hidden" name="csrf" value={token} />;

function Header({ csrf, current }: { csrf: string; current: NavPath | undefined }) {
  return (
    <header>
      <strong>region-gate</strong>
      <nav aria-label="Dashboard">
        {NAV.map(([path, label], i) => (
          <>
            {i > 0 ? " · " : null}
            <a href={`${BASE}${path}`} aria-current={path === current ? "page" : undefined}>
              {label}
            </a>
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

/** A signed-in page: the navigation bar (`current` marked), a heading and the content. */
export function Shell(props: {
  title: string;
  csrf: string;
  current?: NavPath;
  css?: string;
  children?: Child;
}) {
  return (
    <Page
      title={`${props.title} · region-gate`}
      header={<Header csrf={props.csrf} current={props.current} />}
      css={props.css}
    >
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

export const Tag = ({ value }: { value: string }) => <span class={`tag ${value}`}>{value}</span>;

/** An instant for people (seconds, UTC) inside a machine-readable `<time>`. */
export function When({ at, text }: { at: string | null; text: string }) {
  if (at === null || !/^\d{4}-\d{2}-\d{2}T/.test(at)) return <>{text}</>;
  return <time datetime={new Date(at).toISOString()}>{text}</time>;
}

/** `n` with its noun, singular for exactly one: "1 customer", "2 requests". */
export const count = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/**
 * A text box for a UTC day (or, with `instant`, an RFC 3339 instant): not `type="date"`,
 * whose box shows the day in the browser's locale and time zone conventions (12/07/2026)
 * under a label that promises a UTC day. The server parses what is typed.
 */
export function UtcInput(props: { id: string; name: string; value: string; instant?: boolean }) {
  return (
    <input
      id={props.id}
      name={props.name}
      type="text"
      value={props.value}
      placeholder="YYYY-MM-DD"
      pattern={props.instant ? undefined : "\\d{4}-\\d{2}-\\d{2}"}
      inputmode={props.instant ? undefined : "numeric"}
      size={props.instant ? 22 : 11}
      autocomplete="off"
      spellcheck={false}
    />
  );
}
