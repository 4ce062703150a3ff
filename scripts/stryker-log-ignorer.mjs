/**
 * A StrykerJS ignorer: mutants inside logger calls (`this.logger.warn(...)`, `this.deps.logger.info(...)`)
 * and in `if` statements whose only effect is such a call are left out of the mutation run. What a log line
 * says is not behaviour the tests should pin down; counting those mutants would only add noise.
 */
import { PluginKind, declareValuePlugin } from '@stryker-mutator/api/plugin';

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/** `<...>.logger.<level>(...)` */
function isLogCall(node) {
  if (node?.type !== 'CallExpression' || node.callee.type !== 'MemberExpression') return false;
  const { object, property } = node.callee;
  if (property.type !== 'Identifier' || !LEVELS.has(property.name)) return false;
  return (
    (object.type === 'MemberExpression' && object.property.type === 'Identifier' && object.property.name === 'logger') ||
    (object.type === 'Identifier' && object.name === 'logger')
  );
}

function onlyLogs(statement) {
  if (statement?.type === 'ExpressionStatement') return isLogCall(statement.expression);
  if (statement?.type === 'BlockStatement') return statement.body.length > 0 && statement.body.every(onlyLogs);
  return false;
}

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, 'log-calls', {
    shouldIgnore(path) {
      if (isLogCall(path.node)) return 'a log call: its message and fields are not behaviour';
      if (path.isIfStatement() && !path.node.alternate && onlyLogs(path.node.consequent)) return 'an if whose only effect is a log call';
      return undefined;
    },
  }),
];
