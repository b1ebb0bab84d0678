import { describe, expect, it } from "vitest";
import { mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../cli/main.ts";
import { PassThrough, Writable } from "node:stream";
import { promptLine, type Io } from "../../cli/io.ts";
import { closest, editDistance } from "../../cli/strict.ts";
import { chooseProject, projectOf } from "../../cli/project.ts";
import { listAppFiles } from "../../cli/files.ts";
import { parseDotenv, dotenvLine } from "../../cli/dotenv.ts";

/** Drives the CLI in-process, capturing what it prints. */
async function cli(args: string[], env: Record<string, string> = {}, cwd = process.cwd(), more: Partial<Io> = {}) {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    tty: false,
    env: { FERRY_HOME: join(tmpdir(), "ferry-cli-nothing-here"), ...env },
    cwd,
    readStdin: async () => Buffer.alloc(0),
    readLine: async () => "",
    ...more,
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

/** An API nothing listens on: a command that got as far as calling it fails with exit 1. */
const NOWHERE = { FERRY_API_URL: "http://127.0.0.1:9", FERRY_TOKEN: "x" };

describe("ferry CLI", () => {
  it("prints help and its version", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("deploy");
    expect(help.stdout).toContain("alias");
    expect((await cli(["--version"])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("says how to start the platform when none is running, without a stack trace", async () => {
    const r = await cli(["ls"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: no Ferry API found: start one with `npm start`/);
    expect(r.stderr).not.toContain("    at ");
  });

  it("prints a JSON error with --json", async () => {
    const r = await cli(["ls", "--json"]);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: "no_api", message: expect.stringContaining("no Ferry API found") } });
  });

  it("rejects bad flags before talking to any server", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-cli-"));
    const r = await cli([dir, "--env", "NOT VALID"], { FERRY_API_URL: "http://127.0.0.1:9", FERRY_TOKEN: "x" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--env");
    const missing = await cli([join(dir, "nope")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("is not a folder");
  });

  it("explains an unreachable API", async () => {
    const r = await cli(["ls"], { FERRY_API_URL: "http://127.0.0.1:9", FERRY_TOKEN: "x" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach the Ferry API at http:\/\/127\.0\.0\.1:9/);
  });
});

describe("strict arguments, for every command", () => {
  const commands = ["deploy", "ls", "inspect", "rm", "alias", "promote", "rollback", "whoami", "env", "logs", "tokens", "login", "stores"];

  it("refuses an unknown flag with exit 2 and the closest flag as a hint, before any request", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-cli-"));
    const r = await cli([dir, "--prodd"], NOWHERE);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("Error: unknown option --prodd for `ferry`; did you mean --prod? (run `ferry --help` for its options)\n");
    const env = await cli(["env", "add", "K", "--name", "x"], NOWHERE);
    expect(env.code).toBe(2);
    expect(env.stderr).toContain("unknown option --name for `ferry env`");
    expect((await cli(["deploy", dir, "--buildEnv", "A=1"], NOWHERE)).stderr).toContain("did you mean --build-env?");
    expect((await cli(["logs", "dpl_x", "--folow"], NOWHERE)).stderr).toContain("did you mean --follow?");
    expect((await cli([dir, "-x"], NOWHERE)).code).toBe(2);
    for (const c of commands) {
      const each = await cli([c, "--bogus-flag"], NOWHERE);
      expect(each.code, `ferry ${c}`).toBe(2);
      expect(each.stderr, `ferry ${c}`).toContain(`unknown option --bogus-flag for \`ferry ${c}\``);
    }
  });

  it("needs a value for a flag that takes one: not nothing, not another flag", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-cli-"));
    for (const args of [[dir, "--name", "--prod"], [dir, "--name"], [dir, "--name="], ["env", "ls", "--project"], ["ls", "--limit", "--json"], [dir, "-e"]]) {
      const r = await cli(args, NOWHERE);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(/^Error: -{1,2}[a-z]+ needs a value/);
    }
    // a value that starts with "-" is written --flag=value
    const dashed = await cli([dir, "--env=A=-1", "--name=-x"], NOWHERE);
    expect(dashed.stderr).not.toContain("needs a value");
    // booleans take no value; an enum takes one of its options
    expect((await cli([dir, "--prod=yes"], NOWHERE)).stderr).toContain("--prod takes no value");
    const env = await cli(["env", "ls", "--environment", "prod"], NOWHERE);
    expect(env.code).toBe(2);
    expect(env.stderr).toContain("did you mean production?");
  });

  it("refuses arguments a command does not take, and unknown actions with a hint", async () => {
    const extra = await cli(["logs", "dpl_a", "dpl_b"], NOWHERE);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain('unexpected argument "dpl_b"');
    const env = await cli(["env", "ad", "K", "V"], NOWHERE);
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('unknown env action "ad"; did you mean add?');
    expect((await cli(["alias", "sett", "a", "b"], NOWHERE)).stderr).toContain("did you mean set?");
    expect((await cli(["ls", "--limit", "0"], NOWHERE)).code).toBe(2);
  });

  it("takes a first word close to a command for a mistyped command, unless it is a folder", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "ferry-cli-"));
    const typo = await cli(["lss"], NOWHERE, cwd);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe('Error: "lss" is neither a folder nor a command; did you mean `ferry ls`?\n');
    expect((await cli(["--prod", "rolback"], NOWHERE, cwd)).stderr).toContain("did you mean `ferry rollback`?");
    // a folder of that name deploys (here: as far as the unreachable API)
    await mkdir(join(cwd, "lss"));
    await writeFile(join(cwd, "lss", "index.html"), "x");
    const folder = await cli(["lss"], NOWHERE, cwd);
    expect(folder.code).toBe(1);
    expect(folder.stderr).toContain("cannot reach the Ferry API");
    // far from every command: a missing folder
    expect((await cli(["no-such-app-folder"], NOWHERE, cwd)).stderr).toContain("is not a folder");
  });

  it("suggests only close names", () => {
    expect(editDistance("prodd", "prod")).toBe(1);
    expect(editDistance("lgos", "logs")).toBe(1);
    expect(closest("--prodd", ["--prod", "--name", "--env"])).toBe("--prod");
    expect(closest("lss", ["ls", "logs", "rm"])).toBe("ls");
    expect(closest("banana", ["ls", "logs", "rm"])).toBeUndefined();
    expect(closest("--name", ["--project", "--environment", "--sensitive"])).toBeUndefined();
  });
});

describe("which project a command acts on", () => {
  it("is the one named, else the folder's: ferry.json name, package.json name, folder name", async () => {
    const root = await mkdtemp(join(tmpdir(), "ferry-cli-"));
    const dir = join(root, "My_App Folder");
    await mkdir(dir);
    expect(await chooseProject(dir)).toEqual({ name: "my-app-folder", inferred: true });
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "@acme/Web_Shop" }));
    expect(await chooseProject(dir)).toEqual({ name: "web-shop", inferred: true });
    await writeFile(join(dir, "ferry.json"), JSON.stringify({ name: "shop" }));
    expect(await chooseProject(dir)).toEqual({ name: "shop", inferred: true });
    expect(await chooseProject(dir, undefined, "named")).toEqual({ name: "named", inferred: false });
    // the same name deploy sends
    expect((await projectOf(dir)).name).toBe("shop");
  });
});

