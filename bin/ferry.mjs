#!/usr/bin/env node
// The `ferry` command. The CLI is TypeScript run through tsx, so no build step is needed.
import { register } from "tsx/esm/api";

register();
const { runCli } = await import("../cli/main.ts");
process.exitCode = await runCli(process.argv.slice(2));
