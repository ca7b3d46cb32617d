// The entry point checks the Node.js version before the relay's modules are loaded: an
// older Node.js would crash or stop while loading them, without a word (see node-version.ts).
// It sizes libuv's thread pool at the same moment, before anything can start the pool.
import { exitUnlessSupportedNode } from './node-version.js';
import { sizeThreadpool } from './threadpool.js';

exitUnlessSupportedNode();
sizeThreadpool();
await import('./relay.js');