describe("ferry env add without a value", () => {
  it("asks on a terminal, without echo for --sensitive, and refuses an empty answer", async () => {
    const asked: { question: string; hidden: boolean }[] = [];
    const terminal = (answer: string): Partial<Io> => ({
      stdinTty: true,
      prompt: async (question, { hidden }) => (asked.push({ question, hidden }), answer),
      readStdin: async () => { throw new Error("stdin is a terminal: it must not be read whole"); },
    });
    const empty = await cli(["env", "add", "SECRET", "--sensitive", "--project", "p"], NOWHERE, undefined, terminal(""));
    expect(asked).toEqual([{ question: "Value of SECRET (not shown): ", hidden: true }]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("the value of SECRET is empty; pass --allow-empty");
    // a value gets as far as the API
    const given = await cli(["env", "add", "PLAIN", "--project", "p"], NOWHERE, undefined, terminal("v"));
    expect(asked[1]).toEqual({ question: "Value of PLAIN: ", hidden: false });
    expect(given.stderr).toContain("cannot reach the Ferry API");
    expect((await cli(["env", "add", "E", "--allow-empty", "--project", "p"], NOWHERE, undefined, terminal(""))).stderr).toContain("cannot reach");
  });

  it("refuses an empty stdin or argument unless --allow-empty", async () => {
    const r = await cli(["env", "add", "K", "--project", "p"], NOWHERE);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("empty");
    expect((await cli(["env", "add", "K", "", "--project", "p"], NOWHERE)).code).toBe(2);
    expect((await cli(["env", "add", "K", "--allow-empty", "--project", "p"], NOWHERE)).stderr).toContain("cannot reach");
  });

  it("reads a hidden answer without echoing it, and a visible one with echo", async () => {
    const ask = async (hidden: boolean) => {
      const input = new PassThrough();
      let shown = "";
      const output = new Writable({ write: (c, _e, done) => ((shown += c), done()) });
      const answer = promptLine(input, output, "Value: ", hidden);
      input.write("hunter2\n");
      return { answer: await answer, shown };
    };
    const hidden = await ask(true);
    expect(hidden.answer).toBe("hunter2");
    expect(hidden.shown).toContain("Value: ");
    expect(hidden.shown).not.toContain("hunter2");
    const visible = await ask(false);
    expect(visible.answer).toBe("hunter2");
    expect(visible.shown).toContain("hunter2");
  });
});

describe("which files a deploy uploads", () => {
  it("honours .gitignore and .ferryignore at any depth, skips node_modules and .git, follows safe symlinks", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-files-"));
    const outside = await mkdtemp(join(tmpdir(), "ferry-outside-"));
    const files: Record<string, string> = {
      "index.html": "x", ".gitignore": "*.log\nbuild/\n", "app.log": "x", "build/out.js": "x",
      "node_modules/dep/index.js": "x", ".git/HEAD": "x", "sub/.ferryignore": "secret.txt\n", "sub/secret.txt": "x", "sub/keep.txt": "x",
      "secret.txt": "top-level is not ignored by sub/.ferryignore", "é dir/a b.txt": "x",
    };
    for (const [f, c] of Object.entries(files)) {
      await mkdir(join(dir, f, ".."), { recursive: true });
      await writeFile(join(dir, f), c);
    }
    await writeFile(join(outside, "passwd"), "x");
    await symlink(join(outside, "passwd"), join(dir, "escape"));
    await symlink(join(dir, "index.html"), join(dir, "alias.html"));
    const warnings: string[] = [];
    const list = (await listAppFiles(dir, (w) => warnings.push(w))).map((f) => f.file).sort();
    expect(list).toEqual([".gitignore", "alias.html", "index.html", "secret.txt", "sub/.ferryignore", "sub/keep.txt", "é dir/a b.txt"]);
    expect(warnings).toEqual(["skipping escape: symlink points outside the app folder"]);
  });
});

describe(".env files", () => {
  it("round-trips multi-line and quoted values", () => {
    const values = { A: "plain", B: "two\nlines\n", C: 'say "hi" \\ back', D: "" };
    const text = Object.entries(values).map(([k, v]) => dotenvLine(k, v)).join("\n");
    expect(parseDotenv(text)).toEqual(values);
  });
});
