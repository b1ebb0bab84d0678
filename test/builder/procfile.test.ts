import { describe, expect, it } from "vitest";
import { procfileEntry, procfileWebCommand } from "../../builder/procfile.ts";
import { showWords } from "../../builder/shell-words.ts";

const NOT_NODE = `is not "node <file>" (or tsx, ts-node, nodemon <file>, or npm start), so Ferry cannot tell which file is the server`;

describe("Procfile", () => {
  it("finds the web process among the others, not in a comment", () => {
    expect(procfileWebCommand("release: node migrate.js\nweb:   node app.js  \r\nworker: node jobs.js\n")).toBe("node app.js");
    expect(procfileWebCommand("# web: node old.js\nworker: node jobs.js")).toBeNull();
    expect(procfileWebCommand("webby: node x.js")).toBeNull();
    expect(procfileWebCommand("web:")).toBeNull();
  });

  it("reads the web command's file like a start script's", () => {
    expect(procfileEntry("node app.js", null)).toEqual({ file: "app.js", args: [] });
    expect(procfileEntry("NODE_ENV=production PORT=${PORT} exec tsx src/main.ts", null)).toEqual({ file: "src/main.ts", args: [] });
    expect(procfileEntry("npm run start", { scripts: { start: "node dist/index.js" } })).toEqual({ file: "dist/index.js", args: [] });
    expect(procfileEntry("yarn start", { scripts: { start: "nodemon srv.js" } })).toEqual({ file: "srv.js", args: [] });
  });

  it("keeps the arguments after the file, not node's flags before it", () => {
    expect(procfileEntry("node server.js --workers 2 --config prod.json", null)).toEqual({ file: "server.js", args: ["--workers", "2", "--config", "prod.json"] });
    expect(procfileEntry("node --max-old-space-size=512 -r dotenv/config ./server.js -r x", null)).toEqual({ file: "server.js", args: ["-r", "x"] });
    expect(procfileEntry("npm start", { scripts: { start: "node srv.js --mode prod" } })).toEqual({ file: "srv.js", args: ["--mode", "prod"] });
    // a comment is not an argument, as in sh
    expect(procfileEntry("node app.js --a # the rest", null)).toEqual({ file: "app.js", args: ["--a"] });
  });

  it("leaves $PORT and ${PORT} for the runtime to fill in, in any part of a word", () => {
    expect(procfileEntry("node server.js --workers 2 --port $PORT", null)).toEqual({ file: "server.js", args: ["--workers", "2", "--port", "${PORT}"] });
    expect(procfileEntry(`node app.js --listen=127.0.0.1:\${PORT} "$PORT"`, null)).toEqual({ file: "app.js", args: ["--listen=127.0.0.1:${PORT}", "${PORT}"] });
    // single-quoted, it is text; a literal ${PORT} would be filled in all the same, so it is refused
    expect(procfileEntry("node app.js '$PORT'", null)).toEqual({ file: "app.js", args: ["$PORT"] });
    expect(procfileEntry("node app.js '${PORT}'", null)).toEqual({ problem: NOT_NODE });
  });

  it("splits quoted arguments as a shell would", () => {
    expect(procfileEntry(`node app.js --name "a b" 'x y' it\\'s "say \\"hi\\"" --empty "" a$`, null)).toEqual({
      file: "app.js",
      args: ["--name", "a b", "x y", "it's", 'say "hi"', "--empty", "", "a$"],
    });
    // shell syntax inside quotes is text
    expect(procfileEntry(`node app.js --sep "|" --q 'a && b; c > d'`, null)).toEqual({ file: "app.js", args: ["--sep", "|", "--q", "a && b; c > d"] });
  });

  it("says what is wrong with a command it cannot run", () => {
    expect(procfileEntry("gunicorn app:app", null)).toEqual({ problem: NOT_NODE });
    for (const command of [
      "node app.js && node other.js",
      "node app.js | tee log.txt",
      "node app.js; node other.js",
      "node app.js > out.log",
      "node app.js 2>&1",
      "node app.js &",
      "node app.js --rev `git rev-parse HEAD`",
      "node app.js --rev $(git rev-parse HEAD)",
      `node app.js "$(cat x)"`,
      "node $ENTRY",
      "node app.js --home $HOME",
      "node app.js --port ${PORT:-5000}",
      "node app.js --files *.json",
    ]) {
      expect(procfileEntry(command, null), command).toEqual({ problem: NOT_NODE });
    }
    expect(procfileEntry("npm start", { scripts: {} })).toEqual({ problem: `runs the package's start script, but package.json has no "start" script` });
    expect(procfileEntry("npm start", { scripts: { start: "next start" } })).toMatchObject({ problem: expect.stringMatching(/^runs the start script "next start", which is not/) });
    expect(procfileEntry("npm start", { scripts: { start: "node app.js | cat" } })).toMatchObject({ problem: expect.stringMatching(/^runs the start script "node app.js \| cat", which is not/) });
  });

  it("shows arguments in the log quoted where they hold spaces", () => {
    expect(showWords(["--workers", "2", "--name", "a b", "--port", "${PORT}", ""])).toBe('--workers 2 --name "a b" --port ${PORT} ""');
  });
});
