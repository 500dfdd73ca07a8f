// Words for the API's values: coupons, tiers, transaction kinds and states.

import { t } from './i18n.js';
import { cny } from './money.js';

export function couponText(c) {
  switch (c.kind) {
    case 'fixed': return t('coupon.fixed', { off: cny(c.off) });
    case 'threshold': return t('coupon.threshold', { threshold: cny(c.threshold), off: cny(c.off) });
    case 'percent': return t('coupon.percent', { percent: c.percent, cap: cny(c.cap) });
  }
  return c.kind;
}

export function tierName(tier) {
  return t('tier.' + tier);
}

export function kindName(kind) {
  return t('kind.' + kind, {}, kind);
}

export function statusName(status) {
  return t('status.' + status, {}, status);
}

// signed says whether a transaction kind adds to (+1) or takes from (-1) the balance.
export function direction(kind) {
  return ['topup', 'transfer_in', 'refund', 'interest', 'points_cash'].includes(kind) ? 1 : -1;
}

export function orderStatusName(s) {
  return t('order.' + s, {}, s);
}

// notificationTitle says what a notification is about, in the reader's language;
// the API's English title when there are no words for its kind here.
export function notificationTitle(n) {
  return t('ntf.' + n.kind, { who: n.counterparty || '' }, '') || n.title;
}
