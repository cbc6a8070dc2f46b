// The agent against Debian's prometheus-node-exporter on this machine: node_exporter is scraped
// just before and just after one collection of every family (all within about a second), and
// every shared counter must lie between the two scrapes, every gauge within them plus the slack
// stated beside it. Skipped with a message when node_exporter is not installed (.ci/run
// installs it).
import assert from 'node:assert/strict';
import { cpus } from 'node:os';
import { test } from 'node:test';
import { allFactories } from '../../internal/collector/registry';
import { havePeer, NODE_EXPORTER, startNodeExporter } from '../support/peers';
import { parseExposition, select, type Exposition } from '../support/prometheus-text';
import { assertBracketed, collectFamilies, total } from './support';

const COLLECTORS = ['cpu', 'meminfo', 'loadavg', 'diskstats', 'filesystem', 'netdev', 'stat', 'filefd', 'vmstat'];
const MB = 2 ** 20;

/** Sum of the samples of `name` matching `labels` (undefined when there are none). */
function sum(e: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const samples = select(e, name, labels);
  return samples.length === 0 ? undefined : samples.reduce((acc, s) => acc + s.value, 0);
}

const skip = havePeer(NODE_EXPORTER) ? false : `${NODE_EXPORTER} is not installed (apt-get install prometheus-node-exporter); .ci/run installs it`;

