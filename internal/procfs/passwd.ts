import type { HostFs } from './host';

/** User names by uid from an `/etc/passwd` file ("name:x:uid:gid:…"); odd lines are ignored. */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const [name, , uid] = line.split(':');
    const id = Number(uid);
    if (name && uid !== undefined && uid !== '' && Number.isInteger(id) && !users.has(id)) users.set(id, name);
  }
  return users;
}

/** The host's users (`/etc/passwd` under the host root); empty when the file is not readable. */
export async function readPasswd(host: HostFs): Promise<Map<number, string>> {
  const text = host.readOptional('/etc/passwd');
  return text === undefined ? new Map() : parsePasswd(text);
}
