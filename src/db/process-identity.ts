// Is the process a lock file names still the one that wrote it? A pid alone can be
// reused (a reboot, a container restarted with the same pid numbering), so on Linux
// the lock also records the kernel's boot id and the process's start tick, which
// together name one process for good. Elsewhere only the pid is checked.
import { readFileSync } from "node:fs";

/** `<boot id>:<start tick>` of a running process on Linux; undefined where /proc is absent. */
export function processIdentity(pid: number): string | undefined {
  const stat = procStat(pid);
  const bootId = readProc("/proc/sys/kernel/random/boot_id")?.trim();
  return stat && bootId ? `${bootId}:${stat.startTick}` : undefined;
}

/**
 * True while `pid` runs and, when `identity` was recorded, is still that process.
 * EPERM (someone else's process) counts as running: only ESRCH proves it gone.
 */
export function isRunning(pid: number, identity?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  // An exited child its parent has not reaped yet still answers kill(pid, 0).
  if (procStat(pid)?.state === "Z") return false;
  if (identity === undefined) return true;
  const now = processIdentity(pid);
  return now === undefined || now === identity;
}

function procStat(pid: number): { state: string; startTick: string } | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // starttime is field 22 of proc(5); fields[0] here is field 3 (state).
  const startTick = fields[19];
  return fields[0] && startTick ? { state: fields[0], startTick } : undefined;
}

function readProc(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
