// The UDP side of the collectd receiver: sockets for every `listen` address (unicast or a joined
// multicast group), the auth file, and the per-reason accounting of what was not taken.
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync, statSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Logger } from '../../log/logger';
import { FailureStreak } from '../../log/streak';
import { decodePacket, type DecodeOptions, type DropReason, type Notification, type ValueList } from './decode';
import { DEFAULT_PORT, type SecurityLevel } from './protocol';

export class CollectdListenError extends Error {
  constructor(readonly address: string, message: string, key = 'receivers.collectd.listen') {
    super(`${key} "${address}": ${message}`);
    this.name = 'CollectdListenError';
  }
}

export interface ListenAddress {
  host: string;
  port: number;
  /** The interface a multicast group is joined on; empty: the system's default. */
  iface: string;
  multicast: boolean;
  family: 'udp4' | 'udp6';
}

/**
 * `host:port`, `[v6]:port`, with an optional `%interface` on the host for a multicast group; `key`
 * is the config key errors name (a listen address, or the exporter's server).
 */
export function parseListenAddress(text: string, key?: string): ListenAddress {
  const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:[\]]+)(?::(\d+))?$/.exec(text);
  if (match === null) throw new CollectdListenError(text, 'expected host:port or [ipv6]:port', key);
  const [hostPart, iface = ''] = match[1].split('%');
  const port = match[2] === undefined ? DEFAULT_PORT : Number(match[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CollectdListenError(text, `port ${match[2]} is not 0-65535`, key);
  const v6 = isIPv6(hostPart);
  const multicast = v6 ? /^ff/i.test(hostPart) : /^2(2[4-9]|3\d)\./.test(hostPart);
  if (iface !== '' && !multicast) throw new CollectdListenError(text, 'an interface is only for a multicast group', key);
  return { host: hostPart, port, iface, multicast, family: v6 ? 'udp6' : 'udp4' };
}

/** The address a group is joined or sent on: for IPv4 the named interface's address, for IPv6 `::%name`. */
export function membershipInterface(address: ListenAddress, key?: string): string | undefined {
  if (address.iface === '') return undefined;
  if (address.family === 'udp6') return `::%${address.iface}`;
  const v4 = networkInterfaces()[address.iface]?.find((a) => a.family === 'IPv4');
  if (v4 === undefined) throw new CollectdListenError(`${address.host}%${address.iface}`, `interface ${address.iface} has no IPv4 address`, key);
  return v4.address;
}

/** `user: password` lines, re-read when the file's size or modification time changes (checked at most once a second). */
export class AuthFile {
  private users = new Map<string, string>();
  private stamp = '';
  private checkedAt = -Infinity;

  constructor(readonly path: string, private readonly logger?: Logger, private readonly now: () => number = Date.now) {
    this.refresh(true);
  }

  password(username: string): string | undefined {
    if (this.now() - this.checkedAt >= 1000) this.refresh(false);
    return this.users.get(username);
  }

  private refresh(first: boolean): void {
    this.checkedAt = this.now();
    let stamp: string;
    try {
      const stat = statSync(this.path);
      stamp = `${stat.size}:${stat.mtimeMs}`;
    } catch (err) {
      if (first) throw new CollectdListenError(this.path, `auth_file cannot be read: ${(err as Error).message}`);
      return;
    }
    if (stamp === this.stamp) return;
    this.users = parseAuthFile(readFileSync(this.path, 'utf8'));
    this.stamp = stamp;
    if (!first) this.logger?.info({ event: 'collectd.auth_file_reloaded', path: this.path, users: this.users.size }, `auth file ${this.path} re-read: ${this.users.size} users`);
  }
}

export function parseAuthFile(text: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*([^:#\s][^:]*?)\s*:\s*(.*?)\s*$/.exec(line);
    if (match !== null) users.set(match[1], match[2]);
  }
  return users;
}

export interface ReceiverOptions {
  listen: string[];
  maxPacketSize: number;
  securityLevel: SecurityLevel;
  authFile: string;
  logger: Logger;
  onValueList: (vl: ValueList) => void;
  onNotification: (n: Notification) => void;
}

/** Counts of what arrived and of what was not taken, by reason. */
export class ReceiverStats {
  packets = 0;
  bytes = 0;
  valueLists = 0;
  notifications = 0;
  readonly dropped = new Map<string, number>();

  drop(reason: string, n = 1): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + n);
  }
}

