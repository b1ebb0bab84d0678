import { describe, expect, it } from "vitest";
import { procfileEntry, procfileWebCommand } from "../../builder/procfile.ts";

describe("Procfile", () => {
  it("finds the web process among the others, not in a comment", () => {
    expect(procfileWebCommand("release: node migrate.js\nweb:   node app.js  \r\nworker: node jobs.js\n")).toBe("node app.js");
    expect(procfileWebCommand("# web: node old.js\nworker: node jobs.js")).toBeNull();
    expect(procfileWebCommand("webby: node x.js")).toBeNull();
    expect(procfileWebCommand("web:")).toBeNull();
  });

  it("reads the web command's file like a start script's", () => {
    expect(procfileEntry("node app.js", null)).toEqual({ file: "app.js" });
    expect(procfileEntry("node --max-old-space-size=512 -r dotenv/config ./server.js --port $PORT", null)).toEqual({ file: "server.js" });
    expect(procfileEntry("NODE_ENV=production PORT=${PORT} exec tsx src/main.ts", null)).toEqual({ file: "src/main.ts" });
    expect(procfileEntry("npm run start", { scripts: { start: "node dist/index.js" } })).toEqual({ file: "dist/index.js" });
    expect(procfileEntry("yarn start", { scripts: { start: "nodemon srv.js" } })).toEqual({ file: "srv.js" });
  });

  it("says what is wrong with a command it cannot run", () => {
    expect(procfileEntry("gunicorn app:app", null)).toMatchObject({ problem: expect.stringMatching(/^is not "node <file>"/) });
    expect(procfileEntry("node app.js && node other.js", null)).toMatchObject({ problem: expect.any(String) });
    expect(procfileEntry("node $ENTRY", null)).toMatchObject({ problem: expect.any(String) });
    expect(procfileEntry("npm start", { scripts: {} })).toEqual({ problem: `runs the package's start script, but package.json has no "start" script` });
    expect(procfileEntry("npm start", { scripts: { start: "next start" } })).toMatchObject({ problem: expect.stringMatching(/^runs the start script "next start", which is not/) });
  });
});
