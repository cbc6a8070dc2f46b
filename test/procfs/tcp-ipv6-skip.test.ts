import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ParseError } from '../../internal/procfs/errors';
import { HostFs } from '../../internal/procfs/host';
import { countTcpStates, parseSockstatTcp, readTcpStates } from '../../internal/procfs/tcp';
import { tempHostRoot } from '../support/host-root';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const line = (n: number, state: string): string => `   ${n}: 0100007F:0277 0100007F:D2A4 ${state} 00000000:00000000 00:00000000 00000000     0        0 ${1000 + n} 1 0000000000000000 20 4 30 10 -1`;
// One listening socket and two in time-wait over IPv4; one established over IPv6.
const TCP = [HEADER, line(0, '0A'), line(1, '06'), line(2, '06'), ''].join('\n');
const TCP6 = [HEADER, line(0, '01'), ''].join('\n');
const sockstat = (tw: number): string => `sockets: used 24\nTCP: inuse 1 orphan 0 tw ${tw} alloc 1 mem 1\nUDP: inuse 0 mem 0\n`;
const sockstat6 = (inuse: number): string => `TCP6: inuse ${inuse}\nUDP6: inuse 0\n`;

function plain(counts: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...counts].sort());
}

describe('TCP connections: the IPv6 table skipped when sockstat shows it empty', () => {
  it('parses sockstat and sockstat6', () => {
    assert.deepEqual(parseSockstatTcp(sockstat(183), 'TCP6: inuse 0\nUDP6: inuse 0\n'), { inuse6: 0, timeWait: 183 });
    assert.throws(() => parseSockstatTcp('sockets: used 1\n', sockstat6(0)), ParseError);
    assert.throws(() => parseSockstatTcp(sockstat(1), ''), ParseError);
  });

  it('reads the IPv6 table only when sockstat says something may be in it', async () => {
    const host = tempHostRoot(undefined, { '/proc/net/tcp': TCP, '/proc/net/tcp6': TCP6 });
    try {
      const read = async (): Promise<Record<string, number>> => plain(await readTcpStates(new HostFs(host.root)));
      const both = { listen: 1, time_wait: 2, established: 1 };
      assert.deepEqual(await read(), both, 'no sockstat: both tables read');
      // A sockstat that contradicts the table shows which was believed.
      host.write('/proc/net/sockstat', sockstat(2));
      host.write('/proc/net/sockstat6', sockstat6(0));
      assert.deepEqual(await read(), { listen: 1, time_wait: 2 }, 'no IPv6 socket, every time-wait one IPv4: tcp6 not read');
      host.write('/proc/net/sockstat6', sockstat6(1));
      assert.deepEqual(await read(), both, 'an IPv6 socket: tcp6 read');
      host.write('/proc/net/sockstat6', sockstat6(0));
      host.write('/proc/net/sockstat', sockstat(3));
      assert.deepEqual(await read(), both, 'a time-wait socket the IPv4 table does not hold: tcp6 read');
      host.write('/proc/net/sockstat', 'garbage\n');
      assert.deepEqual(await read(), both, 'unreadable sockstat: tcp6 read');
    } finally {
      host.remove();
    }
  });

  it('counts on this machine what reading both tables counts', async () => {
    // Connections come and go between two reads: some pair in a row agrees.
    let agreed = false;
    let last = '';
    for (let i = 0; i < 20 && !agreed; i += 1) {
      const read = plain(await readTcpStates(new HostFs('/')));
      const counts = countTcpStates(readFileSync('/proc/net/tcp', 'latin1'));
      countTcpStates(readFileSync('/proc/net/tcp6', 'latin1'), '/proc/net/tcp6', counts);
      last = `${JSON.stringify(read)} against ${JSON.stringify(plain(counts))}`;
      agreed = JSON.stringify(read) === JSON.stringify(plain(counts));
    }
    assert.ok(agreed, last);
  });
});
