/// <reference lib="dom" />
// The local API and the status page, on the real agent at the shipped configuration, beside the
// same agent without them and beside node_exporter, in one run:
// - phase 1, three agents at once: API off, API on (1 s sampler, ring, CSV), API on with one
//   status page tab open in headless Chromium (reading its live stream); CPU per second and RSS
//   of each over the window, and a bare node:http server streaming the same lines as a reference;
//   beside them the floor of the sampler's goal: a Node process woken each second doing nothing,
//   and one doing the least a sample needs, each alone;
//   then /metrics/range over 7 days of CSV history with step=300s, and over the ring;
// - phase 2: a Prometheus-style scrape of /metrics once a second against an agent that exports
//   every second (each scrape serializes a new batch: the worst case), beside the same agent not
//   scraped and node_exporter scraped at the same pace.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { parse, stringify } from 'yaml';
import { CSV_EOL, CSV_HEADER, DAY_MS, dayFileName, formatRow } from '../../../internal/api/csv';
import type { Sample } from '../../../internal/api/sample';
import { sampleLine, statusLine } from '../../../internal/api/status-stream';
import { classifyBlockDevice, readWholeDisks } from '../../../internal/procfs/block';
import { HostFs } from '../../../internal/procfs/host';
import { AgentProcess, tempWorkspace } from '../../e2e/agent-process';
import { startOtlpReceiver } from '../../support/otlp-receiver';
import { REPO_ROOT, shippedNodeOptions } from '../../support/paths';
import { havePeer, NODE_EXPORTER, startNodeExporter } from '../../support/peers';
import { parseExposition } from '../../support/prometheus-text';
import { sampleAt } from '../../support/samples';
import type { BenchFigure, BenchSection } from '../section';
import { median, processCpuMs, processRssMb, round } from '../stats';
import { processRunTimeMs } from '../agent-process';

const SECONDS = Number(process.env.BENCH_API_SECONDS ?? 120);
// Phase 1's agents always run; BENCH_API_PARTS=none (or `range`, `scrape`) leaves out the others.
const PARTS = new Set((process.env.BENCH_API_PARTS ?? 'range,scrape').split(',').map((part) => part.trim()));
const WARMUP_MS = 20_000;
const RSS_EVERY_MS = 5_000;
const CHROMIUM = '/usr/bin/chromium';
const HISTORY_DAYS = 7;

const ticks = (figure: { tickCpuPerSecond: number }): string => `${round(figure.tickCpuPerSecond, 2)} ms in 10 ms ticks`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** Seven days of one-second rows, as the agent writes them, ending `end` (unix seconds). */
function writeHistory(csvDir: string, end: number): number {
  mkdirSync(csvDir, { recursive: true });
  let rows = 0;
  const start = Math.floor(end - HISTORY_DAYS * 86_400) + 1;
  for (let dayStart = Math.floor((start * 1000) / DAY_MS) * 86_400; dayStart < end; dayStart += 86_400) {
    const chunks: string[] = [CSV_HEADER + CSV_EOL];
    for (let ts = Math.max(dayStart, start); ts < Math.min(dayStart + 86_400, end); ts += 1) {
      chunks.push(formatRow(sampleAt(ts + 0.25, { cpu_total: ts % 100, cpu_per_core: [ts % 100, (ts + 50) % 100] })));
      rows += 1;
    }
    writeFileSync(join(csvDir, dayFileName(dayStart * 1000)), chunks.join(''));
  }
  return rows;
}

interface BareServer {
  url: string;
  pid: number;
  stop(): void;
}

// Answers `/` with a page that reads `stream` as the status page reads its live stream (fetch and
// a reader), and `stream` with the status line, then the sample line once a second from a timer
// of its own and the status line every 15th second (the shipped collection interval, with which the header changes); nothing else.
const BARE_SERVER = `
const { BARE_SAMPLE: sample, BARE_STATUS: status } = process.env;
const page = '<!doctype html><title>reference</title><script>fetch("stream", { cache: "no-store" }).then(function (r) { var reader = r.body.getReader(); function next() { return reader.read().then(function (c) { if (!c.done) return next(); }); } return next(); });</script>';
require('node:http').createServer((req, res) => {
  if (req.url === '/') {
    res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(page) });
    return res.end(page);
  }
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  res.write(status);
  let n = 0;
  const timer = setInterval(() => {
    res.write(sample);
    if (++n % 15 === 0) res.write(status);
  }, 1000);
  res.on('close', () => clearInterval(timer));
}).listen(0, '127.0.0.1', function () { process.stdout.write(this.address().port + '\\n'); });
`;

