import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { projectOf } from "../project.ts";
import { defineCommand } from "citty";
import { collectFlag, commonArgs, parseKeyValues } from "../args.ts";
import { ApiError, createClient } from "../client.ts";
import { resolveTarget } from "../config.ts";
import { hashFiles, listAppFiles } from "../files.ts";
import { uploadMissing } from "../upload.ts";
import { CliError, type Io } from "../io.ts";
import { formatBytes } from "../progress.ts";
import { streamEvents, timeOf } from "../events.ts";
import { workTreeGit } from "../git-info.ts";
import { cloneGitUrl, isGitUrl } from "../git-source.ts";
import type { GitMeta } from "../../core/types.ts";

export interface PublicDeployment {
  id: string;
  url: string;
  state: string;
  project: string;
  aliases: string[];
  target: string;
  errorMessage?: string;
  errorCode?: string;
  reusedFrom?: string;
  git?: GitMeta;
}

/** Project name: --name > ferry.json name (validated by the server) > package.json name > folder name. */
async function projectName(dir: string, flag: string | undefined) {
  if (flag) return flag;
  const p = await projectOf(dir);
  return p.fromConfig ? undefined : p.name;
}

export async function deploy(io: Io, rawArgs: string[], args: { dir?: string; prod?: boolean; name?: string; force?: boolean; json?: boolean; api?: string; token?: string }) {
  // `ferry deploy <git URL>[#ref]`: a shallow clone, deployed like a folder (its git metadata included)
  if (args.dir && isGitUrl(args.dir) && !(await stat(resolve(io.cwd, args.dir)).catch(() => null))) {
    const src = await cloneGitUrl(args.dir, (s) => io.stderr(s + "\n"));
    try {
      return await deploy(io, rawArgs, { ...args, dir: src.dir, name: args.name ?? ((await projectOf(src.dir)).fromConfig ? undefined : src.name) });
    } finally {
      await src.cleanup();
    }
  }
  const dir = resolve(io.cwd, args.dir ?? ".");
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new CliError(`${args.dir ?? dir} is not a folder`, "invalid_argument", 2);
  const env = parseKeyValues(collectFlag(rawArgs, "env", "e"), "env");
  const buildEnv = parseKeyValues(collectFlag(rawArgs, "build-env", "b"), "build-env");
  const client = createClient(await resolveTarget(io, args));
  const say = (s: string) => io.stderr(s + "\n");

  const files = await listAppFiles(dir, (w) => say(`Warning: ${w}`));
  if (!files.length) throw new CliError(`${dir} has no files to deploy (after .gitignore/.ferryignore)`, "no_files");
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  await hashFiles(files, () => {});
  say(`Hashed ${files.length} files (${formatBytes(totalBytes)})`);

  // a folder in a git work tree: the deployment records the commit (and uncommitted changes)
  const git = await workTreeGit(dir);
  const body = {
    name: await projectName(dir, args.name),
    files: files.map(({ file, sha, size, mode }) => ({ file, sha, size, mode })),
    target: args.prod ? "production" : "preview",
    env,
    buildEnv,
    force: !!args.force,
    ...(git ? { git } : {}),
  };
  let d: PublicDeployment;
  let uploaded = 0;
  try {
    d = await client.json<PublicDeployment>("POST", "/v1/deployments", body);
  } catch (e) {
    if (!(e instanceof ApiError) || e.code !== "missing_files") throw e;
    uploaded = await uploadMissing(io, client, files, e.body.error.missing as string[]);
    d = await client.json<PublicDeployment>("POST", "/v1/deployments", body);
  }
  if (!uploaded) say("Uploaded 0 B (every file already on the server)");
  say(`Inspect: ${d.id}`);
  say(`${args.prod ? "Production" : "Preview"}: ${d.url}`);

  let last = d.state;
  if (last !== "READY" && last !== "ERROR" && last !== "CANCELED") {
    say("Building...");
    await streamEvents(client, d.id, true, (e) => {
      if (e.type === "log") say(`${timeOf(e.ts)}  ${e.text}`);
      else last = e.state;
    });
  }
  d = await client.json<PublicDeployment>("GET", `/v1/deployments/${d.id}`);
  if (args.json) io.stdout(JSON.stringify({ id: d.id, url: d.url, state: d.state, project: d.project, aliases: d.aliases, target: d.target, ...(d.errorMessage ? { errorMessage: d.errorMessage } : {}), ...(d.git ? { git: d.git } : {}) }) + "\n");
  if (d.state === "READY") {
    say(`${d.reusedFrom ? "Ready (build skipped, no changes)" : "Ready"}: ${d.url}`);
    for (const a of d.aliases) say(`Aliased: ${a}`);
    return 0;
  }
  say(`Error: deployment ${d.id} is ${d.state}${d.errorMessage ? `:\n${d.errorMessage}` : ""}`);
  return 1;
}

export const deployArgs = {
  dir: { type: "positional", required: false, description: "app folder (default: current folder), or a git URL[#ref] to deploy from" },
  prod: { type: "boolean", description: "deploy to production (assigns <project>.<domain>)" },
  name: { type: "string", description: "project name (default: ferry.json name, package.json name, or folder name)" },
  env: { type: "string", alias: "e", description: "runtime env var KEY=VALUE (repeatable)" },
  "build-env": { type: "string", alias: "b", description: "build-time env var KEY=VALUE (repeatable)" },
  force: { type: "boolean", alias: "f", description: "rebuild even when nothing changed" },
  ...commonArgs,
} as const;

export const deployCommand = (io: Io, onExit: (code: number) => void) =>
  defineCommand({
    meta: { name: "deploy", description: "Deploy an app folder (the default command)" },
    args: deployArgs,
    run: async ({ args, rawArgs }) => onExit(await deploy(io, rawArgs, args)),
  });
