// collectd notifications as OTLP log records: encoded as the OTLP schema says, sent to the logs
// service over HTTP and gRPC, and kept in the spill buffer while the collector refuses them.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer, type IncomingMessage } from 'node:http';
import { createServer as createH2Server, constants as h2 } from 'node:http2';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import * as protobuf from 'protobufjs';
import { stringify } from 'yaml';
import { Agent } from '../../internal/agent/agent';
import { loadConfig, type LoadOptions } from '../../internal/config/load';
import { createLogger } from '../../internal/log/logger';
import { encodeLogs } from '../../internal/logs/records';
import { notificationRecord } from '../../internal/receiver/collectd/start';
import { PacketWriter } from '../../internal/receiver/collectd/encode';
import type { Notification } from '../../internal/receiver/collectd/decode';
import { agentConfig, cleanEnv } from '../e2e/agent-process';
import { REPO_ROOT } from '../support/paths';
import { freePort } from '../support/peers';

const dir = mkdtempSync(join(tmpdir(), 'tfo-agent-collectd-logs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const root = new protobuf.Root();
root.loadSync(join(REPO_ROOT, 'test/support/otlp-proto/logs_service.proto'));
const LogsRequest = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');

interface DecodedRecord {
  resource: Record<string, string>;
  time: string;
  severityNumber: number;
  severityText: string;
  body: string;
  attributes: Record<string, string>;
}

function decodeLogs(body: Uint8Array): DecodedRecord[] {
  const request = LogsRequest.toObject(LogsRequest.decode(body), { longs: String }) as {
    resourceLogs?: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue: string } }> }; scopeLogs: Array<{ logRecords: Array<Record<string, unknown>> }> }>;
  };
  const kv = (list: Array<{ key: string; value: { stringValue: string } }> = []): Record<string, string> => Object.fromEntries(list.map((a) => [a.key, a.value.stringValue]));
  return (request.resourceLogs ?? []).flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => ({
    resource: kv(rl.resource.attributes),
    time: r.timeUnixNano as string,
    severityNumber: r.severityNumber as number,
    severityText: r.severityText as string,
    body: (r.body as { stringValue: string }).stringValue,
    attributes: kv(r.attributes as Array<{ key: string; value: { stringValue: string } }>),
  }))));
}

const notification = (severity: Notification['severity'], message: string): Notification => ({
  host: 'web1', plugin: 'df', pluginInstance: 'root', type: 'percent_bytes', typeInstance: 'free', time: [1_700_000_000, 123_456_789], severity, message,
});

describe('notifications as OTLP log records', () => {
  it('FAILURE → ERROR, WARNING → WARN, OKAY → INFO; time exact, sender as resource, names as attributes', () => {
    const records = decodeLogs(encodeLogs([
      notificationRecord(notification('failure', 'disk full'), 1_700_000_001_000),
      notificationRecord(notification('warning', 'disk almost full'), 1_700_000_001_000),
      notificationRecord({ ...notification('okay', 'fine again'), host: 'web2' }, 1_700_000_001_000),
    ]));
    assert.deepEqual(records.map((r) => [r.severityNumber, r.severityText, r.body, r.resource['host.name']]), [
      [17, 'ERROR', 'disk full', 'web1'], [13, 'WARN', 'disk almost full', 'web1'], [9, 'INFO', 'fine again', 'web2'],
    ]);
    assert.equal(records[0].time, '1700000000123456789');
    assert.deepEqual(records[0].attributes, { host: 'web1', plugin: 'df', plugin_instance: 'root', type: 'percent_bytes', type_instance: 'free' });
  });
});

function capturingLogger(): ReturnType<typeof createLogger> {
  return createLogger({ level: 'warn', format: 'json', destination: new Writable({ write: (_c, _e, done) => done() }) });
}

async function sendNotifications(port: number, host: string, messages: string[]): Promise<void> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const packets: Buffer[] = [];
  const writer = new PacketWriter(1452, { level: 'none', username: '', password: '' }, (p) => packets.push(p));
  for (const message of messages) writer.addNotification({ ...notification('failure', message), time: [Math.floor(Date.now() / 1000), 0] });
  writer.flush();
  for (const packet of packets) await new Promise<void>((resolve, reject) => socket.send(packet, port, host, (err) => (err ? reject(err) : resolve())));
  socket.close();
}

async function startAgent(protocol: 'http' | 'grpc', endpoint: string, collectdPort: number, buffer: boolean): Promise<Agent> {
  const file = join(dir, `agent-${protocol}-${collectdPort}.yaml`);
  const base = agentConfig({ protocol, endpoint, dataDir: join(dir, String(collectdPort)), interval: '60s', compression: 'none' });
  writeFileSync(file, stringify({
    ...base,
    buffer: { enabled: buffer, path: join(dir, String(collectdPort), 'buffer'), flush_interval: '200ms' },
    telemetryflow: { ...(base.telemetryflow as object), retry: { initial_interval: '100ms', max_interval: '200ms' } },
    receivers: { collectd: { enabled: true, listen: [`127.0.0.1:${collectdPort}`] } },
  }));
  const loadOptions: LoadOptions = { file, env: cleanEnv(), cwd: dir };
  const agent = new Agent({ loaded: loadConfig(loadOptions), loadOptions, logger: capturingLogger(), env: {} });
  await agent.start();
  return agent;
}

async function until(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`${what}: not reached in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

describe('the agent sends collectd notifications to the OTLP logs service', () => {
  it('HTTP /v2/logs; while the collector answers 503 they wait in the spill buffer, then replay there', async () => {
    let refuse = true;
    const logs: DecodedRecord[] = [];
    const paths: string[] = [];
    const server = createServer((req, res) => {
      void readBody(req).then((body) => {
        paths.push(req.url ?? '');
        if (req.url === '/v2/logs') {
          if (refuse) return res.writeHead(503).end();
          logs.push(...decodeLogs(body));
        }
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    const collectdPort = await freePort();
    const agent = await startAgent('http', `http://127.0.0.1:${address.port}`, collectdPort, true);
    try {
      await sendNotifications(collectdPort, '127.0.0.1', ['first', 'second']);
      await until(() => agent.accounting.spilled >= 2, 'notifications spilled');
      assert.equal(logs.length, 0);
      refuse = false;
      await until(() => logs.length >= 2, 'notifications replayed to /v2/logs');
      assert.deepEqual(logs.map((r) => [r.body, r.severityText, r.resource['host.name']]), [['first', 'ERROR', 'web1'], ['second', 'ERROR', 'web1']]);
      assert.ok(!paths.includes('/v2/metrics') || paths.filter((p) => p === '/v2/logs').length >= 2);
    } finally {
      await agent.stop();
      server.close();
    }
  });

  it('gRPC LogsService/Export', async () => {
    const logs: DecodedRecord[] = [];
    const server = createH2Server();
    server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const frame = Buffer.concat(chunks);
        if (headers[h2.HTTP2_HEADER_PATH] === '/opentelemetry.proto.collector.logs.v1.LogsService/Export') logs.push(...decodeLogs(frame.subarray(5)));
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    const collectdPort = await freePort();
    const agent = await startAgent('grpc', `127.0.0.1:${address.port}`, collectdPort, false);
    try {
      await sendNotifications(collectdPort, '127.0.0.1', ['over grpc']);
      await until(() => logs.length >= 1, 'a logs request over gRPC');
      assert.deepEqual([logs[0].body, logs[0].severityNumber], ['over grpc', 17]);
    } finally {
      await agent.stop();
      server.close();
    }
  });
});
