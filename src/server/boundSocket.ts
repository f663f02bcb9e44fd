/**
 * A socket that connects from a chosen local address, for pg's `stream`
 * option: lets pgssl (and the tests) knock on the server as a client from
 * 127.0.0.2 or from another of the host's own addresses, so that the server's
 * pg_hba.conf matching is exercised for that address.
 */
import { Socket } from 'node:net';

export function socketFrom(localAddress: string): () => Socket {
  return () => {
    const socket = new Socket();
    const connect = socket.connect.bind(socket) as (options: { port: number; host: string; localAddress: string }) => Socket;
    // pg calls connect(port, host); add the local address it has no option for.
    (socket as unknown as { connect: (port: number, host: string) => Socket }).connect = (port: number, host: string) => connect({ port, host, localAddress });
    return socket;
  };
}
