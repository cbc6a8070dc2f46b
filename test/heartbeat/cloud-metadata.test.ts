import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SystemInfo } from '../../pkg/heartbeat';
import { HostFs } from '../../internal/procfs/host';
import type { HeartbeatConfig } from '../../internal/config/types';
import { startHeartbeat } from '../../internal/heartbeat/start';
import { fetchCloudMetadata, lookupCloudMetadata } from '../../internal/heartbeat/cloud-metadata';
import { SystemInfoBuilder } from '../../internal/heartbeat/system-info';
import { silentLogger } from '../../internal/log/logger';
import { startFakeCloudMetadata, type FakeCloudMetadata } from '../support/fake-cloud-metadata';
import { startFakeTelemetryFlowApi } from '../support/fake-telemetryflow-api';
import { FIXTURES } from '../support/paths';
import { captureLogger, heartbeatConfig, tempDir } from './helpers';

const INSTANCE = { id: '4815162342108', type: 'n2-standard-4', region: 'europe-west1', zone: 'europe-west1-b' };

const settings = (baseUrl: string, provider: HeartbeatConfig['cloud_metadata']['provider'], enabled = true): HeartbeatConfig['cloud_metadata'] => ({
  enabled,
  provider,
  base_url: baseUrl,
  timeout: 2000,
});

/**
 * This machine's /proc and /sys, with the DMI of a cloud provider's VM laid over: a host root on
 * which detection finds that cloud while every number still comes from the real kernel files.
 */
function cloudHostRoot(dmiFixture: string): { root: string; remove: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'tfo-cloud-host-'));
  symlinkSync('/proc', join(root, 'proc'));
  symlinkSync('/etc', join(root, 'etc'));
  mkdirSync(join(root, 'sys', 'class'), { recursive: true });
  for (const dir of ['block', 'devices']) symlinkSync(`/sys/${dir}`, join(root, 'sys', dir));
  symlinkSync('/sys/class/net', join(root, 'sys', 'class', 'net'));
  cpSync(join(FIXTURES, 'heartbeat', dmiFixture, 'sys', 'class', 'dmi'), join(root, 'sys', 'class', 'dmi'), { recursive: true });
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

