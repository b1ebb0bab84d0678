import { createInterface } from "node:readline";
import { Writable } from "node:stream";

/** Where the CLI writes. Tests pass their own to capture output in-process. */
export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** stderr is a terminal: redraw progress bars in place */
  tty: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** reads all of stdin (for values piped in) */
  readStdin: () => Promise<Buffer>;
  /** reads one line of stdin (a confirmation answer) */
  readLine: () => Promise<string>;
  /** stdin is a terminal: a missing value is asked for rather than read from stdin */
  stdinTty?: boolean;
  /** asks on the terminal and reads one line; `hidden` does not echo what is typed */
  prompt?: (question: string, opts: { hidden: boolean }) => Promise<string>;
}

/**
 * Asks `question` on `output` and reads one line from `input`. With `hidden`, what is typed is not
 * echoed (for secrets): the question is written, then readline's echo goes nowhere.
 */
export function promptLine(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, question: string, hidden: boolean): Promise<string> {
  let muted = false;
  const echo = new Writable({
    write(chunk, _enc, done) {
      if (!muted) output.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input, output: echo, terminal: true });
  return new Promise<string>((resolve, reject) => {
    let answered = false;
    rl.question(question, (answer) => {
      answered = true;
      if (hidden) output.write("\n");
      rl.close();
      resolve(answer);
    });
    muted = hidden;
    // Ctrl-C or Ctrl-D at the prompt: nothing was entered
    rl.on("SIGINT", () => {
      rl.close();
      if (hidden) output.write("\n");
      reject(new CliError("cancelled", "cancelled", 130));
    });
    rl.on("close", () => {
      if (!answered) reject(new CliError("no value entered", "cancelled", 1));
    });
  });
}

let pipesWatched = false;
/**
 * `ferry logs | head`: once the reader of stdout (or stderr) goes away there is no one to tell
 * anything, so end quietly with 0 instead of an EPIPE stack.
 */
export function endQuietlyOnClosedPipes() {
  if (pipesWatched) return;
  pipesWatched = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE" || e.code === "ERR_STREAM_DESTROYED") process.exit(0);
      throw e;
    });
  }
}

export const processIo = (): Io => {
  endQuietlyOnClosedPipes();
  return {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    tty: !!process.stderr.isTTY,
    env: process.env,
    cwd: process.cwd(),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
    readLine: async () => {
      const rl = createInterface({ input: process.stdin, terminal: false });
      try {
        for await (const line of rl) return line;
        return "";
      } finally {
        rl.close();
      }
    },
    stdinTty: !!process.stdin.isTTY,
    prompt: (question, { hidden }) => promptLine(process.stdin, process.stderr, question, hidden),
  };
};

/** A user-facing error: printed as `Error: message` without a stack, exit code 1 (or `exitCode`). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code = "cli_error",
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
