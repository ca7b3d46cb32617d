import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { nodeVersionProblem, REQUIRED_NODE_MAJOR } from './node-version.js';

describe('the Node.js version check', () => {
  it('asks for the major version that package.json engines names', async () => {
    const pkg = JSON.parse(
      await readFile(new URL('../../../package.json', import.meta.url), 'utf8'),
    ) as { engines: { node: string } };
    expect(pkg.engines.node).toMatch(new RegExp(`^>=${REQUIRED_NODE_MAJOR}\\b`));
  });

  it('names the needed and the found version on one line when Node.js is older', () => {
    const problem = nodeVersionProblem('20.20.2', 24);
    expect(problem).toContain('Node.js 24');
    expect(problem).toContain('20.20.2');
    expect(problem).not.toContain('\n');
  });

  it('has nothing to say from the required major version on', () => {
    expect(nodeVersionProblem('24.0.0', 24)).toBeUndefined();
    expect(nodeVersionProblem('24.21.0', 24)).toBeUndefined();
    expect(nodeVersionProblem('25.1.0', 24)).toBeUndefined();
  });
});
