package sqldb

import (
	"context"
	"fmt"
	"testing"

	"github.com/hebaopay/hebao"
)

// replyOnce claims k with a reply through hebao.Once, as a request would, and
// returns how many times its body ran (0: the reply was stored already).
func replyOnce(t *testing.T, db *DB, k hebao.IdempotencyKey) int {
	t.Helper()
	runs := 0
	_, err := hebao.Once(context.Background(), db, k, func(hebao.Tx) (hebao.Reply, error) {
		runs++
		return hebao.Reply{Status: 201, Body: []byte(`{"ok":true}`)}, nil
	})
	if err != nil {
		t.Fatalf("Once %s: %v", k.Key, err)
	}
	return runs
}

// replyWithHint runs, in db's committer, a closure that asks for k's stored reply,
// carrying the look-up a (made earlier by preReadKey), and returns what it got.
func replyWithHint(t *testing.T, db *DB, k hebao.IdempotencyKey, a *absentKey) *hebao.Reply {
	t.Helper()
	var got *hebao.Reply
	c := &call{ctx: context.Background(), done: make(chan error, 1), absent: a, fn: func(tx hebao.Tx) (err error) {
		got, err = tx.Reply(context.Background(), k)
		return err
	}}
	db.queue <- c
	if err := <-c.done; err != nil {
		t.Fatal(err)
	}
	return got
}

func lookUp(t *testing.T, db *DB, k hebao.IdempotencyKey) *absentKey {
	t.Helper()
	a := db.preReadKey(hebao.WithReadAhead(context.Background(), hebao.ReadAhead{Key: k}))
	if a == nil {
		t.Fatalf("preReadKey(%s) found it stored, or failed", k.Key)
	}
	return a
}

// TestPreReadKey: on SQLite a caller looks its idempotency key up before its
// closure is queued, and the closure takes "not stored" from that look-up only
// while nothing can have stored the key since: not when a batch of the same
// committer claimed it meanwhile, not when another connection wrote the database,
// not when the committer no longer remembers the batches since. Otherwise the
// closure reads the key as before.
func TestPreReadKey(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, Config{DataDir: dir})
	other := openTest(t, Config{DataDir: dir})
	key := func(s string) hebao.IdempotencyKey { return hebao.NewIdempotencyKey("test", s, []byte(s)) }
	replyOnce(t, db, key("warm-up")) // the committer has seen the data version once

	// New keys: every closure trusts its caller's look-up.
	before := db.replyReads.Load()
	for i := range 20 {
		if runs := replyOnce(t, db, key(fmt.Sprintf("new-%d", i))); runs != 1 {
			t.Fatalf("a new key ran its body %d times", runs)
		}
	}
	if n := db.replyReads.Load() - before; n != 0 {
		t.Errorf("closures read %d of 20 new keys themselves, want 0", n)
	}
	// A stored key is found by the look-up, and replayed.
	if runs := replyOnce(t, db, key("new-3")); runs != 0 {
		t.Errorf("a stored key ran its body again (%d)", runs)
	}

	// Claimed by a batch of the same committer after the look-up.
	k := key("claimed-after")
	a := lookUp(t, db, k)
	replyOnce(t, db, k)
	if got := replyWithHint(t, db, k, a); got == nil || got.Status != 201 {
		t.Errorf("a key claimed after the look-up: %+v, want the stored reply", got)
	}

	// Claimed by another connection after the look-up.
	k = key("claimed-elsewhere")
	a = lookUp(t, db, k)
	replyOnce(t, other, k)
	if got := replyWithHint(t, db, k, a); got == nil || got.Status != 201 {
		t.Errorf("a key another connection claimed after the look-up: %+v, want the stored reply", got)
	}

	// A look-up older than the committer's memory is not trusted, though it is right.
	k = key("old-look-up")
	a = lookUp(t, db, k)
	for i := range claimLogSize + 1 {
		replyOnce(t, db, key(fmt.Sprintf("filler-%d", i)))
	}
	before = db.replyReads.Load()
	if got := replyWithHint(t, db, k, a); got != nil {
		t.Errorf("a key never stored: %+v", got)
	}
	if n := db.replyReads.Load() - before; n != 1 {
		t.Errorf("the closure read an old look-up's key %d times, want 1", n)
	}

	// A fresh look-up of a key that stays unclaimed is the answer, with no read.
	k = key("fresh")
	a = lookUp(t, db, k)
	replyOnce(t, db, key("unrelated"))
	before = db.replyReads.Load()
	if got := replyWithHint(t, db, k, a); got != nil {
		t.Errorf("a key never stored: %+v", got)
	}
	if n := db.replyReads.Load() - before; n != 0 {
		t.Errorf("the closure read a key its look-up answered %d times, want 0", n)
	}
}