const SECURITY_FAULTS: ReadonlySet<DropReason> = new Set(['bad_signature', 'decryption_failed', 'unknown_user', 'no_auth']);

export class CollectdReceiver {
  readonly stats = new ReceiverStats();
  private readonly sockets: Socket[] = [];
  private readonly decodeOptions: DecodeOptions;
  /** One streak per sender address: a failing sender is logged when it starts failing, summarised, and when it recovers. */
  private readonly streaks = new Map<string, FailureStreak>();

  private constructor(private readonly options: ReceiverOptions) {
    const auth = options.authFile ? new AuthFile(options.authFile, options.logger) : undefined;
    this.decodeOptions = { securityLevel: options.securityLevel, hasAuth: auth !== undefined, password: auth ? (u) => auth.password(u) : undefined };
  }

  static async start(options: ReceiverOptions): Promise<CollectdReceiver> {
    const receiver = new CollectdReceiver(options);
    try {
      for (const text of options.listen) await receiver.open(parseListenAddress(text), text);
    } catch (err) {
      receiver.stop();
      throw err;
    }
    return receiver;
  }

  /** The bound `host:port` of each socket, in `listen` order. */
  get addresses(): string[] {
    return this.sockets.map((s) => {
      const a = s.address();
      return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
    });
  }

  private open(address: ListenAddress, text: string): Promise<void> {
    const socket = createSocket({ type: address.family, reuseAddr: address.multicast });
    this.sockets.push(socket);
    return new Promise((resolve, reject) => {
      socket.once('error', (err) => reject(new CollectdListenError(text, err.message)));
      socket.bind(address.port, address.host, () => {
        try {
          if (address.multicast) socket.addMembership(address.host, membershipInterface(address));
        } catch (err) {
          reject(err instanceof CollectdListenError ? err : new CollectdListenError(text, `cannot join the group: ${(err as Error).message}`));
          return;
        }
        socket.removeAllListeners('error');
        socket.on('error', (err) => this.options.logger.warn({ event: 'collectd.socket_error', address: text, err: err.message }, `collectd socket ${text}: ${err.message}`));
        socket.on('message', (packet, remote) => this.receive(packet, remote.address));
        resolve();
      });
    });
  }

  /** One datagram: longer than max_packet_size is cut there, as collectd does. */
  receive(packet: Buffer, from: string): void {
    const { stats, options } = this;
    stats.packets += 1;
    stats.bytes += packet.length;
    const decoded = decodePacket(packet.length > options.maxPacketSize ? packet.subarray(0, options.maxPacketSize) : packet, this.decodeOptions);
    let securityFault: string | undefined;
    for (const fault of decoded.faults) {
      stats.drop(fault.reason);
      if (SECURITY_FAULTS.has(fault.reason)) securityFault = fault.reason;
    }
    if (decoded.username !== undefined || securityFault !== undefined) {
      const streak = this.streakOf(from);
      if (securityFault !== undefined) streak.failure(securityFault, { peer: from, user: decoded.username ?? '' });
      else streak.success({ peer: from, user: decoded.username ?? '' });
    }
    stats.valueLists += decoded.valueLists.length;
    stats.notifications += decoded.notifications.length;
    for (const vl of decoded.valueLists) options.onValueList(vl);
    for (const n of decoded.notifications) options.onNotification(n);
  }

  private streakOf(peer: string): FailureStreak {
    let streak = this.streaks.get(peer);
    if (streak === undefined) {
      // Bounded: a flood of spoofed addresses must not grow this without end.
      if (this.streaks.size >= 1024) this.streaks.clear();
      streak = new FailureStreak(this.options.logger, 'collectd.auth');
      this.streaks.set(peer, streak);
    }
    return streak;
  }

  stop(): void {
    for (const socket of this.sockets.splice(0)) {
      try {
        socket.close();
      } catch {
        // Never bound: nothing to close.
      }
    }
  }
}
