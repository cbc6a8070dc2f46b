import type { HostFs } from './host';

const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];
const MACHINE_ID = /^[0-9a-f]{32}$/;

/** The host's machine id (32 lowercase hex digits), read under the host root; undefined if none. */
export function readMachineId(host: HostFs): string | undefined {
  for (const file of MACHINE_ID_FILES) {
    let text: string;
    try {
      text = host.readText(file);
    } catch {
      continue;
    }
    const id = text.trim().toLowerCase();
    // systemd writes "uninitialized" during first boot; all zeros appears in some images.
    if (MACHINE_ID.test(id) && !/^0+$/.test(id)) return id;
  }
  return undefined;
}
