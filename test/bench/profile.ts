// Summarises a V8 CPU profile (the inspector's Profiler.Profile) into where the time goes: the
// top functions by self time and the share of each area (our collectors, the OpenTelemetry SDK,
// OTLP encoding, gRPC, GC).

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  fn: string;
  /** The function's own location, or for a native function the JS frame that called it. */
  where: string;
  area: string;
  ms: number;
  share: number;
}

// Checked in order: the first pattern found in a frame's URL names its area.
const CODE_AREAS: Array<[string, RegExp]> = [
  ['agent: collectors + procfs', /\/internal\/(collector|procfs)\//],
  ['agent: exporter', /\/internal\/exporter\//],
  ['agent: other', /\/(internal|cmd|pkg)\//],
  ['systeminformation', /node_modules\/systeminformation\//],
  ['OTel SDK (metrics)', /node_modules\/@opentelemetry\/(sdk-metrics|api|core|resources)\//],
  ['OTLP encoding (transformer, protobuf)', /node_modules\/(@opentelemetry\/otlp-transformer|protobufjs|@protobufjs)\//],
];
const IDLE = /^\((idle|program)\)$/;

function codeArea(url: string): string | undefined {
  return CODE_AREAS.find(([, pattern]) => pattern.test(url))?.[0];
}

/**
 * Work whose JS caller is lost: fs.promises continuations run from the microtask queue, so an
 * async read of /proc shows no collector above it; zlib runs for the gzip of the export.
 */
function internalArea(url: string): string {
  if (/^node:(internal\/)?fs/.test(url)) return 'async fs reads (fs.promises: open, fstat, read, close)';
  if (url.startsWith('node:zlib')) return 'zlib (gzip of the export)';
  if (url.startsWith('node:internal/http2') || url.startsWith('node:http2')) return 'HTTP/2 (the gRPC call)';
  return url.startsWith('node:') ? 'node internals' : 'V8 / native';
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + '/dist/'.length);
  return url.replace(/^file:\/\//, '');
}

/**
 * Self time per function, and per area charged to whoever caused it: a native call or a Node
 * internal (fs.read, zlib) counts for the nearest caller in the agent, the SDK, the encoder or
 * gRPC, so "reading /proc" shows up as the collectors' cost. Idle time is left out.
 */
export function summariseProfile(profile: CpuProfile, top = 15): { functions: SelfTime[]; areas: Array<{ area: string; ms: number; share: number }>; busyMs: number } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const ancestors = function* (id: number): Generator<ProfileNode> {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) yield byId.get(at)!;
  };
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const functions = new Map<string, { fn: string; where: string; area: string; us: number }>();
  const areas = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    if (IDLE.test(frame.functionName)) continue;
    const chain = [...ancestors(id)];
    // The profiler's own work is not the cycle's.
    if (chain.some((n) => n.callFrame.url === 'node:inspector')) continue;
    busyUs += us;
    const located = chain.find((n) => n.callFrame.url !== '')?.callFrame;
    const area =
      frame.functionName === '(garbage collector)'
        ? 'garbage collector'
        : (chain.map((n) => codeArea(n.callFrame.url)).find((a) => a !== undefined) ?? internalArea(located?.url ?? ''));
    areas.set(area, (areas.get(area) ?? 0) + us);
    const where = located === undefined ? '' : `${located === frame ? '' : 'from '}${shortUrl(located.url)}:${located.lineNumber + 1}`;
    const key = `${frame.functionName}@${where}`;
    const entry = functions.get(key) ?? { fn: frame.functionName || '(anonymous)', where, area, us: 0 };
    entry.us += us;
    functions.set(key, entry);
  }
  const share = (us: number): number => (busyUs === 0 ? 0 : us / busyUs);
  return {
    busyMs: busyUs / 1000,
    functions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ fn: f.fn, where: f.where, area: f.area, ms: f.us / 1000, share: share(f.us) })),
    areas: [...areas.entries()].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, ms: us / 1000, share: share(us) })),
  };
}
