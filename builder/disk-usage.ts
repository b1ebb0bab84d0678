import { execFile } from "node:child_process";

/**
 * Disk used by some folders together, in MB, as `du` counts it (blocks, each hard-linked file
 * once, not following symlinks, not crossing into other filesystems). Files vanishing during the
 * walk are expected (a build is running): du still prints its totals.
 */
export function diskUsageMb(dirs: string[]): Promise<number> {
  return new Promise((resolve) => {
    execFile("du", ["-skxc", "--", ...dirs], { encoding: "utf8", maxBuffer: 1024 * 1024 }, (_err, stdout) => {
      const total = /^(\d+)\s+total$/m.exec(stdout ?? "");
      resolve(total ? Number(total[1]) / 1024 : 0);
    });
  });
}

export interface DiskWatch {
  stop(): void;
}

/**
 * Measures `dirs` every `everyMs` and calls `onOver(usedMb)` once when what they hold beyond
 * `baseMb` (what was there before the build) passes `limitMb`. One walk at a time: a slow walk
 * never piles up.
 */
export function watchDisk(dirs: string[], opts: { everyMs: number; limitMb: number; baseMb: number; onOver: (usedMb: number) => void }): DiskWatch {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    const used = (await diskUsageMb(dirs)) - opts.baseMb;
    if (stopped) return;
    if (used > opts.limitMb) {
      stopped = true;
      opts.onOver(used);
      return;
    }
    timer = setTimeout(tick, opts.everyMs);
    timer.unref();
  };
  timer = setTimeout(tick, opts.everyMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