// The floor of a one-second sampler, in a process of its own: with FLOOR=idle a 1 s timer that
// does nothing; with FLOOR=sample the least a sample needs each second and nothing else: the
// sampler's kernel files read from kept descriptors, one global regular expression per file for
// the fields a sample holds, the sample's percentages and rates, a ring of 600 samples, one CSV
// row written from a template to the file named by FLOOR_CSV. No logger, history or listener.
const FLOOR_PROCESS = `
const fs = require('node:fs');
const { FLOOR: mode, FLOOR_CSV: csv, FLOOR_DISK: disk } = process.env;
if (mode === 'idle') {
  setInterval(() => {}, 1000);
} else {
  const open = (path) => fs.openSync(path, 'r');
  const fds = { stat: open('/proc/stat'), mem: open('/proc/meminfo'), load: open('/proc/loadavg'), net: open('/proc/net/dev'), disk: disk ? open('/sys/block/' + disk + '/stat') : undefined };
  const buf = Buffer.allocUnsafe(65536);
  const out = fs.openSync(csv, 'a');
  const text = (fd) => buf.latin1Slice(0, fs.readSync(fd, buf, 0, buf.length, 0));
  const CPU = /^cpu(\\d*) +(\\d+) (\\d+) (\\d+) (\\d+) (\\d+) (\\d+) (\\d+) (\\d+)/gm;
  const MEM = /^(MemTotal|MemAvailable|SwapTotal|SwapFree): +(\\d+)/gm;
  const NET = /^ *([^:\\s]+): *(\\d+)(?: +\\d+){7} +(\\d+)/gm;
  const ring = [];
  let prev;
  setInterval(() => {
    const now = Date.now();
    const cpus = [];
    const stat = text(fds.stat);
    for (let m; (m = CPU.exec(stat)) !== null;) {
      const idle = +m[5] + +m[6];
      cpus.push(idle + +m[2] + +m[3] + +m[4] + +m[7] + +m[8] + +m[9], idle);
    }
    CPU.lastIndex = 0;
    const mem = {};
    const meminfo = text(fds.mem);
    for (let m; (m = MEM.exec(meminfo)) !== null;) mem[m[1]] = +m[2] * 1024;
    MEM.lastIndex = 0;
    const load = text(fds.load).split(' ');
    let rx = 0;
    let tx = 0;
    const netdev = text(fds.net);
    for (let m; (m = NET.exec(netdev)) !== null;) if (m[1] !== 'lo') { rx += +m[2]; tx += +m[3]; }
    NET.lastIndex = 0;
    const io = fds.disk === undefined ? [] : text(fds.disk).trim().split(/\\s+/);
    const root = fs.statfsSync('/');
    const cur = { now, cpus, rx, tx, read: +io[2] * 512, written: +io[6] * 512 };
    if (prev) {
      const dt = (now - prev.now) / 1000;
      const busy = [];
      for (let i = 0; i < cpus.length; i += 2) {
        const total = cpus[i] - prev.cpus[i];
        busy.push(total > 0 ? Math.round((1 - (cpus[i + 1] - prev.cpus[i + 1]) / total) * 10000) / 100 : 0);
      }
      const s = {
        ts_unix: now / 1000, ts_iso: new Date(now).toISOString(), cpu_total: busy[0], cpu_per_core: busy.slice(1),
        mem_total: mem.MemTotal, mem_used: mem.MemTotal - mem.MemAvailable, mem_percent: Math.round((1 - mem.MemAvailable / mem.MemTotal) * 10000) / 100,
        swap_total: mem.SwapTotal, swap_used: mem.SwapTotal - mem.SwapFree, load1: +load[0], load5: +load[1], load15: +load[2],
        disk_read: (cur.read - prev.read) / dt, disk_write: (cur.written - prev.written) / dt, net_rx: (rx - prev.rx) / dt, net_tx: (tx - prev.tx) / dt,
        root_used: Math.round((1 - root.bavail / root.blocks) * 10000) / 100,
      };
      ring.push(s);
      if (ring.length > 600) ring.shift();
      fs.writeSync(out, s.ts_unix.toFixed(3) + ',"' + s.ts_iso + '",host,' + s.cpu_total + ',"' + JSON.stringify(s.cpu_per_core) + '",' + s.mem_percent + ',' + s.mem_total + ',' + s.mem_used + ',,' + s.swap_total + ',' + s.swap_used + ',,' + s.load1 + ',' + s.load5 + ',' + s.load15 + ',' + s.disk_read + ',' + s.disk_write + ',' + s.net_rx + ',' + s.net_tx + ',' + s.root_used + '\\r\\n');
    }
    prev = cur;
  }, 1000);
}
`;

