// `ferry` as bin/ferry.mjs runs it when dist/ is missing or stale: the TypeScript sources through
// tsx. The CLI benchmark prints it beside the compiled CLI.
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

if (!process.stdout.isTTY && process.env.FORCE_COLOR === undefined) process.env.NO_COLOR ??= "1";
register({ tsconfig: fileURLToPath(new URL("../../tsconfig.json", import.meta.url)) });
const { runCli } = await import("../../cli/main.ts");
process.exitCode = await runCli(process.argv.slice(2));
