import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodePacket, type DecodeOptions, type ValueList } from '../../internal/receiver/collectd/decode';
import { numberPart, PacketWriter, secure, stringPart, valuesPart } from '../../internal/receiver/collectd/encode';
import { cdtimeToHrTime, Part } from '../../internal/receiver/collectd/protocol';
import { builtinTypesDb, parseTypesDb, TypesDbError } from '../../internal/receiver/collectd/types-db';
import { FIXTURES } from '../support/paths';

const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, 'collectd', `${name}.bin`));
const users: Record<string, string> = { alice: 's3cret' };
const withAuth: DecodeOptions = { securityLevel: 'none', hasAuth: true, password: (u) => users[u] };
const plain: DecodeOptions = { securityLevel: 'none' };

/** host, plugin, type and a high-resolution time 1 s after the epoch's second 1_700_000_000. */
function header(): Buffer {
  return Buffer.concat([
    stringPart(Part.HOST, 'h'), stringPart(Part.PLUGIN, 'p'), stringPart(Part.TYPE, 'gauge'),
    numberPart(Part.TIME_HR, 1_700_000_000n << 30n),
  ]);
}

describe('collectd packets from a real collectd 5.12 (fixtures)', () => {
  it('plain: every value list with collectd\'s host, names, time and interval', () => {
    const packet = decodePacket(fixture('plain-0'), plain);
    assert.deepEqual(packet.faults, []);
    assert.equal(packet.valueLists.length, 27);
    const load = packet.valueLists[0];
    assert.deepEqual(
      { host: load.host, plugin: load.plugin, type: load.type, kinds: load.kinds, intervalMs: load.intervalMs },
      { host: 'fixture-host', plugin: 'load', type: 'load', kinds: ['gauge', 'gauge', 'gauge'], intervalMs: 10_000 },
    );
    assert.deepEqual(load.values, [5.07177734375, 4.064453125, 2.5703125]);
    assert.deepEqual(load.time, [1796295269, 466454285]);
    for (const vl of packet.valueLists) assert.equal(vl.host, 'fixture-host');
  });

  it('signed and encrypted: verified with the auth file\'s password, the same data as plain', () => {
    for (const name of ['signed-0', 'encrypted-0']) {
      const packet = decodePacket(fixture(name), { ...withAuth, securityLevel: name === 'signed-0' ? 'sign' : 'encrypt' });
      assert.deepEqual(packet.faults, [], name);
      assert.equal(packet.username, 'alice');
      assert.ok(packet.valueLists.length >= 25, name);
      assert.deepEqual(packet.valueLists[0].values, [5.07177734375, 4.064453125, 2.5703125]);
    }
  });

  it('a wrong password: nothing accepted, the reason is the signature or the decryption', () => {
    const wrong: DecodeOptions = { securityLevel: 'none', hasAuth: true, password: () => 'hunter2' };
    const signed = decodePacket(fixture('signed-0'), wrong);
    assert.equal(signed.valueLists.length, 0);
    assert.deepEqual(signed.faults.map((f) => f.reason), ['bad_signature']);
    const encrypted = decodePacket(fixture('encrypted-0'), wrong);
    assert.equal(encrypted.valueLists.length, 0);
    assert.deepEqual(encrypted.faults.map((f) => f.reason), ['decryption_failed']);
    assert.doesNotMatch(JSON.stringify(encrypted.faults), /hunter2|s3cret/, 'no password in a reason');
    const unknown = decodePacket(fixture('signed-0'), { ...wrong, password: () => undefined });
    assert.deepEqual(unknown.faults.map((f) => f.reason), ['unknown_user']);
  });

  it('security levels: sign refuses plain data, encrypt refuses signed data; none reads signed data without an auth file', () => {
    const atSign = decodePacket(fixture('plain-0'), { ...withAuth, securityLevel: 'sign' });
    assert.equal(atSign.valueLists.length, 0);
    assert.equal(atSign.faults.length, 27);
    assert.ok(atSign.faults.every((f) => f.reason === 'insecure'));
    const atEncrypt = decodePacket(fixture('signed-0'), { ...withAuth, securityLevel: 'encrypt' });
    assert.equal(atEncrypt.valueLists.length, 0);
    assert.ok(atEncrypt.faults.every((f) => f.reason === 'insecure'));
    assert.equal(decodePacket(fixture('encrypted-0'), { ...withAuth, securityLevel: 'encrypt' }).valueLists.length, 25);
    assert.equal(decodePacket(fixture('signed-0'), plain).valueLists.length, 27);
    const noAuth = decodePacket(fixture('encrypted-0'), plain);
    assert.deepEqual([noAuth.valueLists.length, noAuth.faults.map((f) => f.reason)], [0, ['no_auth']]);
    assert.deepEqual(decodePacket(fixture('signed-0'), { securityLevel: 'sign' }).faults.map((f) => f.reason), ['no_auth']);
  });

  it('a tampered signed packet is refused', () => {
    const packet = Buffer.from(fixture('signed-0'));
    packet[packet.length - 1] ^= 1;
    assert.deepEqual(decodePacket(packet, withAuth).faults.map((f) => f.reason), ['bad_signature']);
  });
});

