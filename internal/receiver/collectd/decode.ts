// The receiving side of collectd's network protocol as a pure function of a packet's bytes and
// the receiver's security settings. Nothing here throws on bad input: a packet decodes into what
// it held up to its first fault, and the fault is named with its reason and offset.
import { createDecipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { HrTime } from '@opentelemetry/api';
import {
  cdtimeToHrTime, KIND_CODES, MAX_MESSAGE_BYTES, MAX_NAME_BYTES, Part, SEVERITY_CODES,
  type SecurityLevel, type Severity, type ValueKind,
} from './protocol';

export interface Identity {
  host: string;
  plugin: string;
  pluginInstance: string;
  type: string;
  typeInstance: string;
}

export interface ValueList extends Identity {
  /** The time collectd stamped on the values. */
  time: HrTime;
  /** The sender's interval in milliseconds; 0 when it sent none. */
  intervalMs: number;
  kinds: ValueKind[];
  /** COUNTER and ABSOLUTE as unsigned, DERIVE as signed 64-bit integers (exact up to 2^53), GAUGE as sent. */
  values: number[];
}

export interface Notification extends Identity {
  time: HrTime;
  severity: Severity;
  message: string;
}

/** Why some or all of a packet was not taken. */
export type DropReason =
  | 'bad_part_length' // a part shorter than its header or past the packet's end
  | 'bad_number' // a time, interval or severity part not 12 bytes long
  | 'bad_string' // a string without its NUL, or empty of it
  | 'name_too_long'
  | 'bad_values' // a values part whose count disagrees with its length, or an unknown kind code
  | 'bad_signature'
  | 'decryption_failed'
  | 'unknown_user'
  | 'no_auth' // signed or encrypted data, and no auth file to check it against
  | 'insecure' // data less protected than security_level asks for
  | 'incomplete'; // a value list without host, plugin, type or time; a notification without severity, time or message

export interface DecodeFault {
  reason: DropReason;
  /** Byte offset of the part at fault, in the (decrypted) buffer it was read from. */
  offset: number;
  detail: string;
}

export interface DecodeOptions {
  securityLevel: SecurityLevel;
  /** The password of a user of the auth file; undefined when there is no auth file or no such user. */
  password?: (username: string) => string | undefined;
  /** Whether an auth file is configured at all (unknown user and no auth file are told apart). */
  hasAuth?: boolean;
}

export interface DecodedPacket {
  valueLists: ValueList[];
  notifications: Notification[];
  /** Value lists and notifications skipped (counted individually) and the fault that ended parsing, if any. */
  faults: DecodeFault[];
  /** The user of the last signed or encrypted region, for logging. */
  username?: string;
}

const enum Protection {
  None = 0,
  Signed = 1,
  Encrypted = 2,
}

const REQUIRED: Record<SecurityLevel, Protection> = { none: Protection.None, sign: Protection.Signed, encrypt: Protection.Encrypted };

const SIGNATURE_HEADER = 36; // type, length, 32-byte HMAC
const ENCRYPTION_HEADER = 6; // type, length, username length
const IV_BYTES = 16;
const SHA1_BYTES = 20;

/** Parse state: starts empty at each packet and carries from part to part. */
interface State extends Identity {
  time: HrTime | undefined;
  intervalMs: number;
  severity: Severity | undefined;
}

export function decodePacket(packet: Uint8Array, options: DecodeOptions): DecodedPacket {
  const out: DecodedPacket = { valueLists: [], notifications: [], faults: [] };
  const buf = Buffer.isBuffer(packet) ? packet : Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  parse(buf, Protection.None, options, out, 0);
  return out;
}

function fault(out: DecodedPacket, reason: DropReason, offset: number, detail: string): void {
  out.faults.push({ reason, offset, detail });
}

function parse(buf: Buffer, protection: Protection, options: DecodeOptions, out: DecodedPacket, depth: number): void {
  const state: State = { host: '', plugin: '', pluginInstance: '', type: '', typeInstance: '', time: undefined, intervalMs: 0, severity: undefined };
  const required = REQUIRED[options.securityLevel];
  let offset = 0;
  while (offset < buf.length) {
    if (buf.length - offset < 4) {
      fault(out, 'bad_part_length', offset, `${buf.length - offset} bytes left, less than a part header`);
      return;
    }
    const type = buf.readUInt16BE(offset);
    const length = buf.readUInt16BE(offset + 2);
    if (length < 4 || offset + length > buf.length) {
      fault(out, 'bad_part_length', offset, `part 0x${type.toString(16)} of length ${length} at offset ${offset} in ${buf.length} bytes`);
      return;
    }
    const end = offset + length;
    switch (type) {
      case Part.HOST:
      case Part.PLUGIN:
      case Part.PLUGIN_INSTANCE:
      case Part.TYPE:
      case Part.TYPE_INSTANCE: {
        const text = readString(buf, offset, end, MAX_NAME_BYTES, out);
        if (text === undefined) return;
        if (type === Part.HOST) state.host = text;
        else if (type === Part.PLUGIN) state.plugin = text;
        else if (type === Part.PLUGIN_INSTANCE) state.pluginInstance = text;
        else if (type === Part.TYPE) state.type = text;
        else state.typeInstance = text;
        break;
      }
      case Part.TIME:
      case Part.TIME_HR:
      case Part.INTERVAL:
      case Part.INTERVAL_HR:
      case Part.SEVERITY: {
        if (length !== 12) {
          fault(out, 'bad_number', offset, `numeric part 0x${type.toString(16)} of length ${length}, not 12`);
          return;
        }
        const raw = buf.readBigUInt64BE(offset + 4);
        if (type === Part.TIME) state.time = [Number(raw), 0];
        else if (type === Part.TIME_HR) state.time = cdtimeToHrTime(raw);
        else if (type === Part.INTERVAL) state.intervalMs = Number(raw) * 1000;
        else if (type === Part.INTERVAL_HR) {
          const [s, ns] = cdtimeToHrTime(raw);
          state.intervalMs = s * 1000 + ns / 1e6;
        } else state.severity = SEVERITY_CODES[Number(raw)];
        break;
      }
      case Part.VALUES: {
        const values = readValues(buf, offset, length, out);
        if (values === undefined) return;
        if (protection < required) fault(out, 'insecure', offset, `value list with ${protectionName(protection)} data; security_level is ${options.securityLevel}`);
        else if (state.time === undefined || (state.time[0] === 0 && state.time[1] === 0) || !state.host || !state.plugin || !state.type) {
          fault(out, 'incomplete', offset, 'value list without host, plugin, type or time');
        } else {
          out.valueLists.push({
            host: state.host, plugin: state.plugin, pluginInstance: state.pluginInstance, type: state.type, typeInstance: state.typeInstance,
            time: state.time, intervalMs: state.intervalMs, kinds: values.kinds, values: values.values,
          });
        }
        break;
      }
      case Part.MESSAGE: {
        const message = readString(buf, offset, end, MAX_MESSAGE_BYTES, out);
        if (message === undefined) return;
        if (protection < required) fault(out, 'insecure', offset, `notification with ${protectionName(protection)} data; security_level is ${options.securityLevel}`);
        else if (state.severity === undefined || state.time === undefined || (state.time[0] === 0 && state.time[1] === 0) || message === '') {
          fault(out, 'incomplete', offset, 'notification without severity, time or message');
        } else {
          out.notifications.push({
            host: state.host, plugin: state.plugin, pluginInstance: state.pluginInstance, type: state.type, typeInstance: state.typeInstance,
            time: state.time, severity: state.severity, message,
          });
        }
        break;
      }
      case Part.SIGNATURE: {
        const verdict = verifySignature(buf, offset, end, options, out);
        if (verdict === 'skip') break;
        if (verdict === 'stop') return;
        // Everything after a valid signature is signed: it is parsed as its own region.
        parse(buf.subarray(end), Protection.Signed, options, out, depth);
        return;
      }
      case Part.ENCRYPTION: {
        // An encrypted part inside an encrypted part is not something collectd writes.
        const plain = depth === 0 ? decrypt(buf, offset, end, options, out) : nested(out, offset);
        if (plain === undefined) return;
        // Without an auth file the encrypted region is skipped and the rest read on, as collectd does.
        if (plain !== 'skip') parse(plain, Protection.Encrypted, options, out, depth + 1);
        break;
      }
      default:
        // Unknown parts are skipped by their length, as collectd does.
        break;
    }
    offset = end;
  }
}

function protectionName(protection: Protection): string {
  return protection === Protection.None ? 'unsigned' : protection === Protection.Signed ? 'signed' : 'encrypted';
}

function readString(buf: Buffer, offset: number, end: number, maxBytes: number, out: DecodedPacket): string | undefined {
  const length = end - offset;
  if (length < 5 || buf[end - 1] !== 0) {
    fault(out, 'bad_string', offset, `string part of length ${length} without its NUL`);
    return undefined;
  }
  if (length - 5 > maxBytes) {
    fault(out, 'name_too_long', offset, `string of ${length - 5} bytes, at most ${maxBytes}`);
    return undefined;
  }
  return buf.toString('utf8', offset + 4, end - 1);
}

const TWO_32 = 4294967296;

function readValues(buf: Buffer, offset: number, length: number, out: DecodedPacket): { kinds: ValueKind[]; values: number[] } | undefined {
  if (length < 6) {
    fault(out, 'bad_values', offset, `values part of length ${length}`);
    return undefined;
  }
  const count = buf.readUInt16BE(offset + 4);
  if (length !== 6 + 9 * count) {
    fault(out, 'bad_values', offset, `values part of length ${length} holds ${count} values, which need ${6 + 9 * count}`);
    return undefined;
  }
  const kinds: ValueKind[] = new Array(count);
  const values: number[] = new Array(count);
  let at = offset + 6 + count;
  for (let i = 0; i < count; i++, at += 8) {
    const kind = KIND_CODES[buf[offset + 6 + i]];
    if (kind === undefined) {
      fault(out, 'bad_values', offset, `unknown value kind code ${buf[offset + 6 + i]}`);
      return undefined;
    }
    kinds[i] = kind;
    if (kind === 'gauge') values[i] = buf.readDoubleLE(at);
    else if (kind === 'derive') values[i] = buf.readInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4);
    else values[i] = buf.readUInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4);
  }
  return { kinds, values };
}

