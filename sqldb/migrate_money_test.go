package sqldb

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/hebaopay/hebao"
)

// TestMigrateToMoneyKeepsData upgrades a SQLite database made by the schema of
// issue 3 (migrations 1 to 4), with a wallet, a claimed idempotency key and outbox
// events in it, to this program's schema: the wallet gets its limit counters, the key
// still answers, the undelivered event is still pending, and the ledger verifies.
func TestMigrateToMoneyKeepsData(t *testing.T) {
	dir := t.TempDir()
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "hebao.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	all, err := migrations("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range all[:4] {
		if _, err := raw.Exec(m.sql); err != nil {
			t.Fatalf("migration %d: %v", m.version, err)
		}
		if _, err := raw.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`, m.version); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`INSERT INTO accounts (id, kind, unit, owner, may_go_negative, balance, created_at) VALUES
			(1, 'wallet', 'CNY', 'wal_1', 0, 0, 1), (2, 'promo', 'CNY', 'wal_1', 0, 0, 1), (3, 'points', 'POINT', 'wal_1', 0, 0, 1)`,
		`INSERT INTO customers (id, phone, password_hash, created_at) VALUES ('cus_1', '13800000001', 'x', 1)`,
		`INSERT INTO wallets (id, customer_id, status, tier, account_id, promo_account_id, points_account_id, created_at)
			VALUES ('wal_1', 'cus_1', 'active', 4, 1, 2, 3, 1)`,
		`INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at) VALUES ('s', 'k', x'01', 201, x'7b7d', 5)`,
		`INSERT INTO outbox (id, kind, payload, created_at, delivered_at) VALUES ('evt_a', 'movement', x'7b7d', 1, NULL), ('evt_b', 'movement', x'7b7d', 2, 3)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	db := openTest(t, Config{DataDir: dir})
	ctx := context.Background()
	err = db.Transact(ctx, func(tx hebao.Tx) error {
		u, err := tx.Usage(ctx, "wal_1")
		if err != nil || u.WalletID != "wal_1" || u.DayTotal != 0 {
			t.Errorf("limit counters: %+v, %v", u, err)
		}
		var hash [32]byte
		hash[0] = 1
		// The stored hash is one byte: any other request's is refused as a different
		// one, which proves the key was found.
		if _, err := tx.Reply(ctx, hebao.IdempotencyKey{Scope: "s", Key: "k", RequestHash: hash}); hebao.ErrorCode(err) != hebao.CodeIdempotencyKeyReused {
			t.Errorf("the claimed key: %v, want idempotency_key_reused", err)
		}
		events, err := tx.PendingEvents(ctx, 10)
		if err != nil || len(events) != 1 || events[0].ID != "evt_a" {
			t.Errorf("pending events: %+v, %v; want evt_a alone", events, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := rawInt(t, db, `SELECT MAX(version) FROM schema_migrations`); v != int64(len(all)) {
		t.Errorf("schema version %d, want %d", v, len(all))
	}
	mustVerify(t, db)
}
