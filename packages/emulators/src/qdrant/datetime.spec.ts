import { parseDatetime } from './datetime';

describe(parseDatetime.name, () => {
  it('reads RFC 3339 and its relaxed forms in UTC unless a zone is given', () => {
    const t = Date.UTC(2015, 1, 1, 6, 0, 0);
    expect(parseDatetime('2015-02-01T08:00:00+02:00')).toBe(t);
    expect(parseDatetime('2015-02-01T06:00:00Z')).toBe(t);
    expect(parseDatetime('2015-02-01T06:00:00')).toBe(t);
    expect(parseDatetime('2015-02-01 06:00')).toBe(t);
    expect(parseDatetime('2015-02-01T06:00:00.000000000')).toBe(t);
    expect(parseDatetime('2015-02-01')).toBe(Date.UTC(2015, 1, 1));
  });

  it('refuses other formats', () => {
    for (const text of ['Thu, 01 Jan 2015 01:00:00 +0100', '1422758400000', '20150201', '2015032T060000Z', '2015-02-01 06:00:00 AM', '2015-02-30']) {
      expect(parseDatetime(text)).toBeUndefined();
    }
  });
});
