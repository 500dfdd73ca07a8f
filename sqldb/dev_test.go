package sqldb

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/sqldb/sqldbtest"
)

// TestDevStore: the development SMS kept per phone, newest first, only the newest
// keep of each; and the development seed, read back by another process.
func TestDevStore(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		dbA, dbB := open(t), open(t)
		ctx := context.Background()
		t0 := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
		for i, m := range []hebao.SMSMessage{
			{Phone: "13800138000", Text: "one", SentAt: t0},
			{Phone: "13900139000", Text: "other", SentAt: t0.Add(time.Second)},
			{Phone: "13800138000", Text: "two", SentAt: t0.Add(2 * time.Second)},
			{Phone: "13800138000", Text: "three", SentAt: t0.Add(3 * time.Second)},
		} {
			if err := dbA.Transact(ctx, func(tx hebao.Tx) error { return tx.AddDevSMS(ctx, m, 2) }); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
		}
		var got, other []hebao.SMSMessage
		err := dbB.View(ctx, func(tx hebao.Tx) (err error) {
			if got, err = tx.DevSMS(ctx, "13800138000"); err != nil {
				return err
			}
			other, err = tx.DevSMS(ctx, "13900139000")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []hebao.SMSMessage{{Phone: "13800138000", Text: "three", SentAt: t0.Add(3 * time.Second)}, {Phone: "13800138000", Text: "two", SentAt: t0.Add(2 * time.Second)}}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("kept (-want +got):\n%s", d)
		}
		if len(other) != 1 || other[0].Text != "other" {
			t.Errorf("another phone's: %+v", other)
		}

		if err := dbB.View(ctx, func(tx hebao.Tx) error { _, err := tx.DevSeed(ctx); return err }); hebao.ErrorCode(err) != hebao.CodeNotFound {
			t.Errorf("seed before any: %v, want not_found", err)
		}
		for _, body := range []string{`{"v":1}`, `{"v":2}`} {
			if err := dbA.Transact(ctx, func(tx hebao.Tx) error { return tx.SaveDevSeed(ctx, []byte(body)) }); err != nil {
				t.Fatal(err)
			}
		}
		var seed []byte
		if err := dbB.View(ctx, func(tx hebao.Tx) (err error) { seed, err = tx.DevSeed(ctx); return err }); err != nil || string(seed) != `{"v":2}` {
			t.Errorf("seed %s, %v", seed, err)
		}
	})
}

// TestWhileSeeding: two processes' seeding of one PostgreSQL database never
// overlaps. (On SQLite, which one process owns, WhileSeeding simply runs fn.)
func TestWhileSeeding(t *testing.T) {
	url := sqldbtest.PostgresSchema(t) // fails under CI=true without HEBAO_TEST_POSTGRES
	dir := t.TempDir()
	dbs := []*DB{openTest(t, Config{URL: url, DataDir: dir}), openTest(t, Config{URL: url, DataDir: dir})}
	var (
		mu      sync.Mutex
		inside  int
		overlap bool
		wg      sync.WaitGroup
	)
	for i := range 6 {
		wg.Go(func() {
			err := dbs[i%2].WhileSeeding(context.Background(), func() error {
				mu.Lock()
				inside++
				overlap = overlap || inside > 1
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
				mu.Lock()
				inside--
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if overlap {
		t.Error("two seedings ran at once")
	}
}
