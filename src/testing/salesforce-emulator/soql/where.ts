import type { ConditionWithValueQuery, WhereClause } from '@jetstreamapp/soql-parser-js';

/** A WHERE clause as a proper boolean tree (the parser returns a flat list with paren counts). */
export type WhereNode =
  | { kind: 'and'; nodes: WhereNode[] }
  | { kind: 'or'; nodes: WhereNode[] }
  | { kind: 'not'; node: WhereNode }
  | { kind: 'condition'; condition: ConditionWithValueQuery };

type Token = '(' | ')' | 'AND' | 'OR' | 'NOT' | { condition: ConditionWithValueQuery };

function isCondition(value: unknown): value is ConditionWithValueQuery {
  return typeof value === 'object' && value !== null && ('field' in value || 'fn' in value);
}

function tokenize(where: WhereClause): Token[] {
  const tokens: Token[] = [];
  let node: WhereClause | undefined = where;
  while (node) {
    const left = node.left as (Partial<{ openParen: number; closeParen: number }> & object) | null;
    if (left) {
      for (let i = 0; i < (left.openParen ?? 0); i++) tokens.push('(');
      if (isCondition(left)) tokens.push({ condition: left });
      for (let i = 0; i < (left.closeParen ?? 0); i++) tokens.push(')');
    }
    const operator = 'operator' in node ? node.operator : undefined;
    if (operator) tokens.push(operator);
    node = 'right' in node ? (node.right as WhereClause | undefined) : undefined;
  }
  return tokens;
}

/**
 * Rebuilds the boolean structure with SOQL precedence (NOT binds tightest, then AND, then OR).
 *
 * @throws {Error} on unbalanced parentheses (the caller reports MALFORMED_QUERY).
 */
export function buildWhereTree(where: WhereClause): WhereNode {
  const tokens = tokenize(where);
  let position = 0;
  const peek = (): Token | undefined => tokens[position];

  const parseOr = (): WhereNode => {
    const nodes = [parseAnd()];
    while (peek() === 'OR') {
      position++;
      nodes.push(parseAnd());
    }
    return nodes.length === 1 ? (nodes[0] as WhereNode) : { kind: 'or', nodes };
  };
  const parseAnd = (): WhereNode => {
    const nodes = [parseUnary()];
    while (peek() === 'AND') {
      position++;
      nodes.push(parseUnary());
    }
    return nodes.length === 1 ? (nodes[0] as WhereNode) : { kind: 'and', nodes };
  };
  const parseUnary = (): WhereNode => {
    const token = tokens[position++];
    if (token === 'NOT') return { kind: 'not', node: parseUnary() };
    if (token === '(') {
      const inner = parseOr();
      if (tokens[position++] !== ')') throw new Error('unbalanced parentheses in WHERE');
      return inner;
    }
    if (typeof token === 'object') return { kind: 'condition', condition: token.condition };
    throw new Error('unexpected token in WHERE');
  };

  const tree = parseOr();
  if (position !== tokens.length) throw new Error('unexpected trailing tokens in WHERE');
  return tree;
}