/** The host's first physical disk, as the sampler classifies block devices; undefined without /sys/block. */
async function firstPhysicalDisk(): Promise<string | undefined> {
  const wholeDisks = await readWholeDisks(new HostFs('/'));
  return wholeDisks && [...wholeDisks].find((name) => classifyBlockDevice(name, wholeDisks) === 'disk');
}

/** The V8 flags bin/tfo-agentd adds (its seed aside): `--no-expose-wasm` only where this node accepts it. */
function launcherFlags(): string[] {
  const wasm = spawnSync(process.execPath, ['--no-expose-wasm', '--version']).status === 0 ? ['--no-expose-wasm'] : [];
  return ['--predictable', '--expose-gc', ...wasm];
}

/** A floor process (FLOOR_PROCESS) with the agent's Node options and the service launcher's V8 flags. */
function startFloorProcess(flags: readonly string[], mode: 'idle' | 'sample', csvFile: string, disk: string | undefined, nodeOptions: string): { pid: number; stop(): void } {
  const child = spawn(process.execPath, [...flags, '-e', FLOOR_PROCESS], { env: { ...process.env, NODE_OPTIONS: nodeOptions, FLOOR: mode, FLOOR_CSV: csvFile, FLOOR_DISK: disk ?? '' }, stdio: ['ignore', 'ignore', 'inherit'] });
  return { pid: child.pid!, stop: () => void child.kill() };
}