type Verdict = 'ok' | 'skip' | 'stop';

function verifySignature(buf: Buffer, offset: number, end: number, options: DecodeOptions, out: DecodedPacket): Verdict {
  if (end - offset < SIGNATURE_HEADER) {
    fault(out, 'bad_signature', offset, `signature part of length ${end - offset}`);
    return 'stop';
  }
  const username = buf.toString('utf8', offset + SIGNATURE_HEADER, end);
  out.username = username;
  if (!options.hasAuth) {
    // Without an auth file, a receiver at level none reads signed data as it reads plain data.
    if (options.securityLevel === 'none') return 'skip';
    fault(out, 'no_auth', offset, 'signed data and no auth_file to verify it');
    return 'stop';
  }
  const password = options.password?.(username);
  if (password === undefined) {
    fault(out, 'unknown_user', offset, `user ${JSON.stringify(username)} is not in the auth file`);
    return 'stop';
  }
  const mac = createHmac('sha256', password).update(buf.subarray(offset + SIGNATURE_HEADER, end)).update(buf.subarray(end)).digest();
  if (!timingSafeEqual(mac, buf.subarray(offset + 4, offset + SIGNATURE_HEADER))) {
    fault(out, 'bad_signature', offset, `signature of user ${JSON.stringify(username)} does not match`);
    return 'stop';
  }
  return 'ok';
}

