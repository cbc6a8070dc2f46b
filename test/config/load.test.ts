import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../internal/config/defaults';
import { ConfigError, MAX_LISTED_PROBLEMS, type ConfigProblem } from '../../internal/config/errors';
import { CONFIG_LIMITS, loadConfig, type LoadOptions } from '../../internal/config/load';
import { renderConfigYaml } from '../../internal/config/show';
import { FIXTURES } from '../support/paths';
import { tempDir } from './temp';

const temp = tempDir();
const HOME = join(temp.dir, 'home');

/** Loads `yaml` as an explicit file with only `env` in the environment. */
function load(yaml: string, env: Record<string, string> = {}, options: Partial<LoadOptions> = {}) {
  const file = temp.write(`case-${Math.random().toString(36).slice(2)}.yaml`, yaml);
  return loadConfig({ file, env: { HOME, ...env }, cwd: temp.dir, ...options });
}

/** Problems or warnings without their file line, for comparing what was found. */
function withoutLines<T extends { line?: number }>(items: T[]): Omit<T, 'line'>[] {
  return items.map(({ line: _line, ...rest }) => rest);
}

function sortByPath<T extends { path: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => a.path.localeCompare(b.path));
}

/** The ConfigError a load throws; fails the test when it does not throw one. */
function problemsOf(run: () => unknown): { problems: ConfigProblem[]; message: string; error: ConfigError } {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return { problems: withoutLines(error.problems), message: error.message, error };
  }
  assert.fail('expected a ConfigError');
}

describe('config file lookup', () => {
  it('takes ./tfo-agent.yaml before ./configs/tfo-agent.yaml', () => {
    const project = tempDir();
    project.write('configs/tfo-agent.yaml', 'agent: {name: from-configs}\n');
    assert.equal(loadConfig({ cwd: project.dir, env: { HOME } }).config.agent.name, 'from-configs');
    const top = project.write('tfo-agent.yaml', 'agent: {name: from-top}\n');
    const loaded = loadConfig({ cwd: project.dir, env: { HOME } });
    assert.equal(loaded.config.agent.name, 'from-top');
    assert.equal(loaded.file, top);
  });

  it('falls back to ~/.tfo-agent/tfo-agent.yaml', { skip: existsSync('/etc/tfo-agent/tfo-agent.yaml') && 'this machine has /etc/tfo-agent/tfo-agent.yaml' }, () => {
    const home = tempDir();
    const file = home.write('.tfo-agent/tfo-agent.yaml', 'agent: {name: from-home}\n');
    const loaded = loadConfig({ cwd: tempDir().dir, env: { HOME: home.dir } });
    assert.equal(loaded.file, file);
    assert.equal(loaded.config.agent.name, 'from-home');
  });

  it('uses defaults and environment with a warning when no file is found', { skip: existsSync('/etc/tfo-agent/tfo-agent.yaml') && 'this machine has /etc/tfo-agent/tfo-agent.yaml' }, () => {
    const loaded = loadConfig({ cwd: tempDir().dir, env: { HOME, TELEMETRYFLOW_AGENT_NAME: 'env-only' } });
    assert.equal(loaded.file, undefined);
    assert.equal(loaded.config.agent.name, 'env-only');
    assert.equal(loaded.config.collectors.system.interval, 15_000);
    assert.match(loaded.warnings[0].message, /none found \(looked in .*tfo-agent\.yaml.*\); using defaults and environment/);
  });

  it('rejects an explicit file that does not exist', () => {
    const missing = join(temp.dir, 'nope.yaml');
    const { problems, message } = problemsOf(() => loadConfig({ file: missing, env: { HOME } }));
    assert.equal(problems.length, 1);
    assert.equal(problems[0].path, missing);
    assert.match(message, /does not exist/);
  });

  it('resolves a relative explicit file against cwd', () => {
    temp.write('relative/agent.yaml', 'agent: {name: relative}\n');
    const loaded = loadConfig({ file: 'relative/agent.yaml', cwd: temp.dir, env: { HOME } });
    assert.equal(loaded.config.agent.name, 'relative');
    assert.equal(loaded.file, join(temp.dir, 'relative/agent.yaml'));
  });
});

describe('YAML syntax and shape', () => {
  it('reports syntax errors with line and column', () => {
    const { problems } = problemsOf(() => load('agent:\n  name: ok\n  tags: [a, b\nlogging:\n  level: info\n'));
    assert.ok(problems.length >= 1);
    assert.match(problems[0].message, /^YAML syntax error at line \d+, column \d+: /);
    assert.match(problems[0].path, /\.yaml:\d+:\d+$/);
  });

  it('reports a tab indentation at its exact position', () => {
    const { problems } = problemsOf(() => load('agent:\n  name: a\n\tid: b\n'));
    assert.match(problems[0].message, /at line 3, column 1: Tabs are not allowed/);
  });

  it('reports duplicate keys', () => {
    const { problems } = problemsOf(() => load('agent:\n  name: a\n  name: b\n'));
    assert.match(problems[0].message, /line 3, column 3: Map keys must be unique/);
  });

  it('does not quote the source line, which may hold a secret', () => {
    const { message } = problemsOf(() => load('telemetryflow:\n  api_key_secret: tfs_literal_secret\n   bad: [\n'));
    assert.doesNotMatch(message, /tfs_literal_secret/);
  });

  it('rejects a top level that is not a mapping', () => {
    const { message } = problemsOf(() => load('- a\n- b\n'));
    assert.match(message, /top level must be a mapping/);
  });

  it('treats an empty file and empty values as defaults', () => {
    const expected = defaultConfig();
    expected.api.csv_dir = '/var/lib/tfo-agent/csv';
    assert.deepEqual(load('').config, { ...expected, host_root: '/' });
    const loaded = load('agent:\n  name:\n  tags:\ncollectors:\n  system:\n    interval:\n');
    assert.equal(loaded.config.agent.name, 'TelemetryFlow Agent');
    assert.deepEqual(loaded.config.agent.tags, { environment: 'production' });
    assert.equal(loaded.config.collectors.system.interval, 15_000);
  });
});

