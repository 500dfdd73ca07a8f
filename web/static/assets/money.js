// Money in the app is always integer fen, as in the API. Amounts typed by a person
// are parsed by string handling, never through floating point, with the same rules
// as the server's ParseYuan: digits, at most one point and two decimals, no sign,
// no leading zeros, at most 10^12 fen.

export const MAX_AMOUNT = 1_000_000_000_000;

// parseYuan turns "12.34" into 1234. It returns {fen} or {error} with an i18n key.
export function parseYuan(input) {
  const s = String(input ?? '').trim().replace(/^¥/, '');
  if (s === '') return { error: 'amount.empty' };
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) return { error: 'amount.format' };
  const [, whole, frac = ''] = m;
  if (whole.length > 1 && whole[0] === '0') return { error: 'amount.format' };
  if (whole.length > 11) return { error: 'amount.large' };
  const fen = Number(whole) * 100 + Number(frac.padEnd(2, '0'));
  if (fen > MAX_AMOUNT) return { error: 'amount.large' };
  if (fen <= 0) return { error: 'amount.zero' };
  return { fen };
}

// yuan formats fen as "12.34" (with thousands separators: "1,234.50").
export function yuan(fen) {
  const n = Number(fen);
  if (!Number.isSafeInteger(n)) return '—';
  const neg = n < 0;
  const digits = String(Math.abs(n)).padStart(3, '0');
  const whole = digits.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (neg ? '-' : '') + whole + '.' + digits.slice(-2);
}

// cny formats fen as "¥12.34".
export function cny(fen) {
  const s = yuan(fen);
  return s.startsWith('-') ? '-¥' + s.slice(1) : '¥' + s;
}

// plainYuan formats fen for an input box: "12.34", no separators.
export function plainYuan(fen) {
  return yuan(fen).replaceAll(',', '');
}
