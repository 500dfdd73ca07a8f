package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/hebaopay/hebao"
)

// The statements of staff accounts and their sessions.
const (
	staffInsert     = `INSERT INTO staff (id, username, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)`
	staffByUsername = `SELECT id, username, password_hash, role, created_at FROM staff WHERE username = $1`
	staffByID       = `SELECT id, username, password_hash, role, created_at FROM staff WHERE id = $1`

	staffSessionInsert  = `INSERT INTO staff_sessions (id, token_hash, staff_id, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5)`
	staffSessionByToken = `SELECT id, token_hash, staff_id, created_at, last_used_at FROM staff_sessions WHERE token_hash = $1`
	staffSessionTouch   = `UPDATE staff_sessions SET last_used_at = $2 WHERE id = $1 AND last_used_at < $2`
	staffSessionDelAll  = `DELETE FROM staff_sessions WHERE staff_id = $1`
	staffSessionDelOne  = `DELETE FROM staff_sessions WHERE id = $1`
	staffSessionDelOld  = `DELETE FROM staff_sessions WHERE staff_id = $1 AND last_used_at < $2`
)

// CreateStaff implements hebao.Tx.
func (t *tx) CreateStaff(_ context.Context, s hebao.Staff) error {
	if s.ID == "" || s.Username == "" || s.PasswordHash == "" || !s.Role.Valid() {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a staff account needs an id, a username, a password hash and a role")
	}
	if _, err := t.exec(staffInsert, s.ID, s.Username, s.PasswordHash, string(s.Role), s.CreatedAt.UnixMicro()); err != nil {
		return t.retryable(fmt.Errorf("store staff account: %w", err))
	}
	return nil
}

// StaffByUsername implements hebao.Tx.
func (t *tx) StaffByUsername(_ context.Context, username string) (hebao.Staff, error) {
	return t.staff(staffByUsername, username)
}

// StaffByID implements hebao.Tx.
func (t *tx) StaffByID(_ context.Context, id string) (hebao.Staff, error) {
	return t.staff(staffByID, id)
}

func (t *tx) staff(q, arg string) (hebao.Staff, error) {
	if err := t.check(); err != nil {
		return hebao.Staff{}, err
	}
	var (
		s       hebao.Staff
		role    string
		created int64
	)
	err := t.queryRow(q, arg).Scan(&s.ID, &s.Username, &s.PasswordHash, &role, &created)
	if isNoRows(err) {
		return hebao.Staff{}, hebao.Errorf(hebao.CodeNotFound, "no such staff account")
	}
	if err != nil {
		return hebao.Staff{}, fmt.Errorf("read staff account: %w", err)
	}
	s.Role, s.CreatedAt = hebao.StaffRole(role), time.UnixMicro(created).UTC()
	return s, nil
}

// CreateStaffSession implements hebao.Tx.
func (t *tx) CreateStaffSession(_ context.Context, s hebao.StaffSession) error {
	if s.ID == "" || s.StaffID == "" || s.TokenHash == ([32]byte{}) {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a staff session needs an id, a staff member and a token hash")
	}
	_, err := t.exec(staffSessionInsert, s.ID, s.TokenHash[:], s.StaffID, s.CreatedAt.UnixMicro(), s.LastUsedAt.UnixMicro())
	if err != nil {
		return t.retryable(fmt.Errorf("store staff session: %w", err))
	}
	return nil
}

// StaffSessionByToken implements hebao.Tx.
func (t *tx) StaffSessionByToken(_ context.Context, hash [32]byte) (hebao.StaffSession, error) {
	if err := t.check(); err != nil {
		return hebao.StaffSession{}, err
	}
	var (
		s             hebao.StaffSession
		th            []byte
		created, used int64
	)
	err := t.queryRow(staffSessionByToken, hash[:]).Scan(&s.ID, &th, &s.StaffID, &created, &used)
	if isNoRows(err) {
		return hebao.StaffSession{}, hebao.Errorf(hebao.CodeNotFound, "no such staff session")
	}
	if err != nil {
		return hebao.StaffSession{}, fmt.Errorf("read staff session: %w", err)
	}
	copy(s.TokenHash[:], th)
	s.CreatedAt, s.LastUsedAt = time.UnixMicro(created).UTC(), time.UnixMicro(used).UTC()
	return s, nil
}

// TouchStaffSession implements hebao.Tx.
func (t *tx) TouchStaffSession(_ context.Context, id string, at time.Time) error {
	if _, err := t.exec(staffSessionTouch, id, at.UnixMicro()); err != nil {
		return t.retryable(fmt.Errorf("touch staff session: %w", err))
	}
	return nil
}

// DeleteStaffSession implements hebao.Tx.
func (t *tx) DeleteStaffSession(_ context.Context, id string) (bool, error) {
	n, err := t.exec(staffSessionDelOne, id)
	if err != nil {
		return false, t.retryable(fmt.Errorf("delete staff session: %w", err))
	}
	return n > 0, nil
}

// DeleteStaffSessions implements hebao.Tx.
func (t *tx) DeleteStaffSessions(_ context.Context, staffID string, idleBefore time.Time) (int, error) {
	var (
		n   int64
		err error
	)
	if idleBefore.IsZero() {
		n, err = t.exec(staffSessionDelAll, staffID)
	} else {
		n, err = t.exec(staffSessionDelOld, staffID, idleBefore.UnixMicro())
	}
	if err != nil {
		return 0, t.retryable(fmt.Errorf("delete staff sessions: %w", err))
	}
	return int(n), nil
}