describe('collectd packet edges', () => {
  const reasons = (packet: Buffer): string[] => decodePacket(packet, plain).faults.map((f) => f.reason);

  it('part lengths 0, 3 and past the end end the packet; what came before stays', () => {
    const good = Buffer.concat([header(), valuesPart(['gauge'], [1])]);
    for (const length of [0, 3, 500]) {
      const bad = Buffer.from([0x00, 0x06, length >> 8, length & 0xff, 0, 1]);
      const packet = decodePacket(Buffer.concat([good, bad, valuesPart(['gauge'], [2])]), plain);
      assert.deepEqual(packet.valueLists.map((v) => v.values[0]), [1], `length ${length}`);
      assert.deepEqual(packet.faults.map((f) => f.reason), ['bad_part_length']);
    }
    assert.deepEqual(reasons(Buffer.from([0, 0])), ['bad_part_length']);
    assert.deepEqual(decodePacket(Buffer.alloc(0), plain), { valueLists: [], notifications: [], faults: [] });
  });

  it('a values part whose count disagrees with its length', () => {
    const part = valuesPart(['gauge', 'gauge'], [1, 2]);
    part.writeUInt16BE(3, 4);
    assert.deepEqual(reasons(Buffer.concat([header(), part])), ['bad_values']);
    const unknownKind = valuesPart(['gauge'], [1]);
    unknownKind[6] = 9;
    assert.deepEqual(reasons(Buffer.concat([header(), unknownKind])), ['bad_values']);
  });

  it('a string without its NUL, and names of 127 and 128 bytes', () => {
    const noNul = stringPart(Part.PLUGIN, 'cpu');
    noNul[noNul.length - 1] = 0x41;
    assert.deepEqual(reasons(Buffer.concat([header(), noNul])), ['bad_string']);
    const empty = Buffer.from([0x00, 0x02, 0x00, 0x04]);
    assert.deepEqual(reasons(Buffer.concat([header(), empty])), ['bad_string']);
    const ok = decodePacket(Buffer.concat([header(), stringPart(Part.TYPE_INSTANCE, 'x'.repeat(127)), valuesPart(['gauge'], [1])]), plain);
    assert.equal(ok.valueLists[0].typeInstance.length, 127);
    assert.deepEqual(reasons(Buffer.concat([header(), stringPart(Part.TYPE_INSTANCE, 'x'.repeat(128)), valuesPart(['gauge'], [1])])), ['name_too_long']);
  });

  it('unknown part types are skipped by their length', () => {
    const unknown = Buffer.from([0x7f, 0x7f, 0x00, 0x06, 0xaa, 0xbb]);
    const packet = decodePacket(Buffer.concat([unknown, header(), unknown, valuesPart(['gauge'], [7])]), plain);
    assert.deepEqual([packet.faults, packet.valueLists[0].values], [[], [7]]);
  });

  it('NaN gauges (collectd\'s bytes), DERIVE signed, COUNTER and ABSOLUTE unsigned', () => {
    const part = valuesPart(['gauge', 'derive', 'counter', 'absolute'], [0, -5, 0, 0]);
    Buffer.from('000000000000f87f', 'hex').copy(part, 10);
    part.writeBigUInt64BE(2n ** 52n + 3n, 10 + 16);
    part.writeBigUInt64BE(2n ** 63n, 10 + 24);
    const [vl] = decodePacket(Buffer.concat([header(), part]), plain).valueLists;
    assert.ok(Number.isNaN(vl.values[0]));
    assert.deepEqual(vl.values.slice(1), [-5, 2 ** 52 + 3, 2 ** 63]);
    assert.deepEqual(vl.kinds, ['gauge', 'derive', 'counter', 'absolute']);
  });

  it('time 0, or no host, plugin or type: the value list is dropped as incomplete', () => {
    const zero = Buffer.concat([header(), numberPart(Part.TIME_HR, 0n), valuesPart(['gauge'], [1])]);
    assert.deepEqual(reasons(zero), ['incomplete']);
    assert.deepEqual(reasons(Buffer.concat([numberPart(Part.TIME_HR, 1n << 30n), valuesPart(['gauge'], [1])])), ['incomplete']);
    const shortNumber = Buffer.from([0x00, 0x08, 0x00, 0x08, 0, 0, 0, 1]);
    assert.deepEqual(reasons(shortNumber), ['bad_number']);
  });

  it('collectd 4 time and interval in seconds; high-resolution time exact to the nanosecond', () => {
    const packet = decodePacket(Buffer.concat([header(), numberPart(Part.TIME, 1_600_000_000n), numberPart(Part.INTERVAL, 10n), valuesPart(['gauge'], [1])]), plain);
    assert.deepEqual([packet.valueLists[0].time, packet.valueLists[0].intervalMs], [[1_600_000_000, 0], 10_000]);
    // 2^-30 s units: 1 unit is 0.93 ns, rounded to 1; half a second is exactly 5e8 ns; one unit short of a second is 999 999 999.07 ns.
    assert.deepEqual(cdtimeToHrTime((1_700_000_000n << 30n) + 1n), [1_700_000_000, 1]);
    assert.deepEqual(cdtimeToHrTime((1_700_000_000n << 30n) + (1n << 29n)), [1_700_000_000, 500_000_000]);
    assert.deepEqual(cdtimeToHrTime((1_700_000_001n << 30n) - 1n), [1_700_000_000, 999_999_999]);
  });

  it('notifications: severity, time and message; without a severity the notification is incomplete', () => {
    const note = Buffer.concat([header(), numberPart(Part.SEVERITY, 2n), stringPart(Part.MESSAGE, 'disk almost full')]);
    const [n] = decodePacket(note, plain).notifications;
    assert.deepEqual([n.severity, n.message, n.host, n.plugin], ['warning', 'disk almost full', 'h', 'p']);
    assert.deepEqual(reasons(Buffer.concat([header(), stringPart(Part.MESSAGE, 'x')])), ['incomplete']);
  });
});

