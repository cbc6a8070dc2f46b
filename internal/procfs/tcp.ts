import { open, type FileHandle } from 'node:fs/promises';
import { ParseError } from './errors';
import type { HostFs } from './host';

/**
 * TCP states as `/proc/net/tcp` numbers them (include/net/tcp_states.h), named with the
 * semantic-conventions values of `network.connection.state`. NEW_SYN_RECV (12) is a request
 * socket still in the handshake: counted as syn_received, as `ss` does.
 */
const TCP_STATES: ReadonlyArray<string | undefined> = [
  undefined, 'established', 'syn_sent', 'syn_received', 'fin_wait_1', 'fin_wait_2', 'time_wait', 'closed',
  'close_wait', 'last_ack', 'listen', 'closing', 'syn_received',
];

/** Every state a connection can be reported in, each once, in kernel order. */
export const TCP_STATE_NAMES: readonly string[] = [...new Set(TCP_STATES.filter((s): s is string => s !== undefined))];

/** The state of one table line ("  12: 0100007F:0277 00000000:0000 0A …"), found by skipping
 * "sl:" and the two addresses without splitting the line. */
function stateOfLine(text: string, start: number, end: number): string | undefined {
  let pos = text.indexOf(':', start) + 1;
  if (pos === 0 || pos >= end) return undefined;
  for (let address = 0; address < 2; address++) {
    while (text.charCodeAt(pos) === 32) pos++;
    pos = text.indexOf(' ', pos);
    if (pos < 0 || pos >= end) return undefined;
  }
  while (text.charCodeAt(pos) === 32) pos++;
  return pos + 2 <= end ? TCP_STATES[parseInt(text.slice(pos, pos + 2), 16)] : undefined;
}

const HEADER = /^\s*sl\s+local_address/;

/**
 * Counts the sockets of a `/proc/net/tcp` or `/proc/net/tcp6` table by state (the `st` column, two
 * hex digits), fed in pieces as the table is read: a busy server's table has hundreds of thousands
 * of lines and is never held whole. Each line is scanned by index, not split.
 */
export class TcpStateCounter {
  private pending = '';
  private lineNumber = 0;

  constructor(private readonly source: string, readonly counts: Map<string, number> = new Map()) {}

  /** The next piece of the table; only its complete lines are counted now. */
  push(text: string): void {
    const data = this.pending + text;
    const lastNewline = data.lastIndexOf('\n');
    this.pending = data.slice(lastNewline + 1);
    this.countLines(data, lastNewline);
  }

  /** The table is complete: counts a last line without a newline, and checks there was a header. */
  end(): Map<string, number> {
    if (this.pending !== '') this.countLines(`${this.pending}\n`, this.pending.length);
    this.pending = '';
    if (this.lineNumber === 0) throw new ParseError(this.source, 'empty; expected the "sl local_address" header line');
    return this.counts;
  }

  /** Counts the lines of `text` that end at or before `limit`, the index of a newline. */
  private countLines(text: string, limit: number): void {
    for (let start = 0; start < limit; ) {
      const end = text.indexOf('\n', start);
      this.lineNumber += 1;
      if (this.lineNumber === 1) {
        if (!HEADER.test(text.slice(start, end))) throw new ParseError(this.source, 'missing the "sl local_address" header line');
      } else if (end > start) {
        const state = stateOfLine(text, start, end);
        if (state === undefined) {
          throw new ParseError(this.source, `line ${this.lineNumber}: no TCP state in ${JSON.stringify(text.slice(start, Math.min(end, start + 80)))}`);
        }
        this.counts.set(state, (this.counts.get(state) ?? 0) + 1);
      }
      start = end + 1;
    }
  }
}

/** Counts a whole table by state; `into` accumulates over several tables (tcp and tcp6). */
export function countTcpStates(text: string, source = '/proc/net/tcp', into: Map<string, number> = new Map()): Map<string, number> {
  const counter = new TcpStateCounter(source, into);
  counter.push(text);
  return counter.end();
}

// procfs hands out these tables a page at a time whatever the buffer; 64 KiB is ample.
const READ_CHUNK = 64 * 1024;

/** What `/proc/net/sockstat` and `sockstat6` count of TCP without walking the tables. */
export interface SockstatTcp {
  /** IPv6 sockets in the tables: listening and connected ones (TCP6 inuse). */
  inuse6: number;
  /** Sockets in time-wait (and FIN_WAIT2 after close), IPv4 and IPv6 together (TCP tw). */
  timeWait: number;
}

export function parseSockstatTcp(sockstat: string, sockstat6: string): SockstatTcp {
  const tw = /^TCP: .*\btw (\d+)/m.exec(sockstat);
  if (tw === null) throw new ParseError('/proc/net/sockstat', 'no "TCP: … tw N" line');
  const inuse6 = /^TCP6: inuse (\d+)/m.exec(sockstat6);
  if (inuse6 === null) throw new ParseError('/proc/net/sockstat6', 'no "TCP6: inuse N" line');
  return { inuse6: Number(inuse6[1]), timeWait: Number(tw[1]) };
}

/**
 * Whether the IPv6 table is empty, as sockstat tells for a fraction of the cost of reading it:
 * no IPv6 socket listening or connected (so none in the handshake either), and no more sockets in
 * time-wait than the IPv4 table showed in it. Every table walks the kernel's whole connection
 * hash, which is sized by the host's memory, not by its connections (4 ms per table on a 24 GiB VM).
 */
function ipv6TableEmpty(host: HostFs, ipv4TimeWait: number): boolean {
  const sockstat = host.readOptional('/proc/net/sockstat');
  const sockstat6 = host.readOptional('/proc/net/sockstat6');
  if (sockstat === undefined || sockstat6 === undefined) return false;
  try {
    const tcp = parseSockstatTcp(sockstat, sockstat6);
    return tcp.inuse6 === 0 && tcp.timeWait <= ipv4TimeWait;
  } catch {
    return false;
  }
}

/**
 * TCP connections by state over IPv4 and IPv6; a table the kernel does not have counts nothing,
 * and the IPv6 table is not read when sockstat shows it empty.
 */
export async function readTcpStates(host: HostFs): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const buffer = Buffer.allocUnsafe(READ_CHUNK);
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    // Until here counts holds the IPv4 table only.
    if (file === '/proc/net/tcp6' && ipv6TableEmpty(host, counts.get('time_wait') ?? 0)) continue;
    let handle: FileHandle;
    try {
      handle = await open(host.resolve(file), 'r');
    } catch {
      continue; // no IPv6 in this kernel, or no such file under the host root
    }
    try {
      const counter = new TcpStateCounter(file, counts);
      for (let n = 0; (n = (await handle.read(buffer, 0, READ_CHUNK, null)).bytesRead) > 0; ) counter.push(buffer.toString('latin1', 0, n));
      counter.end();
    } finally {
      await handle.close();
    }
  }
  return counts;
}
