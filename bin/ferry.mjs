#!/usr/bin/env node
// The `ferry` command. It runs the compiled CLI (dist/cli.mjs, built by `npm install` and
// `npm start`, see scripts/build.mjs) when that is current with the sources, and otherwise the
// TypeScript sources through tsx, so an edited .ts file takes effect on the next run without a
// build step. Everything resolves from this file's own folder, whatever the current folder is:
// the bare import of tsx below is found next to this file (Node follows an `npm link` symlink to
// the clone), and the CLI compiles with Ferry's tsconfig, never with one in the folder being deployed.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { freshBundle, ROOT } from "../scripts/dist-manifest.mjs";

// help text is coloured only on a terminal
if (!process.stdout.isTTY && process.env.FORCE_COLOR === undefined) process.env.NO_COLOR ??= "1";

let runCli;
const compiled = freshBundle("cli");
if (compiled) {
  // stack traces (FERRY_DEBUG) name the TypeScript sources
  if (process.env.FERRY_DEBUG) process.setSourceMapsEnabled(true);
  ({ runCli } = await import(pathToFileURL(compiled).href));
} else {
  const { register } = await import("tsx/esm/api");
  register({ tsconfig: join(ROOT, "tsconfig.json") });
  ({ runCli } = await import("../cli/main.ts"));
}
process.exitCode = await runCli(process.argv.slice(2));
