package sqldb

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// rawExec runs a statement written with ? placeholders straight on the database,
// bypassing the store: tests use it to tamper with what the store wrote.
func rawExec(t testing.TB, db *DB, q string, args ...any) (int64, error) {
	t.Helper()
	ctx := context.Background()
	switch b := db.b.(type) {
	case *sqliteDB:
		res, err := b.w.ExecContext(ctx, q, args...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	case *pgDB:
		tag, err := b.pool.Exec(ctx, rebind(q), args...)
		return tag.RowsAffected(), err
	}
	t.Fatalf("unknown backend %T", db.b)
	return 0, nil
}

// rawInt reads one integer with a ? query.
func rawInt(t testing.TB, db *DB, q string, args ...any) int64 {
	t.Helper()
	ctx := context.Background()
	var n int64
	var err error
	switch b := db.b.(type) {
	case *sqliteDB:
		err = b.r.QueryRowContext(ctx, q, args...).Scan(&n)
	case *pgDB:
		err = b.pool.QueryRow(ctx, rebind(q), args...).Scan(&n)
	}
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func rebind(q string) string {
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func countOutbox(t testing.TB, db *DB) int {
	return int(rawInt(t, db, `SELECT COUNT(*) FROM outbox`))
}

// oneWallet stores customer cus_1 (phone 13800138000) with an active tier-4 wallet
// wal_1, made at t0, whose one account stands for all three of its accounts.
func oneWallet(t *testing.T, db *DB, t0 time.Time) {
	t.Helper()
	ctx := context.Background()
	transact(t, db, func(tx hebao.Tx) error {
		if err := tx.CreateCustomer(ctx, hebao.Customer{ID: "cus_1", Phone: "13800138000", PasswordHash: "$argon2id$x", CreatedAt: t0}); err != nil {
			return err
		}
		a, _ := hebao.NewAccount(hebao.AccountWallet, "wal_1", "", false)
		a, err := tx.CreateAccount(ctx, a)
		if err != nil {
			return err
		}
		return tx.CreateWallet(ctx, hebao.Wallet{ID: "wal_1", CustomerID: "cus_1", Status: hebao.WalletActive, Tier: 4,
			Account: a.ID, PromoAccount: a.ID, PointsAccount: a.ID, CreatedAt: t0})
	})
}

// holdCommitter keeps db's committer inside a batch until the returned release is
// called (at most once; the test's cleanup calls it too).
func holdCommitter(t *testing.T, db *DB) (release func()) {
	t.Helper()
	ch, running := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.Transact(context.Background(), func(hebao.Tx) error { close(running); <-ch; return nil })
	}()
	<-running
	var once bool
	release = func() {
		if once {
			return
		}
		once = true
		close(ch)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(release)
	return release
}