function nested(out: DecodedPacket, offset: number): undefined {
  fault(out, 'decryption_failed', offset, 'encryption part inside encrypted data');
  return undefined;
}

function decrypt(buf: Buffer, offset: number, end: number, options: DecodeOptions, out: DecodedPacket): Buffer | 'skip' | undefined {
  const length = end - offset;
  const usernameLength = length >= ENCRYPTION_HEADER ? buf.readUInt16BE(offset + 4) : 0;
  const ivAt = offset + ENCRYPTION_HEADER + usernameLength;
  if (length < ENCRYPTION_HEADER || ivAt + IV_BYTES + SHA1_BYTES > end) {
    fault(out, 'decryption_failed', offset, `encryption part of length ${length} is too short`);
    return undefined;
  }
  const username = buf.toString('utf8', offset + ENCRYPTION_HEADER, ivAt);
  out.username = username;
  if (!options.hasAuth) {
    fault(out, 'no_auth', offset, 'encrypted data and no auth_file to decrypt it');
    return 'skip';
  }
  const password = options.password?.(username);
  if (password === undefined) {
    fault(out, 'unknown_user', offset, `user ${JSON.stringify(username)} is not in the auth file`);
    return undefined;
  }
  const key = createHash('sha256').update(password).digest();
  const decipher = createDecipheriv('aes-256-ofb', key, buf.subarray(ivAt, ivAt + IV_BYTES));
  const clear = Buffer.concat([decipher.update(buf.subarray(ivAt + IV_BYTES, end)), decipher.final()]);
  const payload = clear.subarray(SHA1_BYTES);
  const digest = createHash('sha1').update(payload).digest();
  if (!timingSafeEqual(digest, clear.subarray(0, SHA1_BYTES))) {
    fault(out, 'decryption_failed', offset, `data of user ${JSON.stringify(username)} does not decrypt (wrong password?)`);
    return undefined;
  }
  return payload;
}
