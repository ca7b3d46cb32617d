import type { ChildProcess } from 'node:child_process';

/** What every load process may answer besides its own messages: it gave up. */
export interface WorkerFailed {
  type: 'failed';
  message: string;
}

/**
 * The benchmark's side of a load process: commands go down its IPC channel, typed replies
 * come back, and a failure or an exit of the process rejects whatever is waited for.
 */
export class WorkerChannel<Command, Reply extends { type: string }> {
  private readonly waiting: ((message: Reply | WorkerFailed) => void)[] = [];
  private failure: Error | undefined;

  constructor(
    readonly child: ChildProcess,
    /** How errors name the process: "load process", "load worker". */
    private readonly label: string,
  ) {
    child.on('message', (message: Reply | WorkerFailed) => {
      if (message.type === 'failed') {
        this.fail(new Error(`${label} failed: ${(message as WorkerFailed).message}`));
      }
      for (const waiter of this.waiting.splice(0)) waiter(message);
    });
    child.once('exit', (code, signal) =>
      this.fail(new Error(`${label} exited (${code ?? signal})`)),
    );
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** The next message of `type`; rejects on a failure, an exit or the timeout. */
  next<T extends Reply['type']>(type: T, timeoutMs: number): Promise<Extract<Reply, { type: T }>> {
    return new Promise((done, reject) => {
      if (this.failure) return reject(this.failure);
      const timer = setTimeout(
        () => reject(new Error(`${this.label}: no ${type} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const waiter = (message: Reply | WorkerFailed) => {
        if (message.type === 'failed') {
          clearTimeout(timer);
          reject(this.failure ?? new Error((message as WorkerFailed).message));
        } else if (message.type === type) {
          clearTimeout(timer);
          done(message as Extract<Reply, { type: T }>);
        } else this.waiting.push(waiter);
      };
      this.waiting.push(waiter);
    });
  }

  /** Sends `command` and waits for the `reply` it brings. */
  request<T extends Reply['type']>(
    command: Command,
    reply: T,
    timeoutMs: number,
  ): Promise<Extract<Reply, { type: T }>> {
    const answer = this.next(reply, timeoutMs);
    this.child.send(command as object);
    return answer;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter({ type: 'failed', message: error.message });
  }
}
