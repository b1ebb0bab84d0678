import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { ApiError, createClient } from "../client.ts";
import { resolveTarget } from "../config.ts";
import { CliError, type Io } from "../io.ts";
import { chooseProject, projectNotFound } from "../project.ts";

type Cron = {
  path: string;
  schedule: string;
  nextRunAt: number | null;
  lastRun: { at: number; status: number | null; durationMs: number; deploymentId: string; error?: string } | null;
  lastSkippedAt: number | null;
};
type Listing = { project: string; deploymentId: string | null; crons: Cron[] };

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z") : "-");

export const formatLastRun = (r: Cron["lastRun"]) => (r ? `${iso(r.at)} ${r.status ?? `failed: ${r.error ?? "no response"}`} (${r.durationMs} ms)` : "never");

/** `ferry crons ls [project]`: the production deployment's vercel.json crons, next and last runs. */
export const cronsCommand = (io: Io, exit: (code: number) => void) =>
  defineCommand({
    meta: { name: "crons", description: "Cron jobs of the production deployment: crons ls [project]" },
    args: {
      action: { type: "positional", required: true, description: "ls" },
      project: { type: "positional", required: false, description: "project (default: from ferry.json, package.json or the folder)" },
      ...commonArgs,
    },
    run: async ({ args }) => {
      if (args.action !== "ls") throw new CliError(`unknown crons action ${JSON.stringify(args.action)} (use ls)`, "unknown_action", 2);
      const client = createClient(await resolveTarget(io, args));
      const choice = await chooseProject(io.cwd, args.project);
      const listing = await client.json<Listing>("GET", `/v1/projects/${encodeURIComponent(choice.name)}/crons`).catch((e: unknown) => {
        if (e instanceof ApiError && e.code === "project_not_found") throw projectNotFound(choice, io.cwd);
        throw e;
      });
      if (args.json) io.stdout(JSON.stringify(listing) + "\n");
      else if (!listing.deploymentId) io.stderr(`${listing.project} has no production deployment, so no cron jobs run.\n`);
      else if (!listing.crons.length) io.stderr(`The production deployment of ${listing.project} (${listing.deploymentId}) has no crons.\n`);
      else {
        io.stderr(`Cron jobs of ${listing.project} in production (${listing.deploymentId}), times in UTC\n`);
        const width = Math.max(4, ...listing.crons.map((c) => c.path.length));
        const sched = Math.max(8, ...listing.crons.map((c) => c.schedule.length));
        io.stdout(`${"path".padEnd(width)}  ${"schedule".padEnd(sched)}  ${"next run".padEnd(20)}  last run\n`);
        for (const c of listing.crons) io.stdout(`${c.path.padEnd(width)}  ${c.schedule.padEnd(sched)}  ${iso(c.nextRunAt).padEnd(20)}  ${formatLastRun(c.lastRun)}\n`);
      }
      exit(0);
    },
  });