describe('collectd packet writer', () => {
  const vl = (i: number): ValueList => ({
    host: 'writer', plugin: 'cpu', pluginInstance: String(i % 4), type: 'cpu', typeInstance: 'user',
    time: [1_700_000_000 + i, 250_000_000], intervalMs: 10_000, kinds: ['derive'], values: [i * 100 - 5],
  });

  for (const level of ['none', 'sign', 'encrypt'] as const) {
    it(`${level}: packets under the limit that decode to what was written`, () => {
      const packets: Buffer[] = [];
      const writer = new PacketWriter(1452, { level, username: 'alice', password: 's3cret' }, (p) => packets.push(p));
      for (let i = 0; i < 200; i++) writer.addValueList(vl(i));
      writer.flush();
      assert.ok(packets.length > 1 && packets.every((p) => p.length <= 1452), `${packets.length} packets of ${packets.map((p) => p.length)}`);
      const decoded = packets.flatMap((p) => decodePacket(p, { ...withAuth, securityLevel: level }).valueLists);
      assert.deepEqual(decoded, Array.from({ length: 200 }, (_, i) => vl(i)));
    });
  }

  it('writes a part only when its field changed', () => {
    const packets: Buffer[] = [];
    const writer = new PacketWriter(1452, { level: 'none', username: '', password: '' }, (p) => packets.push(p));
    writer.addValueList({ ...vl(0), typeInstance: 'user' });
    writer.addValueList({ ...vl(0), typeInstance: 'system' });
    writer.flush();
    // host, plugin, plugin instance, type, type instance, time, interval, values; then type instance and values.
    const hostParts = packets[0].toString('latin1').split('writer').length - 1;
    assert.equal(hostParts, 1);
    assert.equal(packets[0].length, 11 + 8 + 6 + 8 + 9 + 12 + 12 + 15 + 11 + 15);
  });

  it('a signed packet is refused by a receiver that has another password', () => {
    const signed = secure(Buffer.concat([header(), valuesPart(['gauge'], [1])]), { level: 'sign', username: 'alice', password: 'other' });
    assert.deepEqual(decodePacket(signed, withAuth).faults.map((f) => f.reason), ['bad_signature']);
  });
});

