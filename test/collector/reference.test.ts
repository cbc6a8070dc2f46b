// The built agent against the pinned reference facts of both naming profiles: a real export of
// this machine (every default family, plus the process collector following the agent itself) to
// the test suite's OTLP receiver, compared metric by metric with the OpenTelemetry Collector's
// hostmetrics metadata (naming: hostmetrics) and the semantic conventions (naming: semconv):
// every default metric present, nothing extra by default, unit, kind, monotonicity, value type,
// attribute keys and values, process identity, start times. What still differs is listed, exactly,
// in reference-differences.ts: a difference not listed fails, and so does a listed one no longer
// seen (take it off the list).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { AgentProcess, agentConfig, tempWorkspace } from '../e2e/agent-process';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';
import { compareToReference, type MachineFacts, type Profile } from './reference-compare';
import { DEVIATIONS, KNOWN_DIFFERENCES } from './reference-differences';

function machineFacts(): MachineFacts {
  const hasSwap = readFileSync('/proc/swaps', 'utf8').trim().split('\n').length > 1;
  const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
  assert.ok(btime, '/proc/stat has btime');
  const virtualFsTypes = new Set(
    readFileSync('/proc/filesystems', 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('nodev'))
      .map((line) => line.split('\t')[1]),
  );
  return {
    nothingToReport: new Set(hasSwap ? [] : ['system.paging.usage', 'system.paging.utilization']),
    bootTimeMs: Number(btime[1]) * 1000,
    virtualFsTypes,
    statusName(pid) {
      try {
        return /^Name:\t(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      } catch {
        return undefined;
      }
    },
  };
}

interface Run {
  receiver: OtlpReceiver;
  agent: AgentProcess;
  workspace: ReturnType<typeof tempWorkspace>;
}

const runs = new Map<string, Run>();

/** An agent on the default families of `profile`, with `system` settings over the defaults. */
async function startRun(label: string, profile: Profile, system: Record<string, unknown> = {}): Promise<Run> {
  const receiver = await startOtlpReceiver();
  const workspace = tempWorkspace(`tfo-reference-${label}-`);
  const config = agentConfig({ protocol: 'grpc', endpoint: receiver.grpcAddress, dataDir: workspace.dir, interval: '1s', health: { enabled: false } });
  // The process collector follows this agent alone, found by its own config path.
  const marker = workspace.dir.split('/').pop()!;
  config.collectors = {
    system: { enabled: true, interval: '1s', naming: profile, ...system },
    process: { enabled: true, interval: '1s', processes: [`/${marker}/`] },
  };
  const file = workspace.file('agent.yaml', stringify(config));
  return { receiver, workspace, agent: new AgentProcess(['start', '-c', file]) };
}

// Enough cycles for every family, the slower-scheduled ones included, to have reported.
const EXPORTS_TO_WAIT_FOR = 4;

async function settle(run: Run): Promise<void> {
  await run.receiver
    .waitFor((r) => r.accepted().length >= EXPORTS_TO_WAIT_FOR && r.metricNames().some((n) => n.startsWith('process.')), 30_000)
    .catch((err: Error) => {
      throw new Error(`${err.message}\n${run.agent.transcript()}`);
    });
}

before(async () => {
  runs.set('hostmetrics', await startRun('hostmetrics', 'hostmetrics'));
  runs.set('semconv', await startRun('semconv', 'semconv'));
  runs.set('semconv-limit', await startRun('semconv-limit', 'semconv', { metrics: { 'system.memory.limit': true } }));
  await Promise.all([...runs.values()].map(settle));
});

after(async () => {
  for (const run of runs.values()) {
    await run.agent.kill();
    await run.receiver.close();
    run.workspace.cleanup();
  }
});

function expectedDifferences(profile: Profile): string[] {
  return [...DEVIATIONS, ...KNOWN_DIFFERENCES].filter((d) => d.profile === profile).map((d) => d.difference).sort();
}

function checkProfile(profile: Profile): void {
  const run = runs.get(profile)!;
  const actual = compareToReference(profile, run.receiver.points(), machineFacts());
  const expected = expectedDifferences(profile);
  const unlisted = actual.filter((d) => !expected.includes(d));
  const gone = expected.filter((d) => !actual.includes(d));
  assert.deepEqual(
    { unlisted, gone },
    { unlisted: [], gone: [] },
    `${profile}: differences from the reference not in reference-differences.ts (unlisted), or listed and no longer seen (gone: take them off the list)`,
  );
}

test('naming: hostmetrics matches the Collector hostmetrics receiver, but for the listed differences', () => {
  checkProfile('hostmetrics');
});

test('naming: semconv matches the semantic conventions, but for the listed differences', () => {
  checkProfile('semconv');
});

test('every deviation kept on purpose says why', () => {
  for (const d of DEVIATIONS) assert.ok(d.reason.length > 20, `${d.profile} ${d.difference}: give the reason`);
  const both = [...DEVIATIONS, ...KNOWN_DIFFERENCES].map((d) => `${d.profile} ${d.difference}`);
  assert.deepEqual(both.filter((d, i) => both.indexOf(d) !== i), [], 'each difference listed once');
});

test('switching an opt-in metric on adds that metric and changes nothing else', () => {
  const base = runs.get('semconv')!.receiver;
  const switched = runs.get('semconv-limit')!.receiver;
  const shape = (receiver: OtlpReceiver): Map<string, string> => {
    const out = new Map<string, string>();
    for (const p of receiver.points()) {
      const keys = Object.keys(p.attributes).sort().join(',');
      out.set(p.name, `${p.kind} ${p.unit} ${String(p.monotonic)} ${String(p.isInt)} [${keys}]`);
    }
    return out;
  };
  const before = shape(base);
  const after = shape(switched);
  assert.deepEqual([...after.keys()].filter((n) => !before.has(n)), ['system.memory.limit']);
  assert.deepEqual([...before.keys()].filter((n) => !after.has(n)), []);
  for (const [name, description] of before) assert.equal(after.get(name), description, `${name} unchanged`);
  const facts = compareToReference('semconv', switched.points(), machineFacts(), ['system.memory.limit']);
  assert.deepEqual(facts.filter((d) => d.startsWith('system.memory.limit: ')), [], 'system.memory.limit as the conventions define it');
});
