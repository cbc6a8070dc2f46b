// The agent sends its host metrics to a real collectd 5.12 (network plugin listening at each
// security level, csv plugin writing what it accepts). The files collectd writes must hold the
// values the agent exported over OTLP in the same cycles, at the same times, under collectd's own
// plugin and type names.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readCsv, startCollectdServer, withAgent } from '../support/collectd';
import type { ReceivedPoint } from '../support/otlp-receiver';
import { COLLECTD, freePort, havePeer } from '../support/peers';

const dir = mkdtempSync(join(tmpdir(), 'tfo-agent-collectd-out-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const skip = !havePeer(COLLECTD) && 'collectd is not installed (.ci/run installs collectd-core)';

const collectors = {
  system: {
    enabled: true, interval: '60s', cpu: true, memory: true, load: true, system: true, disk: true, network: true,
    paging: true, filesystem: true, processes: true, pressure: false,
    // The sandbox's root may be an overlay: report every file system but the kernel's own.
    filesystem_options: { exclude_types: ['proc', 'sysfs', 'cgroup', 'cgroup2', 'devpts', 'mqueue', 'tmpfs', 'devtmpfs', 'nsfs'] },
  },
};

interface Expectation {
  /** `plugin[-instance]/type[-instance]` as collectd's csv plugin files it. */
  file: string;
  /** Per data source (csv column order): the exported point it must equal, and the unit change. */
  sources: Array<{ metric: string; attributes: Record<string, string | number>; scale?: number }>;
}

/** Exported points with this name and exactly these attributes. */
function exported(points: readonly ReceivedPoint[], metric: string, attributes: Record<string, string | number>): ReceivedPoint[] {
  return points.filter((p) => p.name === metric
    && Object.entries(attributes).every(([k, v]) => p.attributes[k] === v)
    && Object.keys(p.attributes).length === Object.keys(attributes).length);
}

/**
 * Each expectation's csv file holds one row per exported point of the first source, at its time
 * (to the csv's millisecond), each column equal to its source's value in collectd's unit.
 */
function assertCsvHoldsExport(points: readonly ReceivedPoint[], csvDir: string, host: string, expectations: readonly Expectation[]): number {
  let rowsChecked = 0;
  for (const { file, sources } of expectations) {
    const { names, rows } = readCsv(csvDir, host, file);
    assert.equal(names.length, sources.length, `${file}: ${names.join(',')}`);
    const first = exported(points, sources[0].metric, sources[0].attributes);
    assert.ok(first.length >= 2, `${file}: ${sources[0].metric} exported twice (start and stop)`);
    assert.equal(rows.length, first.length, `${file}: one csv row per exported cycle`);
    for (const point of first) {
      const seconds = Number(point.timeUnixNano) / 1e9;
      const row = rows.find((r) => Math.abs(r.time - seconds) < 0.0015);
      assert.ok(row, `${file}: no row at ${seconds} (${rows.map((r) => r.time).join(', ')})`);
      sources.forEach((source, i) => {
        const same = exported(points, source.metric, source.attributes).find((p) => p.timeUnixNano === point.timeUnixNano);
        assert.ok(same, `${source.metric} ${JSON.stringify(source.attributes)} at ${seconds}`);
        const expected = same.value * (source.scale ?? 1);
        const tolerance = source.scale === undefined ? 1e-9 * Math.max(1, Math.abs(expected)) : 0.5;
        assert.ok(Math.abs(row.values[i] - expected) <= tolerance, `${file} ${names[i]}: csv ${row.values[i]}, exported ${expected}`);
      });
      rowsChecked += 1;
    }
  }
  return rowsChecked;
}

/** What to compare: a value of each family collectd has a plugin for, on this machine's devices. */
function expectations(points: readonly ReceivedPoint[]): Expectation[] {
  const out: Expectation[] = [
    { file: 'load/load', sources: ['1m', '5m', '15m'].map((w) => ({ metric: `system.cpu.load_average.${w}`, attributes: {} })) },
    { file: 'memory/memory-used', sources: [{ metric: 'system.memory.usage', attributes: { 'system.memory.state': 'used' } }] },
    { file: 'memory/memory-buffered', sources: [{ metric: 'system.memory.usage', attributes: { 'system.memory.state': 'buffers' } }] },
    { file: 'uptime/uptime', sources: [{ metric: 'system.uptime', attributes: {} }] },
    { file: 'cpu/cpu-user', sources: [{ metric: 'system.cpu.time', attributes: { 'cpu.mode': 'user' }, scale: 100 }] },
    { file: 'cpu/cpu-wait', sources: [{ metric: 'system.cpu.time', attributes: { 'cpu.mode': 'iowait' }, scale: 100 }] },
    { file: 'processes/fork_rate', sources: [{ metric: 'system.process.created', attributes: {} }] },
    { file: 'processes/ps_state-zombies', sources: [{ metric: 'system.process.count', attributes: { 'process.state': 'defunct' } }] },
    { file: 'contextswitch/contextswitch', sources: [{ metric: 'system.linux.context_switch.count', attributes: {} }] },
    { file: 'vmem/vmpage_faults', sources: [{ metric: 'system.paging.faults', attributes: { 'system.paging.fault.type': 'minor' } }, { metric: 'system.paging.faults', attributes: { 'system.paging.fault.type': 'major' } }] },
    { file: 'tcpconns-all/tcp_connections-LISTEN', sources: [{ metric: 'system.network.connection.count', attributes: { 'network.transport': 'tcp', 'network.connection.state': 'listen' } }] },
  ];
  const iface = points.find((p) => p.name === 'system.network.io')?.attributes['network.interface.name'];
  if (typeof iface === 'string') {
    for (const [type, metric] of [['if_octets', 'system.network.io'], ['if_packets', 'system.network.packet.count'], ['if_errors', 'system.network.errors']]) {
      const key = metric === 'system.network.packet.count' ? 'system.device' : 'network.interface.name';
      out.push({ file: `interface-${iface}/${type}`, sources: ['receive', 'transmit'].map((d) => ({ metric, attributes: { [key]: iface, 'network.io.direction': d } })) });
    }
  }
  const disk = points.find((p) => p.name === 'system.disk.io')?.attributes['system.device'];
  if (typeof disk === 'string') {
    for (const [type, metric] of [['disk_octets', 'system.disk.io'], ['disk_ops', 'system.disk.operations'], ['disk_merged', 'system.disk.merged']]) {
      out.push({ file: `disk-${disk}/${type}`, sources: ['read', 'write'].map((d) => ({ metric, attributes: { 'system.device': disk, 'disk.io.direction': d } })) });
    }
  }
  const fs = points.find((p) => p.name === 'system.filesystem.usage');
  if (fs !== undefined) {
    const mountpoint = String(fs.attributes['system.filesystem.mountpoint']);
    const instance = mountpoint === '/' ? 'root' : mountpoint.slice(1).replace(/\//g, '-');
    const { 'system.filesystem.state': _state, ...attrs } = fs.attributes as Record<string, string>;
    for (const state of ['used', 'free', 'reserved']) out.push({ file: `df-${instance}/df_complex-${state}`, sources: [{ metric: 'system.filesystem.usage', attributes: { ...attrs, 'system.filesystem.state': state } }] });
  }
  return out;
}

describe('the agent sending its host metrics to collectd 5.12', { skip }, () => {
  for (const level of ['Encrypt', 'Sign', 'None'] as const) {
    it(`security level ${level}: collectd's csv files hold the values and times of the agent's OTLP export`, async () => {
      const port = await freePort();
      const server = await startCollectdServer(dir, `server-${level}`, port, level === 'None' ? undefined : { level, password: 's3cret' });
      const host = `agent-${level.toLowerCase()}`;
      let log = '';
      let result: Awaited<ReturnType<typeof withAgent>>;
      try {
        result = await withAgent(dir, {
          collectors,
          exporters: { collectd: { enabled: true, server: `127.0.0.1:${port}`, security_level: level.toLowerCase(), username: 'alice', password: 's3cret', hostname: host } },
        }, () => new Promise((resolve) => setTimeout(resolve, 1500)));
        // collectd writes what it receives as it arrives; a moment for the last packets.
        await new Promise((resolve) => setTimeout(resolve, 500));
      } finally {
        log = await server.stop();
      }
      const { points, lines } = result;
      assert.ok(existsSync(join(server.csv, host)), `collectd wrote nothing for ${host}: ${log}`);
      assert.deepEqual(readdirSync(server.csv), [host], 'only the configured host name');
      const checked = assertCsvHoldsExport(points, server.csv, host, expectations(points));
      assert.ok(checked >= 2 * 20, `${checked} rows compared`);
      assert.doesNotMatch(log, /error|Dataset not found|wrong number/i);
      assert.doesNotMatch(lines.join('\n'), /s3cret/, 'no password in the agent log');
      const sent = points.filter((p) => p.name === 'tfo_agent.collectd.sent.packets');
      assert.ok(sent.some((p) => p.value > 0), 'sent packets counted');
    });
  }

  it('a wrong password: collectd at level Encrypt takes nothing', async () => {
    const port = await freePort();
    const server = await startCollectdServer(dir, 'server-wrong', port, { level: 'Encrypt', password: 'the-servers-password' });
    try {
      await withAgent(dir, {
        collectors,
        exporters: { collectd: { enabled: true, server: `127.0.0.1:${port}`, security_level: 'encrypt', username: 'alice', password: 'a-guess', hostname: 'agent-wrong' } },
      }, () => new Promise((resolve) => setTimeout(resolve, 1500)));
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      const log = await server.stop();
      assert.match(log, /Checksum mismatch|decrypt/i, log);
    }
    assert.equal(existsSync(join(server.csv, 'agent-wrong')), false);
  });
});
