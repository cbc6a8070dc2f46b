// The agent's values against the kernel's own files, read here directly with the plainest code
// that works (split on whitespace, pick the documented column), before and after the agent's
// collection: every counter must lie between the two readings, every gauge within them plus
// the slack stated beside it.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { test } from 'node:test';
import { allFactories } from '../../internal/collector/registry';
import { assertBracketed, collectFamilies, total } from './support';

const USER_HZ = 100;
const SECTOR = 512;

const lines = (path: string): string[] => readFileSync(path, 'utf8').trim().split('\n');
const fields = (line: string): string[] => line.trim().split(/\s+/);

/** What the kernel says, read straight from the files. */
function readKernel() {
  const stat = lines('/proc/stat');
  const cpu = fields(stat.find((l) => l.startsWith('cpu '))!).slice(1).map(Number);
  const statValue = (key: string): number => Number(fields(stat.find((l) => l.startsWith(`${key} `))!)[1]);
  const meminfo = new Map(lines('/proc/meminfo').map((l) => [l.split(':')[0], Number(fields(l.split(':')[1])[0]) * 1024]));
  const vmstat = new Map(lines('/proc/vmstat').map((l) => [fields(l)[0], Number(fields(l)[1])]));
  const disks = new Map(lines('/proc/diskstats').map((l) => {
    const f = fields(l);
    return [f[2], { reads: Number(f[3]), readBytes: Number(f[5]) * SECTOR, writes: Number(f[7]), writeBytes: Number(f[9]) * SECTOR, ioTimeS: Number(f[12]) / 1000 }];
  }));
  const nets = new Map(lines('/proc/net/dev').slice(2).map((l) => {
    const [name, rest] = l.split(':');
    const f = fields(rest).map(Number);
    return [name.trim(), { rxBytes: f[0], rxPackets: f[1], txBytes: f[8], txPackets: f[9] }];
  }));
  const fileNr = fields(lines('/proc/sys/fs/file-nr')[0]).map(Number);
  const root = statfsSync('/');
  return {
    // user nice system idle iowait irq softirq steal, in seconds
    cpu: { user: cpu[0], nice: cpu[1], system: cpu[2], idle: cpu[3], iowait: cpu[4], interrupt: cpu[5] + cpu[6], steal: cpu[7] },
    contextSwitches: statValue('ctxt'),
    processesCreated: statValue('processes'),
    interrupts: statValue('intr'),
    memTotal: meminfo.get('MemTotal')!,
    memAvailable: meminfo.get('MemAvailable')!,
    memFree: meminfo.get('MemFree')!,
    load: fields(lines('/proc/loadavg')[0]).slice(0, 3).map(Number),
    uptime: Number(fields(lines('/proc/uptime')[0])[0]),
    pgfault: vmstat.get('pgfault')!,
    pgmajfault: vmstat.get('pgmajfault')!,
    disks,
    nets,
    fdOpen: fileNr[0] - fileNr[1],
    fdMax: fileNr[2],
    root: { used: (root.blocks - root.bfree) * root.bsize, free: root.bavail * root.bsize, reserved: (root.bfree - root.bavail) * root.bsize },
  };
}