describe('types.db', () => {
  it('parses the data sources with kinds and bounds; U is unbounded', () => {
    const db = parseTypesDb('# comment\nload shortterm:GAUGE:0:5000, midterm:GAUGE:0:5000, longterm:GAUGE:0:5000\nif_octets rx:DERIVE:0:U, tx:DERIVE:0:U\n');
    assert.deepEqual(db.get('load')?.map((d) => d.name), ['shortterm', 'midterm', 'longterm']);
    const [rx] = db.get('if_octets') ?? [];
    assert.deepEqual([rx.kind, rx.min, Number.isNaN(rx.max)], ['derive', 0, true]);
  });

  it('names the file, line and what a data source must look like', () => {
    assert.throws(() => parseTypesDb('ok value:GAUGE:0:U\nbad value:FLOAT:0:U\n', 'my.db'), (err: unknown) => err instanceof TypesDbError && /my\.db:2: data source "value:FLOAT:0:U"/.test(err.message));
  });

  it('the built-in table agrees with the system types.db where both have a type', { skip: !exists('/usr/share/collectd/types.db') && 'collectd not installed' }, () => {
    const system = parseTypesDb(readFileSync('/usr/share/collectd/types.db', 'utf8'));
    const builtin = builtinTypesDb();
    assert.ok(builtin.size > 50);
    for (const [type, sources] of builtin) assert.deepEqual(sources, system.get(type), type);
  });
});

function exists(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

describe('collectd decoder fuzz', () => {
  it('100,000 random and mutated packets: no throw, every fault named; valid packets still decode', () => {
    const seeds = ['plain-0', 'plain-1', 'plain-2', 'signed-0', 'encrypted-0'].map(fixture);
    let state = 0x2545f491;
    const random = (n: number): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % n;
    };
    const known = new Set(['bad_part_length', 'bad_number', 'bad_string', 'name_too_long', 'bad_values', 'bad_signature', 'decryption_failed', 'unknown_user', 'no_auth', 'insecure', 'incomplete']);
    for (let i = 0; i < 100_000; i++) {
      let packet: Buffer;
      if (i % 4 === 0) {
        packet = Buffer.alloc(random(1500));
        for (let j = 0; j < packet.length; j++) packet[j] = random(256);
      } else {
        packet = Buffer.from(seeds[random(seeds.length)]);
        for (let flips = 1 + random(8); flips > 0; flips--) packet[random(packet.length)] = random(256);
        if (random(3) === 0) packet = packet.subarray(0, random(packet.length));
      }
      const decoded = decodePacket(packet, { ...withAuth, securityLevel: (['none', 'sign', 'encrypt'] as const)[i % 3] });
      for (const f of decoded.faults) assert.ok(known.has(f.reason), f.reason);
    }
    assert.equal(decodePacket(fixture('plain-0'), plain).valueLists.length, 27);
    assert.equal(decodePacket(fixture('encrypted-0'), withAuth).valueLists.length, 25);
  });
});
