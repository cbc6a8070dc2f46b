// What the process collector could not read in a cycle, said so that whoever runs the agent can
// act on it: which file, of which processes, the error, and the kernel's reason.

/** The agent's own credentials, as far as reading other processes' files goes. */
export interface Privilege {
  uid: number;
  /** CAP_SYS_PTRACE in the effective set. */
  ptrace: boolean;
}

const CAP_SYS_PTRACE = 19n;
const PIDS_NAMED = 3;

/** The agent's privilege from its `/proc/self/status` (real uid, CapEff); undefined when it does not say. */
export function parsePrivilege(status: string): Privilege | undefined {
  const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
  const capEff = /^CapEff:\s+([0-9a-f]+)$/m.exec(status)?.[1];
  if (uid === undefined || capEff === undefined) return undefined;
  return { uid: Number(uid), ptrace: ((BigInt(`0x${capEff}`) >> CAP_SYS_PTRACE) & 1n) === 1n };
}

/** Why the kernel refuses a file of another process to this agent. */
function why(file: string, code: string, privilege: Privilege | undefined): string {
  if (code !== 'EACCES' && code !== 'EPERM') return '';
  if (file === 'stat' || file === 'statm' || file === 'status') {
    return ': /proc is mounted with hidepid=, which hides other users\' processes';
  }
  // io and fd/ take ptrace read access (PTRACE_MODE_READ_FSCREDS): without CAP_SYS_PTRACE only
  // a process of the reader's own user that is dumpable; root is no exception.
  const access = 'reading it takes ptrace read access (PTRACE_MODE_READ_FSCREDS)';
  const nonDumpable = 'non-dumpable ones (setuid programs, whatever called prctl(PR_SET_DUMPABLE, 0))';
  if (privilege?.ptrace === true) return `: ${access}, which CAP_SYS_PTRACE grants this agent, so a security module (AppArmor, SELinux, a Landlock sandbox) or a user namespace above the agent's refused it`;
  const who = privilege === undefined ? 'a reader' : privilege.uid === 0 ? 'this agent (root)' : `this agent (uid ${privilege.uid})`;
  return `: ${access}; without CAP_SYS_PTRACE ${who} reads only its own user's processes, and not ${nonDumpable} even as root; grant CAP_SYS_PTRACE to read them`;
}

/** The files a cycle could not read, by file and error. */
export class Unreadable {
  private readonly byKind = new Map<string, { file: string; code: string; pids: number[] }>();

  /** `file` (io, fd, stat, statm, status) of `pid` failed with `code` (an errno name, or the error's kind). */
  add(file: string, code: string, pid: number): void {
    const key = `${file} ${code}`;
    const kind = this.byKind.get(key) ?? { file, code, pids: [] };
    kind.pids.push(pid);
    this.byKind.set(key, kind);
  }

  get empty(): boolean {
    return this.byKind.size === 0;
  }

  /** One sentence per file and error, naming a few of the processes (the lowest pids: stable from cycle to cycle). */
  describe(privilege: Privilege | undefined): string {
    return [...this.byKind.values()]
      .sort((a, b) => a.file.localeCompare(b.file) || a.code.localeCompare(b.code))
      .map(({ file, code, pids }) => {
        const sorted = [...pids].sort((a, b) => a - b);
        const named = sorted.slice(0, PIDS_NAMED).join(', ') + (sorted.length > PIDS_NAMED ? ', …' : '');
        const path = file === 'fd' ? '/proc/<pid>/fd/' : `/proc/<pid>/${file}`;
        return `cannot read ${path} of pid${sorted.length > 1 ? 's' : ''} ${named} (${code})${why(file, code, privilege)}`;
      })
      .join('; ');
  }
}
