// GET /metrics scraped by a real Prometheus (Debian's 2.42) with a bearer token over TLS; the
// exposition checked by promtool; the API's samples against the kernel's files and the OTLP
// export of the same moment.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { Sample } from '../../internal/api/sample';
import { agentConfig, AgentProcess, tempWorkspace } from '../e2e/agent-process';
import { apiGet } from '../support/api-client';
import { makeCertificate } from '../support/certs';
import { tempHostRoot } from '../support/host-root';
import { startOtlpReceiver } from '../support/otlp-receiver';
import { freePort, havePeer, PROMETHEUS, PROMTOOL, startPrometheus } from '../support/peers';
import { parseExposition, select } from '../support/prometheus-text';

const workspace = tempWorkspace('tfo-api-prometheus-');
after(() => workspace.cleanup());
const TOKEN = 'prometheus-scrape-token-42';
const skip = havePeer(PROMETHEUS) && havePeer(PROMTOOL) ? false : `${PROMETHEUS}/${PROMTOOL} not installed (apt-get install prometheus); .ci/run installs it`;

async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms${last ? ` (${String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The idle seconds of all CPUs together, from the kernel's /proc/stat. */
function kernelIdleSeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  return Number(fields[4]) / 100;
}

describe('Prometheus scrapes /metrics', { skip }, () => {
  it('with a bearer token over TLS; the target is up and memory and CPU time have the kernel values', async () => {
    const cert = makeCertificate(workspace.dir, 'prometheus');
    const port = await freePort();
    const closed = await freePort();
    const config = {
      ...agentConfig({ protocol: 'grpc', endpoint: `127.0.0.1:${closed}`, dataDir: join(workspace.dir, 'scraped'), interval: '1s' }),
      api: { enabled: true, address: `127.0.0.1:${port}`, token: TOKEN, tls: { cert_file: cert.certFile, key_file: cert.keyFile }, collect_interval: '1s' },
    };
    (config as unknown as { collectors: { process: unknown } }).collectors.process = { enabled: true, interval: '1s', processes: ['node'] };
    const agent = new AgentProcess(['--config', workspace.file('scraped.yaml', stringify(config))]);
    after(() => agent.kill());
    await agent.waitForEvent('api.listening');

    const prometheus = await startPrometheus([
      '  - job_name: tfo-agent',
      '    scheme: https',
      `    tls_config: {ca_file: ${JSON.stringify(cert.certFile)}}`,
      `    authorization: {credentials: ${JSON.stringify(TOKEN)}}`,
      `    static_configs: [{targets: ["127.0.0.1:${port}"]}]`,
      '',
    ].join('\n'));
    after(() => prometheus.stop());

    const idleBefore = kernelIdleSeconds();
    await eventually('the target up', async () => {
      const [target] = await prometheus.targets();
      return target?.health === 'up' ? true : undefined;
    });
    const up = await prometheus.query('up{job="tfo-agent"}');
    assert.equal(up[0]?.value[1], '1');

    const memTotal = Number(/MemTotal:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
    const limit = await eventually('system_memory_limit', async () => (await prometheus.query('system_memory_limit'))[0]);
    assert.equal(Number(limit.value[1]), memTotal);

    const idle = await eventually('system_cpu_time_total', async () => (await prometheus.query('system_cpu_time_total{cpu_mode="idle"}'))[0]);
    const idleAfter = kernelIdleSeconds();
    // Exported within the last few seconds: between what the kernel said before the scrapes and now.
    assert.ok(Number(idle.value[1]) >= idleBefore - 5 && Number(idle.value[1]) <= idleAfter, `${idle.value[1]} not within [${idleBefore - 5}, ${idleAfter}]`);

    // The per-process series of the direct path are there too, and the exposition lints clean.
    const exposition = (await apiGet(`https://127.0.0.1:${port}/metrics`, { token: TOKEN, ca: cert.pem })).text;
    const parsed = parseExposition(exposition);
    assert.equal(parsed.malformed, 0);
    assert.ok(select(parsed, 'process_memory_usage').some((s) => Number(s.labels.process_pid) > 0), 'process_memory_usage per pid');
    const processSeries = await eventually('process series in Prometheus', async () => {
      const result = await prometheus.query('process_memory_usage');
      return result.length > 0 ? result : undefined;
    });
    assert.ok(processSeries.every((s) => s.metric.process_pid !== undefined));
    // promtool exits 1 on a malformed exposition, 3 when it only has naming advice: its one piece of
    // advice here is that OpenTelemetry's `*.count` names (system.cpu.logical.count, …) end in
    // `_count`, which Prometheus reserves for histograms; the names are the semantic conventions'.
    const lint = spawnSync(PROMTOOL, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
    const findings = `${lint.stdout}${lint.stderr}`.split('\n').filter(Boolean);
    assert.ok(lint.status === 0 || lint.status === 3, `promtool check metrics exited ${lint.status}: ${findings.join('; ')}`);
    for (const finding of findings) assert.match(finding, /^\w+_count non-histogram and non-summary metrics should not have "_count" suffix$/, finding);
    const semconvCounts = findings.map((f) => f.split(' ')[0]!.replace(/_/g, '.'));
    for (const name of semconvCounts) assert.ok(/^(system|process)\..*\.count$/.test(name), name);
    // Without the token the scrape is refused.
    assert.equal((await apiGet(`https://127.0.0.1:${port}/metrics`, { ca: cert.pem })).status, 401);
  });
});

