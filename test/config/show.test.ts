import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../internal/config/load';
import { renderConfigYaml, summarizeConfig } from '../../internal/config/show';
import { tempDir } from './temp';

const temp = tempDir();
const HOME = join(temp.dir, 'home');
const SECRET = 'tfs_the_real_secret_value';

function loadText(yaml: string, env: Record<string, string> = {}) {
  return loadConfig({ file: temp.write(`c-${Math.random().toString(36).slice(2)}.yaml`, yaml), env: { HOME, ...env }, cwd: temp.dir });
}

describe('renderConfigYaml', () => {
  it('prints the effective config in the file layout with Go durations', () => {
    const loaded = loadText('collectors:\n  system:\n    interval: 90s\nbuffer:\n  max_age: 36h\n', { TELEMETRYFLOW_AGENT_NAME: 'from-env' });
    const shown = parse(renderConfigYaml(loaded.config));
    assert.equal(shown.collectors.system.interval, '1m30s');
    assert.equal(shown.buffer.max_age, '36h');
    assert.equal(shown.heartbeat.interval, '1m');
    assert.equal(shown.agent.name, 'from-env');
    assert.equal(shown.telemetryflow.endpoint, 'localhost:4317');
  });

  it('loads back to the same configuration', () => {
    const loaded = loadText('telemetryflow:\n  retry: {initial_interval: 1.5s}\nexporter:\n  otlp:\n    headers: {X-Team: ops}\n');
    const again = loadText(renderConfigYaml(loaded.config));
    assert.deepEqual(again.config, loaded.config);
  });

  it('masks the secret and credential-like headers, whatever their source', () => {
    const loaded = loadText(
      'telemetryflow:\n  api_key_id: tfk_visible\n  api_key_secret: "${S}"\nexporter:\n  otlp:\n    headers:\n      Authorization: Bearer tok_1\n      X-Api-Key: key_2\n      X-Team: ops\n',
      { S: SECRET, OTEL_EXPORTER_OTLP_HEADERS: 'x-auth-token=tok_3' },
    );
    const text = renderConfigYaml(loaded.config);
    for (const leaked of [SECRET, 'tok_1', 'key_2', 'tok_3']) assert.equal(text.includes(leaked), false, leaked);
    const shown = parse(text);
    assert.equal(shown.telemetryflow.api_key_secret, '***');
    assert.equal(shown.telemetryflow.api_key_id, 'tfk_visible');
    assert.deepEqual(shown.exporter.otlp.headers, { Authorization: '***', 'X-Api-Key': '***', 'X-Team': 'ops', 'x-auth-token': '***' });
    assert.equal(loaded.config.telemetryflow.api_key_secret, SECRET, 'the loaded config itself is not altered');
  });

  it('masks a URL password under any key, not only the endpoints', () => {
    const loaded = loadText(
      'telemetryflow:\n  backend_endpoint: http://api:pw_a@127.0.0.1:3100/api/v2\nheartbeat:\n  cloud_metadata: {base_url: "http://meta:pw_b@127.0.0.1:9"}\nagent:\n  tags: {wiki: "https://tok_c@wiki.example.com/x"}\n',
    );
    const text = renderConfigYaml(loaded.config);
    for (const leaked of ['pw_a', 'pw_b', 'tok_c']) assert.equal(text.includes(leaked), false, `${leaked} in\n${text}`);
    const shown = parse(text);
    assert.equal(shown.heartbeat.cloud_metadata.base_url, 'http://meta:***@127.0.0.1:9');
    assert.equal(shown.agent.tags.wiki, 'https://***@wiki.example.com/x');
    assert.equal(shown.telemetryflow.backend_endpoint, 'http://api:***@127.0.0.1:3100/api/v2');
  });

  it('prints one mask whatever the secret length, and an empty secret as empty', () => {
    const short = parse(renderConfigYaml(loadText('telemetryflow: {api_key_secret: a}\n').config));
    const long = parse(renderConfigYaml(loadText(`telemetryflow: {api_key_secret: ${'x'.repeat(80)}}\n`).config));
    assert.equal(short.telemetryflow.api_key_secret, long.telemetryflow.api_key_secret);
    assert.equal(parse(renderConfigYaml(loadText('').config)).telemetryflow.api_key_secret, '');
  });
});

describe('summarizeConfig', () => {
  it('shows where data goes, what is collected and the warnings, without the secret', () => {
    const loaded = loadText(
      [
        'telemetryflow:',
        '  endpoint: http://127.0.0.1:4318',
        '  protocol: http',
        '  backend_endpoint: http://127.0.0.1:3100/api/v2',
        '  api_key_id: tfk_shown',
        `  api_key_secret: ${SECRET}`,
        'collectors:',
        '  system: {interval: 30s, disk: false, network: false, paging: false, filesystem: false, processes: false, pressure: false}',
        'exporter: {otlp: {endpoint_version: v1}}',
        'buffer: {enabled: false}',
        'security: {}',
      ].join('\n'),
    );
    const summary = summarizeConfig(loaded);
    assert.equal(summary.includes(SECRET), false);
    assert.match(summary, /export: +http:\/\/127\.0\.0\.1:4318 \(http, plaintext, gzip, path \/v1\/metrics\)/);
    assert.match(summary, /credentials: +key id tfk_shown, secret set/);
    assert.match(summary, /collectors: +system every 30s \(semconv\): cpu, memory, load, system\n/);
    assert.match(summary, /buffer: +off/);
    assert.match(summary, /heartbeat: +every 1m to http:\/\/127\.0\.0\.1:3100\/api\/v2/);
    assert.match(summary, /warnings \(1\):\n  - security: section is ignored/);
    assert.ok(summary.split('\n').length <= 24, 'fits on one screen');
  });

  it('shows where the collectd receiver\'s log records go: beside the metrics, or their own target', () => {
    const receiver = 'receivers: {collectd: {enabled: true, listen: ["127.0.0.1:0"]}}\n';
    assert.doesNotMatch(summarizeConfig(loadText('')), /logs: /, 'nothing makes log records');
    const beside = summarizeConfig(loadText(`telemetryflow: {endpoint: "http://127.0.0.1:4318", protocol: http}\n${receiver}`));
    assert.match(beside, /logs: +http:\/\/127\.0\.0\.1:4318\/v2\/logs \(http, plaintext, gzip\)/);
    const own = summarizeConfig(loadText(`exporter: {otlp: {logs: {endpoint: "https://logs.example:4318/ingest/logs", protocol: http, compression: none}}}\n${receiver}`));
    assert.match(own, /logs: +https:\/\/logs\.example:4318\/ingest\/logs \(http, TLS, none\)/);
  });

  it('says when the heartbeat is off and no file was found', () => {
    const summary = summarizeConfig({ ...loadText(''), file: undefined });
    assert.match(summary, /config file: +none found/);
    assert.match(summary, /heartbeat: +off \(no telemetryflow\.backend_endpoint\)/);
    assert.match(summary, /warnings: +none/);
  });
});
