// The built agent, as a child process, exporting to a real OTLP receiver over every transport
// combination; the receiver decodes the protobuf with its own schema.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { FIXTURES, REPO_ROOT } from '../support/paths';
import { GRPC_EXPORT_PATH, startOtlpReceiver, type OtlpReceiver, type ReceivedPoint } from '../support/otlp-receiver';
import { agentConfig, tempWorkspace, withAgent, type AgentConfigOptions, type AgentProcess } from './agent-process';

const TLS_DIR = join(FIXTURES, 'tls');
const packageVersion = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const workspace = tempWorkspace('tfo-export-');
after(() => workspace.cleanup());

interface Transport {
  name: string;
  protocol: 'grpc' | 'http';
  compression: 'gzip' | 'none';
  endpointVersion?: 'v1' | 'v2';
  tls?: boolean;
}

const TRANSPORTS: Transport[] = [
  { name: 'gRPC, gzip', protocol: 'grpc', compression: 'gzip' },
  { name: 'gRPC, uncompressed, TLS', protocol: 'grpc', compression: 'none', tls: true },
  { name: 'HTTP /v1/metrics, gzip', protocol: 'http', compression: 'gzip', endpointVersion: 'v1' },
  { name: 'HTTP /v2/metrics, uncompressed', protocol: 'http', compression: 'none', endpointVersion: 'v2' },
  { name: 'HTTP /v2/metrics, gzip, TLS', protocol: 'http', compression: 'gzip', endpointVersion: 'v2', tls: true },
];

async function receiverFor(transport: Transport): Promise<OtlpReceiver> {
  if (!transport.tls) return startOtlpReceiver();
  return startOtlpReceiver({ tls: { cert: readFileSync(join(TLS_DIR, 'server.crt')), key: readFileSync(join(TLS_DIR, 'server.key')) } });
}

function configFor(transport: Transport, receiver: OtlpReceiver, dir: string): AgentConfigOptions {
  return {
    protocol: transport.protocol,
    endpoint: transport.protocol === 'grpc' ? receiver.grpcAddress : receiver.httpUrl,
    compression: transport.compression,
    endpointVersion: transport.endpointVersion,
    tls: transport.tls ? { enabled: true, ca_file: join(TLS_DIR, 'ca.crt') } : { enabled: false },
    dataDir: dir,
    // Far longer than the test: the exports seen are the early first one and the final one.
    interval: '60s',
  };
}

/** The command line of an agent exporting to the receiver with this transport. */
function agentArgs(transport: Transport, receiver: OtlpReceiver, slug: string): string[] {
  const config = workspace.file(`${slug}.yaml`, stringify(agentConfig(configFor(transport, receiver, join(workspace.dir, slug)))));
  return ['start', '--config', config];
}

