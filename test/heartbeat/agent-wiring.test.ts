import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { SystemInfo } from '../../pkg/heartbeat';
import { startFakeTelemetryFlowApi } from '../support/fake-telemetryflow-api';
import { CLI } from '../support/paths';
import { tempDir } from './helpers';

describe('the agent runs the heartbeat', () => {
  it('tfo-agent start sends a heartbeat beside the metric pipeline and stops cleanly on SIGTERM', async () => {
    const api = await startFakeTelemetryFlowApi({ keyId: 'tfk_wiring', keySecret: 'tfs_wiring_secret' });
    const dir = tempDir();
    const file = join(dir.path, 'tfo-agent.yaml');
    writeFileSync(
      file,
      [
        'telemetryflow:',
        `  backend_endpoint: ${api.url}`,
        '  api_key_id: tfk_wiring',
        '  api_key_secret: tfs_wiring_secret',
        'agent:',
        '  id: 0f3c2a1b-4d5e-4f60-8a9b-1c2d3e4f5a6b',
        `  data_dir: ${dir.path}`,
        'exporter:',
        '  otlp:',
        '    enabled: false',
        'buffer:',
        '  enabled: false',
        'health:',
        '  enabled: false',
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, [CLI, 'start', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await api.waitFor((r) => r.length >= 1, 20_000);
      const beat = api.heartbeats()[0]!;
      assert.deepEqual(beat.problems, []);
      assert.equal(beat.path, '/api/v2/agents/0f3c2a1b-4d5e-4f60-8a9b-1c2d3e4f5a6b/heartbeat');
      assert.equal(typeof (beat.body as { systemInfo: SystemInfo }).systemInfo.memoryTotal, 'number');
    } finally {
      child.kill('SIGTERM');
      const code = await exited;
      await api.close();
      dir.remove();
      assert.equal(code, 0, output);
      assert.ok(!output.includes('tfs_wiring_secret'), 'the secret is in no log line');
    }
  });
});
