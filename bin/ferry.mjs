#!/usr/bin/env node
// The `ferry` command. The CLI is TypeScript run through tsx, so no build step is needed.
// Everything resolves from this file's own folder, whatever the current folder is: the bare
// import of tsx below is found next to this file (Node follows an `npm link` symlink to the
// clone), and the CLI compiles with Ferry's tsconfig, never with one in the folder being deployed.
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

// help text is coloured only on a terminal
if (!process.stdout.isTTY && process.env.FORCE_COLOR === undefined) process.env.NO_COLOR ??= "1";

register({ tsconfig: fileURLToPath(new URL("../tsconfig.json", import.meta.url)) });
const { runCli } = await import("../cli/main.ts");
process.exitCode = await runCli(process.argv.slice(2));
