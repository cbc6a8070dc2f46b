import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { defaultConfig } from '../../internal/config/defaults';
import { loadConfig } from '../../internal/config/load';
import { DURATION_PATHS, schemaAt } from '../../internal/config/schema';
import { getAt, isTree } from '../../internal/config/tree';
import { FIXTURES, REPO_ROOT } from '../support/paths';

/** Dot paths of every leaf (and free-form map) of the effective configuration. */
function leafPaths(node: unknown, prefix = ''): string[] {
  if (!isTree(node)) return [prefix];
  const map = schemaAt(prefix);
  if (prefix !== '' && map !== undefined && map.properties === undefined) return [prefix];
  return Object.entries(node).flatMap(([key, child]) => leafPaths(child, prefix ? `${prefix}.${key}` : key));
}

describe('config schema', () => {
  it('covers every key of the effective configuration', () => {
    const missing = leafPaths(defaultConfig()).filter((path) => schemaAt(path) === undefined);
    assert.deepEqual(missing, []);
  });

  it('declares durations exactly where the defaults hold milliseconds of time', () => {
    for (const path of DURATION_PATHS) {
      let value: unknown = defaultConfig();
      for (const key of path.split('.')) value = (value as Record<string, unknown>)[key];
      assert.equal(typeof value, 'number', path);
    }
    assert.ok(DURATION_PATHS.includes('collectors.system.interval'));
    assert.ok(DURATION_PATHS.includes('heartbeat.cloud_metadata.timeout'));
  });
});

describe('docs/CONFIGURATION.md', () => {
  it('mentions every key of the effective configuration', () => {
    const docs = readFileSync(join(REPO_ROOT, 'docs/CONFIGURATION.md'), 'utf8');
    const undocumented = leafPaths(defaultConfig()).filter((path) => {
      const name = path.split('.').pop() as string;
      return !new RegExp('`([\\w.]+\\.)?' + name + '`').test(docs);
    });
    assert.deepEqual(undocumented, []);
  });
});

describe('shipped configuration files', () => {
  const env = { HOME: '/nonexistent' };

  it('configs/tfo-agent.yaml loads without warnings and stays on this machine', () => {
    const { config, warnings } = loadConfig({ file: join(REPO_ROOT, 'configs/tfo-agent.yaml'), env, cwd: REPO_ROOT });
    assert.deepEqual(warnings, []);
    assert.equal(config.telemetryflow.endpoint, 'localhost:4317');
    assert.equal(config.telemetryflow.protocol, 'grpc');
    assert.equal(config.telemetryflow.tls.enabled, false);
    assert.equal(config.telemetryflow.api_key_secret, '');
    assert.equal(config.telemetryflow.backend_endpoint, '');
    assert.equal(config.heartbeat.cloud_metadata.enabled, false);
    assert.equal(config.agent.data_dir, './data');
    assert.equal(config.buffer.path, './data/buffer');
    assert.equal(config.health.address, '127.0.0.1:13133');
    assert.deepEqual([config.logging.level, config.logging.format], ['info', 'json']);
    assert.deepEqual([config.api.enabled, config.api.address, config.api.token, config.api.csv_dir], [true, '127.0.0.1:8443', '', 'data/csv']);
  });

  it('configs/tfo-agent.example.yaml sets every key and needs the credential variables', () => {
    assert.throws(() => loadConfig({ file: join(REPO_ROOT, 'configs/tfo-agent.example.yaml'), env }), /TELEMETRYFLOW_API_KEY_ID is required/);
    const { config, warnings } = loadConfig({
      file: join(REPO_ROOT, 'configs/tfo-agent.example.yaml'),
      env: { ...env, TELEMETRYFLOW_API_KEY_ID: 'tfk_x', TELEMETRYFLOW_API_KEY_SECRET: 'tfs_y' },
    });
    assert.deepEqual(warnings, []);
    assert.equal(config.telemetryflow.api_key_secret, 'tfs_y');
    const example = parse(readFileSync(join(REPO_ROOT, 'configs/tfo-agent.example.yaml'), 'utf8'));
    assert.deepEqual(leafPaths(defaultConfig()).filter((path) => getAt(example, path.split('.')) === undefined), []);
  });

  it('a TelemetryFlow Go agent file loads with the expected warnings', () => {
    const loaded = loadConfig({
      file: join(FIXTURES, 'config/telemetryflow-go-agent.yaml'),
      env: { ...env, TELEMETRYFLOW_API_KEY_ID: 'tfk_migrated', TELEMETRYFLOW_API_KEY_SECRET: 'tfs_migrated', TELEMETRYFLOW_CLUSTER: 'blue' },
    });
    assert.deepEqual(loaded.warnings.map((w) => w.path), [
      'api',
      'exporter.otlp.flush_interval',
      'agent.labels',
      'security',
      'auto_update',
      'retention',
      'resources',
      'cache',
      'integrations',
      'telemetryflow.tls.skip_verify',
    ]);
    const { telemetryflow, agent, collectors, exporter, buffer, logging } = loaded.config;
    assert.equal(telemetryflow.api_key_id, 'tfk_migrated');
    assert.equal(telemetryflow.api_key_secret, 'tfs_migrated');
    assert.equal(telemetryflow.endpoint, 'tfo-collector.internal:4317');
    assert.equal(telemetryflow.backend_endpoint, 'http://tfo-backend.internal:3100/api/v2');
    assert.equal(telemetryflow.tls.skip_verify, true, 'insecure_skip_verify is honoured');
    assert.equal(telemetryflow.retry.initial_interval, 500);
    assert.equal(telemetryflow.retry.max_interval, 60_000);
    assert.equal(agent.id, '', 'an empty TELEMETRYFLOW_AGENT_ID leaves the id to the host');
    assert.deepEqual(agent.tags, { environment: 'production', region: 'ap-southeast-3', cluster: 'blue', datacenter: 'dc01', rack: '12' });
    assert.deepEqual(collectors.system.disk_paths, ['/', '/var']);
    assert.equal(exporter.otlp.metrics_endpoint, '/v2/metrics');
    assert.equal(buffer.path, '/var/lib/tfo-agent/buffer');
    assert.equal(logging.level, 'info');
  });
});