describe('cloud metadata through loopback fakes', () => {
  let fake: FakeCloudMetadata;
  before(async () => {
    fake = await startFakeCloudMetadata(INSTANCE);
  });
  after(async () => {
    await fake.close();
  });

  it('AWS: IMDSv2 token first, then the identity document with it', async () => {
    const before = fake.requests.length;
    assert.deepEqual(await fetchCloudMetadata('aws', fake.baseUrl, 2000), {
      provider: 'aws', instanceId: INSTANCE.id, instanceType: INSTANCE.type, region: INSTANCE.region, zone: INSTANCE.zone,
    });
    const made = fake.requests.slice(before);
    assert.deepEqual(made.map((r) => `${r.method} ${r.status}`), ['PUT 200', 'GET 200']);
  });

  it('GCP: Metadata-Flavor header, zone and type reduced to their names, region from the zone', async () => {
    assert.deepEqual(await fetchCloudMetadata('gcp', fake.baseUrl, 2000), {
      provider: 'gcp', instanceId: INSTANCE.id, instanceType: INSTANCE.type, region: INSTANCE.region, zone: INSTANCE.zone,
    });
  });

  it('Azure: Metadata: true and an api-version', async () => {
    assert.deepEqual(await fetchCloudMetadata('azure', fake.baseUrl, 2000), {
      provider: 'azure', instanceId: INSTANCE.id, instanceType: INSTANCE.type, region: INSTANCE.region, zone: INSTANCE.zone,
    });
  });

  it('is asked once per process and answered from the cache afterwards', async () => {
    const first = await lookupCloudMetadata(settings(fake.baseUrl, 'azure'), undefined, silentLogger());
    const count = fake.requests.length;
    const second = await lookupCloudMetadata(settings(fake.baseUrl, 'azure'), undefined, silentLogger());
    assert.deepEqual(second, first);
    assert.equal(fake.requests.length, count);
  });

  it('is never asked when the feature is off, or when auto has no provider from DMI', async () => {
    const count = fake.requests.length;
    assert.equal(await lookupCloudMetadata(settings(fake.baseUrl, 'aws', false), 'aws', silentLogger()), undefined);
    assert.equal(await lookupCloudMetadata(settings(`${fake.baseUrl}/other`, 'auto'), undefined, silentLogger()), undefined);
    assert.equal(fake.requests.length, count);
  });

  it('a failing service gives undefined and one warning, not an exception', async () => {
    const log = captureLogger();
    // The fake answers 404 under this prefix: a reachable service that is not a metadata service.
    const result = await lookupCloudMetadata(settings(`${fake.baseUrl}/nothing-here/`, 'gcp'), undefined, log.logger);
    assert.equal(result, undefined);
    assert.equal(log.events().filter((e) => e.event === 'heartbeat.cloud_metadata_failed').length, 1);
  });

  it('fills cloudInstanceType, region and zone of the payload when enabled (auto from AWS DMI)', async () => {
    const host = cloudHostRoot('aws');
    try {
      const config = heartbeatConfig('', '/nonexistent', (c) => (c.heartbeat.cloud_metadata = settings(fake.baseUrl, 'auto')));
      const builder = new SystemInfoBuilder({ config, logger: silentLogger(), host: new HostFs(host.root) });
      const { systemInfo } = await builder.build();
      assert.equal(systemInfo.cloudProvider, 'aws');
      assert.equal(systemInfo.cloudInstanceId, INSTANCE.id, 'the metadata service wins over DMI');
      assert.equal(systemInfo.cloudInstanceType, INSTANCE.type);
      assert.equal(systemInfo.cloudRegion, INSTANCE.region);
      assert.equal(systemInfo.cloudZone, INSTANCE.zone);
    } finally {
      host.remove();
    }
  });
});

describe('with cloud metadata off, no request leaves loopback', () => {
  it('a heartbeat on an AWS-looking host connects to the fake API only', async () => {
    const destinations: string[] = [];
    const connect = Socket.prototype.connect;
    // Every TCP connection Node makes (http, https, fetch) goes through Socket#connect.
    Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
      // net.createConnection passes its normalized [options, callback] pair as one argument.
      const given = Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
      const first = given[0] as { host?: string; port?: number; path?: string } | number | string;
      destinations.push(typeof first === 'object' && first !== null ? `${first.host ?? first.path}:${first.port ?? ''}` : `${String(given[1] ?? 'localhost')}:${String(first)}`);
      return (connect as (...a: unknown[]) => Socket).apply(this, args);
    } as typeof Socket.prototype.connect;
    const api = await startFakeTelemetryFlowApi();
    const host = cloudHostRoot('aws');
    const data = tempDir();
    try {
      const config = heartbeatConfig(api.url, data.path, (c) => (c.heartbeat.register = true));
      assert.equal(config.heartbeat.cloud_metadata.enabled, false, 'off by default');
      const hb = startHeartbeat({ config, agentId: 'a1', logger: silentLogger(), host: new HostFs(host.root), firstDelayMs: 50 });
      await api.waitFor((r) => r.length >= 2);
      await hb.stop();
      const body = (api.heartbeats()[0]!.body as { systemInfo: SystemInfo }).systemInfo;
      assert.equal(body.cloudProvider, 'aws', 'DMI detection still works without the network');
      assert.equal(body.cloudZone, undefined);
      const port = new URL(api.url).port;
      // At least the API's own connection was seen (keep-alive may carry both requests on one).
      assert.ok(destinations.length >= 1);
      assert.deepEqual([...new Set(destinations)], [`127.0.0.1:${port}`]);
    } finally {
      Socket.prototype.connect = connect;
      await api.close();
      host.remove();
      data.remove();
    }
  });
});
