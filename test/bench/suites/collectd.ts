// The collectd receiver: decoding and turning into points on one core, the CPU per value list
// beside a real collectd 5.12 receiving the same packets (network plugin listening, no write
// plugin), and what a receiver with nothing arriving costs.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CollectdMetrics } from '../../../internal/receiver/collectd/convert';
import { decodePacket, type ValueList } from '../../../internal/receiver/collectd/decode';
import { PacketWriter } from '../../../internal/receiver/collectd/encode';
import { builtinTypesDb } from '../../../internal/receiver/collectd/types-db';
import { COLLECTD, freePort, havePeer } from '../../support/peers';
import type { BenchSection } from '../section';
import { processCpuMs, round } from '../stats';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What collectd's cpu, interface, df, load and memory plugins send for 100 hosts, as packets. */
function packets(cycles: number): { packets: Buffer[]; valueLists: number } {
  const out: Buffer[] = [];
  const writer = new PacketWriter(1452, { level: 'none', username: '', password: '' }, (p) => out.push(p));
  let valueLists = 0;
  const add = (vl: ValueList): void => {
    writer.addValueList(vl);
    valueLists += 1;
  };
  for (let cycle = 0; cycle < cycles; cycle++) {
    for (let h = 0; h < 100; h++) {
      const base = { host: `host-${h}`, time: [1_700_000_000 + cycle * 10, h * 1000] as [number, number], intervalMs: 10_000 };
      for (let cpu = 0; cpu < 4; cpu++) {
        for (const mode of ['user', 'system', 'idle', 'wait']) add({ ...base, plugin: 'cpu', pluginInstance: String(cpu), type: 'cpu', typeInstance: mode, kinds: ['derive'], values: [cycle * 100 + cpu] });
      }
      for (const nic of ['eth0', 'lo']) add({ ...base, plugin: 'interface', pluginInstance: nic, type: 'if_octets', typeInstance: '', kinds: ['derive', 'derive'], values: [cycle * 1e6, cycle * 2e6] });
      add({ ...base, plugin: 'load', pluginInstance: '', type: 'load', typeInstance: '', kinds: ['gauge', 'gauge', 'gauge'], values: [0.5, 0.4, 0.3] });
      for (const m of ['used', 'free', 'cached', 'buffered']) add({ ...base, plugin: 'memory', pluginInstance: '', type: 'memory', typeInstance: m, kinds: ['gauge'], values: [1e9 + cycle] });
      for (const d of ['used', 'free', 'reserved']) add({ ...base, plugin: 'df', pluginInstance: 'root', type: 'df_complex', typeInstance: d, kinds: ['gauge'], values: [5e10] });
    }
  }
  writer.flush();
  return { packets: out, valueLists };
}

/** Value lists per second of CPU, decoding and converting in this process, drained every 100 hosts' cycle. */
function inProcess(data: { packets: Buffer[]; valueLists: number }, rounds: number): number {
  const metrics = new CollectdMetrics(builtinTypesDb(), 1_000_000, () => undefined);
  const options = { securityLevel: 'none' as const };
  const start = process.cpuUsage();
  for (let r = 0; r < rounds; r++) {
    for (const packet of data.packets) for (const vl of decodePacket(packet, options).valueLists) metrics.add(vl, 0);
    metrics.drain(0);
  }
  const used = process.cpuUsage(start);
  return (data.valueLists * rounds) / ((used.user + used.system) / 1e6);
}

function startChild(command: string, args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const match = ready.exec(out);
      if (match) resolve({ child, match });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${command} exited ${code}: ${out}`)));
  });
}

/** Sends every packet `rounds` times at about `perSecond` value lists a second; returns the value lists sent. */
async function send(port: number, data: { packets: Buffer[]; valueLists: number }, rounds: number, perSecond: number): Promise<number> {
  const socket = createSocket('udp4');
  const perPacket = data.valueLists / data.packets.length;
  const batch = 50;
  const pause = (1000 * batch * perPacket) / perSecond;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < data.packets.length; i += batch) {
      for (const packet of data.packets.slice(i, i + batch)) socket.send(packet, port, '127.0.0.1');
      await sleep(pause);
    }
  }
  await sleep(500);
  socket.close();
  return data.valueLists * rounds;
}

async function cpuWhileSending(pid: number, port: number, data: { packets: Buffer[]; valueLists: number }): Promise<{ cpuMs: number; valueLists: number }> {
  await sleep(500);
  const before = processCpuMs(pid);
  const valueLists = await send(port, data, 3, 20_000);
  return { cpuMs: processCpuMs(pid) - before, valueLists };
}

export async function run(): Promise<BenchSection> {
  const data = packets(10);
  const notes: string[] = [`${data.valueLists} value lists in ${data.packets.length} packets (100 hosts × 26 value lists × 10 cycles)`];
  const rate = inProcess(data, 20);
  const figures = [{ name: 'decode + convert, one core', value: Math.round(rate), unit: 'value lists/s', detail: 'goal ≥ 200,000' }];

  const worker = await startChild(process.execPath, [join(__dirname, '..', 'collectd-receiver-worker.js')], /ready (\d+)/);
  try {
    const port = Number(worker.match[1]);
    const idleBefore = processCpuMs(worker.child.pid as number);
    await sleep(5000);
    figures.push({ name: 'idle receiver CPU over 5 s', value: round(processCpuMs(worker.child.pid as number) - idleBefore), unit: 'ms', detail: 'nothing arriving' });
    const agent = await cpuWhileSending(worker.child.pid as number, port, data);
    figures.push({ name: 'agent receiver CPU per value list', value: round((agent.cpuMs * 1000) / agent.valueLists, 3), unit: 'µs', detail: `${agent.valueLists} value lists at 20,000/s` });

    if (!havePeer(COLLECTD)) {
      notes.push(`${COLLECTD} not installed: no side-by-side figure`);
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'tfo-bench-collectd-'));
      const collectdPort = await freePort();
      writeFileSync(join(dir, 'collectd.conf'), [
        'Hostname "bench"', 'FQDNLookup false', `BaseDir "${dir}"`, `PIDFile "${dir}/pid"`, 'Interval 10',
        'LoadPlugin logfile', '<Plugin logfile>\n  File STDOUT\n</Plugin>', 'LoadPlugin network',
        `<Plugin network>\n  Listen "127.0.0.1" "${collectdPort}"\n</Plugin>`, '',
      ].join('\n'));
      const peer = await startChild(COLLECTD, ['-f', '-C', join(dir, 'collectd.conf')], /Initialization complete/);
      try {
        const real = await cpuWhileSending(peer.child.pid as number, collectdPort, data);
        figures.push({ name: 'collectd 5.12 CPU per value list', value: round((real.cpuMs * 1000) / real.valueLists, 3), unit: 'µs', detail: 'network plugin listening, no write plugin' });
        figures.push({ name: 'agent / collectd CPU per value list', value: round(agent.cpuMs / Math.max(real.cpuMs, 1), 2), unit: 'x', detail: 'goal ≤ 1' });
      } finally {
        peer.child.kill('SIGTERM');
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    worker.child.kill('SIGTERM');
  }
  return { title: 'collectd receiver', figures, notes };
}
