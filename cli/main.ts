import { runCommand, renderUsage, defineCommand, type ArgsDef, type CommandDef, type Resolvable } from "citty";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { processIo, CliError, type Io } from "./io.ts";
import { checkArgs, closest } from "./strict.ts";
import { deployCommand } from "./commands/deploy.ts";
import { envCommand, storesCommand } from "./commands/env.ts";
import { logsCommand } from "./commands/logs.ts";
import { webhooksCommand } from "./commands/webhooks.ts";
import { gitCommand } from "./commands/git.ts";
import { cronsCommand } from "./commands/crons.ts";
import { loginCommand, tokensCommand } from "./commands/tokens.ts";
import { aliasCommand, inspectCommand, lsCommand, promoteCommand, rmCommand, rollbackCommand, whoamiCommand } from "./commands/manage.ts";

const VERSION = "0.1.0";

/**
 * The `ferry` entry. Takes raw args and an Io so tests drive it in-process; returns the exit code.
 * `ferry [dir]` deploys; a first word naming a command runs that command instead.
 */
export async function runCli(rawArgs: string[], io: Io = processIo()): Promise<number> {
  let code = 0;
  const exit = (c: number) => { code = c; };
  const commands: Record<string, CommandDef<any>> = {
    deploy: deployCommand(io, exit),
    ls: lsCommand(io, exit),
    list: lsCommand(io, exit),
    inspect: inspectCommand(io, exit),
    rm: rmCommand(io, exit),
    remove: rmCommand(io, exit),
    alias: aliasCommand(io, exit),
    promote: promoteCommand(io, exit),
    rollback: rollbackCommand(io, exit),
    whoami: whoamiCommand(io, exit),
    env: envCommand(io, exit),
    logs: logsCommand(io, exit),
    tokens: tokensCommand(io, exit),
    login: loginCommand(io, exit),
    stores: storesCommand(io, exit),
    git: gitCommand(io, exit),
    webhooks: webhooksCommand(io, exit),
    crons: cronsCommand(io, exit),
  };
  const root = defineCommand({ meta: { name: "ferry", version: VERSION, description: "Deploy apps to your own Ferry platform" }, subCommands: commands });

  const json = rawArgs.includes("--json");
  try {
    if (rawArgs[0] === "--version" || rawArgs[0] === "-v") {
      io.stdout(VERSION + "\n");
      return 0;
    }
    if (rawArgs[0] === "--help" || rawArgs[0] === "-h" || rawArgs[0] === "help") {
      io.stdout((await renderUsage(root)) + "\n\n  ferry [dir]  deploys the folder (same as `ferry deploy [dir]`)\n");
      return 0;
    }
    const first = rawArgs[0];
    const sub = first && !first.startsWith("-") && Object.hasOwn(commands, first) ? commands[first] : undefined;
    const cmd = sub ?? commands.deploy!;
    const rest = sub ? rawArgs.slice(1) : rawArgs;
    const helpAt = rest.findIndex((a) => a === "--" || a === "--help" || a === "-h");
    if (helpAt >= 0 && rest[helpAt] !== "--") {
      io.stdout((await renderUsage(cmd, root)) + "\n");
      return 0;
    }
    const positionals = checkArgs((await resolveValue(cmd.args)) ?? {}, rest, sub ? `ferry ${first}` : "ferry");
    if (!sub && positionals[0] !== undefined) await refuseMistypedCommand(io, positionals[0], Object.keys(commands));
    await runCommand(cmd, { rawArgs: rest });
    return code;
  } catch (e) {
    const err = e as Error & { code?: string; exitCode?: number };
    const known = e instanceof CliError || err.code === "EARG" || err.name === "CLIError";
    if (json) io.stdout(JSON.stringify({ error: { code: err.code ?? "error", message: err.message } }) + "\n");
    io.stderr(`Error: ${err.message}\n`);
    if (!known && io.env.FERRY_DEBUG) io.stderr(`${err.stack}\n`);
    return e instanceof CliError ? e.exitCode : known ? 2 : 1;
  }
}

const resolveValue = async (v: Resolvable<ArgsDef> | undefined) => (typeof v === "function" ? v() : v);

/**
 * `ferry <word>` deploys the folder <word>; when there is no such folder and <word> is one typo away
 * from a command (`ferry lss`), it is a mistyped command, not a deploy of a missing folder.
 */
async function refuseMistypedCommand(io: Io, word: string, commands: string[]) {
  if (await stat(resolve(io.cwd, word)).catch(() => null)) return;
  const meant = closest(word, commands);
  if (meant) throw new CliError(`${JSON.stringify(word)} is neither a folder nor a command; did you mean \`ferry ${meant}\`?`, "unknown_command", 2);
}
