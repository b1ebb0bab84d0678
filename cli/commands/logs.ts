import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { createClient } from "../client.ts";
import { resolveTarget } from "../config.ts";
import type { Io } from "../io.ts";
import { eachLine } from "../events.ts";

type Entry = { ts: number; stream: string; text: string; function?: string; requestId?: string };

export const formatLogEntry = (e: Entry) =>
  `${new Date(e.ts).toISOString()}  ${(e.function ?? "-").padEnd(18)}  ${e.stream === "request" ? "" : `[${e.stream}] `}${e.text}${e.requestId && e.stream !== "request" ? `  (${e.requestId})` : ""}`;

export const logsCommand = (io: Io, exit: (code: number) => void) =>
  defineCommand({
    meta: { name: "logs", description: "Runtime logs of a deployment: function output and one line per request" },
    args: {
      deployment: { type: "positional", required: true, description: "deployment id or URL" },
      follow: { type: "boolean", alias: "f", description: "keep streaming new lines" },
      since: { type: "string", description: "only lines since: 10m, 2h, 1d, an ISO date or epoch ms" },
      limit: { type: "string", description: "at most this many past lines" },
      ...commonArgs,
    },
    run: async ({ args }) => {
      const client = createClient(await resolveTarget(io, args));
      const q = new URLSearchParams();
      if (args.follow) q.set("follow", "1");
      if (args.since) q.set("since", args.since);
      if (args.limit) q.set("limit", args.limit);
      const res = await client.request("GET", `/v1/deployments/${encodeURIComponent(args.deployment)}/logs?${q}`);
      // --json: the API's NDJSON as it is, one object per line, for scripts
      await eachLine(res, (line) => io.stdout(args.json ? line + "\n" : formatLogEntry(JSON.parse(line) as Entry) + "\n"));
      exit(0);
    },
  });
