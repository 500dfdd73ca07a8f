package sqldb

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

func TestNotificationInbox(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 4, 0, 0, 123000, time.UTC)
		note := func(i int, customer string) hebao.Notification {
			return hebao.Notification{
				ID: fmt.Sprintf("ntf_%02d", i), CustomerID: customer, Kind: "transfer_in.succeeded",
				Title: fmt.Sprintf("You received ¥%d.00 from 138****0000", i), Amount: int64(i) * 100,
				Counterparty: "138****0000", BalanceAfter: int64(i) * 1000, TransactionID: fmt.Sprintf("mov_%02d", i),
				CreatedAt: t0.Add(time.Duration(i) * time.Second),
			}
		}
		var mine []hebao.Notification
		for i := 1; i <= 5; i++ {
			mine = append(mine, note(i, "cus_1"))
		}
		transact(t, db, func(tx hebao.Tx) error {
			for _, n := range append(slices.Clone(mine), note(6, "cus_2")) {
				if err := tx.AddNotification(ctx, n); err != nil {
					return err
				}
			}
			return nil
		})
		// The same id again, even with other content, changes nothing.
		transact(t, db, func(tx hebao.Tx) error {
			again := note(3, "cus_1")
			again.Title, again.Amount = "changed", 1
			return tx.AddNotification(ctx, again)
		})
		if n := rawInt(t, db, `SELECT COUNT(*) FROM notifications WHERE id = ?`, "ntf_03"); n != 1 {
			t.Errorf("rows with id ntf_03: %d, want 1", n)
		}

		newestFirst := slices.Clone(mine)
		slices.Reverse(newestFirst)
		for _, tc := range []struct {
			name   string
			before string
			limit  int
			want   []hebao.Notification
		}{
			{"first page", "", 2, newestFirst[:2]},
			{"second page", "ntf_04", 2, newestFirst[2:4]},
			{"last page", "ntf_02", 2, newestFirst[4:]},
			{"past the end", "ntf_01", 2, nil},
			{"all", "", 100, newestFirst},
		} {
			var got []hebao.Notification
			err := db.View(ctx, func(tx hebao.Tx) (err error) {
				got, err = tx.Notifications(ctx, "cus_1", tc.before, tc.limit)
				return err
			})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: notifications (-want +got):\n%s", tc.name, diff)
			}
		}

		err := db.View(ctx, func(tx hebao.Tx) error { return tx.AddNotification(ctx, note(7, "cus_1")) })
		if err == nil {
			t.Errorf("a read-only snapshot stored a notification")
		}
	})
}

