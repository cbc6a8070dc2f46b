// The sending side of collectd's network protocol: value lists and notifications into packets
// filled up to a size limit, each part written only when its field changed since the last one in
// the same packet (as collectd's network plugin does), then signed or encrypted.
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import type { HrTime } from '@opentelemetry/api';
import type { Identity, Notification, ValueList } from './decode';
import { KIND_CODES, Part, SECURITY_RESERVE, SEVERITY_VALUES, type SecurityLevel } from './protocol';

export interface PacketSecurity {
  level: SecurityLevel;
  username: string;
  password: string;
}

const KIND_INDEX = new Map(KIND_CODES.map((kind, index) => [kind, index]));

/** HrTime as 2^-30 s units, rounded to the nearest unit. */
function hrTimeToCdtime([seconds, nanos]: HrTime): bigint {
  return (BigInt(seconds) << 30n) + ((BigInt(nanos) << 30n) + 500_000_000n) / 1_000_000_000n;
}

function msToCdtime(ms: number): bigint {
  return hrTimeToCdtime([Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)]);
}

/** One part's bytes. */
export function stringPart(type: number, text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const part = Buffer.alloc(5 + bytes.length);
  part.writeUInt16BE(type, 0);
  part.writeUInt16BE(part.length, 2);
  bytes.copy(part, 4);
  return part;
}

export function numberPart(type: number, value: bigint): Buffer {
  const part = Buffer.alloc(12);
  part.writeUInt16BE(type, 0);
  part.writeUInt16BE(12, 2);
  part.writeBigUInt64BE(value, 4);
  return part;
}

export function valuesPart(kinds: readonly ValueList['kinds'][number][], values: readonly number[]): Buffer {
  const n = values.length;
  const part = Buffer.alloc(6 + 9 * n);
  part.writeUInt16BE(Part.VALUES, 0);
  part.writeUInt16BE(part.length, 2);
  part.writeUInt16BE(n, 4);
  for (let i = 0; i < n; i++) {
    part[6 + i] = KIND_INDEX.get(kinds[i]) ?? 1;
    const at = 6 + n + 8 * i;
    const value = values[i];
    if (kinds[i] === 'gauge') part.writeDoubleLE(value, at);
    else if (kinds[i] === 'derive') part.writeBigInt64BE(BigInt(Math.trunc(value)), at);
    else part.writeBigUInt64BE(BigInt.asUintN(64, BigInt(Math.trunc(value))), at);
  }
  return part;
}

/** A finished payload signed (a signature part first) or encrypted (one encryption part). */
export function secure(payload: Buffer, security: PacketSecurity): Buffer {
  if (security.level === 'none') return payload;
  const user = Buffer.from(security.username, 'utf8');
  if (security.level === 'sign') {
    const mac = createHmac('sha256', security.password).update(user).update(payload).digest();
    const head = Buffer.alloc(4);
    head.writeUInt16BE(Part.SIGNATURE, 0);
    head.writeUInt16BE(36 + user.length, 2);
    return Buffer.concat([head, mac, user, payload]);
  }
  const iv = randomBytes(16);
  const key = createHash('sha256').update(security.password).digest();
  const cipher = createCipheriv('aes-256-ofb', key, iv);
  const sealed = Buffer.concat([cipher.update(createHash('sha1').update(payload).digest()), cipher.update(payload), cipher.final()]);
  const head = Buffer.alloc(6);
  head.writeUInt16BE(Part.ENCRYPTION, 0);
  head.writeUInt16BE(6 + user.length + 16 + sealed.length, 2);
  head.writeUInt16BE(user.length, 4);
  return Buffer.concat([head, user, iv, sealed]);
}

const IDENTITY_PARTS: ReadonlyArray<[keyof Identity, number]> = [
  ['host', Part.HOST], ['plugin', Part.PLUGIN], ['pluginInstance', Part.PLUGIN_INSTANCE], ['type', Part.TYPE], ['typeInstance', Part.TYPE_INSTANCE],
];

/** Builds packets up to `maxPacketSize`; `onPacket` gets each full one, secured. */
export class PacketWriter {
  private parts: Buffer[] = [];
  private size = 0;
  private last = new Map<number, string>();
  private readonly limit: number;

  constructor(private readonly maxPacketSize: number, private readonly security: PacketSecurity, private readonly onPacket: (packet: Buffer) => void) {
    this.limit = security.level === 'none' ? maxPacketSize : maxPacketSize - SECURITY_RESERVE;
  }

  addValueList(vl: ValueList): void {
    this.addRecord(vl, [
      [Part.TIME_HR, hrTimeToCdtime(vl.time).toString()],
      [Part.INTERVAL_HR, vl.intervalMs > 0 ? msToCdtime(vl.intervalMs).toString() : undefined],
    ], valuesPart(vl.kinds, vl.values));
  }

  addNotification(n: Notification): void {
    this.addRecord(n, [
      [Part.TIME_HR, hrTimeToCdtime(n.time).toString()],
      [Part.SEVERITY, String(SEVERITY_VALUES[n.severity])],
    ], stringPart(Part.MESSAGE, n.message));
  }

  private addRecord(identity: Identity, numbers: Array<[number, string | undefined]>, last: Buffer): void {
    let parts = this.changedParts(identity, numbers, last);
    const needed = parts.reduce((sum, part) => sum + part.length, 0);
    if (this.size + needed > this.limit && this.size > 0) {
      this.flush();
      parts = this.changedParts(identity, numbers, last);
    }
    for (const part of parts) this.parts.push(part);
    this.size += parts.reduce((sum, part) => sum + part.length, 0);
  }

  /** The parts this record needs after the ones already in the packet, and the new state. */
  private changedParts(identity: Identity, numbers: Array<[number, string | undefined]>, last: Buffer): Buffer[] {
    const parts: Buffer[] = [];
    for (const [key, code] of IDENTITY_PARTS) {
      if (this.last.get(code) !== identity[key]) {
        parts.push(stringPart(code, identity[key]));
        this.last.set(code, identity[key]);
      }
    }
    for (const [code, value] of numbers) {
      if (value !== undefined && this.last.get(code) !== value) {
        parts.push(numberPart(code, BigInt(value)));
        this.last.set(code, value);
      }
    }
    parts.push(last);
    return parts;
  }

  /** Sends what is pending, if anything. */
  flush(): void {
    if (this.size === 0) return;
    const payload = Buffer.concat(this.parts);
    this.parts = [];
    this.size = 0;
    this.last = new Map();
    this.onPacket(secure(payload, this.security));
  }
}
