// Help: answers to the common questions, what the latest failed or pending
// operation means (GET /v1/help/diagnosis), and the way to customer service: a new
// ticket, about that operation in one step, and the customer's tickets.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { api, session } from '../api.js';
import { cny } from '../money.js';
import { kindName } from '../labels.js';
import { page } from '../ui.js';

const tiers = [ // SPEC §3, the defaults
  [4, 1000000, 200000, 500000, 5000000],
  [3, 2000000, 500000, 1000000, 10000000],
  [2, 50000000, 5000000, 10000000, null],
  [1, null, null, null, null],
];

export async function render({ view }) {
  const qa = ['failed', 'delayed', 'password', 'limits', 'lost', 'gifts', 'safety'].map((k) => h('details', { class: 'qa', id: 'qa-' + k },
    h('summary', null, t('help.q.' + k)),
    h('p', null, t('help.a.' + k)),
    k === 'limits' ? limitsTable() : null));
  const diagnosis = h('section', { class: 'panel', id: 'diagnosis' });
  view.append(...page(t('help.title'), [
    session.token ? diagnosis : null,
    h('section', { class: 'panel' }, h('h2', null, t('help.faq')), qa),
    h('section', { class: 'panel', id: 'contact' },
      h('h2', null, t('help.contact')),
      h('p', null, t('help.contactText')),
      session.token ? h('a', { class: 'btn primary block', href: '#/tickets/new', id: 'contact-link' }, t('ticket.new')) : null,
      session.token ? h('a', { class: 'btn ghost block', href: '#/tickets', id: 'my-tickets' }, t('ticket.mine')) : null,
      session.token ? null : h('p', { class: 'muted' }, t('help.signInFirst'))),
  ], { back: session.token ? '#/' : '#/welcome' }));
  if (!session.token) return;
  try {
    const d = await api('GET', '/v1/help/diagnosis');
    const bad = d.transaction;
    diagnosis.append(h('h2', null, t('help.latest')));
    if (!bad) diagnosis.append(h('p', { class: 'muted' }, t('help.allGood')));
    else {
      diagnosis.dataset.tx = bad.id;
      diagnosis.append(
        h('p', null, h('a', { href: '#/tx/' + bad.id }, kindName(bad.kind), ' ', cny(bad.amount)), ' · ', t('status.' + bad.status)),
        bad.failure ? h('p', null, bad.failure.explanation) : null,
        bad.failure ? h('p', { class: 'muted' }, '→ ', bad.failure.next_step) : null,
        h('a', { class: 'btn ghost block', id: 'diagnosis-ticket',
          href: '#/tickets/new?tx=' + encodeURIComponent(bad.id) + '&category=' + encodeURIComponent(d.suggested_category) }, t('ticket.askAbout')));
    }
  } catch {
    diagnosis.remove();
  }
}

function limitsTable() {
  const v = (x) => (x === null ? t('limit.none') : cny(x));
  return h('table', { class: 'tiers' },
    h('thead', null, h('tr', null, ['help.tier', 'limit.cap', 'limit.single', 'limit.daily', 'limit.yearly'].map((k) => h('th', null, t(k))))),
    h('tbody', null, tiers.map(([tier, ...xs]) => h('tr', null, h('td', null, t('tier.' + tier)), xs.map((x) => h('td', null, v(x)))))));
}
