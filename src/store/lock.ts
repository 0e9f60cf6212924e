/**
 * Serialises policy writes within this isolate, so that two writers holding the same
 * ETag cannot both pass the `If-Match` check before either has written: the second one
 * sees the first one's document and gets 412. KV has no compare-and-swap, so writers in
 * different isolates are only as ordered as KV's own consistency (see docs/operations.md).
 */
let tail: Promise<unknown> = Promise.resolve();

/** Runs `task` after every task queued before it has settled. */
export function serialised<T>(task: () => Promise<T>): Promise<T> {
  const run = tail.then(task, task);
  tail = run.catch(() => undefined);
  return run;
}
