const FORMAT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Parses a datetime the way Qdrant's datetime payloads and ranges accept it: RFC 3339, or the same with a
 * space for `T`, without seconds, without a zone (UTC), or a bare date. Returns milliseconds since the
 * epoch (fractions kept), undefined for anything else (RFC 2822, timestamps, compact ISO forms, …).
 */
export function parseDatetime(text: string): number | undefined {
  const m = FORMAT.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return undefined;
  let ms = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s));
  if (new Date(ms).getUTCDate() !== day) return undefined;
  ms += frac === '' ? 0 : Number(`0.${frac}`) * 1000;
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offset = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
    ms -= sign * offset * 60_000;
  }
  return ms;
}
