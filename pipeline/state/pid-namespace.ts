/**
 * Which PID namespace this process lives in (Linux: the inode of /proc/self/ns/pid), so that "a
 * process on this host" means one whose pid we can actually probe. Containers that share the host's
 * name (host networking, a shared UTS namespace: common for self-hosted CI runners) have their own
 * pids: probing another container's pid says nothing about it, and a live holder would be taken
 * for dead. Undefined where there is no such notion (macOS, Windows) or it cannot be read.
 */
import * as fs from 'node:fs';

let cached: string | undefined | null = null;

export function pidNamespace(): string | undefined {
  if (cached === null) {
    try {
      cached = /\[(\d+)\]/.exec(fs.readlinkSync('/proc/self/ns/pid'))?.[1];
    } catch {
      cached = undefined;
    }
  }
  return cached;
}

/**
 * True when a holder recorded on `host` (with `namespace`, when it recorded one) is a process this
 * one can probe by pid. A holder that recorded no namespace (an older keyrotor) is judged by host
 * alone, as it was then.
 */
export function probeableHolder(host: string, namespace: string | undefined, thisHost: string): boolean {
  if (host !== thisHost) return false;
  return namespace === undefined || namespace === pidNamespace();
}
