import { startScriptEntry, type PackageJson } from "./package-json.ts";

// Heroku's Procfile: `<type>: <command>` lines. Its `web` process is the app that answers HTTP
// on $PORT, which is what a server app is here; the other types (worker, release...) have no
// counterpart and are not run.

/** The `web:` command of a Procfile's text, or null when it has none. */
export function procfileWebCommand(text: string): string | null {
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*web\s*:\s*(.*?)\s*$/.exec(raw);
    if (m) return m[1] || null;
  }
  return null;
}

/** `npm start`, `npm run start`, `yarn start`, `pnpm start`: the package's start script. */
const PACKAGE_START = /^(npm( run(-script)?)?|yarn( run)?|pnpm( run)?) start$/;

/**
 * The file a `web:` command runs, read like a `start` script (`node [flags] <file>`, tsx, ts-node,
 * nodemon, leading `VAR=x`), also after `exec` and with `$PORT` allowed: the runtime sets PORT, so
 * `node app.js --port $PORT` and `PORT=$PORT node app.js` mean what they say. `npm start` and
 * the like run the package's start script. Arguments after the file are not passed (as for a
 * start script). A string naming what is wrong when the command is not one Ferry can run.
 */
export function procfileEntry(command: string, pkg: PackageJson | null): { file: string } | { problem: string } {
  const words = command.replace(/\$\{PORT\}|\$PORT\b/g, "PORT").trim().split(/\s+/);
  while (words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) words.shift();
  if (words[0] === "exec") words.shift();
  const cmd = words.join(" ");
  if (PACKAGE_START.test(cmd)) {
    const start = pkg?.scripts?.start;
    if (!start) return { problem: `runs the package's start script, but package.json has no "start" script` };
    const file = startScriptEntry(start);
    return file ? { file } : { problem: `runs the start script ${JSON.stringify(start)}, which is not "node <file>" (or tsx, ts-node, nodemon <file>)` };
  }
  const file = startScriptEntry(cmd);
  return file ? { file } : { problem: `is not "node <file>" (or tsx, ts-node, nodemon <file>, or npm start), so Ferry cannot tell which file is the server` };
}
