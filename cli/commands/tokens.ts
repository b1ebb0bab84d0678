import { mkdir, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { createClient } from "../client.ts";
import { resolveTarget } from "../config.ts";
import { CliError, type Io } from "../io.ts";
import { oneOf } from "../strict.ts";

type Exit = (code: number) => void;

export const tokensCommand = (io: Io, exit: Exit) =>
  defineCommand({
    meta: { name: "tokens", description: "API tokens: tokens create [name] [--scopes a,b] | tokens ls | tokens rm <id>" },
    args: {
      action: { type: "positional", required: true, description: "create | ls | rm" },
      arg: { type: "positional", required: false },
      scopes: { type: "string", description: "with create: comma-separated scopes (default *): deployments, aliases, env, stores, tokens, logs" },
      ...commonArgs,
    },
    run: async ({ args }) => {
      const action = oneOf(args.action, ["create", "ls", "rm"], "tokens");
      const client = createClient(await resolveTarget(io, args));
      if (action === "ls") {
        const r = await client.json<{ tokens: { id: string; name: string; scopes: string[]; createdAt: number }[] }>("GET", "/v1/tokens");
        if (args.json) io.stdout(JSON.stringify(r) + "\n");
        else for (const t of r.tokens) io.stdout(`${t.id}  ${t.name.padEnd(20)}  ${t.scopes.join(",")}\n`);
      } else if (action === "create") {
        const scopes = args.scopes ? args.scopes.split(",").map((s) => s.trim()).filter(Boolean) : undefined;
        const r = await client.json<{ id: string; token: string; scopes: string[] }>("POST", "/v1/tokens", { name: args.arg, scopes });
        if (args.json) io.stdout(JSON.stringify(r) + "\n");
        else {
          io.stderr(`Created ${r.id} (${r.scopes.join(",")}). It is shown only this once:\n`);
          io.stdout(`${r.token}\n`);
        }
      } else {
        if (!args.arg) throw new CliError("usage: ferry tokens rm <id>", "invalid_argument", 2);
        const r = await client.json<{ id: string }>("DELETE", `/v1/tokens/${encodeURIComponent(args.arg)}`);
        if (args.json) io.stdout(JSON.stringify(r) + "\n");
        else io.stderr(`Revoked ${r.id}\n`);
      }
      exit(0);
    },
  });

/** `ferry login --api URL --token T`: checks them and saves them to $FERRY_HOME/config.json (0600). */
export const loginCommand = (io: Io, exit: Exit) =>
  defineCommand({
    meta: { name: "login", description: "Save an API URL and token for later commands" },
    args: { ...commonArgs },
    run: async ({ args }) => {
      if (!args.api || !args.token) throw new CliError("usage: ferry login --api <url> --token <token>", "invalid_argument", 2);
      const client = createClient(await resolveTarget(io, args));
      const who = await client.json<{ accountId: string }>("GET", "/v1/whoami");
      const home = resolve(io.env.FERRY_HOME || join(homedir(), ".ferry"));
      await mkdir(home, { recursive: true, mode: 0o700 });
      const file = join(home, "config.json");
      await writeFile(file, JSON.stringify({ apiUrl: client.target.apiUrl, token: args.token }, null, 2) + "\n", { mode: 0o600 });
      if (args.json) io.stdout(JSON.stringify({ accountId: who.accountId, apiUrl: client.target.apiUrl, config: file }) + "\n");
      else io.stderr(`Logged in to ${client.target.apiUrl} as ${who.accountId}; saved to ${file}\n`);
      exit(0);
    },
  });
