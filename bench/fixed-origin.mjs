#!/usr/bin/env node
/**
 * A benchmark origin whose answer does not depend on the request: it reads the body and
 * sends the same chat-completion-sized JSON every time. The demo origin (demo/origin.mjs)
 * echoes every request header in its body, so a gate that forwards more headers (SPEC
 * section 5 asks for eight) gets a longer response to stream back than a bare worker does,
 * and a benchmark with it measures that as the gate's CPU. `ORIGIN=echo` in
 * bench/gate-bench.mjs still measures with the demo origin.
 *
 *   node bench/fixed-origin.mjs [port]
 */
import { createServer } from "node:http";

const BODY = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "bench-model",
  choices: [
    {
      index: 0,
      message: { role: "assistant", content: "x".repeat(700) },
      finish_reason: "stop",
    },
  ],
  usage: { prompt_tokens: 12, completion_tokens: 150, total_tokens: 162 },
});

const port = Number(process.argv[2] ?? process.env.PORT ?? 8789);
createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json", "x-origin": "fixed" });
    res.end(BODY);
  });
}).listen(port, "127.0.0.1", () => console.log(`fixed origin listening on http://127.0.0.1:${port}`));
