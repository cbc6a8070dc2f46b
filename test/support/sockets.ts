import { connect, type Socket } from 'node:net';

/** Opens `count` raw TCP connections to `host:port` that send nothing; resolves once all are connected. */
export async function idleSockets(address: string, count: number): Promise<{ sockets: Socket[]; closed: () => number }> {
  const colon = address.lastIndexOf(':');
  const [host, port] = [address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), Number(address.slice(colon + 1))];
  let closed = 0;
  const sockets = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<Socket>((resolve, reject) => {
        const socket = connect(port, host, () => resolve(socket));
        socket.on('error', () => undefined);
        socket.on('close', () => (closed += 1));
        // Reading, so that the server's end of the connection is seen.
        socket.resume();
        socket.once('error', reject);
      }),
    ),
  );
  return { sockets, closed: () => closed };
}
