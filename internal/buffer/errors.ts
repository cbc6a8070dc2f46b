// Typed errors of the spill buffer. Each names the buffer directory or file it is about.

/** Another live agent holds the buffer directory. The CLI exits with status 1 on it. */
export class BufferLockedError extends Error {
  constructor(readonly dir: string, readonly holderPid: number) {
    super(`buffer directory ${dir} is in use by another tfo-agent (pid ${holderPid}); only one agent may use a buffer directory, give this one its own buffer.path`);
    this.name = 'BufferLockedError';
  }
}

/** How a SQLite failure should be handled. */
export type StorageFault = 'corrupt' | 'unwritable' | 'other';

const CORRUPT_CODES = ['SQLITE_CORRUPT', 'SQLITE_NOTADB'];
const UNWRITABLE_CODES = ['SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_PERM'];
const UNWRITABLE_ERRNOS = ['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT'];

/** Classifies a better-sqlite3 or file-system error (extended codes such as SQLITE_IOERR_WRITE included). */
export function classifyStorageError(err: unknown): StorageFault {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  if (CORRUPT_CODES.some((c) => code.startsWith(c))) return 'corrupt';
  if (UNWRITABLE_CODES.some((c) => code.startsWith(c)) || UNWRITABLE_ERRNOS.includes(code)) return 'unwritable';
  return 'other';
}