async function firstExport(receiver: OtlpReceiver, agent: AgentProcess): Promise<void> {
  // 15 s is a quarter of the 60 s interval: an export this early can only be the first one.
  await receiver.waitFor((r) => r.accepted().length >= 1, 15_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${agent.transcript()}`);
  });
}

function byName(points: ReceivedPoint[], name: string): ReceivedPoint[] {
  return points.filter((p) => p.name === name);
}

for (const [index, transport] of TRANSPORTS.entries()) {
  // Both stop signals, alternately: a service manager sends SIGTERM, a terminal SIGINT.
  const stopSignal: NodeJS.Signals = index % 2 === 0 ? 'SIGTERM' : 'SIGINT';
  test(`${transport.name}: first export early, auth headers, final export on ${stopSignal} and exit 0`, async () => {
    const receiver = await receiverFor(transport);
    await withAgent(agentArgs(transport, receiver, `transport-${index}`), receiver, async (agent) => {
      await firstExport(receiver, agent);
      const identity = await agent.waitForEvent('agent.identity');
      const first = receiver.accepted()[0];

      assert.equal(first.protocol, transport.protocol);
      assert.equal(first.path, transport.protocol === 'grpc' ? GRPC_EXPORT_PATH : `/${transport.endpointVersion}/metrics`);
      assert.equal(first.headers['x-telemetryflow-key-id'], 'tfk_e2e_key');
      assert.equal(first.headers['x-telemetryflow-key-secret'], 'tfs_e2e_secret_value');
      assert.equal(first.headers['x-telemetryflow-agent-id'], identity.agent_id);
      const encoding = transport.protocol === 'grpc' ? first.headers['grpc-encoding'] : first.headers['content-encoding'];
      if (transport.compression === 'gzip') assert.equal(encoding, 'gzip');
      else assert.ok(encoding === undefined || encoding === 'identity', `unexpected encoding ${encoding}`);
      for (const name of ['system.cpu.time', 'system.memory.usage', 'system.cpu.load_average.1m', 'system.uptime']) {
        assert.ok(receiver.metricNames().includes(name), `${name} missing from the first export`);
      }

      agent.signal(stopSignal);
      const exit = await agent.exited;
      assert.equal(exit.code, 0, agent.transcript());
      assert.ok(receiver.accepted().length >= 2, `no final export on ${stopSignal}\n${agent.transcript()}`);
      assert.ok(!agent.transcript().includes('tfs_e2e_secret_value'), 'the secret appeared in the log');
    });
  });
}

test('metrics: names, units, kinds and attributes of cpu, memory, load and system; the resource; plausible values', async () => {
  const transport = TRANSPORTS[0];
  const receiver = await receiverFor(transport);
  await withAgent(agentArgs(transport, receiver, 'semantics'), receiver, async (agent) => {
    await firstExport(receiver, agent);
    const identity = await agent.waitForEvent('agent.identity');
    const firstPoints = receiver.points();
    const uptimeAtReceipt = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

    // Resource
    const resource = firstPoints[0].resource;
    assert.equal(resource['service.name'], 'e2e agent');
    assert.equal(resource['service.version'], packageVersion);
    assert.equal(resource['service.instance.id'], identity.agent_id);
    assert.equal(resource['telemetryflow.agent.id'], identity.agent_id);
    assert.equal(resource['telemetryflow.agent.name'], 'e2e agent');
    assert.equal(resource['host.name'], hostname());
    assert.equal(resource['host.arch'], process.arch === 'x64' ? 'amd64' : process.arch);
    assert.equal(resource['os.type'], 'linux');
    assert.match(String(resource['os.description']), /Linux/);
    assert.equal(resource['deployment.environment.name'], 'e2e');
    assert.equal(resource['team'], 'platform');
    for (const p of firstPoints) assert.deepEqual(p.resource, resource, `${p.name} carries another resource`);

    // cpu
    const cpuTime = byName(firstPoints, 'system.cpu.time');
    assert.ok(cpuTime.length > 0);
    for (const p of cpuTime) {
      assert.equal(p.unit, 's');
      assert.equal(p.kind, 'sum');
      assert.equal(p.monotonic, true);
      assert.ok(['user', 'nice', 'system', 'idle', 'iowait', 'interrupt', 'steal'].includes(String(p.attributes['cpu.mode'])), JSON.stringify(p.attributes));
      assert.ok(p.value >= 0);
    }
    const utilization = byName(firstPoints, 'system.cpu.utilization');
    assert.ok(utilization.length > 0, 'the first export already carries utilization');
    for (const p of utilization) {
      assert.equal(p.kind, 'gauge');
      assert.equal(p.unit, '1');
      assert.ok(p.value >= 0 && p.value <= 1, `utilization ${p.value}`);
    }
    const [logical] = byName(firstPoints, 'system.cpu.logical.count');
    assert.equal(logical.unit, '{cpu}');
    assert.equal(logical.kind, 'sum');
    assert.equal(logical.monotonic, false);
    assert.equal(logical.value, cpus().length);

    // memory: the limit is MemTotal, and used is what MemAvailable leaves of it (the states overlap)
    const memTotal = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
    const [limit] = byName(firstPoints, 'system.memory.limit');
    assert.equal(limit.unit, 'By');
    assert.equal(limit.value, memTotal);
    const usage = byName(firstPoints, 'system.memory.usage');
    assert.deepEqual(usage.map((p) => p.attributes['system.memory.state']).sort(), ['buffers', 'cached', 'free', 'used']);
    for (const p of usage) {
      assert.equal(p.unit, 'By');
      assert.equal(p.kind, 'sum');
      assert.equal(p.monotonic, false);
    }
    const used = usage.find((p) => p.attributes['system.memory.state'] === 'used')!;
    const [available] = byName(firstPoints, 'system.memory.linux.available');
    assert.equal(used.value + available.value, limit.value);

    // load
    for (const window of ['1m', '5m', '15m']) {
      const [load] = byName(firstPoints, `system.cpu.load_average.${window}`);
      assert.equal(load.kind, 'gauge');
      assert.equal(load.unit, '{thread}');
      assert.ok(load.value >= 0);
    }

    // system
    const [uptime] = byName(firstPoints, 'system.uptime');
    assert.equal(uptime.kind, 'gauge');
    assert.equal(uptime.unit, 's');
    assert.ok(Math.abs(uptime.value - uptimeAtReceipt) < 10, `uptime ${uptime.value} vs /proc/uptime ${uptimeAtReceipt}`);

    // CPU time grows between the first and the final export.
    const cpuTotal = (points: ReceivedPoint[]): number => byName(points, 'system.cpu.time').reduce((sum, p) => sum + p.value, 0);
    const before = cpuTotal(firstPoints);
    agent.signal('SIGTERM');
    assert.equal((await agent.exited).code, 0, agent.transcript());
    const finalPoints = receiver.points().slice(firstPoints.length);
    assert.ok(finalPoints.length > 0, 'no final export');
    assert.ok(cpuTotal(finalPoints) > before, `system.cpu.time did not grow: ${before} -> ${cpuTotal(finalPoints)}`);
  });
});
