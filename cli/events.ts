import type { ApiResponse, Client } from "./client.ts";

export type BuildEvent = { type: "log"; ts: number; text: string } | { type: "state"; ts: number; state: string; message?: string };

/** Calls `onLine` with each non-empty line of an NDJSON response as it arrives. */
export async function eachLine(res: ApiResponse, onLine: (line: string) => void) {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of res.body) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) onLine(line);
    }
  }
}

/** Reads a deployment's build events (NDJSON), calling `onEvent` for each as it arrives. */
export async function streamEvents(client: Client, id: string, follow: boolean, onEvent: (e: BuildEvent) => void) {
  const res = await client.request("GET", `/v1/deployments/${encodeURIComponent(id)}/events${follow ? "?follow=1" : ""}`);
  await eachLine(res, (line) => onEvent(JSON.parse(line) as BuildEvent));
}

export const timeOf = (ts: number) => new Date(ts).toISOString().slice(11, 19);
