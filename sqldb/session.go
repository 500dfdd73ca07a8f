package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/hebaopay/hebao"
)

// The statements of customers' sessions and of failed sign-ins.
const (
	sessionInsert = `INSERT INTO sessions (id, token_hash, customer_id, device_id, created_at, last_used_at)
VALUES ($1, $2, $3, $4, $5, $6)`
	sessionByToken = `SELECT id, token_hash, customer_id, device_id, created_at, last_used_at FROM sessions WHERE token_hash = $1`
	// Never backwards: of two requests racing, the later time stays.
	sessionTouch     = `UPDATE sessions SET last_used_at = $2 WHERE id = $1 AND last_used_at < $2`
	sessionDelete    = `DELETE FROM sessions WHERE id = $1`
	sessionDeleteAll = `DELETE FROM sessions WHERE customer_id = $1`
	sessionDeleteOld = `DELETE FROM sessions WHERE customer_id = $1 AND last_used_at < $2`

	loginFailureInsert    = `INSERT INTO login_failures (subject, at) VALUES ($1, $2)`
	loginFailureSelect    = `SELECT at FROM login_failures WHERE subject = $1 AND at >= $2 ORDER BY at, id`
	loginFailureDeleteAll = `DELETE FROM login_failures WHERE subject = $1`
	loginFailureDeleteOld = `DELETE FROM login_failures WHERE subject = $1 AND at < $2`
)

// CreateSession implements hebao.Tx.
func (t *tx) CreateSession(_ context.Context, s hebao.Session) error {
	if s.ID == "" || s.CustomerID == "" || s.TokenHash == ([32]byte{}) {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a session needs an id, a customer and a token hash")
	}
	_, err := t.exec(sessionInsert, s.ID, s.TokenHash[:], s.CustomerID, s.DeviceID, s.CreatedAt.UnixMicro(), s.LastUsedAt.UnixMicro())
	if err != nil {
		return t.retryable(fmt.Errorf("store session: %w", err))
	}
	return nil
}

// SessionByToken implements hebao.Tx.
func (t *tx) SessionByToken(_ context.Context, hash [32]byte) (hebao.Session, error) {
	if err := t.check(); err != nil {
		return hebao.Session{}, err
	}
	return scanSession(t.queryRow(sessionByToken, hash[:]))
}

// FindSession implements hebao.SessionFinder: SessionByToken in one statement on
// the read connections, outside any transaction.
func (db *DB) FindSession(ctx context.Context, hash [32]byte) (hebao.Session, time.Time, error) {
	now := db.now().UTC().Truncate(time.Microsecond)
	s, err := scanSession(db.b.readRow(ctx, sessionByToken, hash[:]))
	return s, now, err
}

func scanSession(row scanner) (hebao.Session, error) {
	var (
		s             hebao.Session
		th            []byte
		created, used int64
	)
	err := row.Scan(&s.ID, &th, &s.CustomerID, &s.DeviceID, &created, &used)
	if isNoRows(err) {
		return hebao.Session{}, hebao.Errorf(hebao.CodeNotFound, "no such session")
	}
	if err != nil {
		return hebao.Session{}, fmt.Errorf("read session: %w", err)
	}
	copy(s.TokenHash[:], th)
	s.CreatedAt, s.LastUsedAt = time.UnixMicro(created).UTC(), time.UnixMicro(used).UTC()
	return s, nil
}

// TouchSession implements hebao.Tx.
func (t *tx) TouchSession(_ context.Context, id string, at time.Time) error {
	// Sessions are not rows the row cache holds: see AddNotification.
	if _, err := t.execOwn(sessionTouch, id, at.UnixMicro()); err != nil {
		return t.retryable(fmt.Errorf("touch session: %w", err))
	}
	return nil
}

// DeleteSession implements hebao.Tx.
func (t *tx) DeleteSession(_ context.Context, id string) (bool, error) {
	n, err := t.exec(sessionDelete, id)
	if err != nil {
		return false, t.retryable(fmt.Errorf("delete session: %w", err))
	}
	return n > 0, nil
}

// DeleteSessions implements hebao.Tx.
func (t *tx) DeleteSessions(_ context.Context, customerID string, idleBefore time.Time) (int, error) {
	var (
		n   int64
		err error
	)
	if idleBefore.IsZero() {
		n, err = t.exec(sessionDeleteAll, customerID)
	} else {
		n, err = t.exec(sessionDeleteOld, customerID, idleBefore.UnixMicro())
	}
	if err != nil {
		return 0, t.retryable(fmt.Errorf("delete sessions: %w", err))
	}
	return int(n), nil
}

// LoginFailures implements hebao.Tx.
func (t *tx) LoginFailures(_ context.Context, subject string, since time.Time) ([]time.Time, error) {
	rs, err := t.query(loginFailureSelect, subject, since.UnixMicro())
	if err != nil {
		return nil, t.retryable(fmt.Errorf("read login failures: %w", err))
	}
	defer rs.Close()
	var out []time.Time
	for rs.Next() {
		var at int64
		if err := rs.Scan(&at); err != nil {
			return nil, fmt.Errorf("read login failures: %w", err)
		}
		out = append(out, time.UnixMicro(at).UTC())
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read login failures: %w", err)
	}
	return out, nil
}

// AddLoginFailure implements hebao.Tx.
func (t *tx) AddLoginFailure(_ context.Context, subject string, at time.Time) error {
	if subject == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a login failure needs a subject")
	}
	if _, err := t.exec(loginFailureInsert, subject, at.UnixMicro()); err != nil {
		return t.retryable(fmt.Errorf("store login failure: %w", err))
	}
	return nil
}

// DeleteLoginFailures implements hebao.Tx.
func (t *tx) DeleteLoginFailures(_ context.Context, subject string, before time.Time) error {
	var err error
	if before.IsZero() {
		_, err = t.exec(loginFailureDeleteAll, subject)
	} else {
		_, err = t.exec(loginFailureDeleteOld, subject, before.UnixMicro())
	}
	if err != nil {
		return t.retryable(fmt.Errorf("delete login failures: %w", err))
	}
	return nil
}
