// Why the agent has its own OTLP/gRPC transport: the built agent, as shipped, next to the same
// built agent whose exports go through the official transport (grpc-js, preloaded by
// ../official-transport), both at once on the same host for the same time, each exporting every
// second to its own receiver. Memory and CPU are of the whole process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOtlpReceiver, type OtlpReceiver } from '../../support/otlp-receiver';
import { CLI, shippedNodeOptions } from '../../support/paths';
import type { BenchSection } from '../section';
import { processCpuMs, processRssMb, round } from '../stats';

const SECONDS = Number(process.env.BENCH_TRANSPORT_SECONDS ?? 180);
const SAMPLE_MS = 5_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

interface Run {
  name: string;
  receiver: OtlpReceiver;
  child: ChildProcess;
  rss: number[];
  cpuBefore: number;
}

function startAgent(dir: string, name: string, receiver: OtlpReceiver, preload: string[]): ChildProcess {
  const config = join(dir, `${name}.yaml`);
  writeFileSync(config, [
    'telemetryflow:',
    `  endpoint: ${receiver.grpcAddress}`,
    '  protocol: grpc',
    '  tls:',
    '    enabled: false',
    'agent:',
    `  data_dir: ${join(dir, name)}`,
    'collectors:',
    '  system:',
    '    interval: 1s',
    'buffer:',
    '  enabled: true',
    `  path: ${join(dir, name, 'buffer')}`,
    'health:',
    '  enabled: false',
    'logging:',
    '  level: warn',
    '',
  ].join('\n'));
  return spawn(process.execPath, [...preload, CLI, 'start', '--config', config], {
    env: { ...process.env, NODE_OPTIONS: shippedNodeOptions() },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export async function run(): Promise<BenchSection> {
  const dir = mkdtempSync(join(tmpdir(), 'tfo-bench-transport-'));
  const runs: Run[] = [];
  try {
    for (const [name, preload] of [
      ['own transport (node:http2)', []],
      ['official transport (grpc-js)', ['-r', join(__dirname, '..', 'official-transport.js')]],
    ] as const) {
      const receiver = await startOtlpReceiver();
      const child = startAgent(dir, name.split(' ')[0], receiver, [...preload]);
      runs.push({ name, receiver, child, rss: [], cpuBefore: 0 });
    }
    // Past start-up (module loading, the first collections) before counting.
    await sleep(5_000);
    const exportsBefore = runs.map((r) => r.receiver.accepted().length);
    for (const r of runs) r.cpuBefore = processCpuMs(r.child.pid!);
    const started = Date.now();
    for (let t = SAMPLE_MS; t <= SECONDS * 1000; t += SAMPLE_MS) {
      await sleep(Math.max(0, started + t - Date.now()));
      for (const r of runs) {
        if (r.child.exitCode !== null) throw new Error(`${r.name}: the agent exited with ${r.child.exitCode}`);
        r.rss.push(processRssMb(r.child.pid!));
      }
    }
    const results = runs.map((r, i) => {
      const exports = r.receiver.accepted().length - exportsBefore[i];
      if (exports < SECONDS / 2) throw new Error(`${r.name}: only ${exports} exports in ${SECONDS} s`);
      const cpuMs = processCpuMs(r.child.pid!) - r.cpuBefore;
      return { name: r.name, exports, rss: mean(r.rss.slice(Math.floor((r.rss.length * 2) / 3))), cpuPerExport: cpuMs / exports };
    });
    const [own, official] = results;
    // The preload took: grpc-js names itself in the user agent, node:http2 sends the agent's.
    const userAgents = runs.map((r) => r.receiver.accepted().at(-1)?.headers['user-agent'] ?? '');
    if (!userAgents[1].includes('grpc-node-js') || userAgents[0].includes('grpc-node-js')) throw new Error(`unexpected user agents: ${userAgents.join(' | ')}`);
    return {
      title: `OTLP/gRPC transport: the agent's own against the official one (built agent, ${SECONDS} s at 1 s)`,
      figures: [
        ...results.flatMap((r) => [
          { name: `${r.name}: RSS, last third`, value: round(r.rss, 1), unit: 'MB', detail: `${r.exports} exports` },
          { name: `${r.name}: CPU per export, whole process`, value: round(r.cpuPerExport, 2), unit: 'ms' },
        ]),
        { name: 'own RSS / official RSS', value: round(own.rss / official.rss, 2), unit: 'x' },
        { name: 'own CPU / official CPU, per export', value: round(own.cpuPerExport / official.cpuPerExport, 2), unit: 'x' },
      ],
      notes: [
        'Both agents run at once (same host, same load); everything but the transport is the same built code, shipped NODE_OPTIONS, health listener off.',
        `BENCH_TRANSPORT_SECONDS=${SECONDS}; CPU from /proc/<pid>/stat (10 ms ticks) after a 5 s warm-up, RSS (VmRSS) every 5 s.`,
      ],
    };
  } finally {
    for (const r of runs) {
      r.child.kill('SIGTERM');
      await new Promise<void>((resolve) => (r.child.exitCode !== null ? resolve() : r.child.once('exit', () => resolve())));
      await r.receiver.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
