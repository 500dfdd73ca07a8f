package sqldb

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/sqldb/sqldbtest"
)

// TestListenNotifications: a notification stored through one process reaches a
// listener on another sharing the PostgreSQL database; one whose closure fails is
// never announced, nor is one stored a second time (an event dispatched twice), nor
// one stored in another schema of the same database.
// SQLite has no listener.
func TestListenNotifications(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		dbA, dbB := open(t), open(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		got := make(chan hebao.Notification, 10)
		ready := make(chan struct{}, 1)
		done := make(chan error, 1)
		go func() {
			done <- dbB.ListenNotifications(ctx, func(n hebao.Notification) { got <- n }, func() { ready <- struct{}{} })
		}()
		if dbA.Dialect() != "postgres" {
			if err := <-done; !errors.Is(err, ErrNoListen) {
				t.Fatalf("listening on %s: %v, want ErrNoListen", dbA.Dialect(), err)
			}
			return
		}
		select {
		case <-ready:
		case err := <-done:
			t.Fatalf("listener: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("the listener did not start")
		}
		at := time.Now().UTC().Truncate(time.Microsecond)
		store := func(n hebao.Notification, fail bool) {
			t.Helper()
			err := dbA.Transact(ctx, func(tx hebao.Tx) error {
				if err := tx.AddNotification(ctx, n); err != nil {
					return err
				}
				if fail {
					return hebao.Errorf(hebao.CodeConflict, "changed my mind")
				}
				return nil
			})
			if (err != nil) != fail {
				t.Fatalf("store %s: %v", n.ID, err)
			}
		}
		// A deployment in another schema of the same PostgreSQL database is not heard.
		other := openTest(t, Config{URL: sqldbtest.PostgresSchema(t), DataDir: t.TempDir()})
		err := other.Transact(ctx, func(tx hebao.Tx) error {
			return tx.AddNotification(ctx, hebao.Notification{ID: "ntf_other_schema", CustomerID: "cus_z", Kind: "payment.succeeded", CreatedAt: at})
		})
		if err != nil {
			t.Fatal(err)
		}
		rolledBack := hebao.Notification{ID: "ntf_rolled_back", CustomerID: "cus_x", Kind: "payment.succeeded", CreatedAt: at}
		store(rolledBack, true)
		n := hebao.Notification{ID: "ntf_1", CustomerID: "cus_x", Kind: "payment.succeeded", Title: "Paid ¥1.00", Amount: 100,
			BalanceAfter: 900, TransactionID: "mov_1", CreatedAt: at}
		store(n, false)
		store(n, false) // again: kept once, not announced again
		marker := hebao.Notification{ID: "ntf_2", CustomerID: "cus_y", Kind: "refund.succeeded", CreatedAt: at}
		store(marker, false)
		var seen []hebao.Notification
		for len(seen) < 2 {
			select {
			case x := <-got:
				seen = append(seen, x)
			case <-time.After(10 * time.Second):
				t.Fatalf("after 10 s the listener has %+v", seen)
			}
		}
		if seen[0] != n || seen[1] != marker {
			t.Errorf("announced %+v, want %+v then %+v: once each, none rolled back", seen, n, marker)
		}
	})
}

func TestChannelFor(t *testing.T) {
	long := strings.Repeat("s", 60)
	for _, c := range []struct {
		schema *string
		want   string
	}{
		{nil, NotificationChannel},
		{strPtr("public"), NotificationChannel},
		{strPtr("bank_a"), NotificationChannel + ".bank_a"},
	} {
		if got := channelFor(c.schema); got != c.want {
			t.Errorf("channelFor(%v) = %q, want %q", c.schema, got, c.want)
		}
	}
	a, b := channelFor(&long), channelFor(strPtr(long+"t"))
	if len(a) > 63 || len(b) > 63 || a == b {
		t.Errorf("long schemas: %q and %q (at most 63 bytes each, and distinct)", a, b)
	}
}

func strPtr(s string) *string { return &s }
