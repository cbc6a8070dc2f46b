// A metric's default comes from its declaration, per naming profile; the config turns one metric
// on or off by name (collectors.<section>.metrics) or by its family's own setting, and changes
// nothing else.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BatchObservableResult } from '@opentelemetry/api';
import { collectorFactory, type Collector } from '../../internal/collector/collector';
import { int, ON, type Family, type Metrics } from '../../internal/collector/declaration';
import { factory as memoryFactory } from '../../internal/collector/memory/procfs';
import type { MetricSink } from '../../internal/collector/naming';
import { loadConfig } from '../../internal/config/load';
import { ConfigError } from '../../internal/config/errors';
import { collectOnce } from '../support/collect';

const FIXTURES = join(__dirname, '../../../test/fixtures/procfs');

const metrics = {
  both: { semconv: 'test.both', hostmetrics: 'test.both', kind: 'gauge', unit: '1', value: 'int', description: 'On in both.', default: ON },
  semconvOnly: { semconv: 'test.split', hostmetrics: 'test.split', kind: 'gauge', unit: '1', value: 'int', description: 'On under semconv only.', default: { semconv: true, hostmetrics: false } },
  optioned: { semconv: 'test.optioned', hostmetrics: 'test.optioned', kind: 'gauge', unit: '1', value: 'double', description: 'Has a setting.', default: { semconv: false, hostmetrics: true }, option: 'optioned' },
} as const satisfies Metrics;

const family: Family<typeof metrics, { optioned?: boolean }> = {
  name: 'test',
  metrics,
  section: 'system',
  switch: 'collectors.system.test',
  enabled: () => true,
  settings: (config) => ({ optioned: config.collectors.system.cpu_options.utilization }),
  sources: 'none',
};

class TestCollector implements Collector<typeof metrics> {
  readonly name = 'test';
  readonly metrics = metrics;
  async collect(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>): Promise<void> {
    out.observe(result, 'both', int(1));
    out.observe(result, 'semconvOnly', int(2));
    out.observe(result, 'optioned', 0.5);
  }
}

const factory = collectorFactory(family, () => new TestCollector());

describe('metric switches', () => {
  it('each metric follows its declared default under each profile', async () => {
    assert.deepEqual((await collectOnce(factory, { naming: 'semconv' })).names, ['test.both', 'test.split']);
    assert.deepEqual((await collectOnce(factory, { naming: 'hostmetrics' })).names, ['test.both', 'test.optioned']);
  });

  it('the family\'s setting, when set, decides its metric; a name in collectors.system.metrics wins over both', async () => {
    const on = { collectors: { system: { cpu_options: { utilization: true } } } };
    assert.deepEqual((await collectOnce(factory, { naming: 'semconv', config: on })).names, ['test.both', 'test.optioned', 'test.split']);
    const off = { collectors: { system: { cpu_options: { utilization: false }, metrics: { 'test.optioned': true, 'test.both': false } } } };
    assert.deepEqual((await collectOnce(factory, { naming: 'hostmetrics', config: off })).names, ['test.optioned']);
  });

  it('turning one real metric off by name removes that metric and nothing else', async () => {
    const hostRoot = join(FIXTURES, 'vm-6.18-2cpu');
    const all = await collectOnce(memoryFactory, { hostRoot });
    const without = await collectOnce(memoryFactory, { hostRoot, config: { collectors: { system: { metrics: { 'system.memory.linux.available': false } } } } });
    assert.deepEqual(without.names, all.names.filter((name) => name !== 'system.memory.linux.available'));
    assert.ok(all.has('system.memory.linux.available'));
  });
});

describe('collectors.<section>.metrics in the config', () => {
  function load(yaml: string): ReturnType<typeof loadConfig> {
    const dir = mkdtempSync(join(tmpdir(), 'tfo-switches-'));
    try {
      writeFileSync(join(dir, 'c.yaml'), yaml);
      return loadConfig({ file: join(dir, 'c.yaml'), env: {}, cwd: dir });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('takes metric names of the configured profile', () => {
    const { config } = load('collectors:\n  system:\n    naming: hostmetrics\n    metrics:\n      system.processes.count: false\n  process:\n    metrics:\n      process.threads: true\n');
    assert.deepEqual(config.collectors.system.metrics, { 'system.processes.count': false });
    assert.deepEqual(config.collectors.process.metrics, { 'process.threads': true });
  });

  it('rejects a name the section does not report under the profile, naming the key', () => {
    assert.throws(
      () => load('collectors:\n  system:\n    metrics:\n      system.cpu.tim: true\n      system.processes.count: false\n'),
      (err: unknown) => err instanceof ConfigError
        && /collectors\.system\.metrics\.system\.cpu\.tim: true is not a metric of the system collectors under naming semconv/.test(err.message)
        // hostmetrics' name, under semconv
        && /collectors\.system\.metrics\.system\.processes\.count: false is not a metric/.test(err.message),
    );
    assert.throws(() => load('collectors:\n  process:\n    metrics:\n      system.uptime: false\n'), /collectors\.process\.metrics\.system\.uptime/);
    assert.throws(() => load('collectors:\n  system:\n    metrics:\n      system.uptime: "no"\n'), ConfigError);
  });
});
