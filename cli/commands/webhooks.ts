import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { createClient } from "../client.ts";
import { resolveTarget } from "../config.ts";
import { CliError, type Io } from "../io.ts";
import { oneOf } from "../strict.ts";

type Exit = (code: number) => void;
const ALL = "deployment.created,deployment.succeeded,deployment.error,deployment.canceled,deployment.promoted,deployment.removed,alias.assigned";

export const webhooksCommand = (io: Io, exit: Exit) =>
  defineCommand({
    meta: { name: "webhooks", description: "Outgoing webhooks: webhooks add <url> [--events a,b] | webhooks ls | webhooks rm <id> | webhooks deliveries <id>" },
    args: {
      action: { type: "positional", required: true, description: "add | ls | rm | deliveries" },
      arg: { type: "positional", required: false },
      events: { type: "string", description: `with add: comma-separated events (default all: ${ALL})` },
      ...commonArgs,
    },
    run: async ({ args }) => {
      const action = oneOf(args.action, ["add", "ls", "rm", "deliveries"], "webhooks");
      const client = createClient(await resolveTarget(io, args));
      const print = (obj: unknown, text: string) => (args.json ? io.stdout(JSON.stringify(obj) + "\n") : io.stdout(text));
      const need = (usage: string) => {
        if (!args.arg) throw new CliError(`usage: ferry webhooks ${usage}`, "invalid_argument", 2);
        return args.arg;
      };
      if (action === "add") {
        const url = need("add <url> [--events a,b]");
        const events = (args.events ?? ALL).split(",").map((e) => e.trim()).filter(Boolean);
        const r = await client.json<{ id: string; url: string; events: string[]; secret: string }>("POST", "/v1/webhooks", { url, events });
        print(r, `Added ${r.id} -> ${r.url} (${r.events.join(", ")})\nSigning secret (shown once): ${r.secret}\n`);
      } else if (action === "ls") {
        const r = await client.json<{ webhooks: { id: string; url: string; events: string[] }[] }>("GET", "/v1/webhooks");
        print(r, r.webhooks.length ? r.webhooks.map((w) => `${w.id}  ${w.url}  ${w.events.join(",")}\n`).join("") : "No webhooks.\n");
      } else if (action === "rm") {
        const r = await client.json<{ id: string }>("DELETE", `/v1/webhooks/${encodeURIComponent(need("rm <id>"))}`);
        print(r, `Removed ${r.id}\n`);
      } else {
        const r = await client.json<{ deliveries: { id: string; event: string; state: string; status?: number; latencyMs?: number; attempts: unknown[] }[] }>("GET", `/v1/webhooks/${encodeURIComponent(need("deliveries <id>"))}/deliveries`);
        print(r, r.deliveries.map((d) => `${d.id}  ${d.event.padEnd(22)}  ${d.state.padEnd(9)}  ${d.status ?? "-"}  ${d.latencyMs ?? "-"} ms  ${d.attempts.length} attempt(s)\n`).join("") || "No deliveries.\n");
      }
      exit(0);
    },
  });
