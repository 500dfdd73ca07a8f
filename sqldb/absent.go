package sqldb

import (
	"context"
	"database/sql"
	"errors"

	"github.com/hebaopay/hebao"
)

// On SQLite every closure runs in the one committer, which every money movement
// waits for, and a closure that goes through hebao.Once first looks its idempotency
// key up: almost always a key never seen, and a statement in the committer all the
// same. So Transact looks the key up first, on a read connection, in the caller's
// goroutine (preReadKey). What it learns is only that the key was absent from a
// snapshot taken after `since` of this committer's batches had committed. Inside
// the batch the closure may take that for the answer only if nothing can have
// stored the key since (stillAbsent):
//   - no batch of this committer committed since claimed it: the committer keeps
//     the keys of its last batches (claimLog);
//   - no other connection wrote the database since: SQLite's data_version, read at
//     the start of every batch, changes when one did, and a change disowns every
//     look-up made before it (externalAt);
//   - and no earlier closure of the same batch claimed it, which Reply checks first
//     as it always has.
//
// Otherwise the closure reads the key as before. PostgreSQL reads keys ahead with
// the chain head instead (readahead.go).

// absentKey says the idempotency key k was not stored in a snapshot taken after
// `since` batches of this committer had committed.
type absentKey struct {
	k     replyKey
	since int64
}

// claimLogSize is how many recent batches' keys the committer keeps; a look-up
// older than that is not trusted.
const claimLogSize = 64

// claimEntry is the keys one committed batch claimed.
type claimEntry struct {
	seq  int64
	keys []replyKey
}

// preReadKey looks the context's idempotency key up on a read connection (SQLite
// only) and returns what the batch may know of it, or nil.
func (db *DB) preReadKey(ctx context.Context) *absentKey {
	s, ok := db.b.(*sqliteDB)
	if !ok {
		return nil
	}
	ra, ok := hebao.ReadAheadOf(ctx)
	if !ok || ra.Key.Scope == "" || ra.Key.Key == "" {
		return nil
	}
	st := s.rstmts[sqliteSelectReply]
	if st == nil {
		return nil
	}
	since := db.commits.Load()
	var (
		hash, body []byte
		status     int64
	)
	err := st.QueryRowContext(ctx, ra.Key.Scope, ra.Key.Key).Scan(&hash, &status, &body)
	if !errors.Is(err, sql.ErrNoRows) {
		return nil // stored, or the read failed: the closure reads for itself
	}
	return &absentKey{k: replyKey{ra.Key.Scope, ra.Key.Key}, since: since}
}

// noteDataVersion is called at the start of every SQLite batch with the write
// connection's data_version: a change since the last batch means another
// connection wrote, and every look-up made before now is disowned.
func (db *DB) noteDataVersion(v int64, ok bool) {
	if !ok || !db.haveDV || v != db.lastDV {
		db.externalAt = db.commits.Load()
	}
	db.lastDV, db.haveDV = v, ok
}

// logClaims records a committed batch's keys and counts the commit.
func (db *DB) logClaims(rows []replyRow) {
	seq := db.commits.Load() + 1
	keys := make([]replyKey, len(rows))
	for i, r := range rows {
		keys[i] = replyKey{r.scope, r.key}
	}
	if len(db.claimLog) == claimLogSize {
		copy(db.claimLog, db.claimLog[1:])
		db.claimLog = db.claimLog[:claimLogSize-1]
	}
	db.claimLog = append(db.claimLog, claimEntry{seq: seq, keys: keys})
	db.commits.Store(seq)
}

// stillAbsent reports whether a's look-up still holds: no other connection wrote
// since it, and no batch committed since it claimed its key.
func (db *DB) stillAbsent(a *absentKey) bool {
	if a == nil || a.since <= db.externalAt {
		return false
	}
	now := db.commits.Load()
	if now == a.since {
		return true
	}
	if len(db.claimLog) == 0 || db.claimLog[0].seq > a.since+1 {
		return false // the log no longer reaches back to it
	}
	for i := len(db.claimLog) - 1; i >= 0 && db.claimLog[i].seq > a.since; i-- {
		for _, k := range db.claimLog[i].keys {
			if k == a.k {
				return false
			}
		}
	}
	return true
}