func TestNotificationOutbox(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		var emitted []hebao.Event
		for i := range 3 {
			transact(t, db, func(tx hebao.Tx) error {
				return tx.Emit(ctx, hebao.Event{Kind: hebao.EventMovement, Payload: fmt.Appendf(nil, `{"n":%d}`, i)})
			})
		}
		pending := func(limit int) []hebao.Event {
			t.Helper()
			var got []hebao.Event
			transact(t, db, func(tx hebao.Tx) (err error) {
				got, err = tx.PendingEvents(ctx, limit)
				return err
			})
			return got
		}
		emitted = pending(10)
		if len(emitted) != 3 {
			t.Fatalf("pending events: %d, want 3", len(emitted))
		}
		for i, e := range emitted {
			if want := fmt.Sprintf(`{"n":%d}`, i); string(e.Payload) != want || e.Kind != hebao.EventMovement || e.ID == "" || e.CreatedAt.IsZero() {
				t.Errorf("event %d: %+v, want payload %s, oldest first", i, e, want)
			}
		}
		if diff := cmp.Diff(emitted[:2], pending(2)); diff != "" {
			t.Errorf("first two pending (-want +got):\n%s", diff)
		}

		// A closure that fails marks nothing.
		at := time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC)
		err := db.Transact(ctx, func(tx hebao.Tx) error {
			if err := tx.MarkDelivered(ctx, []string{emitted[0].ID, emitted[1].ID, emitted[2].ID}, at); err != nil {
				return err
			}
			return fmt.Errorf("boom")
		})
		if err == nil {
			t.Fatal("failing closure succeeded")
		}
		transact(t, db, func(tx hebao.Tx) error {
			return tx.MarkDelivered(ctx, []string{emitted[0].ID, emitted[1].ID, "evt_missing"}, at)
		})
		if diff := cmp.Diff(emitted[2:], pending(10)); diff != "" {
			t.Errorf("pending after delivery (-want +got):\n%s", diff)
		}
		// Delivering again changes nothing: on PostgreSQL the first time is kept; on
		// SQLite a delivered event is gone from the outbox.
		transact(t, db, func(tx hebao.Tx) error { return tx.MarkDelivered(ctx, []string{emitted[0].ID}, at.Add(time.Hour)) })
		if db.b.dialect() == "postgres" {
			if got := rawInt(t, db, `SELECT delivered_at FROM outbox WHERE id = ?`, emitted[0].ID); got != at.UnixMicro() {
				t.Errorf("delivered_at: %d, want %d", got, at.UnixMicro())
			}
		} else if got := rawInt(t, db, `SELECT COUNT(*) FROM outbox`); got != 1 {
			t.Errorf("events left in the outbox: %d, want the 1 undelivered", got)
		}

		// A View reads pending events (without locking them) but cannot mark them.
		err = db.View(ctx, func(tx hebao.Tx) error {
			got, err := tx.PendingEvents(ctx, 10)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(emitted[2:], got); diff != "" {
				t.Errorf("pending in a View (-want +got):\n%s", diff)
			}
			if err := tx.MarkDelivered(ctx, []string{emitted[2].ID}, at); err == nil {
				t.Errorf("a read-only snapshot marked an event delivered")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestNotificationWalletSettings(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
		oneWallet(t, db, t0)
		settings := func() hebao.WalletSettings {
			t.Helper()
			var s hebao.WalletSettings
			err := db.View(ctx, func(tx hebao.Tx) (err error) {
				s, err = tx.WalletSettings(ctx, "wal_1")
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		if diff := cmp.Diff(hebao.DefaultWalletSettings("wal_1"), settings()); diff != "" {
			t.Errorf("settings never saved (-want +got):\n%s", diff)
		}
		for _, want := range []hebao.WalletSettings{
			{WalletID: "wal_1", PasswordFree: false, PasswordFreeLimit: 0, AutoTopup: true, SMSThreshold: 5000},
			{WalletID: "wal_1", PasswordFree: true, PasswordFreeLimit: 20000, AutoTopup: false, SMSThreshold: hebao.SMSOff},
		} {
			transact(t, db, func(tx hebao.Tx) error { return tx.SaveWalletSettings(ctx, want) })
			if diff := cmp.Diff(want, settings()); diff != "" {
				t.Errorf("settings after save (-want +got):\n%s", diff)
			}
		}
		if n := rawInt(t, db, `SELECT COUNT(*) FROM wallet_settings`); n != 1 {
			t.Errorf("settings rows: %d, want 1", n)
		}
		// Many at once: the saved ones as saved, the defaults for the rest.
		for _, read := range []func(context.Context, func(hebao.Tx) error) error{db.View, db.Transact} {
			var got map[string]hebao.WalletSettings
			err := read(ctx, func(tx hebao.Tx) (err error) {
				got, err = tx.WalletSettingsOf(ctx, []string{"wal_1", "wal_never_saved"})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]hebao.WalletSettings{"wal_1": settings(), "wal_never_saved": hebao.DefaultWalletSettings("wal_never_saved")}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("settings of many (-want +got):\n%s", diff)
			}
		}
		err := db.Transact(ctx, func(tx hebao.Tx) error {
			return tx.SaveWalletSettings(ctx, hebao.WalletSettings{WalletID: "wal_nope", SMSThreshold: hebao.SMSOff})
		})
		if hebao.ErrorCode(err) != hebao.CodeNotFound {
			t.Errorf("settings of a missing wallet: %v, want not_found", err)
		}
		err = db.View(ctx, func(tx hebao.Tx) error {
			return tx.SaveWalletSettings(ctx, hebao.DefaultWalletSettings("wal_1"))
		})
		if err == nil {
			t.Errorf("a read-only snapshot saved settings")
		}
	})
}

// TestNotificationsInOneBatch: the dispatcher's writes are buffered until the batch
// commits. Notifications of a closure that fails are dropped while its neighbours'
// are kept; the same id stored by two closures of one batch is kept once, as first
// stored; an event one closure marked delivered is no longer pending to the next.
func TestNotificationsInOneBatch(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		at := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
		transact(t, db, func(tx hebao.Tx) error {
			return tx.Emit(ctx, hebao.Event{Kind: hebao.EventMovement, Payload: []byte(`{}`)})
		})
		note := func(id, title string) hebao.Notification {
			return hebao.Notification{ID: id, CustomerID: "cus_1", Kind: "payment.succeeded", Title: title, CreatedAt: at}
		}
		add := func(fail bool, ns ...hebao.Notification) func() error {
			return func() error {
				return db.Transact(ctx, func(tx hebao.Tx) error {
					for _, n := range ns {
						if err := tx.AddNotification(ctx, n); err != nil {
							return err
						}
					}
					if fail {
						return hebao.Errorf(hebao.CodeConflict, "changed my mind")
					}
					return nil
				})
			}
		}
		var pendingAfter []hebao.Event
		errs := inOneBatch(t, db,
			add(false, note("ntf_kept", "first")),
			add(true, note("ntf_dropped", "dropped"), note("ntf_kept_too", "dropped")),
			func() error {
				return db.Transact(ctx, func(tx hebao.Tx) error {
					es, err := tx.PendingEvents(ctx, 10)
					if err != nil {
						return err
					}
					if len(es) != 1 {
						return fmt.Errorf("pending events: %d, want 1", len(es))
					}
					if err := tx.AddNotification(ctx, note("ntf_kept", "second")); err != nil {
						return err
					}
					return tx.MarkDelivered(ctx, []string{es[0].ID}, at)
				})
			},
			func() error {
				return db.Transact(ctx, func(tx hebao.Tx) (err error) {
					pendingAfter, err = tx.PendingEvents(ctx, 10)
					if err != nil {
						return err
					}
					return tx.AddNotification(ctx, note("ntf_kept_too", "kept"))
				})
			},
		)
		for i, err := range errs {
			if want := i == 1; (err != nil) != want {
				t.Errorf("call %d: %v, want failure %v", i, err, want)
			}
		}
		if len(pendingAfter) != 0 {
			t.Errorf("pending after another closure of the batch delivered it: %+v", pendingAfter)
		}
		var got []hebao.Notification
		err := db.View(ctx, func(tx hebao.Tx) (err error) {
			got, err = tx.Notifications(ctx, "cus_1", "", 10)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		titles := map[string]string{}
		for _, n := range got {
			titles[n.ID] = n.Title
		}
		if diff := cmp.Diff(map[string]string{"ntf_kept": "first", "ntf_kept_too": "kept"}, titles); diff != "" {
			t.Errorf("notifications stored (-want +got):\n%s", diff)
		}
		var pending []hebao.Event
		transact(t, db, func(tx hebao.Tx) (err error) {
			pending, err = tx.PendingEvents(ctx, 10)
			return err
		})
		if len(pending) != 0 {
			t.Errorf("pending after the batch committed: %+v", pending)
		}
	})
}
