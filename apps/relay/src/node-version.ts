/**
 * The Node.js major version the built code needs (`engines` in package.json, checked against
 * it by node-version.test.ts). Older ones fail in ways that say nothing: Node.js 20 crashes
 * with a segmentation fault while loading the relay's dependencies.
 */
export const REQUIRED_NODE_MAJOR = 24;

/** The one line to print when `found` (a `process.versions.node`) is too old, else undefined. */
export function nodeVersionProblem(
  found: string,
  required: number = REQUIRED_NODE_MAJOR,
): string | undefined {
  const major = Number.parseInt(found, 10);
  if (major >= required) return undefined;
  return `Telerelay needs Node.js ${required}; this is Node.js ${found}. Install it, or start through npm (npm start, npm run demo), which brings it.`;
}

/**
 * Stops the process, exit code 2, on a Node.js older than the required one. An entry point
 * imports only this module statically and calls it before it imports anything else
 * (dynamically, as static imports are all loaded before any of the entry's own code runs).
 */
export function exitUnlessSupportedNode(): void {
  const problem = nodeVersionProblem(process.versions.node);
  if (problem === undefined) return;
  process.stderr.write(`${problem}\n`);
  process.exit(2);
}
