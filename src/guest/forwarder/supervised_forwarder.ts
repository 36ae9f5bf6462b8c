/**
 * The supervised forwarder's own side (`lv port-forward --supervised UID`): reads its config from stdin,
 * listens on every port or says why it cannot (one JSON line on stdout, the only thing it ever writes
 * there), then carries connections until SIGTERM or SIGINT. What it does goes to its log file.
 */
import { PortForwarder, PortInUseError } from "./port_forwarder.ts";
import type { ForwarderAnswer } from "./forwarder_processes.ts";
import type { ForwarderConfig } from "./forwarder_supervisor.ts";
import { sshTunnelOpener } from "./ssh_tunnel.ts";

async function readConfig(): Promise<ForwarderConfig> {
  let text = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    if (text.includes("\n")) break;
  }
  return JSON.parse(text) as ForwarderConfig;
}

function answer(a: ForwarderAnswer): void {
  Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(a) + "\n"));
  Deno.stdout.close();
}

/** Runs the forwarder of `uid` until it is signalled; the process's exit code. */
export async function runSupervisedForwarder(uid: string): Promise<number> {
  const config = await readConfig();
  if (config.uid !== uid) throw new Error(`forwarder for ${uid} was given the config of ${config.uid}`);
  const log = (line: string) => {
    try {
      Deno.writeTextFileSync(config.logFile, `${new Date().toISOString()} ${line}\n`, {
        append: true,
        mode: 0o600,
      });
    } catch { /* the record's directory went: lv is stopping this forwarder */ }
  };
  const forwarder = new PortForwarder(config.ports, sshTunnelOpener(config.target), { log });
  try {
    forwarder.listen();
  } catch (e) {
    const reason = e instanceof PortInUseError ? "PortInUse" : "ForwarderFailed";
    answer({ listening: false, reason, error: (e as Error).message });
    return 1;
  }
  log(
    `pid ${Deno.pid} forwarding ${config.ports.map((p) => `${p.hostIp}:${p.host}->${p.guest}`).join(", ")}`,
  );
  answer({ listening: true });
  const stop = () => forwarder.close();
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  await forwarder.serve();
  log("stopped");
  return 0;
}
