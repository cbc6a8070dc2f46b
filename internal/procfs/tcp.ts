import { ParseError } from '../collector/collector';
import type { HostFs } from '../collector/host';

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

/**
 * Counts the sockets of a `/proc/net/tcp` or `/proc/net/tcp6` table by state (the `st` column,
 * two hex digits). A busy server has hundreds of thousands of lines, hence the scan by index.
 */
export function countTcpStates(text: string, source = '/proc/net/tcp', into: Map<string, number> = new Map()): Map<string, number> {
  if (!/^\s*sl\s+local_address/.test(text)) throw new ParseError(source, 'missing the "sl local_address" header line');
  let lineNumber = 1;
  for (let start = text.indexOf('\n') + 1; start > 0 && start < text.length; lineNumber++) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline;
    if (end > start) {
      const state = stateOfLine(text, start, end);
      if (state === undefined) {
        throw new ParseError(source, `line ${lineNumber + 1}: no TCP state in ${JSON.stringify(text.slice(start, Math.min(end, start + 80)))}`);
      }
      into.set(state, (into.get(state) ?? 0) + 1);
    }
    start = end + 1;
  }
  return into;
}

/** TCP connections by state over IPv4 and IPv6; a table the kernel does not have counts nothing. */
export async function readTcpStates(host: HostFs): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await host.readOptional(file);
    if (text !== undefined) countTcpStates(text, file, counts);
  }
  return counts;
}
