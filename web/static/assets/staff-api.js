// The JSON API as the staff console uses it: the staff bearer token kept in
// sessionStorage (gone when the tab closes), problem documents turned into
// ApiError, and a sign-out when the API says the token is no longer good.

const TOKEN = 'hebao.staff.token';
const ROLE = 'hebao.staff.role';
const USER = 'hebao.staff.username';
// The API never says who a token belongs to; the console learns its own staff id
// from the first ticket it is assigned.
const SELF = 'hebao.staff.id';

let onExpired = () => {};

export const session = {
  get token() { return sessionStorage.getItem(TOKEN); },
  get role() { return sessionStorage.getItem(ROLE) || ''; },
  get username() { return sessionStorage.getItem(USER) || ''; },
  get isAdmin() { return this.role === 'admin'; },
  get id() { return sessionStorage.getItem(SELF) || ''; },
  learnId(id) { if (id) sessionStorage.setItem(SELF, id); },
  start(token, role, username) {
    sessionStorage.setItem(TOKEN, token);
    sessionStorage.setItem(ROLE, role);
    sessionStorage.setItem(USER, username);
  },
  end() {
    for (const k of [TOKEN, ROLE, USER, SELF]) sessionStorage.removeItem(k);
  },
  // expired calls f when an API call answers 401 with a token that was sent.
  expired(f) { onExpired = f; },
};

// ApiError is a problem document (RFC 9457) from the API, or a failure to reach it
// (status 0, code "network").
export class ApiError extends Error {
  constructor(status, problem) {
    const p = problem && typeof problem === 'object' ? problem : {};
    super(p.detail || p.title || (status ? `HTTP ${status}` : 'network'));
    this.status = status;
    this.code = p.code || (status === 0 ? 'network' : 'unknown');
    this.detail = p.detail || '';
    this.requestId = p.request_id || '';
  }
}

// api calls the API: api('POST', '/v1/admin/merchants', {name}). It returns the
// parsed JSON and throws ApiError for any answer that is not 2xx.
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const token = session.token;
  if (token && path !== '/v1/staff/sessions') headers.Authorization = 'Bearer ' + token;
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, null);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && headers.Authorization) onExpired(err);
    throw err;
  }
  return data;
}

// query builds "?a=1&b=2" from the non-empty values of params.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? '?' + s : '';
}