test('every shared counter and gauge agrees with node_exporter scraped around the collection', { skip }, async () => {
  const exporter = await startNodeExporter(COLLECTORS);
  try {
    const before = parseExposition(await exporter.scrape());
    const startedAt = Date.now();
    const ours = await collectFamilies(allFactories().filter((f) => ['cpu', 'memory', 'load', 'system', 'processes', 'paging', 'disk', 'network', 'filesystem'].includes(f.name)));
    const after = parseExposition(await exporter.scrape());
    assert.ok(Date.now() - startedAt < 5000, 'scrapes and collection close together');
    assert.equal(before.malformed + after.malformed, 0);

    const both = (what: string, oursValue: number | undefined, name: string, labels: Record<string, string> = {}, slack = 0): void =>
      assertBracketed(what, oursValue, sum(before, name, labels), sum(after, name, labels), slack);

    // CPU seconds per mode, all CPUs. node_exporter sums the per-CPU lines and holds idle and
    // iowait when the kernel's tickless accounting makes them step back; the agent reads the
    // total line. The two may differ by one tick (10 ms) per CPU.
    const cpuSlack = 0.01 * cpus().length + 1e-9;
    for (const mode of ['user', 'nice', 'system', 'idle', 'iowait', 'steal']) {
      both(`cpu ${mode}`, total(ours, 'system.cpu.time', { 'cpu.mode': mode }), 'node_cpu_seconds_total', { mode }, cpuSlack);
    }
    const irq = (e: Exposition): number => (sum(e, 'node_cpu_seconds_total', { mode: 'irq' }) ?? 0) + (sum(e, 'node_cpu_seconds_total', { mode: 'softirq' }) ?? 0);
    assertBracketed('cpu interrupt (irq + softirq)', total(ours, 'system.cpu.time', { 'cpu.mode': 'interrupt' }), irq(before), irq(after), cpuSlack);

    // Memory: exact for the total, 4 MB of movement for the rest.
    both('memory limit', total(ours, 'system.memory.limit'), 'node_memory_MemTotal_bytes');
    both('memory available', total(ours, 'system.memory.linux.available'), 'node_memory_MemAvailable_bytes', {}, 4 * MB);
    both('memory free', total(ours, 'system.memory.usage', { 'system.memory.state': 'free' }), 'node_memory_MemFree_bytes', {}, 4 * MB);
    both('slab reclaimable', total(ours, 'system.memory.linux.slab.usage', { 'system.memory.linux.slab.state': 'reclaimable' }), 'node_memory_SReclaimable_bytes', {}, 4 * MB);

    both('load 1m', total(ours, 'system.cpu.load_average.1m'), 'node_load1');
    both('load 5m', total(ours, 'system.cpu.load_average.5m'), 'node_load5');
    both('load 15m', total(ours, 'system.cpu.load_average.15m'), 'node_load15');

    // Boot time: /proc/stat btime is whole seconds; uptime is read a moment later.
    const uptime = total(ours, 'system.uptime');
    assert.ok(uptime !== undefined);
    both('boot time', Date.now() / 1000 - uptime, 'node_boot_time_seconds', {}, 2);
    both('context switches', total(ours, 'system.linux.context_switch.count'), 'node_context_switches_total');
    both('forks', total(ours, 'system.process.created'), 'node_forks_total');
    both('interrupts', total(ours, 'system.linux.interrupt.count', { 'system.linux.interrupt.type': 'hard' }), 'node_intr_total');
    // Handles opened and closed anywhere on the machine between the reads: 64 of slack.
    both('open file descriptors', total(ours, 'system.linux.file_descriptor.count'), 'node_filefd_allocated', {}, 64);
    both('file descriptor limit', total(ours, 'system.linux.file_descriptor.limit'), 'node_filefd_maximum');
    both('major page faults', total(ours, 'system.paging.faults', { 'system.paging.fault.type': 'major' }), 'node_vmstat_pgmajfault');
    both('all page faults', total(ours, 'system.paging.faults'), 'node_vmstat_pgfault');

    // Disks both report (node_exporter keeps zram and drops partitions by its own rules).
    const ourDisks = new Set(ours.has('system.disk.io') ? ours.points('system.disk.io').map((p) => String(p.attributes['system.device'])) : []);
    const sharedDisks = [...ourDisks].filter((device) => select(before, 'node_disk_read_bytes_total', { device }).length > 0);
    assert.equal(sharedDisks.length, ourDisks.size, `node_exporter reports every disk we do: ${[...ourDisks].join(', ')}`);
    for (const device of sharedDisks) {
      const d = { 'system.device': device };
      both(`${device} read bytes`, total(ours, 'system.disk.io', { ...d, 'disk.io.direction': 'read' }), 'node_disk_read_bytes_total', { device });
      both(`${device} written bytes`, total(ours, 'system.disk.io', { ...d, 'disk.io.direction': 'write' }), 'node_disk_written_bytes_total', { device });
      both(`${device} reads`, total(ours, 'system.disk.operations', { ...d, 'disk.io.direction': 'read' }), 'node_disk_reads_completed_total', { device });
      both(`${device} writes`, total(ours, 'system.disk.operations', { ...d, 'disk.io.direction': 'write' }), 'node_disk_writes_completed_total', { device });
      both(`${device} io time`, total(ours, 'system.disk.io_time', d), 'node_disk_io_time_seconds_total', { device }, 1e-9);
      both(`${device} reads merged`, total(ours, 'system.disk.merged', { ...d, 'disk.io.direction': 'read' }), 'node_disk_reads_merged_total', { device });
    }

    // File systems both report: size exact, free and available within 8 MB of writes.
    const ourMounts = new Set(ours.has('system.filesystem.usage') ? ours.points('system.filesystem.usage').map((p) => String(p.attributes['system.filesystem.mountpoint'])) : []);
    const sharedMounts = [...ourMounts].filter((mountpoint) => select(before, 'node_filesystem_size_bytes', { mountpoint }).length > 0);
    assert.ok(ourMounts.size === 0 || sharedMounts.length > 0, `no mountpoint in common: ours ${[...ourMounts].join(', ')}`);
    for (const mountpoint of sharedMounts) {
      const m = { 'system.filesystem.mountpoint': mountpoint };
      both(`${mountpoint} size`, total(ours, 'system.filesystem.usage', m), 'node_filesystem_size_bytes', { mountpoint });
      both(`${mountpoint} available`, total(ours, 'system.filesystem.usage', { ...m, 'system.filesystem.state': 'free' }), 'node_filesystem_avail_bytes', { mountpoint }, 8 * MB);
      const unused = (total(ours, 'system.filesystem.usage', { ...m, 'system.filesystem.state': 'free' }) ?? 0) + (total(ours, 'system.filesystem.usage', { ...m, 'system.filesystem.state': 'reserved' }) ?? 0);
      both(`${mountpoint} free incl. reserved`, unused, 'node_filesystem_free_bytes', { mountpoint }, 8 * MB);
    }

    // Interfaces: node_exporter excludes lo, as the agent does by default.
    const ourInterfaces = new Set(ours.has('system.network.io') ? ours.points('system.network.io').map((p) => String(p.attributes['network.interface.name'])) : []);
    const theirInterfaces = new Set(select(before, 'node_network_receive_bytes_total').map((s) => s.labels.device));
    assert.deepEqual([...ourInterfaces].sort(), [...theirInterfaces].sort(), 'the same interfaces');
    for (const device of ourInterfaces) {
      const i = { 'network.interface.name': device };
      for (const [direction, prefix] of [['receive', 'node_network_receive'], ['transmit', 'node_network_transmit']] as const) {
        const d = { ...i, 'network.io.direction': direction };
        both(`${device} ${direction} bytes`, total(ours, 'system.network.io', d), `${prefix}_bytes_total`, { device });
        both(`${device} ${direction} packets`, total(ours, 'system.network.packet.count', { 'system.device': device, 'network.io.direction': direction }), `${prefix}_packets_total`, { device });
        both(`${device} ${direction} errors`, total(ours, 'system.network.errors', d), `${prefix}_errs_total`, { device });
        both(`${device} ${direction} dropped`, total(ours, 'system.network.packet.dropped', d), `${prefix}_drop_total`, { device });
      }
    }
  } finally {
    await exporter.stop();
  }
});
