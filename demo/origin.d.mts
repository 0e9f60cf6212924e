import type { Server } from "node:http";

/** Starts the demo origin on 127.0.0.1; port 0 picks a free one. */
export function startDemoOrigin(port: number): Promise<Server>;
