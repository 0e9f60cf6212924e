/**
 * The HTML frame shared by the dashboard and the public self-check page: one inline
 * stylesheet, no scripts, readable from 320 px wide up.
 */
import { raw } from "hono/html";
import type { Child } from "hono/jsx";

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1d1d1f;background:#f6f7f9}
header{background:#1f2a44;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center}
header strong{margin-right:auto}
header a{color:#dfe6ff}
header a[aria-current=page]{color:#fff;font-weight:700;text-decoration:none;border-bottom:2px solid #fff}
header form{margin:0}
main{max-width:60rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.4rem 0 1rem}
h2{font-size:1.1rem;margin:1.6rem 0 .6rem}
a{color:#1a4fd6}
.card{background:#fff;border:1px solid #dde1e8;border-radius:.5rem;padding:1rem;margin:0 0 1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:.8rem}
.stat b{display:block;font-size:1.5rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e5e8ee;vertical-align:top}
.nowrap,td.mono,td.num{white-space:nowrap}
td.num,th.num{text-align:right}
code,.mono{font-family:ui-monospace,monospace;font-size:.9em}
.tag{display:inline-block;padding:0 .45rem;border-radius:.8rem;font-size:.85em;font-weight:600}
.block{background:#fde2e1;color:#8a1c14}.warn{background:#fff1c7;color:#6b4b00}
.observe,.monitor,.exempt,.unknown{background:#e4ecff;color:#1d3d8f}.pass,.out_of_scope{background:#dcf5e3;color:#135c2b}
button,.button{font:inherit;padding:.45rem .9rem;border-radius:.4rem;border:1px solid #1a4fd6;background:#1a4fd6;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary{background:#fff;color:#1a4fd6}
button.danger{background:#b3261e;border-color:#b3261e}
header button{background:transparent;border-color:#dfe6ff;color:#fff;padding:.2rem .6rem}
input,select{font:inherit;padding:.4rem;border:1px solid #b8bfcc;border-radius:.35rem;max-width:100%}
label{display:block;margin:.5rem 0 .2rem}
.error{color:#8a1c14;font-weight:600}
.muted{color:#5b6270}
.diff{background:#fff;border:1px solid #dde1e8;padding:.6rem;overflow-x:auto;font:13px/1.45 ui-monospace,monospace;margin:0}
pre.notice{white-space:pre-wrap;background:#f7f8fa;border:1px solid #dde1e8;padding:.6rem;font:13px/1.45 ui-monospace,monospace}
.diff .add{background:#dcf5e3}.diff .del{background:#fde2e1}.diff .chg{background:#fff1c7}
svg{max-width:100%;height:auto;display:block}
.card svg{width:100%}
caption{text-align:left;padding:.3rem 0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}
dl.facts dt{color:#5b6270}dl.facts dd{margin:0}
@media (max-width:40rem){table.reflow thead{display:none}table.reflow tr{display:block;border-bottom:1px solid #c9ced8;padding:.3rem 0}table.reflow td{display:grid;grid-template-columns:7.5rem minmax(0,1fr);justify-items:start;gap:.5rem;border:0;padding:.15rem .5rem;white-space:normal;overflow-wrap:anywhere}table.reflow td::before{content:attr(data-label);color:#5b6270}}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(17rem,1fr));gap:.8rem}
`;

/** Security headers for every HTML answer: no scripts, no framing, no referrer leaks. */
export const HTML_HEADERS: Record<string, string> = {
  "cache-control": "no-store",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/**
 * A full HTML document, with the doctype so browsers render in standards mode.
 * `header` is the top bar (navigation, sign-out), if any; `css` is added to the stylesheet.
 */
export function Page(props: { title: string; header?: Child; css?: string; children?: Child }) {
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="robots" content="noindex" />
          <title>{props.title}</title>
          <style dangerouslySetInnerHTML={{ __html: CSS + (props.css ?? "") }} />
        </head>
        <body>
          {props.header}
          <main>{props.children}</main>
        </body>
      </html>
    </>
  );
}