/** A bare node:http server (same Node options as the agent) streaming the status page's lines. */
async function startBareServer(lines: { sample: string; status: string }, nodeOptions: string): Promise<BareServer> {
  const child = spawn(process.execPath, ['-e', BARE_SERVER], { env: { ...process.env, NODE_OPTIONS: nodeOptions, BARE_SAMPLE: lines.sample, BARE_STATUS: lines.status }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => void child.kill() };
}

interface Running {
  name: string;
  agent: AgentProcess;
  /** `http://host:port` of the API, when it is on. */
  api?: string;
}

export async function run(): Promise<BenchSection> {
  // The shipped files first: a missing one fails the suite before anything is started.
  const shipped = parse(readFileSync(join(REPO_ROOT, 'configs', 'tfo-agent.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
  const nodeOptions = shippedNodeOptions();
  const receiver = await startOtlpReceiver();
  const workspace = tempWorkspace('tfo-bench-api-');
  const running: Running[] = [];
  const notes: string[] = [];
  const figures: BenchFigure[] = [];
  let browser: Browser | undefined;
  let bare: BareServer | undefined;
  let bareLines: { sample: string; status: string } | undefined;
  let bareBrowser: Browser | undefined;
  const floors: { name: string; pid: number; stop(): void }[] = [];

  /** The shipped config, exporting to the receiver, with its own state and loopback ports. */
  const start = async (name: string, api: boolean, interval?: string): Promise<Running> => {
    const dir = join(workspace.dir, name);
    const config = {
      ...shipped,
      telemetryflow: { ...shipped.telemetryflow, endpoint: receiver.grpcAddress },
      agent: { ...shipped.agent, data_dir: dir },
      ...(interval ? { collectors: { ...shipped.collectors, system: { ...(shipped.collectors!.system as object), interval } } } : {}),
      buffer: { ...shipped.buffer, path: join(dir, 'buffer') },
      health: { ...shipped.health, address: '127.0.0.1:0' },
      api: { ...shipped.api, enabled: api, address: '127.0.0.1:0', csv_dir: join(dir, 'csv') },
    };
    const agent = new AgentProcess(['start', '--config', workspace.file(`${name}.yaml`, stringify(config))], { env: { NODE_OPTIONS: nodeOptions }, service: true });
    const one: Running = { name, agent };
    running.push(one);
    await agent.waitForEvent('agent.started', 30_000);
    if (api) one.api = `http://${String((await agent.waitForEvent('api.listening')).address)}`;
    return one;
  };

  /**
   * CPU (ms per second of the window: every thread's run time, and the 10 ms-tick figure of
   * /proc/<pid>/stat beside it) and steady RSS (mean of the window's last third) of each agent.
   */
  const measure = async (agents: Running[], seconds: number, each?: () => Promise<void>) => {
    const rss = agents.map(() => [] as number[]);
    const cpuBefore = agents.map((a) => processRunTimeMs(a.agent.pid));
    const ticksBefore = agents.map((a) => processCpuMs(a.agent.pid));
    const started = Date.now();
    for (let second = 1; second <= seconds; second++) {
      await sleep(Math.max(0, started + second * 1000 - Date.now()));
      await each?.();
      if ((second * 1000) % RSS_EVERY_MS === 0) agents.forEach((a, i) => rss[i]!.push(processRssMb(a.agent.pid)));
    }
    const elapsed = (Date.now() - started) / 1000;
    return agents.map((a, i) => ({
      cpuPerSecond: (processRunTimeMs(a.agent.pid) - cpuBefore[i]!) / elapsed,
      tickCpuPerSecond: (processCpuMs(a.agent.pid) - ticksBefore[i]!) / elapsed,
      rssMb: mean(rss[i]!.slice(Math.floor((rss[i]!.length * 2) / 3))),
    }));
  };

  try {
    // Phase 1: API off, on, on with a tab.
    const off = await start('api-off', false);
    const onDir = join(workspace.dir, 'api-on');
    const historyRows = writeHistory(join(onDir, 'csv'), Date.now() / 1000 - 5);
    const on = await start('api-on', true);
    const onStarted = Date.now();
    // The past days are summarised once, at start (docs/API.md): a one-off of several seconds of
    // CPU, spread over event-loop turns, that is not the API's cost per second. Measured after it.
    const summarized = Date.now();
    while (on.agent.lines.filter((line) => line.event === 'api.csv_summarized').length < HISTORY_DAYS && Date.now() - summarized < 180_000) await sleep(250);
    notes.push(`the API-on agent summarised its ${HISTORY_DAYS} past days of history in ${round((Date.now() - summarized) / 1000, 1)} s after start; the window starts after that`);
    const tab = await start('api-tab', true);
    let pageRequests = 0;
    let bareRequests = 0;
    if (existsSync(CHROMIUM)) {
      const puppeteer = await import('puppeteer-core');
      const launchOptions = {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${join(workspace.dir, 'chromium')}`],
      };
      browser = await puppeteer.launch(launchOptions);
      const page = await browser.newPage();
      await page.setViewport({ width: 1366, height: 900 });
      await page.goto(`${tab.api}/`, { waitUntil: 'load' });
      page.on('request', () => (pageRequests += 1));
      // The reference: node:http streaming the same lines from a timer of its own, to a second tab.
      // The agent's first sample comes a collect interval after it starts (503 before).
      let latest = await fetch(`${tab.api}/metrics/latest`);
      while (latest.status === 503) {
        await sleep(250);
        latest = await fetch(`${tab.api}/metrics/latest`);
      }
      bareLines = {
        sample: sampleLine((await latest.json()) as Sample),
        status: statusLine(await (await fetch(`${tab.api}/status`)).json()),
      };
      bare = await startBareServer(bareLines, nodeOptions);
      // A browser of its own: a second tab in the same one would hide the status page, which then closes its stream.
      bareBrowser = await puppeteer.launch({ ...launchOptions, args: [...launchOptions.args!.slice(0, -1), `--user-data-dir=${join(workspace.dir, 'chromium-floor')}`] });
      const barePage = await bareBrowser.newPage();
      await barePage.goto(`${bare.url}/`, { waitUntil: 'load' });
      barePage.on('request', () => (bareRequests += 1));
    } else notes.push(`${CHROMIUM} not found: no figure for an open status page tab`);
    const flags = launcherFlags();
    floors.push(
      { name: 'idle', ...startFloorProcess(flags, 'idle', '', undefined, nodeOptions) },
      { name: 'sample', ...startFloorProcess(flags, 'sample', join(workspace.dir, 'floor.csv'), await firstPhysicalDisk(), nodeOptions) },
    );
    await sleep(WARMUP_MS);
    const floorsBefore = floors.map((floor) => processRunTimeMs(floor.pid));
    const requestsBefore = pageRequests;
    const bareBefore = { requests: bareRequests, cpuMs: bare ? processRunTimeMs(bare.pid) : 0 };
    const [offFig, onFig, tabFig] = await measure([off, on, tab], SECONDS);
    const floorsPerSecond = floors.map((floor, i) => (processRunTimeMs(floor.pid) - floorsBefore[i]!) / SECONDS);
    const tabRequests = pageRequests - requestsBefore;
    const tabStreams = browser === undefined ? 0 : (await (await fetch(`${tab.api}/status`)).json() as { api: { live_streams: number } }).api.live_streams;
    const bareFig = bare ? { cpuPerSecond: (processRunTimeMs(bare.pid) - bareBefore.cpuMs) / SECONDS, requests: bareRequests - bareBefore.requests } : undefined;
    figures.push(
      { name: 'API off: CPU per second, whole agent', value: round(offFig!.cpuPerSecond, 3), unit: 'ms', detail: `shipped config, api.enabled false; ${ticks(offFig!)}` },
      { name: 'API on: CPU per second, whole agent', value: round(onFig!.cpuPerSecond, 3), unit: 'ms', detail: `1 s sampler, ring, CSV, listener idle; ${ticks(onFig!)}` },
      { name: 'API on − off: CPU per second', value: round(onFig!.cpuPerSecond - offFig!.cpuPerSecond, 3), unit: 'ms', detail: `goal: at most +0.5 ms; in 10 ms ticks +${round(onFig!.tickCpuPerSecond - offFig!.tickCpuPerSecond, 2)} ms` },
      { name: 'API off: RSS, last third', value: round(offFig!.rssMb, 1), unit: 'MB' },
      { name: 'API on: RSS, last third', value: round(onFig!.rssMb, 1), unit: 'MB' },
      { name: 'API on − off: RSS', value: round(onFig!.rssMb - offFig!.rssMb, 1), unit: 'MB', detail: 'goal: at most +3 MB' },
      { name: 'floor: a process woken by a 1 s timer doing nothing, CPU per second', value: round(floorsPerSecond[0]!, 3), unit: 'ms', detail: 'the agent\'s Node options and launcher flags' },
      { name: 'floor: the least a 1 s sample needs, a process of its own, CPU per second', value: round(floorsPerSecond[1]!, 3), unit: 'ms', detail: 'the five kernel files from kept descriptors, statfs, a regular expression per file, the sample, a ring, a CSV row; nothing else' },
    );
    for (const floor of floors.splice(0)) floor.stop();
    if (browser !== undefined) {
      figures.push(
        { name: 'one status page tab: CPU per second, whole agent', value: round(tabFig!.cpuPerSecond, 3), unit: 'ms', detail: `${tabRequests} requests from the tab in the window, ${tabStreams} live stream open at its end; ${ticks(tabFig!)}` },
        { name: 'tab − no tab: CPU per second', value: round(tabFig!.cpuPerSecond - onFig!.cpuPerSecond, 3), unit: 'ms', detail: `goal: at most +0.3 ms; in 10 ms ticks +${round(tabFig!.tickCpuPerSecond - onFig!.tickCpuPerSecond, 2)} ms` },
      );
      if (bareFig) figures.push({ name: 'reference: bare node:http streaming the same lines: CPU per second', value: round(bareFig.cpuPerSecond, 2), unit: 'ms', detail: `${bareFig.requests} requests from a second tab in the window; a ${Buffer.byteLength(bareLines!.sample)}-byte sample line a second from its own timer, the ${Buffer.byteLength(bareLines!.status)}-byte status line every 15 s` });
      await browser.close();
      browser = undefined;
      await bareBrowser?.close();
      bareBrowser = undefined;
    }
    await off.agent.kill();
    await tab.agent.kill();
    bare?.stop();

    if (PARTS.has('range')) {
      // /metrics/range on the quiet API-on agent: 7 days of CSV with a step, then the ring alone.
      // Wall time as a client sees it, and the agent's CPU per query (less sensitive to a busy host).
      const timed = async (path: string, times: number): Promise<{ ms: number[]; cpuMs: number; points: number }> => {
        const ms: number[] = [];
        let points = 0;
        const cpuBefore = processRunTimeMs(on.agent.pid);
        for (let i = 0; i < times; i++) {
          const t0 = performance.now();
          const response = await fetch(on.api + path);
          const body = (await response.json()) as unknown[];
          ms.push(performance.now() - t0);
          if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${JSON.stringify(body)}`);
          points = body.length;
        }
        return { ms, cpuMs: (processRunTimeMs(on.agent.pid) - cpuBefore) / times, points };
      };
      const week = await timed(`/metrics/range?seconds=${HISTORY_DAYS * 86_400}&step=300s`, 9);
      // Within what the ring holds (the agent has sampled once a second since it started).
      const ringSeconds = Math.min(600, Math.floor((Date.now() - onStarted) / 1000) - 5);
      const ring = await timed(`/metrics/range?seconds=${ringSeconds}`, 51);
      figures.push(
        { name: '/metrics/range 7 d of CSV, step=300s (median)', value: round(median(week.ms), 1), unit: 'ms', detail: `${historyRows} rows in ${HISTORY_DAYS + 1} day files, ${week.points} buckets answered, max ${round(Math.max(...week.ms), 1)} ms, agent CPU ${round(week.cpuMs, 0)} ms per query; goal under 300 ms` },
        { name: `/metrics/range over the ring, ${ringSeconds} s (median)`, value: round(median(ring.ms), 2), unit: 'ms', detail: `${ring.points} samples answered, max ${round(Math.max(...ring.ms), 2)} ms, agent CPU ${round(ring.cpuMs, 2)} ms per query; goal under 5 ms` },
      );
    }
    await on.agent.kill();

    if (PARTS.has('scrape')) {
      // Phase 2: scrape cost per scrape, against node_exporter scraped at the same pace.
      const scraped = await start('scraped', true, '1s');
      const quiet = await start('not-scraped', true, '1s');
      const exporter = havePeer(NODE_EXPORTER) ? await startNodeExporter(undefined, ['--no-collector.textfile']) : undefined;
      if (exporter === undefined) notes.push(`${NODE_EXPORTER} not installed: no node_exporter figure`);
      try {
        await sleep(5_000);
        let agentSeries = 0;
        let exporterSeries = 0;
        const exporterBefore = exporter ? processRunTimeMs(exporter.pid) : 0;
        const scrapes = Math.max(30, Math.floor(SECONDS / 2));
        const [scrapedFig, quietFig] = await measure([scraped, quiet], scrapes, async () => {
          const response = await fetch(`${scraped.api}/metrics`);
          if (!response.ok) throw new Error(`/metrics: HTTP ${response.status}`);
          agentSeries = parseExposition(await response.text()).samples.length;
          if (exporter) exporterSeries = parseExposition(await exporter.scrape()).samples.length;
        });
        // One scrape a second: the extra CPU per second is the CPU per scrape.
        const agentPerScrape = scrapedFig!.cpuPerSecond - quietFig!.cpuPerSecond;
        figures.push({ name: 'agent: CPU per /metrics scrape', value: round(agentPerScrape, 2), unit: 'ms', detail: `${agentSeries} series; scraped agent minus the same agent not scraped, export every 1 s so each scrape writes a new exposition` });
        if (exporter) {
          const exporterPerScrape = (processRunTimeMs(exporter.pid) - exporterBefore) / scrapes;
          figures.push(
            { name: 'node_exporter: CPU per scrape, whole process', value: round(exporterPerScrape, 2), unit: 'ms', detail: `${exporterSeries} series, default collectors` },
            { name: 'agent / node_exporter CPU per scrape', value: round(agentPerScrape / exporterPerScrape, 2), unit: 'x', detail: 'goal: below 1' },
          );
        }
      } finally {
        await exporter?.stop();
      }
    }
    notes.push(`BENCH_API_SECONDS=${SECONDS}, BENCH_API_PARTS=${[...PARTS].join(',')} (phase 1; phase 2 scrapes half as many seconds, at least 30). CPU from every thread's run time (/proc/<pid>/task/*/schedstat, ns; the 10 ms-tick figure of /proc/<pid>/stat beside it), RSS from VmRSS every 5 s; the agents run at once, so they see the same host.`);
    notes.push(`NODE_OPTIONS ${nodeOptions}, as the systemd unit and the image set them.`);
    return { title: 'Local API and status page (real agents, shipped config)', figures, notes };
  } finally {
    await browser?.close();
    await bareBrowser?.close();
    bare?.stop();
    for (const floor of floors) floor.stop();
    await Promise.all(running.map((r) => r.agent.kill()));
    await receiver.close();
    workspace.cleanup();
  }
}
