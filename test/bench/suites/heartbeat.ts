// What one heartbeat costs: CPU to build the payload from the kernel files (goal ≤ 50 ms; no sleep
// or blocking sample inside a build), and CPU to build and POST it to a loopback API.
import { HostFs, systemClock } from '../../../internal/procfs/host';
import { defaultConfig } from '../../../internal/config/defaults';
import { apiHeaders, apiUrl } from '../../../internal/heartbeat/client';
import { httpRequest } from '../../../internal/heartbeat/http';
import { SystemInfoBuilder } from '../../../internal/heartbeat/system-info';
import { silentLogger } from '../../../internal/log/logger';
import { startFakeTelemetryFlowApi } from '../../support/fake-telemetryflow-api';
import type { BenchSection } from '../section';
import { median, ownCpuMs, quantile } from '../stats';

const BUILDS = 50;
const SENDS = 20;
// Between builds, so each one has an interval of CPU ticks to compute shares over, as in service.
const GAP_MS = 20;
const GOAL_MS = 50;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function run(): Promise<BenchSection> {
  const config = defaultConfig();
  const builder = new SystemInfoBuilder({ config, logger: silentLogger(), host: new HostFs('/') });
  await builder.prime();
  // The first build reads the static facts (os-release, DMI, CPU identity) once per process.
  const firstStart = ownCpuMs();
  let { systemInfo } = await builder.build();
  const firstCpu = ownCpuMs() - firstStart;

  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < BUILDS; i++) {
    await pause(GAP_MS);
    const c0 = ownCpuMs();
    const w0 = systemClock.monotonic();
    ({ systemInfo } = await builder.build());
    wall.push(systemClock.monotonic() - w0);
    cpu.push(ownCpuMs() - c0);
  }
  const bodyBytes = Buffer.byteLength(JSON.stringify({ systemInfo }));

  const api = await startFakeTelemetryFlowApi();
  const sendCpu: number[] = [];
  try {
    config.telemetryflow.backend_endpoint = api.url;
    const url = apiUrl(api.url, 'agents', 'bench-agent', 'heartbeat');
    const headers = apiHeaders(config.telemetryflow);
    for (let i = 0; i < SENDS; i++) {
      await pause(GAP_MS);
      const c0 = ownCpuMs();
      const body = JSON.stringify({ systemInfo: (await builder.build()).systemInfo });
      await httpRequest({ method: 'POST', url, headers, body, signal: AbortSignal.timeout(5000) });
      // The fake API validates the body with ajv in this same process: not the agent's cost.
      sendCpu.push(ownCpuMs() - c0);
    }
  } finally {
    await api.close();
  }

  const p95 = quantile(cpu, 0.95);
  return {
    title: 'Heartbeat payload',
    figures: [
      { name: 'CPU per payload build (median)', value: median(cpu), unit: 'ms', detail: `${BUILDS} builds, goal <= ${GOAL_MS} ms` },
      { name: 'CPU per payload build (p95)', value: p95, unit: 'ms', detail: p95 <= GOAL_MS ? 'within goal' : 'OVER GOAL' },
      { name: 'wall time per build (median)', value: median(wall), unit: 'ms', detail: 'reads are async; no sleep inside a build' },
      { name: 'CPU of the first build', value: firstCpu, unit: 'ms', detail: 'includes the once-per-process static facts' },
      { name: 'CPU per build + POST (median)', value: median(sendCpu), unit: 'ms', detail: `${SENDS} heartbeats to a loopback API; includes the fake API's schema check in-process` },
      { name: 'fields in the payload', value: Object.keys(systemInfo).length, unit: 'of 135' },
      { name: 'body size', value: bodyBytes, unit: 'bytes' },
    ],
    notes: [
      `host: ${systemInfo.processCount} processes, ${systemInfo.networkInterfaces.length} interfaces, ${systemInfo.diskPartitions.length} file systems, ${systemInfo.cpuCores} CPUs`,
    ],
  };
}
