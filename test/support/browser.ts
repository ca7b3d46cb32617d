import axe from 'axe-core';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium, headless, with nothing that reaches out to the network on its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** WCAG 2.0, 2.1 and 2.2 at levels A and AA: what a public health service is held to. */
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

export interface AccessibilityCheck {
  /** A CSS selector to check only part of the page (a dialog, a panel); the whole page by default. */
  include?: string;
  /** Names the page in the failure ("worklist", "case view"). */
  context?: string;
}

interface Violation {
  id: string;
  impact: string | null | undefined;
  help: string;
  nodes: { target: string; summary: string }[];
}

/**
 * Runs axe-core in the page and fails on every serious or critical violation of a WCAG 2 A/AA
 * rule, listing each with its rule, the elements it found and axe's summary of what to fix.
 * Minor and moderate findings (axe's own grading) are left to review, not to the build.
 */
export async function expectAccessible(
  page: Page,
  { include, context = page.url() }: AccessibilityCheck = {},
): Promise<void> {
  // Through the debugger, not a <script> element, so no Content-Security-Policy stands in its way.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axe.source);
  const violations = await page.evaluate(
    async ({ include, tags }) => {
      const run = (window as unknown as { axe: typeof axe }).axe.run;
      const results = await run(include ? { include: [include] } : document, {
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations'],
      });
      return results.violations.map((violation): Violation => ({
        id: violation.id,
        impact: violation.impact,
        help: violation.help,
        nodes: violation.nodes.map((node) => ({
          target: node.target.map(String).join(' '),
          summary: node.failureSummary ?? '',
        })),
      }));
    },
    { include, tags: WCAG_TAGS },
  );
  const blocking = violations.filter(
    (violation) => violation.impact === 'serious' || violation.impact === 'critical',
  );
  if (blocking.length === 0) return;
  const listing = blocking.flatMap((violation) => [
    `- ${violation.id} (${violation.impact}): ${violation.help}`,
    ...violation.nodes.map(
      (node) => `    ${node.target}\n      ${node.summary.replaceAll('\n', '\n      ')}`,
    ),
  ]);
  throw new Error(
    `${blocking.length} accessibility violation(s) on ${context}:\n${listing.join('\n')}`,
  );
}

/**
 * Collects a page's uncaught errors and console errors into `problems` (prefixed with `who`),
 * for a test to expect none.
 */
export function collectPageProblems(page: Page, who: string, problems: string[]): void {
  page.on('pageerror', (error) => problems.push(`${who}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${who}: ${message.text()}`);
  });
}

/**
 * Signs in through the console's form, by the fields' ids (the words on the page depend on
 * the language), and waits for the signed-in shell's top bar.
 */
export async function signInThroughForm(
  page: Page,
  baseUrl: string,
  username: string,
  password: string,
): Promise<void> {
  await page.goto(baseUrl);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('form.login-form button[type="submit"]').click();
  await page.locator('header.topbar').waitFor();
}
