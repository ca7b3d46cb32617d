// The entry point checks the Node.js version before the relay's modules are loaded: an
// older Node.js would crash or stop while loading them, without a word (see node-version.ts).
import { exitUnlessSupportedNode } from './node-version.js';

exitUnlessSupportedNode();
await import('./relay.js');
