/**
 * libuv runs every file system call of the relay on its thread pool: the scratch writes, the
 * opens, renames and statfs of the store path, and the fsyncs that make each stored blob and
 * its directory durable (docs/imaging.md, "The store path"). Its default of 4 threads is
 * taken by 4 fsyncs under concurrent uploads, and every other file operation then waits
 * behind them. A larger pool costs only idle threads (and their stacks) while nothing waits.
 */
export const DEFAULT_THREADPOOL_SIZE = 16;
/** libuv's own upper bound (uv_threadpool.c, MAX_THREADPOOL_SIZE). */
export const MAX_THREADPOOL_SIZE = 1024;

/**
 * Gives UV_THREADPOOL_SIZE the relay's default when the operator has not set it. libuv reads
 * the variable once, when the pool first starts, so an entry point calls this before it
 * imports anything that could touch the file system; config.ts validates the value (a bad
 * one stops the relay at start, listing the key).
 */
export function sizeThreadpool(env: NodeJS.ProcessEnv = process.env): void {
  if (env['UV_THREADPOOL_SIZE'] === undefined || env['UV_THREADPOOL_SIZE'] === '') {
    env['UV_THREADPOOL_SIZE'] = String(DEFAULT_THREADPOOL_SIZE);
  }
}