describe('bounds on what a file may ask of the loader', () => {
  it('rejects an alias inside the node it names, which would be an infinite tree', () => {
    for (const yaml of ['a: &t {x: *t}\n', 'agent:\n  tags: &t\n    self: *t\n', 'x: &l [1, [2, *l]]\n']) {
      const { problems } = problemsOf(() => load(yaml));
      assert.equal(problems.length, 1, yaml);
      assert.match(problems[0].message, /^alias \*[tl] refers to a node that contains it/, yaml);
      assert.match(problems[0].path, /:\d+:\d+$/, 'names the position');
    }
  });

  it('still accepts an alias to an earlier node', () => {
    const { config } = load('agent:\n  tags: &t {team: ops}\n  resource_attributes: *t\n');
    assert.deepEqual(config.agent.resource_attributes, { team: 'ops' });
  });

  it('rejects an alias that expands exponentially (billion laughs)', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i += 1) {
      const name = String.fromCharCode(97 + i);
      const previous = String.fromCharCode(96 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
    }
    const { problems } = problemsOf(() => load(levels.join('\n') + '\n'));
    assert.match(problems[0].message, /cannot be loaded: Excessive alias count/);
  });

  it('rejects more aliases than a configuration needs', () => {
    const lines = ['base: &b 1', ...Array.from({ length: CONFIG_LIMITS.maxAliases + 1 }, (_, i) => `k${i}: *b`)];
    const { problems } = problemsOf(() => load(lines.join('\n') + '\n'));
    assert.match(problems[0].message, new RegExp(`more than ${CONFIG_LIMITS.maxAliases} aliases`));
  });

  it('rejects nesting deeper than the limit', () => {
    const deep = `a: ${'['.repeat(CONFIG_LIMITS.maxDepth + 2)}${']'.repeat(CONFIG_LIMITS.maxDepth + 2)}\n`;
    const { problems } = problemsOf(() => load(deep));
    assert.match(problems[0].message, new RegExp(`nested deeper than ${CONFIG_LIMITS.maxDepth} levels`));
  });

  it('rejects a file over the size limit before parsing it', () => {
    const { problems } = problemsOf(() => load(`# ${'x'.repeat(CONFIG_LIMITS.maxBytes)}\n`));
    assert.match(problems[0].message, new RegExp(`config file is ${CONFIG_LIMITS.maxBytes + 3} bytes; the limit is ${CONFIG_LIMITS.maxBytes}`));
  });

  it('reads a device or a pipe that reports no size only up to the limit', () => {
    const { problems } = problemsOf(() => loadConfig({ file: '/dev/zero', env: { HOME } }));
    assert.deepEqual(problems, [{ path: '/dev/zero', message: `config file is longer than the limit of ${CONFIG_LIMITS.maxBytes} bytes (1 MiB)` }]);
  });

  it('lists the first 50 unknown keys and counts the rest in one warning', () => {
    const yaml = Array.from({ length: 5000 }, (_, i) => `stray_${i}: ${i}`).join('\n') + '\n';
    const { warnings } = load(yaml);
    const unknown = warnings.filter((w) => w.message.startsWith('unknown key'));
    assert.equal(unknown.length, 50);
    assert.equal(unknown[49].line, 50, 'lines still found');
    assert.ok(warnings.some((w) => w.message === '4950 more unknown keys, ignored (only the first 50 are listed)'));
  });

  it('reports a duplicate key in a flow mapping and in a nested section', () => {
    const { problems } = problemsOf(() => load('agent: {name: a, name: b}\nbuffer:\n  enabled: true\n  enabled: false\n'));
    assert.deepEqual(problems.map((p) => p.message), ['YAML syntax error at line 1, column 18: Map keys must be unique', 'YAML syntax error at line 4, column 3: Map keys must be unique']);
  });
});

