/**
 * The parse tree ClickHouse prints for `EXPLAIN AST <query>`, read back into
 * nodes. One node per line, one leading space per level:
 *
 *   SelectWithUnionQuery (children 1)
 *    ExpressionList (children 1)
 *     SelectQuery (children 2)
 *      TablesInSelectQuery (children 1)
 *       …
 *        TableIdentifier otel.otel_logs (alias l)
 *
 * The tree is built from the indentation alone (the `(children N)` counts are
 * ignored); names are printed raw, which is why identifiers with control
 * characters are refused before this runs (sql-canonical.ts). A line that
 * does not fit the shape refuses the query.
 */
import { AdmissionError } from '../errors.ts';

export interface AstNode {
  /** The node's type as printed: SelectQuery, Identifier, Function, … */
  type: string;
  /** What follows the type: a name, a literal, … ('' when none). */
  text: string;
  /** The `(alias X)` given to the node, if any. */
  alias: string | null;
  children: AstNode[];
}

const LINE = /^( *)([A-Za-z][A-Za-z0-9_:]*)(?: (.*))?$/;

function unreadable(line: string): AdmissionError {
  return new AdmissionError(`the query's parse tree has a line admission cannot read (${JSON.stringify(line.slice(0, 80))})`, 164, 'READONLY');
}

/** Parses an EXPLAIN AST dump; throws (READONLY) on anything that does not fit. */
export function parseAstDump(dump: string): AstNode {
  const lines = dump.split('\n').filter((l) => l.length > 0);
  if (lines.length === 0) throw unreadable('');
  const stack: { node: AstNode; depth: number }[] = [];
  let root: AstNode | null = null;
  for (const line of lines) {
    const m = LINE.exec(line);
    if (!m) throw unreadable(line);
    const depth = m[1]!.length;
    let rest = m[3] ?? '';
    rest = rest.replace(/ ?\(children \d+\)$/, '');
    let alias: string | null = null;
    const a = rest.indexOf('(alias ');
    if (a >= 0 && rest.endsWith(')')) {
      alias = rest.slice(a + 7, -1);
      rest = rest.slice(0, a).replace(/ $/, '');
    }
    const node: AstNode = { type: m[2]!, text: rest, alias, children: [] };
    if (depth === 0) {
      if (root) throw unreadable(line); // a second root: more than one statement
      root = node;
      stack.length = 0;
      stack.push({ node, depth });
      continue;
    }
    while (stack.length > 0 && stack[stack.length - 1]!.depth >= depth) stack.pop();
    const parent = stack[stack.length - 1];
    if (!parent || parent.depth !== depth - 1) throw unreadable(line);
    parent.node.children.push(node);
    stack.push({ node, depth });
  }
  if (!root) throw unreadable(lines[0]!);
  return root;
}

/** Every node of the tree, depth first, with its parent. */
export function* walkAst(node: AstNode, parent: AstNode | null = null): Generator<{ node: AstNode; parent: AstNode | null }> {
  yield { node, parent };
  for (const c of node.children) yield* walkAst(c, node);
}
