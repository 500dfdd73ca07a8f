package inmem

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"github.com/hebaopay/hebao"
)

// notifyData is the part of data that keeps inboxes, wallet settings and which
// outbox events were delivered.
type notifyData struct {
	notifications map[string]hebao.Notification   // by id
	settings      map[string]hebao.WalletSettings // by wallet id
	delivered     map[string]time.Time            // by event id
}

func newNotifyData() notifyData {
	return notifyData{
		notifications: map[string]hebao.Notification{},
		settings:      map[string]hebao.WalletSettings{},
		delivered:     map[string]time.Time{},
	}
}

func (n notifyData) clone() notifyData {
	return notifyData{
		notifications: maps.Clone(n.notifications),
		settings:      maps.Clone(n.settings),
		delivered:     maps.Clone(n.delivered),
	}
}

func (t *tx) AddNotification(_ context.Context, n hebao.Notification) error {
	if err := t.write(); err != nil {
		return err
	}
	if n.ID == "" || n.CustomerID == "" || n.Kind == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a notification needs an id, a customer and a kind")
	}
	if _, ok := t.d.notify.notifications[n.ID]; !ok {
		t.d.notify.notifications[n.ID] = n
	}
	return nil
}

func (t *tx) Notifications(_ context.Context, customerID, before string, limit int) ([]hebao.Notification, error) {
	if err := t.read(); err != nil || limit <= 0 {
		return nil, err
	}
	var out []hebao.Notification
	for _, n := range t.d.notify.notifications {
		if n.CustomerID == customerID && (before == "" || n.ID < before) {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b hebao.Notification) int { return cmp.Compare(b.ID, a.ID) })
	return out[:min(len(out), limit)], nil
}

// PendingEvents gives an event emitted without an id one, so that it can be marked
// delivered (the SQL store's Emit does the same when it writes the event).
func (t *tx) PendingEvents(_ context.Context, limit int) ([]hebao.Event, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.Event
	for i := range t.d.events {
		if len(out) >= limit {
			break
		}
		if t.d.events[i].ID == "" {
			t.d.events[i].ID = hebao.NewID("evt")
		}
		e := t.d.events[i]
		if _, ok := t.d.notify.delivered[e.ID]; !ok {
			out = append(out, e)
		}
	}
	// Emitted in commit order, which is created_at order: stable-sort to match the
	// SQL store's ORDER BY created_at, id for events of one transaction.
	slices.SortStableFunc(out, func(a, b hebao.Event) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

func (t *tx) MarkDelivered(_ context.Context, ids []string, at time.Time) error {
	if err := t.write(); err != nil {
		return err
	}
	for _, id := range ids {
		if _, ok := t.d.notify.delivered[id]; !ok {
			t.d.notify.delivered[id] = at
		}
	}
	return nil
}

func (t *tx) WalletSettings(_ context.Context, walletID string) (hebao.WalletSettings, error) {
	if err := t.read(); err != nil {
		return hebao.WalletSettings{}, err
	}
	if s, ok := t.d.notify.settings[walletID]; ok {
		return s, nil
	}
	return hebao.DefaultWalletSettings(walletID), nil
}

func (t *tx) WalletSettingsOf(ctx context.Context, walletIDs []string) (map[string]hebao.WalletSettings, error) {
	out := make(map[string]hebao.WalletSettings, len(walletIDs))
	for _, id := range walletIDs {
		s, err := t.WalletSettings(ctx, id)
		if err != nil {
			return nil, err
		}
		out[id] = s
	}
	return out, nil
}

func (t *tx) SaveWalletSettings(_ context.Context, s hebao.WalletSettings) error {
	if err := t.write(); err != nil {
		return err
	}
	if s.WalletID == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "wallet settings need a wallet")
	}
	if _, ok := t.d.wallets[s.WalletID]; !ok {
		return notFound("wallet")
	}
	t.d.notify.settings[s.WalletID] = s
	return nil
}
