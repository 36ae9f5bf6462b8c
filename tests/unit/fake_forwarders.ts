/** Forwarder processes as a table, for unit tests: pids that run, the starts and stops seen, a start that fails. */
import type { ForwarderConfig, ForwarderProcesses } from "../../src/guest/forwarder/forwarder_supervisor.ts";

export class FakeForwarders implements ForwarderProcesses {
  running = new Set<number>();
  next = 100;
  log: string[] = [];
  failWith?: Error;
  configs: ForwarderConfig[] = [];
  start(config: ForwarderConfig): Promise<number> {
    if (this.failWith) return Promise.reject(this.failWith);
    this.configs.push(config);
    const pid = this.next++;
    this.running.add(pid);
    this.log.push(`start ${pid} ${config.ports.map((p) => p.host).join(",")}`);
    return Promise.resolve(pid);
  }
  alive(pid: number): boolean {
    return this.running.has(pid);
  }
  stop(pid: number): Promise<void> {
    this.running.delete(pid);
    this.log.push(`stop ${pid}`);
    return Promise.resolve();
  }
}
