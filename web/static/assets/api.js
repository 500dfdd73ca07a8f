// The JSON API, as the wallet app uses it: the session token, the device id, problem
// documents turned into ApiError, and idempotency keys that survive a retry.

const TOKEN = 'hebao.token';
const PHONE = 'hebao.phone';
const DEVICE = 'hebao.device';

const listeners = new Set();

// onSignedOut calls f when the API says the session is over (401).
export function onSignedOut(f) {
  listeners.add(f);
}

export const session = {
  get token() { return localStorage.getItem(TOKEN); },
  get phone() { return localStorage.getItem(PHONE) || ''; },
  start(token, phone) {
    localStorage.setItem(TOKEN, token);
    if (phone) localStorage.setItem(PHONE, phone);
  },
  end() { localStorage.removeItem(TOKEN); },
};

// uuid is a random UUID. crypto.randomUUID exists only in secure contexts (https,
// localhost); a phone trying a development server over the LAN has plain http, so
// the same is made from getRandomValues there.
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// deviceId is this browser's install id: made once and kept, so the API knows the
// device again and asks for an SMS code only on a new one.
export function deviceId() {
  let id = localStorage.getItem(DEVICE);
  if (!id) {
    id = 'web-' + uuid();
    localStorage.setItem(DEVICE, id);
  }
  return id;
}

// ApiError is a problem document (RFC 9457) from the API, or a network failure
// (code "network").
export class ApiError extends Error {
  constructor(status, problem) {
    const p = problem && typeof problem === 'object' ? problem : {};
    super(p.detail || p.title || `HTTP ${status}`);
    this.status = status;
    this.code = p.code || (status === 0 ? 'network' : 'unknown');
    this.detail = p.detail || '';
    this.requestId = p.request_id || '';
  }
}

// api calls the API: api('POST', '/v1/topups', {body, idem}). It returns the parsed
// JSON (null for 204) and throws ApiError for any answer that is not 2xx.
export async function api(method, path, opts = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, signal: opts.signal, cache: 'no-store' };
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  const token = session.token;
  if (token && opts.auth !== false) headers.Authorization = 'Bearer ' + token;
  if (opts.idem) headers['Idempotency-Key'] = opts.idem;
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, null);
  }
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  let data = null;
  try {
    data = type.includes('json') ? await res.json() : await res.text();
  } catch {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401 && headers.Authorization) {
      session.end();
      for (const f of listeners) f();
    }
    throw new ApiError(res.status, data);
  }
  return data;
}

// Idem keeps the Idempotency-Key of one form: the same submission sent again (a
// retry after an error or a time-out) reuses the key, so the server does it at most
// once; a changed submission, or one after a success, gets a fresh key. Secrets
// (payment password, SMS code) are left out of the comparison, as the server leaves
// them out of its request hash.
export class Idem {
  constructor() { this.key = null; this.sig = null; }
  for(body) {
    const rest = { ...body };
    delete rest.payment_password;
    delete rest.otp;
    const sig = JSON.stringify(rest);
    if (sig !== this.sig || !this.key) {
      this.key = uuid();
      this.sig = sig;
    }
    return this.key;
  }
  done() { this.key = null; this.sig = null; }
}

// sendCode asks for an SMS code for purpose.
export function sendCode(phone, purpose) {
  return api('POST', '/v1/otp', { body: { phone, purpose }, auth: false });
}

// Validation shared with the API's rules (SPEC §3, §6, §10).
export const valid = {
  phone: (s) => /^1[3-9]\d{9}$/.test(s),
  code: (s) => /^\d{6}$/.test(s),
  loginPassword: (s) => [...s].length >= 8 && [...s].length <= 64 && !/^\d+$/.test(s),
  name: (s) => {
    const n = [...s].length;
    if (n < 2 || n > 30) return false;
    const han = /\p{Script=Han}/u.test(s);
    const latin = /\p{Script=Latin}/u.test(s);
    if (han && latin) return false;
    if (!/^[\p{Script=Han}\p{Script=Latin}]+(?:[· ][\p{Script=Han}\p{Script=Latin}]+)*$/u.test(s)) return false;
    return !(han && s.includes(' '));
  },
  idNumber: (s) => {
    if (!/^\d{17}[\dXx]$/.test(s)) return false;
    const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum = 0;
    for (let i = 0; i < 17; i++) sum += Number(s[i]) * w[i];
    return '10X98765432'[sum % 11] === s[17].toUpperCase();
  },
  cardNumber: (s) => {
    const d = s.replace(/\s+/g, '');
    if (!/^\d{16,19}$/.test(d)) return false;
    let sum = 0;
    for (let i = 0; i < d.length; i++) {
      let n = Number(d[d.length - 1 - i]);
      if (i % 2 === 1) { n *= 2; if (n > 9) n -= 9; }
      sum += n;
    }
    return sum % 10 === 0;
  },
  walletId: (s) => /^wal_[0-9a-z]{26}$/.test(s),
  orderId: (s) => /^ord_[0-9a-z]{26}$/.test(s),
};

// findOrderId finds an order id in a pasted pay link (…/pay/ord_…) or a bare id.
export function findOrderId(text) {
  const m = /ord_[0-9a-z]{26}/.exec(String(text || ''));
  return m ? m[0] : null;
}
