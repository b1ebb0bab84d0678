import type { Io } from "./io.ts";

export const formatBytes = (n: number) =>
  n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KB` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MB` : `${(n / 1024 ** 3).toFixed(2)} GB`;

/**
 * A progress bar on stderr. On a terminal it redraws in place; elsewhere (CI, pipes) it prints a
 * line at most every 25% so logs stay readable.
 */
export function progressBar(io: Io, label: string, total: number) {
  let lastQuarter = -1;
  const render = (done: number) => {
    const ratio = total ? Math.min(1, done / total) : 1;
    if (io.tty) {
      const width = 24;
      const fill = Math.round(ratio * width);
      io.stderr(`\r${label} [${"=".repeat(fill)}${" ".repeat(width - fill)}] ${formatBytes(done)}/${formatBytes(total)}`);
    } else {
      const q = Math.floor(ratio * 4);
      if (q !== lastQuarter) {
        lastQuarter = q;
        io.stderr(`${label} ${Math.round(ratio * 100)}% (${formatBytes(done)}/${formatBytes(total)})\n`);
      }
    }
  };
  return {
    update: render,
    done() {
      render(total);
      if (io.tty) io.stderr("\n");
    },
  };
}
