import { existsSync } from "node:fs";
import { basename, resolve } from "node:path";
import { readJson } from "./config.ts";
import type { Client } from "./client.ts";
import { CliError } from "./io.ts";

export const sanitizeName = (s: string) =>
  s.toLowerCase().replace(/^@[^/]+\//, "").replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48).replace(/-+$/, "");

/**
 * The project a folder deploys as: the config file's name (ferry.json, else vercel.json's
 * deprecated `name`; never vercel.json's beside a ferry.json, which is then not read) >
 * package.json name > folder name.
 */
export async function projectOf(dir: string): Promise<{ name: string; fromConfig: boolean }> {
  const ferryJson = resolve(dir, "ferry.json");
  const config = await readJson<{ name?: unknown }>(existsSync(ferryJson) ? ferryJson : resolve(dir, "vercel.json"));
  if (typeof config?.name === "string" && config.name) return { name: config.name, fromConfig: true };
  const pkg = await readJson<{ name?: string }>(resolve(dir, "package.json"));
  return { name: sanitizeName(pkg?.name ?? "") || sanitizeName(basename(resolve(dir))) || "app", fromConfig: false };
}

export interface ProjectChoice {
  name: string;
  /** true when it came from the folder rather than from the command line */
  inferred: boolean;
}

/**
 * The project a command acts on: the one named on the command line (a positional or --project),
 * else the one `ferry` in this folder deploys to (projectOf: ferry.json name, package.json name,
 * folder name), so `ferry`, `ferry ls`, `ferry logs`, `ferry env` and `ferry rollback` run in an
 * app folder all mean the same project.
 */
export async function chooseProject(cwd: string, ...named: (string | undefined)[]): Promise<ProjectChoice> {
  const given = named.find((n) => n !== undefined && n !== "");
  if (given !== undefined) return { name: given, inferred: false };
  return { name: (await projectOf(cwd)).name, inferred: true };
}

export interface ProjectInfo {
  name: string;
  productionDeploymentId?: string;
}

export const listProjects = async (client: Client) => (await client.json<{ projects: ProjectInfo[] }>("GET", "/v1/projects")).projects;

/** "project x does not exist", saying where the name came from when it was not given. */
export function projectNotFound(choice: ProjectChoice, cwd: string) {
  const why = choice.inferred ? ` (the project of ${cwd}; name another with --project)` : "";
  return new CliError(`project ${JSON.stringify(choice.name)} does not exist${why}`, "project_not_found");
}

/** The project as the API knows it; a clear error when there is none of that name. */
export async function requireProject(client: Client, choice: ProjectChoice, cwd: string): Promise<ProjectInfo> {
  const found = (await listProjects(client)).find((p) => p.name === choice.name);
  if (found) return found;
  throw projectNotFound(choice, cwd);
}
