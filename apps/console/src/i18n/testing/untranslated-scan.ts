import ts from 'typescript';

/** Text a person reads, found in the console's code instead of behind `t()`. */
export interface UntranslatedText {
  file: string;
  line: number;
  text: string;
  where: string;
}

/** Attributes of `h(tag, attrs)` that people read (or hear, from a screen reader). */
const READ_ATTRIBUTES = new Set([
  'title',
  'aria-label',
  'aria-description',
  'aria-roledescription',
  'aria-valuetext',
  'placeholder',
  'alt',
  'label',
]);
/** Properties whose assigned value is shown. */
const READ_PROPERTIES = new Set([
  'textContent',
  'innerText',
  'title',
  'placeholder',
  'alt',
  'label',
  'ariaLabel',
  'ariaDescription',
  'ariaValueText',
]);
/** Calls whose (text) arguments end up on the page, in a dialog or in a screen reader. */
const SHOWING_CALLS = new Set([
  'announce',
  'alert',
  'confirm',
  'prompt',
  'setCustomValidity',
  'createTextNode',
  'fillText',
  'strokeText',
  'append',
  'prepend',
  'replaceContent',
  'replaceChildren',
]);
/** Units and symbols read the same in both languages (走纸速度 25 mm/s). */
const UNIT_WORDS = new Set([
  'ms',
  'mm',
  'mV',
  'bpm',
  'Hz',
  'kB',
  'MB',
  'GB',
  'px',
  'cm',
  'kg',
  'mmHg',
]);
/** A label map: `const STATUS_LABEL = { signed: 'Signed' }` and the like. */
const LABEL_MAP_NAME = /(?:LABEL|TEXT|TITLE|MESSAGE|PHRASE|WORDS|CAPTION|HEADING)S?$/i;

/** True when a string shown on the page holds words of a language (not only numbers, units, acronyms). */
export function hasWords(text: string): boolean {
  if (/[\u3400-\u9fff]/.test(text)) return true;
  const words = text.match(/[A-Za-z]+/g) ?? [];
  return words.some((word) => !UNIT_WORDS.has(word) && /[a-z]/.test(word) && word.length >= 2);
}

/** Stricter, for places that are not always text (returns, label maps): a phrase or a capitalised word. */
function isProse(text: string): boolean {
  if (/[\u3400-\u9fff]/.test(text)) return true;
  return (
    /[A-Za-z]{2,}[,;:]? +[A-Za-z]{2,}/.test(text) || /^[A-Z][a-z]{2,}[.!?…]?$/.test(text.trim())
  );
}

function literalText(node: ts.Node): string | null {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) {
    return [node.head.text, ...node.templateSpans.map((span) => span.literal.text)].join(' ');
  }
  return null;
}

/** The literals an expression can evaluate to as text: through `a ? b : c`, `a ?? b`, `a || b`, `a + b`, parentheses, arrays. */
function textLeaves(node: ts.Expression): ts.Expression[] {
  if (ts.isParenthesizedExpression(node)) return textLeaves(node.expression);
  if (ts.isConditionalExpression(node))
    return [...textLeaves(node.whenTrue), ...textLeaves(node.whenFalse)];
  if (ts.isBinaryExpression(node)) {
    const kind = node.operatorToken.kind;
    if (kind === ts.SyntaxKind.PlusToken)
      return [...textLeaves(node.left), ...textLeaves(node.right)];
    if (kind === ts.SyntaxKind.QuestionQuestionToken || kind === ts.SyntaxKind.BarBarToken) {
      return [...textLeaves(node.left), ...textLeaves(node.right)];
    }
    if (kind === ts.SyntaxKind.AmpersandAmpersandToken) return textLeaves(node.right);
    return [];
  }
  if (ts.isArrayLiteralExpression(node)) {
    return node.elements.flatMap((element) =>
      ts.isExpression(element) ? textLeaves(element) : [],
    );
  }
  return literalText(node) === null ? [] : [node];
}

function calleeName(call: ts.CallExpression | ts.NewExpression): string | null {
  const callee = call.expression;
  if (ts.isIdentifier(callee)) return callee.text;
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text;
  return null;
}

function propertyName(name: ts.PropertyName): string | null {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNoSubstitutionTemplateLiteral(name))
    return name.text;
  return null;
}

/** Whether a line carries the escape hatch `i18n-exempt: <why>` (on it or the line above). */
function exempt(source: ts.SourceFile, node: ts.Node): boolean {
  const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
  const lines = source.text.split('\n');
  return [lines[line], lines[line - 1]].some(
    (text) => text !== undefined && /i18n-exempt: \S/.test(text),
  );
}

/**
 * Finds text a person would read that is written into the console's code instead of looked up
 * with `t()`: children and readable attributes of `h(...)`, `textContent`/`title` assignments,
 * announcements and dialogs, canvas text, label maps, and phrases returned from functions.
 */
export function findUntranslated(file: string, code: string): UntranslatedText[] {
  const source = ts.createSourceFile(file, code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: UntranslatedText[] = [];
  const report = (expression: ts.Expression, where: string, test: (text: string) => boolean) => {
    for (const leaf of textLeaves(expression)) {
      const text = literalText(leaf)!;
      if (!test(text) || exempt(source, leaf)) continue;
      const line = source.getLineAndCharacterOfPosition(leaf.getStart(source)).line + 1;
      const shown = ts.isTemplateExpression(leaf) ? leaf.getText(source) : text;
      found.push({ file, line, text: shown, where });
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
      const name = calleeName(node);
      const args = node.arguments ?? ts.factory.createNodeArray<ts.Expression>();
      if (name === 'h') {
        args.forEach((arg, index) => {
          if (index === 0) return;
          if (index === 1 && ts.isObjectLiteralExpression(arg)) {
            for (const property of arg.properties) {
              if (!ts.isPropertyAssignment(property)) continue;
              const key = propertyName(property.name);
              if (key && READ_ATTRIBUTES.has(key))
                report(property.initializer, `h() ${key}`, hasWords);
            }
            return;
          }
          report(arg, 'h() child', hasWords);
        });
      } else if (name === 'setAttribute' && args.length === 2) {
        const attribute = literalText(args[0]!);
        if (attribute && READ_ATTRIBUTES.has(attribute))
          report(args[1]!, `setAttribute ${attribute}`, hasWords);
      } else if (name && SHOWING_CALLS.has(name)) {
        for (const arg of args) report(arg, `${name}()`, hasWords);
      } else if (name === 'Option' && args[0]) {
        report(args[0], 'new Option()', hasWords);
      }
    } else if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      ts.isPropertyAccessExpression(node.left) &&
      READ_PROPERTIES.has(node.left.name.text)
    ) {
      report(node.right, `.${node.left.name.text} =`, hasWords);
    } else if (ts.isReturnStatement(node) && node.expression) {
      report(node.expression, 'returned text', isProse);
    } else if (ts.isArrowFunction(node) && !ts.isBlock(node.body)) {
      report(node.body, 'returned text', isProse);
    } else if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      LABEL_MAP_NAME.test(node.name.text) &&
      node.initializer
    ) {
      let init: ts.Expression = node.initializer;
      while (
        ts.isAsExpression(init) ||
        ts.isSatisfiesExpression(init) ||
        ts.isParenthesizedExpression(init)
      ) {
        init = init.expression;
      }
      if (ts.isObjectLiteralExpression(init)) {
        for (const property of init.properties) {
          if (ts.isPropertyAssignment(property))
            report(property.initializer, `${node.name.text} entry`, hasWords);
        }
      } else {
        report(init, node.name.text, hasWords);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}