test('every shared value lies between two direct readings of the kernel files', async () => {
  const families = allFactories().filter((f) => ['cpu', 'memory', 'load', 'system', 'processes', 'paging', 'disk', 'network', 'filesystem'].includes(f.name));
  const before = readKernel();
  const ours = await collectFamilies(families);
  const after = readKernel();

  for (const mode of Object.keys(before.cpu) as Array<keyof typeof before.cpu>) {
    // /proc/stat counts ticks; the agent reports seconds.
    assertBracketed(`system.cpu.time ${mode}`, total(ours, 'system.cpu.time', { 'cpu.mode': mode }), before.cpu[mode] / USER_HZ, after.cpu[mode] / USER_HZ, 1e-9);
  }
  assertBracketed('context switches', total(ours, 'system.linux.context_switch.count'), before.contextSwitches, after.contextSwitches);
  assertBracketed('interrupts', total(ours, 'system.linux.interrupt.count', { 'system.linux.interrupt.type': 'hard' }), before.interrupts, after.interrupts);
  assertBracketed('system.process.created', total(ours, 'system.process.created'), before.processesCreated, after.processesCreated);
  assertBracketed('system.memory.limit', total(ours, 'system.memory.limit'), before.memTotal, after.memTotal);
  // Memory moves between reads by what this test process and the machine allocate: 4 MB slack.
  assertBracketed('system.memory.linux.available', total(ours, 'system.memory.linux.available'), before.memAvailable, after.memAvailable, 4 * 2 ** 20);
  assertBracketed('system.memory.usage free', total(ours, 'system.memory.usage', { 'system.memory.state': 'free' }), before.memFree, after.memFree, 4 * 2 ** 20);
  ['1m', '5m', '15m'].forEach((window, i) => {
    assertBracketed(`load ${window}`, total(ours, `system.cpu.load_average.${window}`), before.load[i], after.load[i]);
  });
  assertBracketed('system.uptime', total(ours, 'system.uptime'), before.uptime, after.uptime);
  assertBracketed('paging faults major', total(ours, 'system.paging.faults', { 'system.paging.fault.type': 'major' }), before.pgmajfault, after.pgmajfault);
  assertBracketed('paging faults all', total(ours, 'system.paging.faults'), before.pgfault, after.pgfault);
  // file-nr moves with every open/close on the machine: 64 handles of slack.
  assertBracketed('open file descriptors', total(ours, 'system.linux.file_descriptor.count'), before.fdOpen, after.fdOpen, 64);
  assertBracketed('file descriptor limit', total(ours, 'system.linux.file_descriptor.limit'), before.fdMax, after.fdMax);

  const devices = new Set(ours.has('system.disk.io') ? ours.points('system.disk.io').map((p) => String(p.attributes['system.device'])) : []);
  // Whole devices of /sys/block that are not virtual may be reported; the usual disk names must be.
  const physical = [...before.disks.keys()].filter((name) => existsSync(`/sys/block/${name}`) && !/^(loop|ram|zram|dm-|md)/.test(name));
  const usualDisks = physical.filter((name) => /^((s|v|xv|h)d[a-z]+|nvme\d+n\d+|mmcblk\d+)$/.test(name));
  assert.deepEqual([...devices].filter((name) => !physical.includes(name)), [], 'only whole, non-virtual devices');
  assert.deepEqual(usualDisks.filter((name) => !devices.has(name)), [], 'every disk');
  for (const device of devices) {
    const b = before.disks.get(device)!;
    const a = after.disks.get(device)!;
    const d = { 'system.device': device };
    assertBracketed(`disk ${device} read bytes`, total(ours, 'system.disk.io', { ...d, 'disk.io.direction': 'read' }), b.readBytes, a.readBytes);
    assertBracketed(`disk ${device} write bytes`, total(ours, 'system.disk.io', { ...d, 'disk.io.direction': 'write' }), b.writeBytes, a.writeBytes);
    assertBracketed(`disk ${device} reads`, total(ours, 'system.disk.operations', { ...d, 'disk.io.direction': 'read' }), b.reads, a.reads);
    assertBracketed(`disk ${device} writes`, total(ours, 'system.disk.operations', { ...d, 'disk.io.direction': 'write' }), b.writes, a.writes);
    assertBracketed(`disk ${device} io_time`, total(ours, 'system.disk.io_time', d), b.ioTimeS, a.ioTimeS, 1e-9);
  }

  const interfaces = new Set(ours.has('system.network.io') ? ours.points('system.network.io').map((p) => String(p.attributes['network.interface.name'])) : []);
  assert.deepEqual([...interfaces].sort(), [...before.nets.keys()].filter((name) => name !== 'lo').sort(), 'every interface but lo');
  for (const name of interfaces) {
    const b = before.nets.get(name)!;
    const a = after.nets.get(name)!;
    const i = { 'network.interface.name': name };
    assertBracketed(`${name} receive bytes`, total(ours, 'system.network.io', { ...i, 'network.io.direction': 'receive' }), b.rxBytes, a.rxBytes);
    assertBracketed(`${name} transmit bytes`, total(ours, 'system.network.io', { ...i, 'network.io.direction': 'transmit' }), b.txBytes, a.txBytes);
    assertBracketed(`${name} receive packets`, total(ours, 'system.network.packet.count', { 'system.device': name, 'network.io.direction': 'receive' }), b.rxPackets, a.rxPackets);
    assertBracketed(`${name} transmit packets`, total(ours, 'system.network.packet.count', { 'system.device': name, 'network.io.direction': 'transmit' }), b.txPackets, a.txPackets);
  }

  // The root file system, when the default filters report it: statfs moves with writes (8 MB).
  if (ours.has('system.filesystem.usage') && ours.points('system.filesystem.usage', { 'system.filesystem.mountpoint': '/' }).length > 0) {
    for (const state of ['used', 'free', 'reserved'] as const) {
      const root = { 'system.filesystem.mountpoint': '/', 'system.filesystem.state': state };
      assertBracketed(`/ ${state}`, total(ours, 'system.filesystem.usage', root), before.root[state], after.root[state], 8 * 2 ** 20);
    }
  }
});
