/** An ssh2 server on 127.0.0.1 for the tests of lv's SSH client (GuestConnection). */
import { type Connection, Server } from "ssh2";
import { VAGRANT_INSECURE_PRIVATE_KEYS } from "../../src/guest/vagrant_insecure_key.ts";

/**
 * Serves ssh2 connections on a free port of 127.0.0.1, `onClient` handling each (their errors ignored). The
 * host key is a fixed one, Vagrant's insecure RSA key: a generated one now and then fails ssh2's parser.
 */
export async function loopbackSshServer(
  onClient: (client: Connection) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = new Server({ hostKeys: [VAGRANT_INSECURE_PRIVATE_KEYS[0]] }, (client: Connection) => {
    client.on("error", () => {});
    onClient(client);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
