// exporters.collectd in the configuration: validated with the key, the value and what was
// expected; its password a secret that config show never prints and the environment can set.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { ConfigError } from '../../internal/config/errors';
import { loadConfig } from '../../internal/config/load';
import { renderConfigYaml } from '../../internal/config/show';

const dir = mkdtempSync(join(tmpdir(), 'tfo-agent-collectd-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function load(collectd: Record<string, unknown>, env: Record<string, string> = {}, otlp = true): ReturnType<typeof loadConfig> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify({ telemetryflow: { endpoint: 'localhost:4317', tls: { enabled: false } }, exporter: { otlp: { enabled: otlp } }, exporters: { collectd } }));
  return loadConfig({ file, env: { HOME: '/nonexistent', ...env }, cwd: dir });
}

function problems(collectd: Record<string, unknown>, otlp = true): string[] {
  try {
    load(collectd, {}, otlp);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map((p) => `${p.path}: ${p.value === undefined ? '' : JSON.stringify(p.value)} ${p.message}`);
  }
  return [];
}

describe('exporters.collectd configuration', () => {
  it('defaults: off, 1452-byte packets, level none, the agent\'s host name', () => {
    const { config } = load({});
    assert.deepEqual(config.exporters.collectd, { enabled: false, server: '', security_level: 'none', username: '', password: '', max_packet_size: 1452, hostname: '' });
  });

  it('names the key, the value and what was expected', () => {
    assert.match(problems({ enabled: true }).join('\n'), /^exporters\.collectd\.server: {2}must be set/m);
    assert.match(problems({ enabled: true, server: 'a:b:c' }).join('\n'), /^exporters\.collectd\.server: "a:b:c" must be host:port or \[ipv6\]:port/m);
    const sign = problems({ enabled: true, server: '127.0.0.1:25826', security_level: 'sign' }).join('\n');
    assert.match(sign, /exporters\.collectd\.username: {2}must be set when security_level is "sign"/);
    assert.match(sign, /exporters\.collectd\.password: {2}must be set when security_level is "sign" \(or TFO_AGENT_COLLECTD_PASSWORD\)/);
    assert.match(problems({ enabled: true, server: '127.0.0.1:25826', hostname: 'h'.repeat(128) }).join('\n'), /exporters\.collectd\.hostname: "h+" must be at most 127 bytes/);
    assert.match(problems({ enabled: true, server: '127.0.0.1:25826' }, false).join('\n'), /exporters\.collectd\.enabled: true needs exporter\.otlp\.enabled/);
    assert.match(problems({ enabled: true, server: '127.0.0.1:25826', max_packet_size: 512 }).join('\n'), /exporters\.collectd\.max_packet_size/);
    assert.match(problems({ enabled: true, server: '127.0.0.1:25826', security_level: 'secret' }).join('\n'), /exporters\.collectd\.security_level/);
    assert.deepEqual(problems({ enabled: true, server: '[ff18::efc0:4a42%eth0]:25826', security_level: 'encrypt', username: 'alice', password: 'x' }), []);
  });

  it('the password: set from TFO_AGENT_COLLECTD_PASSWORD, never printed by config show nor in an error', () => {
    const { config } = load({ enabled: true, server: '127.0.0.1:25826', security_level: 'encrypt', username: 'alice' }, { TFO_AGENT_COLLECTD_PASSWORD: 'pa55-from-env' });
    assert.equal(config.exporters.collectd.password, 'pa55-from-env');
    const shown = renderConfigYaml(config);
    assert.doesNotMatch(shown, /pa55-from-env/);
    assert.match(shown, /password: "?\*\*\*"?/);
    const failed = problems({ enabled: true, server: 'a:b:c', security_level: 'encrypt', username: 'alice', password: 'pa55-in-file', hostname: 'h'.repeat(200) });
    assert.doesNotMatch(failed.join('\n'), /pa55-in-file/);
  });
});
