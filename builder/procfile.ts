import { ASSIGNMENT, launchedFile, startScriptEntry, type PackageJson, type ServerCommand } from "./package-json.ts";
import { shellWords } from "./shell-words.ts";

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
 * The file a `web:` command runs and the arguments after it, read like a `start` script
 * (`node [flags] <file> [args]`, tsx, ts-node, nodemon, leading `VAR=x`, split as sh splits it),
 * also after `exec`. `$PORT` is allowed and left for the runtime to fill in (it sets PORT), so
 * `node app.js --port $PORT` and `PORT=$PORT node app.js` mean what they say. `npm start` and the
 * like run the package's start script. A string naming what is wrong when the command is not one
 * Ferry can run.
 */
export function procfileEntry(command: string, pkg: PackageJson | null): ServerCommand | { problem: string } {
  const notNode = { problem: `is not "node <file>" (or tsx, ts-node, nodemon <file>, or npm start), so Ferry cannot tell which file is the server` };
  const words = shellWords(command);
  if (!words) return notNode;
  let i = 0;
  while (i < words.length && ASSIGNMENT.test(words[i]!)) i++;
  if (words[i] === "exec") i++;
  const rest = words.slice(i);
  if (PACKAGE_START.test(rest.join(" "))) {
    const start = pkg?.scripts?.start;
    if (!start) return { problem: `runs the package's start script, but package.json has no "start" script` };
    const entry = startScriptEntry(start);
    return entry ?? { problem: `runs the start script ${JSON.stringify(start)}, which is not "node <file>" (or tsx, ts-node, nodemon <file>)` };
  }
  return launchedFile(rest) ?? notNode;
}
