import { countTokens } from '@catalog-indexer/text';
import { LineTokens } from './line-tokens';

const TEXT = ['CREATE TABLE sales.orders (', '  id integer PRIMARY KEY,', '  total_amount numeric(12, 2) -- Net of discounts.', ');', '', '-- JOIN ON a.b = c.d'].join('\n');

describe(LineTokens.name, () => {
  it('counts a text exactly as countTokens does', () => {
    const tokens = new LineTokens();
    expect(tokens.exact(TEXT)).toBe(countTokens(TEXT));
    expect(tokens.exact(`${TEXT}\n\n-- Q: how many?\nSELECT 1`)).toBe(countTokens(`${TEXT}\n\n-- Q: how many?\nSELECT 1`));
  });

  it('never counts fewer tokens for the lines of a text than the text has', () => {
    const tokens = new LineTokens();
    expect(tokens.lines(TEXT.split('\n'))).toBeGreaterThanOrEqual(countTokens(TEXT));
    expect(tokens.line('  id integer PRIMARY KEY,')).toBe(countTokens('  id integer PRIMARY KEY,\n'));
  });

  it('renders a line once per object it stands for', () => {
    const tokens = new LineTokens();
    const column = { name: 'id' };
    let renders = 0;
    const render = (c: { name: string }) => {
      renders++;
      return `  ${c.name} integer,`;
    };
    expect(tokens.lineOf(column, render)).toBe(countTokens('  id integer,\n'));
    expect(tokens.lineOf(column, render)).toBe(countTokens('  id integer,\n'));
    expect(renders).toBe(1);
  });

  it('keeps at most as many counts as its capacity, dropping the oldest', () => {
    const tokens = new LineTokens(3);
    for (const line of ['a', 'b', 'c', 'd', 'e']) tokens.line(line);
    expect(tokens.size).toBe(3);
    expect(tokens.exact('e\n')).toBe(countTokens('e\n'));
    expect(tokens.size).toBe(3);
  });
});
