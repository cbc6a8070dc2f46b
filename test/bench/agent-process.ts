// The built agent as shipped, for the suites that measure it from the outside: `tfo-agentd start`
// with the systemd unit's NODE_OPTIONS, gRPC to a live loopback receiver, the buffer and the
// health listener on; CPU and memory are read from /proc like an operator's `top` would.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';
import { CLI, shippedNodeOptions } from '../support/paths';

/**
 * CPU time of a whole process in milliseconds at nanosecond resolution: the sum of every live
 * thread's run time (/proc/<pid>/task/<tid>/schedstat). /proc/<pid>/stat counts in 10 ms ticks,
 * too coarse for a process that works 1 ms every 15 s; it also keeps the time of threads that
 * have exited, which this does not (the measured processes keep their threads).
 */
export function processRunTimeMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread exited between the listing and the read.
    }
  }
  return ns / 1e6;
}

export interface AgentOptions {
  /** collectors.system.interval in seconds. */
  intervalSeconds: number;
  /** Only these system families; omitted: the default set. */
  families?: readonly string[];
  /** api.enabled (the local API's 1 s sampler); default off, as in the built-in defaults. */
  api?: boolean;
  /** Extra NODE_OPTIONS after the unit's. */
  extraNodeOptions?: string;
  /** Node and V8 flags on the command line, e.g. a V8 flag under test that NODE_OPTIONS does not allow. */
  nodeArgs?: readonly string[];
  /** Another build's CLI (its dist/cmd/tfo-agent/main.js), e.g. the code before a change; default this one. */
  cli?: string;
}

const SYSTEM_FAMILIES = ['cpu', 'memory', 'load', 'system', 'disk', 'network', 'paging', 'filesystem', 'processes', 'pressure'];

export interface RunningAgent {
  pid: number;
  receiver: OtlpReceiver;
  nodeOptions: string;
  /** Requests the receiver accepted from this agent so far. */
  exports(): number;
  /** The last 4 kB the agent logged (warnings and errors), to explain a failed run. */
  log(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

/** Starts the built CLI with its own receiver, config and data directory. */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const receiver = await startOtlpReceiver();
  const dir = mkdtempSync(join(tmpdir(), 'tfo-bench-agent-'));
  const config = join(dir, 'tfo-agent.yaml');
  const families = options.families === undefined ? [] : SYSTEM_FAMILIES.map((f) => `    ${f}: ${options.families?.includes(f) ? 'true' : 'false'}`);
  writeFileSync(config, [
    'telemetryflow:',
    `  endpoint: ${receiver.grpcAddress}`,
    '  protocol: grpc',
    '  tls:',
    '    enabled: false',
    'agent:',
    `  data_dir: ${join(dir, 'data')}`,
    'collectors:',
    '  system:',
    `    interval: ${options.intervalSeconds}s`,
    ...families,
    'buffer:',
    '  enabled: true',
    `  path: ${join(dir, 'data', 'buffer')}`,
    'health:',
    '  enabled: true',
    '  address: 127.0.0.1:0',
    'api:',
    `  enabled: ${options.api === true}`,
    '  address: 127.0.0.1:0',
    'logging:',
    '  level: warn',
    '',
  ].join('\n'));
  const nodeOptions = [shippedNodeOptions(), options.extraNodeOptions ?? ''].join(' ').trim();
  const cli = options.cli ?? CLI;
  // As the unit and the image start it: through the build's tfo-agentd, which execs Node (same
  // pid). A build from before tfo-agentd runs its CLI on Node directly.
  const launcher = join(dirname(cli), '..', '..', '..', 'bin', 'tfo-agentd');
  let node = process.execPath;
  if (options.nodeArgs?.length) {
    node = join(dir, 'node');
    writeFileSync(node, `#!/bin/sh\nexec ${[process.execPath, ...options.nodeArgs].map((a) => `'${a}'`).join(' ')} "$@"\n`, { mode: 0o755 });
  }
  const [command, entry] = existsSync(launcher) ? ['/bin/sh', launcher] : [node, cli];
  const child: ChildProcess = spawn(command, [entry, 'start', '--config', config], {
    env: { ...process.env, NODE_OPTIONS: nodeOptions, TFO_AGENT_NODE: node },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-4000);
  });
  if (child.pid === undefined) throw new Error('the agent did not start');
  return {
    pid: child.pid,
    receiver,
    nodeOptions,
    exports: () => receiver.accepted().length,
    log: () => log,
    exited: () => child.exitCode !== null,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) resolve();
        else child.once('exit', () => resolve());
      });
      await receiver.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
