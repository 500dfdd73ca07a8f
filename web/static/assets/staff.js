// The staff console at /staff: sign-in, role-aware navigation and a small hash
// router. Each page is a function (root, match, ctx) that fills root; ctx.onStop
// registers what to stop (timers) when the page is left.

import { h, fill, field } from './staff-dom.js';
import { t, lang, setLang, translate } from './staff-i18n.js';
import { api, session } from './staff-api.js';
import { form, submit, notice } from './staff-ui.js';
import { customersPage } from './staff-customers.js';
import { ticketsPage, ticketPage } from './staff-tickets.js';
import { dashboardPage } from './staff-dashboard.js';
import { merchantsPage, tiersPage, auditPage, ledgerPage } from './staff-admin.js';
import { campaignsPage } from './staff-campaigns.js';

const ID = '[0-9a-z]{26}';

// routes: admins may use every page, agents the customer-service ones.
const routes = [
  { path: new RegExp(`^/customers(?:/(cus_${ID}))?$`), page: customersPage, nav: 'customers', admin: false },
  { path: /^\/tickets$/, page: ticketsPage, nav: 'tickets', admin: false },
  { path: new RegExp(`^/tickets/(tkt_${ID})$`), page: ticketPage, nav: 'tickets', admin: false },
  { path: /^\/dashboard$/, page: dashboardPage, nav: 'dashboard', admin: true },
  { path: /^\/merchants$/, page: merchantsPage, nav: 'merchants', admin: true },
  { path: new RegExp(`^/campaigns(?:/(cmp_${ID}))?$`), page: campaignsPage, nav: 'campaigns', admin: true },
  { path: /^\/tiers$/, page: tiersPage, nav: 'tiers', admin: true },
  { path: /^\/audit$/, page: auditPage, nav: 'audit', admin: true },
  { path: /^\/ledger$/, page: ledgerPage, nav: 'ledger', admin: true },
];

const navGroups = [
  { label: 'nav.agentGroup', admin: false, items: ['customers', 'tickets'] },
  { label: 'nav.adminGroup', admin: true, items: ['dashboard', 'merchants', 'campaigns', 'tiers', 'audit', 'ledger'] },
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const signOut = document.getElementById('signout');
const langButton = document.getElementById('lang');

let stops = [];
let flash = null; // a message for the next sign-in page

function home() {
  return session.isAdmin ? '/dashboard' : '/customers';
}

function chrome(current) {
  translate(document);
  langButton.textContent = t('switchLang');
  const signedIn = Boolean(session.token);
  signOut.hidden = !signedIn;
  nav.hidden = !signedIn;
  fill(who, signedIn ? t('signedInAs', { user: session.username, role: t('role.' + session.role) }) : '');
  if (!signedIn) return;
  fill(nav, navGroups.filter((g) => !g.admin || session.isAdmin).map((g) =>
    h('div', { class: 'nav-group' },
      h('p', { class: 'nav-label' }, t(g.label)),
      h('ul', null, g.items.map((name) =>
        h('li', null, h('a', { href: '#/' + name, id: 'nav-' + name, class: name === current ? 'current' : null,
          'aria-current': name === current ? 'page' : null }, t('nav.' + name))))))));
}

async function render() {
  for (const stop of stops) stop();
  stops = [];
  if (!session.token) {
    chrome('');
    signInPage();
    return;
  }
  const path = location.hash.replace(/^#/, '');
  if (!path || path === '/') {
    location.replace('#' + home());
    return;
  }
  let match = null;
  const route = routes.find((r) => (match = r.path.exec(path)) && (!r.admin || session.isAdmin));
  chrome(route ? route.nav : '');
  const root = h('div', { class: 'page' });
  fill(main, root);
  if (!route) {
    fill(root, h('p', { class: 'muted' }, t('notFoundPage')));
    return;
  }
  const ctx = { onStop: (f) => stops.push(f), rerender: render };
  try {
    await route.page(root, match, ctx);
  } catch (err) {
    console.warn(err); // pages show their own errors; this is a bug in one
  }
  // Screen readers start at the new page, unless the page put focus on a field.
  if (!root.contains(document.activeElement)) main.focus({ preventScroll: true });
}

function signInPage() {
  const user = h('input', { name: 'username', id: 'signin-username', autocomplete: 'username', required: true, maxlength: 64 });
  const pass = h('input', { name: 'password', id: 'signin-password', type: 'password', autocomplete: 'current-password', required: true });
  const f = form({ id: 'signin', class: 'signin card' }, [
    h('h2', null, t('signInTitle')),
    h('p', { class: 'muted' }, t('signInLead')),
    flash ? notice(flash, 'warn') : null,
    field(t('username'), user),
    field(t('password'), pass),
    submit(t('signIn')),
  ], async () => {
    const username = user.value.trim();
    const out = await api('POST', '/v1/staff/sessions', { username, password: pass.value });
    session.start(out.token, out.role, username);
    flash = null;
    pass.value = '';
    if (location.hash.replace(/^#/, '')) render();
    else location.hash = home();
  });
  fill(main, h('div', { class: 'page narrow' }, f));
  user.focus();
}

session.expired(() => {
  session.end();
  flash = t('expired');
  render();
});

signOut.addEventListener('click', async () => {
  // End the session on the server, so the token is refused even if it was copied;
  // the console forgets it whatever the answer (a token already refused is 401).
  try {
    await api('DELETE', '/v1/staff/sessions/current');
  } catch (err) {
    if (err.status !== 401) console.warn('sign-out:', err.code);
  }
  session.end();
  if (location.hash) location.hash = ''; // hashchange renders
  else render();
});

langButton.addEventListener('click', () => {
  setLang(lang() === 'en' ? 'zh' : 'en');
  render();
});

window.addEventListener('hashchange', render);
render();
