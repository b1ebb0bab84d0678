import { readFileSync } from "node:fs";
import { basename } from "node:path";

export const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

const argv = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return null;
  }
};

/**
 * The npm process that runs `parent` when `parent` is the `sh -c <script>` of an npm script, on
 * Linux (elsewhere, or when it is not, undefined). Read once at start, while npm is there.
 */
export function npmAbove(parent: number): number | undefined {
  const shell = argv(parent);
  if (!shell || !/^(sh|dash|bash|ash|zsh)$/.test(basename(shell[0] ?? "")) || shell[1] !== "-c") return undefined;
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid ...", and comm may hold spaces or parentheses
    const stat = readFileSync(`/proc/${parent}/stat`, "utf8");
    const grand = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    return Number.isInteger(grand) && grand > 1 && argv(grand)?.some((a) => /npm/.test(a)) ? grand : undefined;
  } catch {
    return undefined;
  }
}
