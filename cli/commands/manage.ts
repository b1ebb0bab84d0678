import { defineCommand } from "citty";
import { commonArgs, positiveInt } from "../args.ts";
import { ApiError, createClient } from "../client.ts";
import { resolveTarget } from "../config.ts";
import { streamEvents, timeOf } from "../events.ts";
import { CliError, type Io } from "../io.ts";
import type { PublicDeployment } from "./deploy.ts";
import { chooseProject, listProjects, projectNotFound } from "../project.ts";
import { oneOf } from "../strict.ts";
import type { GitMeta } from "../../core/types.ts";

type Exit = (code: number) => void;
const clientFor = async (io: Io, args: { api?: string; token?: string }) => createClient(await resolveTarget(io, args));
const ago = (ts: number) => {
  const s = Math.max(0, Math.round((Date.now() - ts) / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.round(s / 60)}m` : s < 86400 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86400)}d`;
};

/** `main 1a2b3c4`, `+` when deployed with uncommitted changes; empty without git. */
const commitOf = (g: GitMeta | undefined) => (g ? `${g.branch ? `${g.branch} ` : ""}${g.sha.slice(0, 7)}${g.dirty ? "+" : ""}` : "");
const gitRows = (g: GitMeta) => [
  ["commit", g.sha + (g.dirty ? " (with uncommitted changes)" : "")],
  ...(g.branch ? [["branch", g.branch]] : []),
  ...(g.message ? [["message", g.message]] : []),
  ...(g.author ? [["author", g.author]] : []),
  ...(g.repo ? [["repo", g.repo]] : []),
];

function table(rows: string[][]) {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}

export const lsCommand = (io: Io, exit: Exit) =>
  defineCommand({
    meta: { name: "ls", description: "List deployments of this folder's project (or NAME), newest first; * marks production" },
    args: {
      name: { type: "positional", required: false, description: "project (default: the one this folder deploys to)" },
      project: { type: "string", description: "same as NAME" },
      all: { type: "boolean", description: "every project" },
      limit: { type: "string", description: "how many (default 20, at most 100)" },
      ...commonArgs,
    },
    run: async ({ args }) => {
      const limit = positiveInt(args.limit, "--limit");
      const client = await clientFor(io, args);
      const projects = await listProjects(client);
      let project: string | undefined;
      if (!args.all) {
        const choice = await chooseProject(io.cwd, args.name, args.project);
        if (projects.some((p) => p.name === choice.name)) project = choice.name;
        else if (!choice.inferred) throw new CliError(`project ${JSON.stringify(choice.name)} does not exist`, "project_not_found");
        // a folder that was never deployed: show everything rather than nothing
        else if (!args.json) io.stderr(`No project ${JSON.stringify(choice.name)} (this folder's) yet; listing every project.\n`);
      }
      const q = new URLSearchParams();
      if (project) q.set("project", project);
      if (limit !== undefined) q.set("limit", String(limit));
      const { deployments } = await client.json<{ deployments: (PublicDeployment & { createdAt: number })[] }>("GET", `/v1/deployments?${q}`);
      const production = new Set(projects.map((p) => p.productionDeploymentId).filter(Boolean));
      const marked = deployments.map((d) => ({ ...d, production: production.has(d.id) }));
      if (args.json) io.stdout(JSON.stringify({ ...(project ? { project } : {}), deployments: marked }) + "\n");
      else if (!marked.length) io.stderr(`No deployments${project ? ` of ${project}` : ""} yet. Deploy one with \`ferry <folder>\`.\n`);
      else if (marked.some((d) => d.git)) io.stdout(table([["AGE", "PROJECT", "STATE", "PROD", "URL", "COMMIT", "ID"], ...marked.map((d) => [ago(d.createdAt), d.project, d.state, d.production ? "*" : "", d.url, commitOf(d.git), d.id])]));
      else io.stdout(table([["AGE", "PROJECT", "STATE", "PROD", "URL", "ID"], ...marked.map((d) => [ago(d.createdAt), d.project, d.state, d.production ? "*" : "", d.url, d.id])]));
      exit(0);
    },
  });

export const inspectCommand = (io: Io, exit: Exit) =>
  defineCommand({
    meta: { name: "inspect", description: "Show a deployment (by id or URL); --logs replays its build log" },
    args: { deployment: { type: "positional", required: true }, logs: { type: "boolean", description: "print the build log" }, follow: { type: "boolean", description: "with --logs: keep following until the build ends" }, ...commonArgs },
    run: async ({ args }) => {
      const client = await clientFor(io, args);
      const d = await client.json<PublicDeployment & Record<string, unknown>>("GET", `/v1/deployments/${encodeURIComponent(args.deployment)}`);
      if (args.logs) {
        const events: unknown[] = [];
        await streamEvents(client, d.id, !!args.follow, (e) => {
          if (args.json) events.push(e);
          else if (e.type === "log") io.stdout(`${timeOf(e.ts)}  ${e.text}\n`);
          else io.stdout(`${timeOf(e.ts)}  [${e.state}]${e.message ? ` ${e.message}` : ""}\n`);
        });
        if (args.json) io.stdout(JSON.stringify({ id: d.id, events }) + "\n");
        return exit(0);
      }
      if (args.json) io.stdout(JSON.stringify(d) + "\n");
      else {
        const rows = [["id", d.id], ["project", d.project], ["state", d.state], ["target", d.target], ["url", d.url], ...d.aliases.map((a) => ["alias", a])];
        if (d.errorMessage) rows.push(["error", d.errorMessage]);
        if (d.git) rows.push(...gitRows(d.git));
        io.stdout(table(rows));
      }
      exit(0);
    },
  });

export const rmCommand = (io: Io, exit: Exit) =>
  defineCommand({
    meta: { name: "rm", description: "Remove a deployment (cancels it if still building)" },
    args: { deployment: { type: "positional", required: true }, ...commonArgs },
    run: async ({ args }) => {
      const client = await clientFor(io, args);
      const r = await client.json<{ id: string; aliases: string[] }>("DELETE", `/v1/deployments/${encodeURIComponent(args.deployment)}`);
      if (args.json) io.stdout(JSON.stringify(r) + "\n");
      else io.stderr(`Removed ${r.id}${r.aliases.length ? ` (and aliases ${r.aliases.join(", ")})` : ""}\n`);
      exit(0);
    },
  });

export const aliasCommand = (io: Io, exit: Exit) =>
  defineCommand({
    meta: { name: "alias", description: "Manage aliases: alias set <deployment> <alias> | alias ls | alias rm <alias>" },
    args: { action: { type: "positional", required: true, description: "set | ls | rm" }, first: { type: "positional", required: false }, second: { type: "positional", required: false }, ...commonArgs },
    run: async ({ args }) => {
      const action = oneOf(args.action, ["set", "ls", "rm"], "alias");
      const client = await clientFor(io, args);
      const print = (obj: unknown, text: string) => (args.json ? io.stdout(JSON.stringify(obj) + "\n") : io.stdout(text));
      if (action === "ls") {
        const r = await client.json<{ aliases: { alias: string; url: string; deploymentId: string }[] }>("GET", "/v1/aliases");
        print(r, r.aliases.length ? table([["ALIAS", "URL", "DEPLOYMENT"], ...r.aliases.map((a) => [a.alias, a.url, a.deploymentId])]) : "No aliases.\n");
      } else if (action === "set") {
        if (!args.first || !args.second) throw new CliError("usage: ferry alias set <deployment> <alias>", "invalid_argument", 2);
        const r = await client.json<{ url: string; deploymentId: string }>("POST", "/v1/aliases", { deployment: args.first, alias: args.second });
        print(r, `${r.url} now points to ${r.deploymentId}\n`);
      } else {
        if (!args.first) throw new CliError("usage: ferry alias rm <alias>", "invalid_argument", 2);
        const r = await client.json<{ alias: string }>("DELETE", `/v1/aliases/${encodeURIComponent(args.first)}`);
        print(r, `Removed alias ${r.alias}\n`);
      }
      exit(0);
    },
  });

export const promoteCommand = (io: Io, exit: Exit) =>
  defineCommand({
    meta: { name: "promote", description: "Make a READY deployment its project's production deployment" },
    args: { deployment: { type: "positional", required: true }, ...commonArgs },
    run: async ({ args }) => {
      const client = await clientFor(io, args);
      const r = await client.json<{ project: string; deploymentId: string; aliases: string[] }>("POST", `/v1/deployments/${encodeURIComponent(args.deployment)}/promote`);
      if (args.json) io.stdout(JSON.stringify(r) + "\n");
      else io.stderr(`Promoted ${r.deploymentId} to production of ${r.project}: ${r.aliases.join(", ")}\n`);
      exit(0);
    },
  });

export const rollbackCommand = (io: Io, exit: Exit) =>
  defineCommand({
    meta: { name: "rollback", description: "Point production of this folder's project (or NAME) back at its previous production deployment" },
    args: {
      name: { type: "positional", required: false, description: "project (default: the one this folder deploys to)" },
      project: { type: "string", description: "same as NAME" },
      ...commonArgs,
    },
    run: async ({ args }) => {
      const client = await clientFor(io, args);
      const project = await chooseProject(io.cwd, args.name, args.project);
      const r = await client.json<{ project: string; deploymentId: string; aliases: string[] }>("POST", `/v1/projects/${encodeURIComponent(project.name)}/rollback`).catch((e) => {
        throw e instanceof ApiError && e.code === "project_not_found" ? projectNotFound(project, io.cwd) : e;
      });
      if (args.json) io.stdout(JSON.stringify(r) + "\n");
      else io.stderr(`Rolled ${r.project} back to ${r.deploymentId}: ${r.aliases.join(", ")}\n`);
      exit(0);
    },
  });

export const whoamiCommand = (io: Io, exit: Exit) =>
  defineCommand({
    meta: { name: "whoami", description: "Show the account and API in use" },
    args: { ...commonArgs },
    run: async ({ args }) => {
      const client = await clientFor(io, args);
      const r = await client.json<Record<string, unknown>>("GET", "/v1/whoami");
      if (args.json) io.stdout(JSON.stringify({ ...r, apiUrl: client.target.apiUrl }) + "\n");
      else {
        io.stdout(`${r.account ?? r.accountId} (${r.accountId}) at ${client.target.apiUrl}\n`);
        const sb = r.sandbox as { mode: string; identity: string; warnings: string[] } | undefined;
        if (sb) io.stdout(`Sandbox: ${sb.mode === "none" ? "NONE (tenant code runs unsandboxed)" : `${sb.mode}, as ${sb.identity}`}\n`);
        for (const w of sb?.warnings ?? []) io.stderr(`Warning: ${w}\n`);
      }
      exit(0);
    },
  });
