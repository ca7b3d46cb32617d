import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RESOURCES } from './resources.js';
import { findUntranslated, hasWords } from './testing/untranslated-scan.js';

const consoleSource = fileURLToPath(new URL('..', import.meta.url));

/**
 * Files whose words are still written in English in the code, shrinking to nothing as each
 * page moves to `t()`. A file leaves this list when it is translated, and never comes back.
 */
const NOT_YET_TRANSLATED = new Set<string>([
  'imaging/dicom-json.ts',
  'imaging/stow.ts',
  'imaging/study-viewer.ts',
  'views/boxes.ts',
  'views/orders.ts',
  'views/records.ts',
  'views/upload.ts',
]);

function consoleFiles(dir = consoleSource): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'testing' ? [] : consoleFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

type Tree = { readonly [key: string]: string | Tree };

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const flat = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') flat.set(path, value);
    else for (const [inner, text] of flatten(value, path)) flat.set(inner, text);
  }
  return flat;
}

/** Every key of a language as `namespace:path`, plural forms folded to their base key. */
function keysOf(locale: keyof typeof RESOURCES): Map<string, string> {
  const keys = new Map<string, string>();
  for (const [namespace, tree] of Object.entries(RESOURCES[locale])) {
    for (const [path, text] of flatten(tree as Tree)) {
      keys.set(`${namespace}:${path.replace(/_(zero|one|two|few|many|other)$/, '')}`, text);
    }
  }
  return keys;
}

describe('the console in two languages', () => {
  const chinese = keysOf('zh-CN');
  const english = keysOf('en');

  it('has the same namespaces and keys in Chinese and English, none empty', () => {
    expect(Object.keys(RESOURCES.en).sort()).toEqual(Object.keys(RESOURCES['zh-CN']).sort());
    expect([...english.keys()].filter((key) => !chinese.has(key))).toEqual([]);
    expect([...chinese.keys()].filter((key) => !english.has(key))).toEqual([]);
    const empty = [...chinese, ...english].filter(([, text]) => text.trim() === '');
    expect(empty).toEqual([]);
  });

  it('says in Chinese what it says in English (no English copied into the Chinese)', () => {
    const copied = [...chinese].filter(
      ([key, text]) => text === english.get(key) && hasWords(text) && !/[\u3400-\u9fff]/.test(text),
    );
    // Names that are the same in both languages.
    const same = new Set([
      'common:app.name',
      'common:language.switchTo',
      'common:language.switchToLabel',
    ]);
    expect(copied.filter(([key]) => !same.has(key))).toEqual([]);
  });

  it('has every key the code asks for, in both languages', () => {
    const asked = new Set<string>();
    for (const file of consoleFiles()) {
      const code = readFileSync(file, 'utf8');
      for (const match of code.matchAll(/\bt\(\s*['"`]([\w-]+:[\w.-]+)['"`]/g))
        asked.add(match[1]!);
    }
    expect(asked.size).toBeGreaterThan(0);
    const missing = [...asked].filter((key) => !chinese.has(key) || !english.has(key));
    expect(missing).toEqual([]);
  });

  it('writes no text for people into the code, outside the files still being translated', () => {
    const files = consoleFiles().map((file) => relative(consoleSource, file));
    const untranslated = files
      .filter((file) => !NOT_YET_TRANSLATED.has(file))
      .flatMap((file) => findUntranslated(file, readFileSync(join(consoleSource, file), 'utf8')));
    expect(untranslated).toEqual([]);
    const stale = [...NOT_YET_TRANSLATED].filter((file) => !files.includes(file));
    expect(stale).toEqual([]);
  });
});
