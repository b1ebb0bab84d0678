import { defineCommand } from "citty";
import { commonArgs, positiveInt } from "../args.ts";
import { createClient, type Client } from "../client.ts";
import { resolveTarget } from "../config.ts";
import { CliError, type Io } from "../io.ts";
import { eachLine } from "../events.ts";
import { chooseProject, requireProject } from "../project.ts";

type Entry = { ts: number; stream: string; text: string; function?: string; requestId?: string };

export const formatLogEntry = (e: Entry) =>
  `${new Date(e.ts).toISOString()}  ${(e.function ?? "-").padEnd(18)}  ${e.stream === "request" ? "" : `[${e.stream}] `}${e.text}${e.requestId && e.stream !== "request" ? `  (${e.requestId})` : ""}`;

/** Without a deployment: the project's production deployment, else its newest one. */
async function deploymentOfProject(io: Io, client: Client, named: string | undefined) {
  const project = await requireProject(client, await chooseProject(io.cwd, named), io.cwd);
  if (project.productionDeploymentId) return { id: project.productionDeploymentId, what: `production of ${project.name}` };
  const { deployments } = await client.json<{ deployments: { id: string }[] }>("GET", `/v1/deployments?project=${encodeURIComponent(project.name)}&limit=1`);
  if (!deployments[0]) throw new CliError(`project ${project.name} has no deployments`, "no_deployments");
  return { id: deployments[0].id, what: `newest deployment of ${project.name}, which has no production deployment` };
}

export const logsCommand = (io: Io, exit: (code: number) => void) =>
  defineCommand({
    meta: { name: "logs", description: "Runtime logs: function output and one line per request (default: this folder's project in production)" },
    args: {
      deployment: { type: "positional", required: false, description: "deployment id or URL (default: the project's production deployment)" },
      project: { type: "string", description: "project whose production deployment to read (default: from ferry.json, package.json or the folder)" },
      follow: { type: "boolean", alias: "f", description: "keep streaming new lines" },
      since: { type: "string", description: "only lines since: 10m, 2h, 1d, an ISO date or epoch ms" },
      limit: { type: "string", description: "at most this many past lines" },
      ...commonArgs,
    },
    run: async ({ args }) => {
      if (args.deployment && args.project) throw new CliError("give a deployment or --project, not both", "invalid_argument", 2);
      const limit = positiveInt(args.limit, "--limit");
      const client = createClient(await resolveTarget(io, args));
      let id = args.deployment;
      if (!id) {
        const found = await deploymentOfProject(io, client, args.project);
        if (!args.json) io.stderr(`Logs of ${found.id} (${found.what})\n`);
        id = found.id;
      }
      const q = new URLSearchParams();
      if (args.follow) q.set("follow", "1");
      if (args.since) q.set("since", args.since);
      if (limit !== undefined) q.set("limit", String(limit));
      const res = await client.request("GET", `/v1/deployments/${encodeURIComponent(id)}/logs?${q}`);
      // --json: the API's NDJSON as it is, one object per line, for scripts
      await eachLine(res, (line) => io.stdout(args.json ? line + "\n" : formatLogEntry(JSON.parse(line) as Entry) + "\n"));
      exit(0);
    },
  });
