import { createInterface } from "node:readline";

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
}

export const processIo = (): Io => ({
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
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
});

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
