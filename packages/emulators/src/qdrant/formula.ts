import { type FilterTarget, compileCondition, valuesAt } from './filter';
import { QdrantError } from './qdrant-error';

/** What a formula sees of one candidate: the point and its score in each prefetch. */
export interface FormulaContext {
  target: FilterTarget;
  /** Score of the point in prefetch i (undefined when that prefetch did not return it). */
  scores: readonly (number | undefined)[];
}

type Expression = (ctx: FormulaContext) => number;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const SCORE = /^\$score(?:\[(\d+)\])?$/;

/**
 * Compiles a Qdrant `FormulaQuery` (`{formula, defaults}`) into a scorer: constants, `$score` /
 * `$score[i]`, payload variables (first number at the key, else `defaults`), conditions (1 when true,
 * else 0), `sum`, `mult`, `neg`, `abs`, `div`, `sqrt`, `pow`, `exp`, `ln`, `log10` and the
 * `lin_decay` / `exp_decay` / `gauss_decay` functions.
 */
export function compileFormula(raw: unknown, defaultsRaw: unknown): Expression {
  const defaults = isObject(defaultsRaw) ? defaultsRaw : {};
  const variable = (name: string): Expression => {
    const score = SCORE.exec(name);
    if (score) {
      const i = Number(score[1] ?? 0);
      return (ctx) => ctx.scores[i] ?? numberOr(defaults[name], 0);
    }
    return (ctx) => {
      const found = valuesAt(ctx.target.payload, name).find((v) => typeof v === 'number');
      if (typeof found === 'number') return found;
      const fallback = defaults[name];
      if (typeof fallback === 'number') return fallback;
      throw QdrantError.wrongInput(`No value found in a payload nor defaults for variable ${name}`);
    };
  };
  const compile = (node: unknown): Expression => {
    if (typeof node === 'number') return () => node;
    if (typeof node === 'string') return variable(node);
    if (!isObject(node)) throw QdrantError.format('data did not match any variant of untagged enum Expression');
    const list = (v: unknown): Expression[] => {
      if (!Array.isArray(v)) throw QdrantError.format('expected a list of expressions');
      return v.map(compile);
    };
    if ('sum' in node) {
      const parts = list(node.sum);
      return (ctx) => parts.reduce((s, p) => s + p(ctx), 0);
    }
    if ('mult' in node) {
      const parts = list(node.mult);
      return (ctx) => parts.reduce((s, p) => s * p(ctx), 1);
    }
    const unary: Record<string, (x: number) => number> = {
      neg: (x) => -x,
      abs: Math.abs,
      sqrt: Math.sqrt,
      exp: Math.exp,
      ln: Math.log,
      log10: Math.log10,
    };
    for (const [op, fn] of Object.entries(unary)) {
      if (op in node) {
        const inner = compile(node[op]);
        return (ctx) => fn(inner(ctx));
      }
    }
    if (isObject(node.div)) {
      const left = compile(node.div.left);
      const right = compile(node.div.right);
      const byZero = node.div.by_zero_default;
      return (ctx) => {
        const r = right(ctx);
        if (r === 0) {
          if (typeof byZero === 'number') return byZero;
          throw QdrantError.wrongInput('Division by zero in formula');
        }
        return left(ctx) / r;
      };
    }
    if (isObject(node.pow)) {
      const base = compile(node.pow.base);
      const exponent = compile(node.pow.exponent);
      return (ctx) => base(ctx) ** exponent(ctx);
    }
    for (const kind of ['lin_decay', 'exp_decay', 'gauss_decay'] as const) {
      const params = node[kind];
      if (isObject(params)) return decay(kind, params, compile);
    }
    for (const kind of ['geo_distance', 'datetime', 'datetime_key']) {
      if (kind in node) throw QdrantError.unsupported(`The ${kind} formula expression`);
    }
    const condition = compileCondition(node);
    return (ctx) => (condition(ctx.target) ? 1 : 0);
  };
  return compile(raw);
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

function decay(
  kind: 'lin_decay' | 'exp_decay' | 'gauss_decay',
  params: Record<string, unknown>,
  compile: (node: unknown) => Expression,
): Expression {
  const x = compile(params.x);
  const target = params.target === undefined || params.target === null ? () => 0 : compile(params.target);
  const scale = numberOr(params.scale, 1);
  const midpoint = numberOr(params.midpoint, 0.5);
  if (scale <= 0) throw QdrantError.validation(`${kind}.scale`, 'must be greater than 0');
  return (ctx) => {
    const d = Math.abs(x(ctx) - target(ctx));
    if (kind === 'lin_decay') return Math.max(0, 1 - ((1 - midpoint) / scale) * d);
    if (kind === 'exp_decay') return Math.exp((Math.log(midpoint) / scale) * d);
    return Math.exp((Math.log(midpoint) / (scale * scale)) * d * d);
  };
}