describe('samples agree with the kernel files and the OTLP export of the same moment', () => {
  it('a host root the test controls: /metrics/latest, /metrics and the OTLP export carry the same values', async () => {
    const host = tempHostRoot('procfs/vm-6.18-2cpu');
    after(() => host.remove());
    const receiver = await startOtlpReceiver();
    after(() => receiver.close());
    const config = {
      ...agentConfig({ protocol: 'grpc', endpoint: receiver.grpcAddress, dataDir: join(workspace.dir, 'agree'), interval: '1s' }),
      api: { enabled: true, address: '127.0.0.1:0', collect_interval: '200ms' },
      host_root: host.root,
    };
    const agent = new AgentProcess(['--config', workspace.file('agree.yaml', stringify(config))]);
    after(() => agent.kill());
    const base = `http://${String((await agent.waitForEvent('api.listening')).address)}`;

    // The host's counters move once: both the collectors and the sampler see the same before and after.
    await receiver.waitFor((r) => r.points().some((p) => p.name === 'system.memory.limit'), 15_000);
    const stat = readFileSync(join(host.root, 'proc/stat'), 'utf8').replace(/^(cpu\d*)\s+(\d+) (\d+) (\d+) (\d+)/gm, (_m, name: string, user: string, nice: string, system: string, idle: string) => {
      const ticks = name === 'cpu' ? 200 : 100;
      return `${name}  ${Number(user) + ticks / 4} ${nice} ${system} ${Number(idle) + (3 * ticks) / 4}`;
    });
    writeFileSync(join(host.root, 'proc/stat'), stat);
    receiver.reset();
    const busy = await eventually('a sample over the change', async () => {
      const samples = (await apiGet(`${base}/metrics/range?seconds=10`)).json<Sample[]>();
      return samples.find((s) => s.cpu_total !== null);
    });
    await receiver.waitFor((r) => r.points().some((p) => p.name === 'system.cpu.utilization'), 15_000);

    const meminfo = readFileSync(join(host.root, 'proc/meminfo'), 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(meminfo)![1]) * 1024;
    const latest = (await apiGet(`${base}/metrics/latest`)).json<Sample>();
    const point = (name: string, attrs: Record<string, string> = {}): number => {
      const found = receiver.points().filter((p) => p.name === name && Object.entries(attrs).every(([k, v]) => p.attributes[k] === v)).at(-1);
      assert.ok(found, `${name} ${JSON.stringify(attrs)} in the export`);
      return found.value;
    };
    // The kernel's files.
    assert.equal(latest.mem_total, kb('MemTotal'));
    assert.equal(latest.mem_used, kb('MemTotal') - kb('MemAvailable'));
    assert.equal(latest.swap_total, kb('SwapTotal'));
    const [load1, load5, load15] = readFileSync(join(host.root, 'proc/loadavg'), 'utf8').split(' ').map(Number);
    assert.deepEqual([latest.load1, latest.load5, latest.load15], [load1, load5, load15]);
    assert.equal(busy.cpu_total, 25);
    assert.deepEqual(busy.cpu_per_core, [25, 25]);
    // The OTLP export of the same readings.
    assert.equal(latest.mem_total, point('system.memory.limit'));
    assert.equal(latest.mem_used, point('system.memory.usage', { 'system.memory.state': 'used' }));
    assert.equal(latest.load1, point('system.cpu.load_average.1m'));
    assert.equal(busy.cpu_total, Math.round(100 * (1 - point('system.cpu.utilization', { 'cpu.mode': 'idle' }) - point('system.cpu.utilization', { 'cpu.mode': 'iowait' }) ) * 100) / 100);
    assert.equal(busy.cpu_per_core.length, point('system.cpu.logical.count'));
    // /metrics serves the batch the exporter sent.
    const exposition = parseExposition((await apiGet(`${base}/metrics`)).text);
    assert.equal(select(exposition, 'system_memory_limit')[0]?.value, point('system.memory.limit'));
  });
});
