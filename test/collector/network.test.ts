import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { factory } from '../../internal/collector/network/procfs';
import { parseNetDev } from '../../internal/procfs/netdev';
import { ManualClock, collectOnce, startCollecting, type Collection } from '../support/collect';
import { fixtureRoot, tempHostRoot } from '../support/host-root';

const WEB = fixtureRoot('procfs/web-frontend-5.10');

const interfaces = (c: Collection, key: string): string[] =>
  [...new Set(c.get('system.network.io').points.map((p) => String(p.attributes[key])))].sort();

describe('network collector', () => {
  it('reports interfaces and TCP connections under semconv names (busy web server)', async () => {
    const c = await collectOnce(factory, { hostRoot: WEB });
    assert.deepEqual(c.names, ['system.network.connection.count', 'system.network.errors', 'system.network.io', 'system.network.packet.count', 'system.network.packet.dropped']);
    assert.deepEqual(interfaces(c, 'network.interface.name'), ['bond0', 'bond0.120', 'docker0', 'eno1', 'eno2', 'veth3f2a9c1'], 'lo is excluded by default');
    const eno1 = { 'network.interface.name': 'eno1' };
    assert.equal(c.value('system.network.io', { ...eno1, 'network.io.direction': 'receive' }), 4123344512331);
    assert.equal(c.value('system.network.io', { ...eno1, 'network.io.direction': 'transmit' }), 28123344512);
    // The conventions name the interface system.device on packet counts alone.
    assert.equal(c.value('system.network.packet.count', { 'system.device': 'eno1', 'network.io.direction': 'receive' }), 9123344123);
    assert.ok(c.get('system.network.packet.count').points.every((p) => !('network.interface.name' in p.attributes)));
    assert.equal(c.value('system.network.packet.dropped', { ...eno1, 'network.io.direction': 'receive' }), 1123);
    assert.equal(c.value('system.network.errors', { 'network.interface.name': 'eno2', 'network.io.direction': 'receive' }), 3);
    assert.deepEqual([c.get('system.network.io').kind, c.get('system.network.io').unit], ['counter', 'By']);
    assert.equal(c.get('system.network.packet.count').unit, '{packet}');

    const connections = c.get('system.network.connection.count');
    assert.deepEqual([connections.kind, connections.unit], ['updowncounter', '{connection}']);
    const byState = Object.fromEntries(connections.points.map((p) => [p.attributes['network.connection.state'], p.value]));
    assert.deepEqual(byState, {
      established: 508, syn_sent: 2, syn_received: 6, fin_wait_1: 3, fin_wait_2: 26, time_wait: 171, closed: 1,
      close_wait: 9, last_ack: 2, listen: 8, closing: 1,
    });
    assert.ok(connections.points.every((p) => p.attributes['network.transport'] === 'tcp'));
  });

  it('uses the Collector\'s names, keys and upper-case states under hostmetrics', async () => {
    const c = await collectOnce(factory, { hostRoot: WEB, naming: 'hostmetrics' });
    assert.deepEqual(c.names, ['system.network.connections', 'system.network.dropped', 'system.network.errors', 'system.network.io', 'system.network.packets']);
    assert.equal(c.value('system.network.packets', { device: 'bond0', direction: 'transmit' }), 14224577564);
    assert.equal(c.value('system.network.dropped', { device: 'bond0', direction: 'receive' }), 2221);
    assert.equal(c.value('system.network.connections', { protocol: 'tcp', state: 'ESTABLISHED' }), 508);
    assert.equal(c.value('system.network.connections', { protocol: 'tcp', state: 'SYN_RECV' }), 6);
    // gopsutil's names (which the Collector reports) drop the kernel's underscore before the digit.
    assert.equal(c.value('system.network.connections', { protocol: 'tcp', state: 'FIN_WAIT1' }), 3);
    assert.equal(c.value('system.network.connections', { protocol: 'tcp', state: 'FIN_WAIT2' }), 26);
    assert.equal(c.value('system.network.connections', { protocol: 'tcp', state: 'CLOSE' }), 1);
    assert.deepEqual(c.get('system.network.connections').points.map((p) => p.attributes['state']).sort(), [
      'CLOSE', 'CLOSE_WAIT', 'CLOSING', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'LAST_ACK', 'LISTEN', 'SYN_RECV', 'SYN_SENT', 'TIME_WAIT',
    ]);
  });

  it('does not read the connection tables when connections is off', async (t) => {
    const host = tempHostRoot('procfs/web-frontend-5.10');
    t.after(() => host.remove());
    host.write('/proc/net/tcp', 'not a tcp table');
    const off = await collectOnce(factory, { hostRoot: host.root, config: { collectors: { system: { network_options: { connections: false } } } } });
    assert.ok(!off.has('system.network.connection.count'));
    assert.ok(off.has('system.network.io'));
    // The same broken table fails the collection when the metric is on: it really was not read above.
    const on = await collectOnce(factory, { hostRoot: host.root, allowFailure: true });
    assert.match(on.results[0].error ?? '', /\/proc\/net\/tcp: missing the "sl local_address" header/);
  });

  it('filters interfaces by name and /regex/', async () => {
    const only = (network_options: { include?: string[]; exclude?: string[] }) =>
      collectOnce(factory, { hostRoot: WEB, config: { collectors: { system: { network_options } } } });
    assert.deepEqual(interfaces(await only({ include: ['/^eno\\d$/'] }), 'network.interface.name'), ['eno1', 'eno2']);
    assert.deepEqual(interfaces(await only({ exclude: ['lo', 'docker0', '/^veth/', '/\\./'] }), 'network.interface.name'), ['bond0', 'eno1', 'eno2']);
    assert.deepEqual(interfaces(await only({ exclude: [] }), 'network.interface.name'), ['bond0', 'bond0.120', 'docker0', 'eno1', 'eno2', 'lo', 'veth3f2a9c1']);
  });

  it('agrees with this machine\'s /proc/net/dev', async () => {
    const before = parseNetDev(readFileSync('/proc/net/dev', 'utf8'));
    const c = await collectOnce(factory, { config: { collectors: { system: { network_options: { exclude: [] } } } } });
    const after = parseNetDev(readFileSync('/proc/net/dev', 'utf8'));
    for (const n of before) {
      const rx = c.value('system.network.io', { 'network.interface.name': n.name, 'network.io.direction': 'receive' });
      const later = after.find((a) => a.name === n.name)?.rxBytes ?? Number.NaN;
      assert.ok(rx >= n.rxBytes && rx <= later, `${n.name}: ${n.rxBytes} <= ${rx} <= ${later}`);
    }
  });
  it('walks the TCP tables once per connections_interval and reports the counts every cycle', async (t) => {
    const host = tempHostRoot('procfs/web-frontend-5.10');
    const clock = new ManualClock();
    const session = startCollecting(factory, { hostRoot: host.root, clock });
    t.after(async () => {
      await session.shutdown();
      host.remove();
    });
    const established = (c: Collection): number | undefined =>
      c.value('system.network.connection.count', { 'network.transport': 'tcp', 'network.connection.state': 'established' });
    const before = established(await session.collect());
    assert.ok(before !== undefined && before > 0);
    // Every connection closes; the table is not walked again until the interval (1m) has passed.
    const tcp = readFileSync(join(host.root, 'proc/net/tcp'), 'utf8');
    host.write('/proc/net/tcp', tcp.split('\n')[0] + '\n');
    host.write('/proc/net/tcp6', readFileSync(join(host.root, 'proc/net/tcp6'), 'utf8').split('\n')[0] + '\n');
    clock.advance(30_000);
    assert.equal(established(await session.collect()), before, 'reported from the last walk within the interval');
    clock.advance(30_000);
    assert.equal(established(await session.collect()), 0, 'walked again once the interval passed');
  });
});
