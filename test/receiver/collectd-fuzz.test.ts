// 100,000 random and mutated packets into the running agent's collectd receiver over UDP: every
// one counted by reason or taken, the agent keeps running with its series bounded, and a valid
// packet sent afterwards is exported with collectd's own time.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodePacket } from '../../internal/receiver/collectd/decode';
import { hrTimeToMillis } from '../../internal/receiver/collectd/protocol';
import { withAgent } from '../support/collectd';
import { FIXTURES } from '../support/paths';
import { freePort } from '../support/peers';

const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, 'collectd', `${name}.bin`));
const PACKETS = 100_000;
const MAX_SERIES = 500;

/** A deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

function fuzzPacket(rand: () => number, seeds: Buffer[]): Buffer {
  if (rand() < 0.3) {
    const out = Buffer.alloc(Math.floor(rand() * 1452));
    for (let i = 0; i < out.length; i++) out[i] = Math.floor(rand() * 256);
    return out;
  }
  const base = seeds[Math.floor(rand() * seeds.length)];
  let out = Buffer.from(base);
  const edits = 1 + Math.floor(rand() * 8);
  for (let e = 0; e < edits; e++) {
    const pick = rand();
    const at = Math.floor(rand() * out.length);
    if (pick < 0.6) out[at] = Math.floor(rand() * 256);
    else if (pick < 0.8) out = out.subarray(0, at);
    else out = Buffer.concat([out.subarray(0, at), out.subarray(at, at + Math.floor(rand() * 64)), out.subarray(at)]);
    if (out.length === 0) break;
  }
  return out;
}

describe('collectd receiver under fuzzed packets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfo-collectd-fuzz-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(`${PACKETS} random and mutated packets: counted, no crash, series bounded; the agent healthy; a valid packet after is exported`, async () => {
    const seeds = ['plain-1', 'plain-2', 'signed-0', 'encrypted-0'].map(fixture);
    const valid = fixture('plain-0');
    const validLoad = decodePacket(valid, { securityLevel: 'none' }).valueLists.find((vl) => vl.type === 'load');
    assert.ok(validLoad !== undefined);
    const port = await freePort();
    const rand = random(0x15c011ec);
    const healthPort = await freePort();
    let rssGrowth = 0;
    let health: { status?: string } = {};
    const sections = {
      receivers: { collectd: { enabled: true, listen: [`127.0.0.1:${port}`], max_series: MAX_SERIES } },
      health: { enabled: true, address: `127.0.0.1:${healthPort}` },
    };
    const { points } = await withAgent(dir, sections, async () => {
      const socket = createSocket('udp4');
      const send = (packet: Buffer): Promise<void> => new Promise((resolve, reject) => socket.send(packet, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
      const rssBefore = process.memoryUsage().rss;
      for (let i = 0; i < PACKETS; i += 200) {
        await Promise.all(Array.from({ length: 200 }, () => send(fuzzPacket(rand, seeds))));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      rssGrowth = process.memoryUsage().rss - rssBefore;
      await send(valid);
      await new Promise((resolve) => setTimeout(resolve, 200));
      socket.close();
      health = (await (await fetch(`http://127.0.0.1:${healthPort}/health`)).json()) as { status?: string };
    });
    assert.equal(health.status, 'ok', `the agent's health after the fuzz: ${JSON.stringify(health)}`);
    assert.ok(rssGrowth < 150 * 1024 * 1024, `RSS grew by ${rssGrowth} bytes`);
    const last = (name: string): typeof points => {
      const all = points.filter((p) => p.name === name);
      const lastTime = all.reduce((m, p) => (BigInt(p.timeUnixNano) > m ? BigInt(p.timeUnixNano) : m), 0n);
      return all.filter((p) => BigInt(p.timeUnixNano) === lastTime);
    };
    const dropped = last('tfo_agent.collectd.dropped');
    const reasons = new Map(dropped.map((p) => [String(p.attributes.reason), p.value]));
    const totalDropped = [...reasons.values()].reduce((a, b) => a + b, 0);
    assert.ok(reasons.size >= 3, `drops by several reasons: ${JSON.stringify([...reasons])}`);
    assert.ok(totalDropped > PACKETS / 10, `${totalDropped} drops counted`);
    const packets = last('tfo_agent.collectd.packets').reduce((a, p) => a + p.value, 0);
    assert.ok(packets > PACKETS / 10, `${packets} packets counted`);
    const series = last('tfo_agent.collectd.series');
    assert.ok(series.length > 0 && series.every((p) => p.value <= MAX_SERIES), `series ${series.map((p) => p.value).join(',')} <= ${MAX_SERIES}`);
    const load = points.filter((p) => p.resource['host.name'] === validLoad.host && p.name === 'load.shortterm'
      && Math.abs(Number(BigInt(p.timeUnixNano) / 1_000_000n) - hrTimeToMillis(validLoad.time)) < 1);
    assert.ok(load.length > 0, 'the valid packet after the fuzz is exported with its own time');
    assert.equal(load[0].value, validLoad.values[0]);
  });
});
