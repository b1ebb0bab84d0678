import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { createClient } from "../client.ts";
import { resolveTarget } from "../config.ts";
import { CliError, type Io } from "../io.ts";
import { chooseProject } from "../project.ts";
import { oneOf } from "../strict.ts";
import { dotenvLine } from "../dotenv.ts";

type Exit = (code: number) => void;
type EnvVar = { key: string; environment: string; sensitive: boolean; value?: string; updatedAt: number };

const ENVIRONMENTS: string[] = ["production", "preview"];
const envArgs = {
  environment: { type: "enum", options: ENVIRONMENTS, description: "production or preview (default: both for add/rm, all for ls)" },
  project: { type: "string", description: "project name (default: from ferry.json, package.json or the folder)" },
  ...commonArgs,
} as const;

export const envCommand = (io: Io, exit: Exit) =>
  defineCommand({
    meta: { name: "env", description: "Project env vars: env add <KEY> [value] | env ls | env rm <KEY> | env pull [file]" },
    args: {
      action: { type: "positional", required: true, description: "add | ls | rm | pull" },
      key: { type: "positional", required: false },
      value: { type: "positional", required: false },
      sensitive: { type: "boolean", description: "with add: the value can never be read back (asked for without echo on a terminal)" },
      "allow-empty": { type: "boolean", description: "with add: accept an empty value" },
      yes: { type: "boolean", alias: "y", description: "with pull: overwrite an existing file" },
      ...envArgs,
    },
    run: async ({ args }) => {
      const action = oneOf(args.action, ["add", "ls", "rm", "pull"], "env");
      const client = createClient(await resolveTarget(io, args));
      const { name: project } = await chooseProject(io.cwd, args.project);
      const base = `/v1/projects/${encodeURIComponent(project)}/env`;
      const print = (obj: unknown, text: string) => (args.json ? io.stdout(JSON.stringify(obj) + "\n") : io.stderr(text));

      if (action === "add") {
        if (!args.key) throw new CliError("usage: ferry env add <KEY> [value] [--environment production|preview] [--sensitive] [--allow-empty]", "invalid_argument", 2);
        const value = await envValue(io, args.key, args.value, !!args.sensitive);
        if (value === "" && !args["allow-empty"]) throw new CliError(`the value of ${args.key} is empty; pass --allow-empty if that is what you mean`, "empty_value", 2);
        const r = await client.json<{ key: string; environments: string[] }>("POST", base, { key: args.key, value, environment: args.environment, sensitive: !!args.sensitive });
        print(r, `Added ${r.key} to ${project} (${r.environments.join(", ")})${args.sensitive ? ", sensitive" : ""}\n`);
      } else if (action === "ls") {
        const q = args.environment ? `?environment=${encodeURIComponent(args.environment)}` : "";
        const { env } = await client.json<{ env: EnvVar[] }>("GET", base + q);
        if (args.json) io.stdout(JSON.stringify({ project, env }) + "\n");
        else if (!env.length) io.stderr(`No env vars in ${project}.\n`);
        else for (const v of env) io.stdout(`${v.key.padEnd(24)}  ${v.environment.padEnd(10)}  ${v.sensitive ? "sensitive" : "encrypted"}\n`);
      } else if (action === "rm") {
        if (!args.key) throw new CliError("usage: ferry env rm <KEY> [--environment production|preview]", "invalid_argument", 2);
        const q = args.environment ? `?environment=${encodeURIComponent(args.environment)}` : "";
        const r = await client.json<{ key: string; removed: number }>("DELETE", `${base}/${encodeURIComponent(args.key)}${q}`);
        print(r, `Removed ${r.key} from ${project}\n`);
      } else {
        const environment = args.environment ?? "preview";
        const { env } = await client.json<{ env: EnvVar[] }>("GET", `${base}?environment=${encodeURIComponent(environment)}&decrypt=1`);
        const file = resolve(io.cwd, args.key ?? ".env");
        const lines = env.filter((v) => v.value !== undefined).map((v) => dotenvLine(v.key, v.value!));
        const skipped = env.filter((v) => v.value === undefined).map((v) => v.key);
        await writeFile(file, `# ${project} (${environment}), written by ferry env pull\n${lines.join("\n")}\n`, { mode: 0o600, flag: args.yes ? "w" : "wx" }).catch((e) => {
          if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new CliError(`${file} exists; pass --yes to overwrite it`, "file_exists");
          throw e;
        });
        print({ file, count: lines.length, skipped }, `Wrote ${lines.length} variable(s) to ${file}${skipped.length ? ` (sensitive, not readable: ${skipped.join(", ")})` : ""}\n`);
      }
      exit(0);
    },
  });

/**
 * The value for `env add`: the argument; else, on a terminal, asked for (without echo when
 * sensitive); else stdin byte for byte, no newline added or removed.
 */
async function envValue(io: Io, key: string, given: string | undefined, sensitive: boolean) {
  if (given !== undefined) return given;
  if (io.stdinTty && io.prompt) return io.prompt(`Value of ${key}${sensitive ? " (not shown)" : ""}: `, { hidden: sensitive });
  return (await io.readStdin()).toString("utf8");
}

type Store = { project: string; name: string; type: string; environment: string; resource: string; items: number | null; bytes: number | null };

export const storesCommand = (io: Io, exit: Exit) =>
  defineCommand({
    meta: { name: "stores", description: "Data stores: stores ls | stores rm <name> --environment <env> [--yes]" },
    args: {
      action: { type: "positional", required: true, description: "ls | rm" },
      name: { type: "positional", required: false },
      yes: { type: "boolean", alias: "y", description: "with rm: do not ask for confirmation" },
      all: { type: "boolean", description: "with ls: every project" },
      ...envArgs,
    },
    run: async ({ args }) => {
      const action = oneOf(args.action, ["ls", "rm"], "stores");
      const client = createClient(await resolveTarget(io, args));
      if (action === "ls") {
        const project = args.all ? undefined : (await chooseProject(io.cwd, args.project)).name;
        const { stores } = await client.json<{ stores: Store[] }>("GET", `/v1/stores${project ? `?project=${encodeURIComponent(project)}` : ""}`);
        if (args.json) io.stdout(JSON.stringify({ stores }) + "\n");
        else if (!stores.length) io.stderr(`No stores${project ? ` in ${project}` : ""}.\n`);
        else for (const s of stores) io.stdout(`${s.project.padEnd(16)}  ${s.name.padEnd(16)}  ${s.type.padEnd(4)}  ${s.environment.padEnd(10)}  ${String(s.items ?? "?").padStart(6)} items  ${String(s.bytes ?? "?").padStart(10)} bytes  ${s.resource}\n`);
        return exit(0);
      }
      if (!args.name || !args.environment) throw new CliError("usage: ferry stores rm <name> --environment production|preview [--yes]", "invalid_argument", 2);
      const { name: project } = await chooseProject(io.cwd, args.project);
      if (!args.yes) {
        io.stderr(`This deletes the ${args.environment} store "${args.name}" of ${project} and all its data. Type the store name to confirm: `);
        const answer = (await io.readLine()).trim();
        if (answer !== args.name) throw new CliError("not confirmed; nothing was deleted", "not_confirmed");
      }
      const r = await client.json<{ resource: string }>("DELETE", `/v1/stores/${encodeURIComponent(project)}/${encodeURIComponent(args.name)}?environment=${encodeURIComponent(args.environment)}`);
      if (args.json) io.stdout(JSON.stringify(r) + "\n");
      else io.stderr(`Deleted ${args.environment} store ${args.name} (${r.resource})\n`);
      exit(0);
    },
  });
