import { networkInterfaces, type NetworkInterfaceInfo as OsAddress } from 'node:os';
import type { NetworkInterfaceInfo } from '../../pkg/heartbeat';
import type { HostFs } from '../procfs/host';
import type { NetDevStat } from '../procfs/netdev';

// include/uapi/linux/if.h
const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;

/** What /sys/class/net/<name> says about a link. */
export interface LinkAttributes {
  /** `address`: the MAC. */
  address?: string;
  mtu?: number;
  /** Mbit/s; the kernel reports -1 or refuses the read when the link has none. */
  speed?: number;
  flags?: number;
}

export async function readLinkAttributes(host: HostFs, name: string): Promise<LinkAttributes> {
  const dir = `/sys/class/net/${name}`;
  const [address, mtu, speed, flags] = await Promise.all(['address', 'mtu', 'speed', 'flags'].map((f) => host.readOptional(`${dir}/${f}`)));
  const int = (text: string | undefined): number | undefined => {
    const value = text === undefined ? NaN : Number(text.trim());
    return Number.isInteger(value) ? value : undefined;
  };
  return { address: address?.trim() || undefined, mtu: int(mtu), speed: int(speed), flags: int(flags) };
}

const NO_MAC = '00:00:00:00:00:00';

/**
 * One interface of the heartbeat: counters from /proc/net/dev, link facts from sysfs, addresses
 * (in CIDR notation) from the operating system. A loopback or a tunnel has no MAC and a virtual
 * link no speed: those fields are left out rather than sent as zero.
 */
export function interfaceInfo(dev: NetDevStat, link: LinkAttributes, addresses: readonly OsAddress[]): NetworkInterfaceInfo {
  const isLoopback = link.flags !== undefined ? (link.flags & IFF_LOOPBACK) !== 0 : dev.name === 'lo';
  const info: NetworkInterfaceInfo = {
    name: dev.name,
    ipAddresses: addresses.map((a) => a.cidr).filter((c): c is string => c !== null),
    isUp: link.flags !== undefined ? (link.flags & IFF_UP) !== 0 : addresses.length > 0,
    isLoopback,
    bytesSent: dev.txBytes,
    bytesRecv: dev.rxBytes,
    packetsSent: dev.txPackets,
    packetsRecv: dev.rxPackets,
    errorsIn: dev.rxErrors,
    errorsOut: dev.txErrors,
    dropsIn: dev.rxDropped,
    dropsOut: dev.txDropped,
  };
  const mac = (link.address ?? addresses[0]?.mac)?.toLowerCase();
  if (mac !== undefined && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac) && mac !== NO_MAC) info.macAddress = mac;
  if (link.mtu !== undefined && link.mtu > 0) info.mtu = link.mtu;
  if (link.speed !== undefined && link.speed > 0) info.speed = link.speed;
  return info;
}

export async function readInterfaces(host: HostFs, devs: readonly NetDevStat[], addresses: NodeJS.Dict<OsAddress[]> = networkInterfaces()): Promise<NetworkInterfaceInfo[]> {
  return Promise.all(devs.map(async (dev) => interfaceInfo(dev, await readLinkAttributes(host, dev.name), addresses[dev.name] ?? [])));
}

/** The interface that stands for the host in registration: the first up, non-loopback one with an address. */
export function primaryInterface(interfaces: readonly NetworkInterfaceInfo[]): { mac: string; ip: string } {
  const candidates = interfaces.filter((i) => i.isUp && !i.isLoopback && i.ipAddresses.length > 0);
  const chosen = candidates.find((i) => i.ipAddresses.some((a) => !a.includes(':'))) ?? candidates[0];
  if (chosen === undefined) return { mac: '', ip: '' };
  const ip = chosen.ipAddresses.find((a) => !a.includes(':')) ?? chosen.ipAddresses[0]!;
  return { mac: chosen.macAddress ?? '', ip: ip.slice(0, ip.indexOf('/') < 0 ? undefined : ip.indexOf('/')) };
}