describe('schema validation', () => {
  it('lists the first 50 problems and counts the rest', () => {
    const headers = Array.from({ length: 3000 }, (_, i) => `      X-H${i}: {a: b}`).join('\n');
    const { problems, message, error } = problemsOf(() => load(`exporter:\n  otlp:\n    headers:\n${headers}\n`));
    assert.equal(problems.length, MAX_LISTED_PROBLEMS + 1);
    assert.deepEqual(problems[0], { path: 'exporter.otlp.headers.X-H0', value: { a: 'b' }, message: 'must be a string' });
    assert.deepEqual(problems[MAX_LISTED_PROBLEMS], { path: error.file, message: `${3000 - MAX_LISTED_PROBLEMS} more problems, not listed` });
    assert.match(message, /: 3000 problems\n/);
    assert.equal(message.split('\n').length, 1 + MAX_LISTED_PROBLEMS + 1);
  });

  it('quotes a long value only in part, with its length', () => {
    const { message } = problemsOf(() => load(`telemetryflow:\n  protocol: ${'g'.repeat(5000)}\n`));
    assert.match(message, /telemetryflow\.protocol: "g{199}… \(5002 characters\) must be one of/);
    assert.ok(message.length < 1000, `${message.length} characters`);
  });

  it('names the key path, the value and a duration example', () => {
    const { problems, message } = problemsOf(() => load('collectors:\n  system:\n    interval: 5\n'));
    assert.deepEqual(problems, [{ path: 'collectors.system.interval', value: '5', message: 'is not a duration, e.g. "15s"' }]);
    assert.match(message, /collectors\.system\.interval: "5" is not a duration, e.g\. "15s"/);
  });

  it('rejects negative durations', () => {
    const { problems } = problemsOf(() => load('telemetryflow:\n  timeout: -5s\n'));
    assert.deepEqual(problems, [{ path: 'telemetryflow.timeout', value: '-5s', message: 'must not be negative' }]);
  });

  it('lists the allowed values of an enum', () => {
    const { problems } = problemsOf(() => load('telemetryflow:\n  protocol: grcp\nexporter:\n  otlp:\n    compression: zstd\n'));
    assert.deepEqual(problems, [
      { path: 'telemetryflow.protocol', value: 'grcp', message: 'must be one of: grpc, http' },
      { path: 'exporter.otlp.compression', value: 'zstd', message: 'must be one of: gzip, none' },
    ]);
  });

  it('explains wrong types and out-of-range numbers', () => {
    const { problems } = problemsOf(() => load('buffer:\n  enabled: maybe\n  max_size_mb: 0\n  replay_rate: 1.5\nagent:\n  tags: [a]\n'));
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
    assert.equal(byPath['buffer.enabled'], 'must be true or false');
    assert.equal(byPath['buffer.max_size_mb'], 'must be at least 1');
    assert.equal(byPath['buffer.replay_rate'], 'must be a whole number');
    assert.equal(byPath['agent.tags'], 'must be a mapping of keys to values');
  });

  it('names the key, the value and what was expected for a bad include_virtual_filesystems', () => {
    const { problems } = problemsOf(() => load('collectors:\n  system:\n    filesystem_options:\n      include_virtual_filesystems: sometimes\n'));
    assert.deepEqual(problems, [{ path: 'collectors.system.filesystem_options.include_virtual_filesystems', value: 'sometimes', message: 'must be true or false' }]);
  });

  it('reads YAML 1.1 booleans (yes, no, on, off) where a boolean is expected, as the Go agent did', () => {
    const loaded = load('buffer:\n  enabled: no\ncollectors:\n  system:\n    cpu: Off\n    memory: yes\nagent:\n  name: "yes"\n');
    assert.equal(loaded.config.buffer.enabled, false);
    assert.equal(loaded.config.collectors.system.cpu, false);
    assert.equal(loaded.config.collectors.system.memory, true);
    assert.equal(loaded.config.agent.name, 'yes', 'strings stay strings');
  });

  it('coerces quoted scalars where the schema is unambiguous', () => {
    const loaded = load('buffer:\n  enabled: "false"\n  max_size_mb: "250"\ncollectors:\n  system:\n    disk_paths: /\nagent:\n  tags:\n    rack: 12\n');
    assert.equal(loaded.config.buffer.enabled, false);
    assert.equal(loaded.config.buffer.max_size_mb, 250);
    assert.deepEqual(loaded.config.collectors.system.disk_paths, ['/']);
    assert.equal(loaded.config.agent.tags.rack, '12');
  });

  it('reports all problems at once, schema and semantic together', () => {
    const { problems } = problemsOf(() =>
      load(
        [
          'telemetryflow:',
          '  protocol: quic',
          '  backend_endpoint: tfo-backend:3100',
          '  tls: {cert_file: client.crt}',
          'heartbeat: {interval: 500ms}',
          'collectors: {system: {interval: soon}}',
          'logging: {level: loud}',
          'health: {address: "13133"}',
          'agent: {id: "${NO_SUCH_VAR:?agent id required}"}',
        ].join('\n'),
      ),
    );
    assert.deepEqual(problems.map((p) => p.path).sort(), [
      'agent.id',
      'collectors.system.interval',
      'health.address',
      'heartbeat.interval',
      'logging.level',
      'telemetryflow.backend_endpoint',
      'telemetryflow.protocol',
      'telemetryflow.tls.cert_file',
      'telemetryflow.tls.key_file',
    ]);
  });
});

describe('file lines', () => {
  it('point each problem and warning at its key in the file, but not values from elsewhere', () => {
    const yaml = ['agent:', '  name: ok', 'collectors:', '  system:', '    intervl: 3s', '    interval: 5', 'logging:', '  level: info', 'security: {}'].join('\n');
    const { error } = problemsOf(() => load(yaml, { TELEMETRYFLOW_LOG_FORMAT: 'xml' }));
    assert.deepEqual(error.problems.map((p) => [p.path, p.line]), [
      ['collectors.system.interval', 6],
      ['logging.format', undefined],
    ]);
    assert.deepEqual(error.warnings.map((w) => [w.path, w.line]), [
      ['collectors.system.intervl', 5],
      ['security', 9],
    ]);
    assert.match(error.message, /collectors\.system\.interval: "5" is not a duration, e\.g\. "15s" \(line 6\)/);
  });

  it('find map keys that contain dots', () => {
    const { error } = problemsOf(() => load('agent:\n  resource_attributes:\n    service.name: [a, b]\n'));
    assert.deepEqual(error.problems.map((p) => [p.path, p.line]), [['agent.resource_attributes.service.name', 3]]);
  });
});

describe('unknown keys', () => {
  it('warn with a did-you-mean suggestion from the sibling keys', () => {
    const loaded = load('collectors:\n  system:\n    intervl: 30s\n    perCpu: true\ntelemetryflow:\n  tls:\n    skipVerify: true\nloging:\n  level: debug\n');
    assert.deepEqual(sortByPath(withoutLines(loaded.warnings)), [
      { path: 'collectors.system.intervl', message: 'unknown key, ignored; did you mean "interval"?' },
      { path: 'collectors.system.perCpu', message: 'unknown key, ignored' },
      { path: 'loging', message: 'unknown key, ignored; did you mean "logging"?' },
      { path: 'telemetryflow.tls.skipVerify', message: 'unknown key, ignored; did you mean "skip_verify"?' },
    ]);
    assert.equal(loaded.config.collectors.system.interval, 15_000, 'the misspelt key does not take effect');
  });
});

describe('inert sections', () => {
  it('load with one warning each saying they are ignored', () => {
    const sections = ['security', 'auto_update', 'retention', 'resources', 'cache', 'integrations'];
    const loaded = load(sections.map((s) => `${s}:\n  enabled: true\n  nested: {deep: [1, 2]}\n`).join(''));
    assert.deepEqual(loaded.warnings.map((w) => w.path), sections);
    for (const warning of loaded.warnings) assert.match(warning.message, /ignored/);
  });

  it("the Go agent's backend keys in api: are dropped with one warning; the local API keys stay", () => {
    const loaded = load('api:\n  endpoint: http://backend:3100\n  api_key_id: tfk_x\n  api_key_secret: tfs_x\n  ring_size: 60\n');
    assert.deepEqual(loaded.warnings.map((w) => w.path), ['api']);
    assert.match(loaded.warnings[0].message, /api\.endpoint, api\.api_key_id, api\.api_key_secret: .*use telemetryflow\.backend_endpoint/);
    assert.doesNotMatch(loaded.warnings[0].message, /tfs_x/);
    assert.equal(loaded.config.api.ring_size, 60);
  });

  it('collectors.logs loads silently when off and warns when enabled', () => {
    assert.deepEqual(load('collectors:\n  logs:\n    enabled: false\n    paths: [/var/log/syslog]\n').warnings, []);
    const loaded = load('collectors:\n  logs:\n    enabled: true\n    paths: [/var/log/syslog]\n');
    assert.deepEqual(withoutLines(loaded.warnings), [{ path: 'collectors.logs', message: 'log collection is not implemented yet; collectors.logs is ignored' }]);
  });
});

describe('TLS settings', () => {
  it('accepts insecure_skip_verify as an alias of skip_verify', () => {
    const loaded = load('telemetryflow:\n  tls:\n    insecure_skip_verify: true\n');
    assert.equal(loaded.config.telemetryflow.tls.skip_verify, true);
    assert.equal('insecure_skip_verify' in loaded.config.telemetryflow.tls, false);
    assert.ok(loaded.warnings.some((w) => w.path === 'telemetryflow.tls.skip_verify'));
  });

  it('rejects skip_verify and insecure_skip_verify that disagree', () => {
    const { problems } = problemsOf(() => load('telemetryflow:\n  tls:\n    insecure_skip_verify: true\n    skip_verify: false\n'));
    assert.equal(problems[0].path, 'telemetryflow.tls.insecure_skip_verify');
    assert.match(problems[0].message, /contradicts telemetryflow\.tls\.skip_verify/);
  });

  it('requires CA and client files to exist and be readable, relative to cwd', () => {
    const { problems } = problemsOf(() => load('telemetryflow:\n  tls:\n    ca_file: missing-ca.pem\n'));
    assert.deepEqual(problems, [{ path: 'telemetryflow.tls.ca_file', value: 'missing-ca.pem', message: 'must be a readable file (ENOENT)' }]);
    const fixture = (name: string): string => readFileSync(join(FIXTURES, 'tls', name), 'utf8');
    temp.write('certs/ca.pem', fixture('ca.crt'));
    temp.write('certs/client.crt', fixture('client.crt'));
    temp.write('certs/client.key', fixture('client.key'));
    const loaded = load('telemetryflow:\n  tls:\n    ca_file: certs/ca.pem\n    cert_file: certs/client.crt\n    key_file: certs/client.key\n');
    assert.equal(loaded.config.telemetryflow.tls.ca_file, 'certs/ca.pem');
    const dir = problemsOf(() => load('telemetryflow:\n  tls:\n    ca_file: certs\n'));
    assert.match(dir.problems[0].message, /must be a readable file/);
  });

  it('requires cert_file and key_file together', () => {
    temp.write('certs/only.crt', 'x\n');
    const { problems } = problemsOf(() => load('telemetryflow:\n  tls:\n    cert_file: certs/only.crt\n'));
    assert.deepEqual(problems, [{ path: 'telemetryflow.tls.key_file', message: 'cert_file and key_file must be set together (client certificate for mTLS)' }]);
  });

  it('checks the local API\'s certificate files as it checks the exporter\'s: together, readable, a pair that loads', () => {
    const tlsDir = join(FIXTURES, 'tls');
    const api = (files: string) => `api: {enabled: true, address: "127.0.0.1:0", csv_dir: "${join(temp.dir, 'api-csv')}", tls: {${files}}}\n`;
    const good = load(api(`cert_file: ${join(tlsDir, 'server.crt')}, key_file: ${join(tlsDir, 'server.key')}`));
    assert.equal(good.config.api.tls.cert_file, join(tlsDir, 'server.crt'));
    assert.deepEqual(problemsOf(() => load(api(`cert_file: ${join(tlsDir, 'server.crt')}`))).problems, [
      { path: 'api.tls.key_file', message: "cert_file and key_file must be set together (the listener's certificate)" },
    ]);
    const mismatched = problemsOf(() => load(api(`cert_file: ${join(tlsDir, 'server.crt')}, key_file: ${join(tlsDir, 'client.key')}`))).problems;
    assert.deepEqual(mismatched.map((p) => p.path), ['api.tls.cert_file']);
    assert.match(mismatched[0].message, /and key_file must hold a PEM certificate and its private key/);
    const missing = problemsOf(() => load(api(`cert_file: ${join(tlsDir, 'server.crt')}, key_file: /nonexistent/api.key`))).problems;
    assert.deepEqual(missing.map((p) => [p.path, p.message]), [['api.tls.key_file', 'must be a readable file (ENOENT)']]);
  });

  it('lets an http:// or https:// endpoint decide tls.enabled, warning on a contradiction', () => {
    const plain = load('telemetryflow:\n  protocol: http\n  endpoint: http://127.0.0.1:4318\n');
    assert.equal(plain.config.telemetryflow.tls.enabled, false);
    assert.deepEqual(plain.warnings, []);
    const contradicted = load('telemetryflow:\n  protocol: http\n  endpoint: https://127.0.0.1:4318\n  tls: {enabled: false}\n');
    assert.equal(contradicted.config.telemetryflow.tls.enabled, true);
    assert.match(contradicted.warnings[0].message, /endpoint's scheme wins/);
    assert.equal(load('telemetryflow:\n  endpoint: 127.0.0.1:4317\n  tls: {enabled: false}\n').config.telemetryflow.tls.enabled, false);
  });
});

describe('semantic checks', () => {
  it('requires heartbeat.interval of at least 1s', () => {
    assert.equal(load('heartbeat: {interval: 1s}\n').config.heartbeat.interval, 1000);
    const { problems } = problemsOf(() => load('heartbeat: {interval: 999ms}\n'));
    assert.deepEqual(problems, [{ path: 'heartbeat.interval', value: '999ms', message: 'must be at least "1s"' }]);
  });

  it('rejects durations longer than a Node.js timer holds, except buffer.max_age', () => {
    assert.equal(load('collectors: {system: {interval: 596h}}\n').config.collectors.system.interval, 596 * 3_600_000);
    const { problems } = problemsOf(() => load('collectors: {system: {interval: 999h}}\nagent: {shutdown_timeout: 100000h}\n'));
    assert.deepEqual(sortByPath(problems), [
      { path: 'agent.shutdown_timeout', value: '100000h', message: 'must be at most "596h"' },
      { path: 'collectors.system.interval', value: '999h', message: 'must be at most "596h"' },
    ]);
    assert.equal(load('buffer: {max_age: 8760h}\n').config.buffer.max_age, 8760 * 3_600_000);
  });

  it('rejects a zero export timeout, shutdown timeout or collection interval', () => {
    const { problems } = problemsOf(() => load('telemetryflow: {timeout: 0s}\nagent: {shutdown_timeout: "0"}\ncollectors: {system: {interval: 0s}}\n'));
    assert.deepEqual(sortByPath(problems), [
      { path: 'agent.shutdown_timeout', value: '0s', message: 'must be longer than "0s"' },
      { path: 'collectors.system.interval', value: '0s', message: 'must be longer than "0s"' },
      { path: 'telemetryflow.timeout', value: '0s', message: 'must be longer than "0s"' },
    ]);
  });

  it('rejects a zero buffer.max_age, statfs timeout or cloud metadata timeout: nothing kept, every mount skipped, every lookup failed', () => {
    const { problems } = problemsOf(() =>
      load('buffer: {max_age: 0s}\ncollectors: {system: {filesystem_options: {statfs_timeout: 0s}}}\nheartbeat: {cloud_metadata: {timeout: 0s}}\n'),
    );
    assert.deepEqual(sortByPath(problems), [
      { path: 'buffer.max_age', value: '0s', message: 'must be longer than "0s"' },
      { path: 'collectors.system.filesystem_options.statfs_timeout', value: '0s', message: 'must be longer than "0s"' },
      { path: 'heartbeat.cloud_metadata.timeout', value: '0s', message: 'must be longer than "0s"' },
    ]);
  });

  it('rejects a zero retry.initial_interval: every retry would go at once', () => {
    const { problems } = problemsOf(() => load('telemetryflow: {retry: {initial_interval: 0s}}\n'));
    assert.deepEqual(problems, [{ path: 'telemetryflow.retry.initial_interval', value: '0s', message: 'must be longer than "0s"' }]);
  });

  it('rejects a zero keepalive timeout; a zero keepalive interval turns pings off', () => {
    const { problems } = problemsOf(() => load('exporter: {otlp: {keepalive: {timeout: 0s}}}\n'));
    assert.deepEqual(problems, [{ path: 'exporter.otlp.keepalive.timeout', value: '0s', message: 'must be longer than "0s"' }]);
    assert.deepEqual(load('exporter: {otlp: {keepalive: {interval: 0s}}}\n').config.exporter.otlp.keepalive, { interval: 0, timeout: 10_000 });
  });

  it('requires an http(s) scheme on backend_endpoint', () => {
    for (const bad of ['tfo-backend:3100', 'ftp://tfo-backend/api', 'http://']) {
      const { problems } = problemsOf(() => load(`telemetryflow: {backend_endpoint: "${bad}"}\n`));
      assert.equal(problems[0].path, 'telemetryflow.backend_endpoint', bad);
      assert.match(problems[0].message, /http:\/\/ or https:\/\/ URL/);
    }
    assert.equal(load('telemetryflow: {backend_endpoint: "http://127.0.0.1:3100/api/v2"}\n').config.telemetryflow.backend_endpoint, 'http://127.0.0.1:3100/api/v2');
  });

  it('requires a URL or host:port endpoint', () => {
    const { problems } = problemsOf(() => load('telemetryflow:\n  protocol: http\n  endpoint: collector\n'));
    assert.equal(problems[0].path, 'telemetryflow.endpoint');
    assert.match(problems[0].message, /must be a URL such as "http:\/\/collector:4318", host:port or unix:\/path\/to.sock \(protocol http\)/);
    assert.equal(load('telemetryflow:\n  endpoint: "[::1]:4317"\n  tls: {enabled: false}\n').config.telemetryflow.endpoint, '[::1]:4317');
    assert.equal(load('telemetryflow:\n  endpoint: "unix:/run/otel/otlp.sock"\n  tls: {enabled: false}\n').config.telemetryflow.endpoint, 'unix:/run/otel/otlp.sock');
    problemsOf(() => load('telemetryflow:\n  endpoint: "collector:99999"\n'));
  });

  it('rejects an export header HTTP cannot carry, naming it and never quoting the value', () => {
    const { problems } = problemsOf(() => load('exporter:\n  otlp:\n    headers:\n      "X Bad": v\n      X-Token: "tok_secret_1\\u0001"\n      X-Team: ops\n'));
    assert.deepEqual(sortByPath(problems), [
      { path: 'exporter.otlp.headers.X Bad', message: 'cannot be sent: not a valid header name' },
      { path: 'exporter.otlp.headers.X-Token', message: 'cannot be sent: the value has a character not allowed in a header' },
    ]);
  });

  it('requires health.address to be host:port', () => {
    for (const bad of ['13133', ':13133', 'localhost', 'http://127.0.0.1:13133']) {
      const { problems } = problemsOf(() => load(`health: {address: "${bad}"}\n`));
      assert.equal(problems[0].path, 'health.address', bad);
    }
    assert.equal(load('health: {address: "0.0.0.0:8080"}\n').config.health.address, '0.0.0.0:8080');
  });

  it('requires metrics_endpoint to be a path or URL', () => {
    const { problems } = problemsOf(() => load('exporter: {otlp: {metrics_endpoint: "v1/metrics"}}\n'));
    assert.equal(problems[0].path, 'exporter.otlp.metrics_endpoint');
  });

  it('requires host_root to be a readable directory', () => {
    const { problems } = problemsOf(() => load('', {}, { flags: { hostRoot: join(temp.dir, 'no-such-root') } }));
    assert.equal(problems[0].path, 'host_root');
    assert.match(problems[0].message, /readable directory .*\(ENOENT\)/);
  });

  it('requires TLS files that hold what the transport will load', () => {
    const tlsDir = join(FIXTURES, 'tls');
    const junk = temp.write('junk.pem', 'not a certificate\n');
    const tls = (files: string) => `telemetryflow: {endpoint: "127.0.0.1:4317", tls: {enabled: true, ${files}}}\n`;
    const good = load(tls(`ca_file: ${join(tlsDir, 'ca.crt')}, cert_file: ${join(tlsDir, 'client.crt')}, key_file: ${join(tlsDir, 'client.key')}`));
    assert.equal(good.config.telemetryflow.tls.cert_file, join(tlsDir, 'client.crt'));
    const { problems } = problemsOf(() => load(tls(`ca_file: ${junk}, cert_file: ${junk}, key_file: ${junk}`)));
    assert.deepEqual(problems.map((p) => p.path).sort(), ['telemetryflow.tls.ca_file', 'telemetryflow.tls.cert_file']);
    assert.match(problems.find((p) => p.path === 'telemetryflow.tls.ca_file')!.message, /must hold a PEM certificate/);
    const mismatched = problemsOf(() => load(tls(`cert_file: ${join(tlsDir, 'server.crt')}, key_file: ${join(tlsDir, 'client.key')}`))).problems;
    assert.equal(mismatched.length, 1);
    assert.match(mismatched[0].message, /and key_file must hold a PEM certificate and its private key \(.*\)/);
    assert.equal(load(tls('enabled: false, ca_file: ' + junk).replace('enabled: true, ', '')).config.telemetryflow.tls.enabled, false, 'unused with TLS off');
  });

  it('warns when host_root has no /proc and the backend would read this process instead', { skip: process.platform !== 'linux' }, () => {
    const bare = join(temp.dir, 'root-without-proc');
    temp.write('root-without-proc/etc/hostname', 'node-1\n');
    const warned = load('', {}, { flags: { hostRoot: bare } }).warnings.filter((w) => w.path === 'host_root');
    assert.equal(warned.length, 1);
    assert.match(warned[0].message, /no readable proc\/stat.*mount the host's \/ there/);
    const withProc = join(temp.dir, 'root-with-proc');
    temp.write('root-with-proc/proc/stat', 'cpu  1 2 3 4\n');
    assert.deepEqual(load('', {}, { flags: { hostRoot: withProc } }).warnings, []);
    const chosen = load('collectors: {system: {backend: systeminformation}}\n', {}, { flags: { hostRoot: bare } });
    assert.deepEqual(chosen.warnings, [], 'a configured backend is a decision, not a mistake');
  });

  it('warns about suspicious but legal values', () => {
    const loaded = load(
      [
        'telemetryflow:',
        '  endpoint: collector.example.net:4317',
        '  api_key_id: tfk_1',
        '  api_key_secret: tfs_2',
        '  tls: {enabled: false}',
        '  retry: {initial_interval: 10s, max_interval: 1s}',
        'heartbeat: {interval: 5s, timeout: 10s}',
        'collectors: {system: {interval: 200ms}}',
      ].join('\n'),
    );
    assert.deepEqual(loaded.warnings.map((w) => w.path).sort(), [
      'collectors.system.interval',
      'heartbeat.timeout',
      'telemetryflow.retry.max_interval',
      'telemetryflow.tls.enabled',
    ]);
    assert.match(loaded.warnings.find((w) => w.path === 'telemetryflow.tls.enabled')!.message, /plain text to collector\.example\.net/);
    const oneSided = load('telemetryflow: {api_key_id: tfk_1}\n');
    assert.deepEqual(oneSided.warnings.map((w) => w.path), ['telemetryflow.api_key_secret'], 'names the missing half');
  });
});

describe('placeholders in the file', () => {
  it('expands every form in values', () => {
    const loaded = load(
      'telemetryflow:\n  endpoint: "${EP_HOST}:${EP_PORT:-4317}"\n  api_key_id: "${KEY_ID:?key id needed}"\nagent:\n  name: "price $$5"\n  tags: {team: "${TEAM:-ops}"}\n',
      { EP_HOST: 'collector.local', KEY_ID: 'tfk_abc' },
    );
    assert.equal(loaded.config.telemetryflow.endpoint, 'collector.local:4317');
    assert.equal(loaded.config.telemetryflow.api_key_id, 'tfk_abc');
    assert.equal(loaded.config.agent.name, 'price $5');
    assert.equal(loaded.config.agent.tags.team, 'ops');
  });

  it('validates the expanded value', () => {
    assert.equal(load('collectors: {system: {interval: "${IV:-30s}"}}\n').config.collectors.system.interval, 30_000);
    assert.equal(load('buffer: {max_size_mb: "${MB}"}\n', { MB: '512' }).config.buffer.max_size_mb, 512);
    const { problems } = problemsOf(() => load('collectors: {system: {interval: "${IV}"}}\n', { IV: '30' }));
    assert.deepEqual(problems, [{ path: 'collectors.system.interval', value: '30', message: 'is not a duration, e.g. "15s"' }]);
  });

  it('names the key path and message of a missing required variable', () => {
    const { problems, message } = problemsOf(() => load('telemetryflow:\n  api_key_secret: "${TFS:?export TFS first}"\n'));
    assert.deepEqual(problems, [{ path: 'telemetryflow.api_key_secret', message: 'environment variable TFS is required: export TFS first' }]);
    assert.match(message, /telemetryflow\.api_key_secret: environment variable TFS is required: export TFS first/);
  });
});

describe('environment bindings', () => {
  it('maps every TELEMETRYFLOW_* variable of the contract', () => {
    const root = tempDir().dir;
    const { config } = load('', {
      TELEMETRYFLOW_ENDPOINT: 'collector.env:4317',
      TELEMETRYFLOW_PROTOCOL: 'http',
      TELEMETRYFLOW_API_KEY_ID: 'tfk_env',
      TELEMETRYFLOW_API_KEY_SECRET: 'tfs_env',
      TELEMETRYFLOW_AGENT_ID: 'agent-from-env',
      TELEMETRYFLOW_ID: 'loses-to-agent-id',
      TELEMETRYFLOW_AGENT_NAME: 'env name',
      TELEMETRYFLOW_HOSTNAME: 'env-host',
      TELEMETRYFLOW_ENVIRONMENT: 'staging',
      TELEMETRYFLOW_HEARTBEAT_INTERVAL: '2m',
      TELEMETRYFLOW_LOG_LEVEL: 'debug',
      TELEMETRYFLOW_LOG_FORMAT: 'text',
      TELEMETRYFLOW_BUFFER_PATH: '/tmp/env-buffer',
      TELEMETRYFLOW_HOST_ROOT: root,
    });
    assert.equal(config.telemetryflow.endpoint, 'collector.env:4317');
    assert.equal(config.telemetryflow.protocol, 'http');
    assert.equal(config.telemetryflow.api_key_id, 'tfk_env');
    assert.equal(config.telemetryflow.api_key_secret, 'tfs_env');
    assert.equal(config.agent.id, 'agent-from-env');
    assert.equal(config.agent.name, 'env name');
    assert.equal(config.agent.hostname, 'env-host');
    assert.deepEqual(config.agent.tags, { environment: 'staging' });
    assert.equal(config.heartbeat.interval, 120_000);
    assert.equal(config.logging.level, 'debug');
    assert.equal(config.logging.format, 'text');
    assert.equal(config.buffer.path, '/tmp/env-buffer');
    assert.equal(config.host_root, root);
  });

  it('accepts TELEMETRYFLOW_ID when TELEMETRYFLOW_AGENT_ID is unset, and ignores empty variables', () => {
    assert.equal(load('', { TELEMETRYFLOW_ID: 'legacy-id' }).config.agent.id, 'legacy-id');
    assert.equal(load('agent: {name: file}\n', { TELEMETRYFLOW_AGENT_NAME: '' }).config.agent.name, 'file');
  });

  it('names the variable when its value is invalid', () => {
    const { problems } = problemsOf(() => load('', { TELEMETRYFLOW_HEARTBEAT_INTERVAL: '60' }));
    assert.deepEqual(problems, [{ path: 'heartbeat.interval', value: '60', message: 'is not a duration, e.g. "15s" (set by TELEMETRYFLOW_HEARTBEAT_INTERVAL)' }]);
  });

  it('maps the standard OTEL_EXPORTER_OTLP_* variables', () => {
    const grpc = load('', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).config;
    assert.equal(grpc.telemetryflow.endpoint, 'http://127.0.0.1:4317');
    assert.equal(grpc.telemetryflow.protocol, 'grpc');
    assert.equal(grpc.telemetryflow.tls.enabled, false);

    const http = load('', {
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://127.0.0.1:4318/custom/metrics',
    }).config;
    assert.equal(http.telemetryflow.protocol, 'http');
    assert.equal(http.telemetryflow.endpoint, 'http://127.0.0.1:4318');
    assert.equal(http.exporter.otlp.metrics_endpoint, 'http://127.0.0.1:4318/custom/metrics');

    const signal = load('', { OTEL_EXPORTER_OTLP_ENDPOINT: 'generic:4317', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'metrics:4317' }).config;
    assert.equal(signal.telemetryflow.endpoint, 'metrics:4317', 'for gRPC the signal-specific endpoint is the endpoint');

    const tf = load('', { TELEMETRYFLOW_ENDPOINT: 'tf:4317', OTEL_EXPORTER_OTLP_ENDPOINT: 'otel:4317', TELEMETRYFLOW_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }).config;
    assert.equal(tf.telemetryflow.endpoint, 'tf:4317', 'TELEMETRYFLOW_ENDPOINT wins');
    assert.equal(tf.telemetryflow.protocol, 'grpc', 'TELEMETRYFLOW_PROTOCOL wins');
  });

  it('maps the OTLP timeout, compression and TLS file variables, the _METRICS_ one winning', () => {
    const tls = join(FIXTURES, 'tls');
    const { config } = load('', {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://127.0.0.1:4317',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
      OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '4000',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'none',
      OTEL_EXPORTER_OTLP_CERTIFICATE: join(tls, 'server.crt'),
      OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE: join(tls, 'ca.crt'),
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: join(tls, 'client.crt'),
      OTEL_EXPORTER_OTLP_CLIENT_KEY: join(tls, 'client.key'),
    });
    assert.equal(config.telemetryflow.timeout, 4000);
    assert.equal(config.exporter.otlp.compression, 'none');
    assert.deepEqual(
      [config.telemetryflow.tls.enabled, config.telemetryflow.tls.ca_file, config.telemetryflow.tls.cert_file, config.telemetryflow.tls.key_file],
      [true, join(tls, 'ca.crt'), join(tls, 'client.crt'), join(tls, 'client.key')],
    );
    assert.equal(load('', { OTEL_EXPORTER_OTLP_TIMEOUT: '2500' }).config.telemetryflow.timeout, 2500);
  });

  it('maps the OTEL_EXPORTER_OTLP_LOGS_* variables onto exporter.otlp.logs, leaving the metrics export alone', () => {
    const tls = join(FIXTURES, 'tls');
    const { config } = load('', {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'metrics.example:4317',
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'https://logs.example:4318/ingest/logs',
      OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'X-Logs-Tenant=t1,X-Logs-Token=s3cret',
      OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '7000',
      OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'none',
      OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: join(tls, 'ca.crt'),
      OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE: join(tls, 'client.crt'),
      OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY: join(tls, 'client.key'),
    });
    assert.deepEqual(config.exporter.otlp.logs, {
      endpoint: 'https://logs.example:4318/ingest/logs',
      protocol: 'http',
      headers: { 'X-Logs-Tenant': 't1', 'X-Logs-Token': 's3cret' },
      timeout: 7000,
      compression: 'none',
      tls: { ca_file: join(tls, 'ca.crt'), cert_file: join(tls, 'client.crt'), key_file: join(tls, 'client.key') },
    });
    assert.deepEqual(
      [config.telemetryflow.endpoint, config.telemetryflow.protocol, config.telemetryflow.timeout, config.exporter.otlp.compression, config.exporter.otlp.headers, config.telemetryflow.tls.ca_file],
      ['metrics.example:4317', 'grpc', defaultConfig().telemetryflow.timeout, 'gzip', {}, ''],
    );
    assert.doesNotMatch(renderConfigYaml(config), /s3cret/, 'a credential header of the logs is masked in config show');
  });

  it('a generic OTLP variable speaks for the logs where a _METRICS_ one took the metrics\' key', () => {
    const { config } = load('', {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'generic:4317',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'metrics:4317',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
      OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '4000',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'none',
      OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'gzip',
    });
    assert.deepEqual([config.telemetryflow.endpoint, config.telemetryflow.timeout, config.exporter.otlp.compression], ['metrics:4317', 4000, 'gzip']);
    assert.deepEqual([config.exporter.otlp.logs.endpoint, config.exporter.otlp.logs.timeout, config.exporter.otlp.logs.compression], ['generic:4317', 2500, 'none']);
    const http = load('', {
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4318/',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://metrics:4318/v1/metrics',
    }).config;
    assert.equal(http.exporter.otlp.logs.endpoint, 'http://generic:4318/v2/logs', 'over HTTP the generic endpoint is a base URL');
    const plain = load('', { OTEL_EXPORTER_OTLP_ENDPOINT: 'generic:4317', OTEL_EXPORTER_OTLP_TIMEOUT: '2500' }).config;
    assert.deepEqual(plain.exporter.otlp.logs, defaultConfig().exporter.otlp.logs, 'without _METRICS_ ones the logs follow the shared keys');
  });

  it('names the _LOGS_ variable or key that is wrong', () => {
    assert.deepEqual(problemsOf(() => load('', { OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json' })).problems, [
      { path: 'OTEL_EXPORTER_OTLP_LOGS_PROTOCOL', value: 'http/json', message: 'is not supported; supported: grpc, http/protobuf (http/json is not implemented)' },
    ]);
    assert.deepEqual(problemsOf(() => load('', { OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '5s' })).problems, [
      { path: 'OTEL_EXPORTER_OTLP_LOGS_TIMEOUT', value: '5s', message: 'must be a whole number of milliseconds, e.g. 10000' },
    ]);
    assert.deepEqual(problemsOf(() => load('exporter: {otlp: {logs: {endpoint: "not an endpoint"}}}\n')).problems, [
      { path: 'exporter.otlp.logs.endpoint', value: 'not an endpoint', message: 'must be host:port such as "localhost:4317", a URL or unix:/path/to.sock (protocol grpc)' },
    ]);
    const files = problemsOf(() => load('', { OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE: join(FIXTURES, 'tls', 'client.crt'), OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: '/nonexistent/ca.crt' })).problems;
    assert.deepEqual(files.map((p) => p.path).sort(), ['exporter.otlp.logs.tls.ca_file', 'exporter.otlp.logs.tls.key_file']);
  });

  it('warns when the log records would carry the credentials in plain text to another host', () => {
    const env = { TELEMETRYFLOW_API_KEY_ID: 'tfk_x', TELEMETRYFLOW_API_KEY_SECRET: 'tfs_y', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://metrics.example:4317' };
    const plain = load('', { ...env, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://logs.example:4317' }).warnings;
    assert.deepEqual(withoutLines(plain).filter((w) => w.path.startsWith('exporter.otlp.logs')), [
      { path: 'exporter.otlp.logs.endpoint', message: 'credentials are sent in plain text to logs.example; use https:// or enable TLS' },
    ]);
    for (const logs of ['https://logs.example:4317', 'http://127.0.0.1:4317', 'logs.example:4317']) {
      const warnings = load('', { ...env, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: logs }).warnings;
      assert.deepEqual(warnings.filter((w) => w.path.startsWith('exporter.otlp.logs')), [], logs);
    }
  });

  it('moves the credentials of a logs endpoint URL into the logs headers only', () => {
    const { config } = load('', { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://logs:pw@127.0.0.1:4318/v1/logs', OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf' });
    assert.equal(config.exporter.otlp.logs.endpoint, 'http://127.0.0.1:4318/v1/logs');
    assert.equal(config.exporter.otlp.logs.headers.Authorization, `Basic ${Buffer.from('logs:pw').toString('base64')}`);
    assert.deepEqual(config.exporter.otlp.headers, {});
  });

  it('names the OTLP variable whose timeout or compression is wrong', () => {
    assert.deepEqual(problemsOf(() => load('', { OTEL_EXPORTER_OTLP_TIMEOUT: '10s' })).problems, [
      { path: 'OTEL_EXPORTER_OTLP_TIMEOUT', value: '10s', message: 'must be a whole number of milliseconds, e.g. 10000' },
    ]);
    const { problems } = problemsOf(() => load('', { OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'zstd' }));
    assert.equal(problems.length, 1);
    assert.equal(problems[0].path, 'exporter.otlp.compression');
    assert.match(problems[0].message, /OTEL_EXPORTER_OTLP_METRICS_COMPRESSION/);
  });

  it('rejects OTEL_EXPORTER_OTLP_PROTOCOL=http/json naming what is supported', () => {
    const { problems } = problemsOf(() => load('', { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }));
    assert.deepEqual(problems, [{ path: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: 'http/json', message: 'is not supported; supported: grpc, http/protobuf (http/json is not implemented)' }]);
  });

  it('merges URL-decoded OTEL_EXPORTER_OTLP_HEADERS over the file headers', () => {
    const { config } = load('exporter: {otlp: {headers: {X-Team: file, X-Keep: kept}}}\n', {
      OTEL_EXPORTER_OTLP_HEADERS: 'X-Team=env, Authorization=Bearer%20abc%3D%3D ,x-empty=',
    });
    assert.deepEqual(config.exporter.otlp.headers, { 'X-Team': 'env', 'X-Keep': 'kept', Authorization: 'Bearer abc==', 'x-empty': '' });
  });

  it('reports a malformed header list by position, never by its text', () => {
    const { problems, message } = problemsOf(() => load('', { OTEL_EXPORTER_OTLP_HEADERS: 'ok=1,tfs_secret_without_equals,bad=%E0%A4%A' }));
    assert.deepEqual(problems.map((p) => [p.path, p.message.slice(0, 9)]), [
      ['OTEL_EXPORTER_OTLP_HEADERS', 'entry 2 i'],
      ['OTEL_EXPORTER_OTLP_HEADERS', 'entry 3 i'],
    ]);
    assert.doesNotMatch(message, /tfs_secret/);
  });

  it('maps OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME into agent.resource_attributes', () => {
    const { config } = load('agent: {resource_attributes: {team: file, site: a}}\n', {
      OTEL_RESOURCE_ATTRIBUTES: 'team=env,service.name=from-attributes,k8s.cluster.name=prod%2Deu',
      OTEL_SERVICE_NAME: 'from-service-name',
    });
    assert.deepEqual(config.agent.resource_attributes, { team: 'env', site: 'a', 'service.name': 'from-service-name', 'k8s.cluster.name': 'prod-eu' });
  });
});

describe('precedence: flag > env > file > default', () => {
  const file = 'logging:\n  level: warn\n  format: text\n';
  it('a default applies when nothing else sets the key', () => {
    assert.equal(load('').config.logging.level, 'info');
  });
  it('the file overrides the default', () => {
    assert.equal(load(file).config.logging.level, 'warn');
  });
  it('the environment overrides the file', () => {
    assert.equal(load(file, { TELEMETRYFLOW_LOG_LEVEL: 'error' }).config.logging.level, 'error');
  });
  it('a flag overrides the environment', () => {
    const { config } = load(file, { TELEMETRYFLOW_LOG_LEVEL: 'error', TELEMETRYFLOW_LOG_FORMAT: 'json' }, { flags: { logLevel: 'debug' } });
    assert.equal(config.logging.level, 'debug');
    assert.equal(config.logging.format, 'json', 'keys without a flag keep the environment value');
    assert.equal(load(file, {}, { flags: { logFormat: 'json' } }).config.logging.format, 'json');
  });
  it('a bad flag value names the flag', () => {
    const { problems } = problemsOf(() => load(file, {}, { flags: { logLevel: 'trace' } }));
    assert.deepEqual(problems, [{ path: 'logging.level', value: 'trace', message: 'must be one of: debug, info, warn, error (set by --log-level)' }]);
  });
});

describe('secrets in errors', () => {
  it('never appear in ConfigError messages or problem values', () => {
    const secret = 'tfs_do_not_print_me';
    const cases = [
      () => load(`telemetryflow:\n  api_key_secret: [${secret}, again]\n`),
      () => load('telemetryflow:\n  api_key_secret: {nested: "${S}"}\n', { S: secret }),
      () => load(`exporter: {otlp: {headers: {Authorization: {v: ${secret}}}}}\n`),
      () => load('telemetryflow: {api_key_secret: "${S}"}\nheartbeat: {interval: 1ms}\n', { S: secret }),
      () => load('', { TELEMETRYFLOW_API_KEY_SECRET: secret, TELEMETRYFLOW_LOG_LEVEL: 'nope' }),
      () => load(`telemetryflow:\n  api_key_secret: ${secret}\n  bad: [unclosed\n`),
    ];
    for (const run of cases) {
      const { message, problems, error } = problemsOf(run);
      assert.doesNotMatch(message, /do_not_print/);
      assert.doesNotMatch(JSON.stringify(problems), /do_not_print/);
      assert.doesNotMatch(JSON.stringify(error.warnings), /do_not_print/);
    }
  });
});
