package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/hebaopay/hebao"
)

// The SMS codes' statements, in the $n placeholders both databases read.
const (
	// An upsert that changes nothing still takes the row's lock, on PostgreSQL
	// until the end of the transaction; it waits for another process holding it.
	otpLockPhone = `INSERT INTO otp_phones (phone) VALUES ($1) ON CONFLICT (phone) DO UPDATE SET phone = excluded.phone`
	otpSelect    = `SELECT id, phone, purpose, mac, sent_at, expires_at, checks, used_at FROM otp_codes
WHERE phone = $1 AND sent_at >= $2 ORDER BY sent_at DESC, id DESC`
	otpInsert = `INSERT INTO otp_codes (id, phone, purpose, mac, sent_at, expires_at, checks, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	otpCheck  = `UPDATE otp_codes SET checks = checks + 1 WHERE id = $1`
	otpUse    = `UPDATE otp_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL`
)

// OTPs implements hebao.Tx.
func (t *tx) OTPs(_ context.Context, phone string, since time.Time) ([]hebao.OTP, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if _, err := t.exec(otpLockPhone, phone); err != nil {
		return nil, t.retryable(fmt.Errorf("lock phone for SMS codes: %w", err))
	}
	rs, err := t.query(otpSelect, phone, since.UnixMicro())
	if err != nil {
		return nil, t.retryable(fmt.Errorf("read SMS codes: %w", err))
	}
	defer rs.Close()
	var out []hebao.OTP
	for rs.Next() {
		o, err := scanOTP(rs)
		if err != nil {
			return nil, fmt.Errorf("read SMS codes: %w", err)
		}
		out = append(out, o)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read SMS codes: %w", err)
	}
	return out, nil
}

// retryable hands a deadlock or serialization failure met inside the closure's
// savepoint to the batch, which is then run again, instead of failing this closure:
// two processes locking the same phones in opposite orders is a lost race, not the
// caller's fault.
func (t *tx) retryable(err error) error {
	if retryable(err) && t.b.err == nil {
		t.b.err = err
	}
	return err
}

func scanOTP(row scanner) (hebao.OTP, error) {
	var (
		o                     hebao.OTP
		purpose               string
		mac                   []byte
		sent, expires, checks int64
		used                  *int64
	)
	if err := row.Scan(&o.ID, &o.Phone, &purpose, &mac, &sent, &expires, &checks, &used); err != nil {
		return o, err
	}
	if len(mac) != len(o.MAC) {
		return o, fmt.Errorf("SMS code %s: stored MAC has %d bytes, want %d", o.ID, len(mac), len(o.MAC))
	}
	copy(o.MAC[:], mac)
	o.Purpose = hebao.OTPPurpose(purpose)
	o.SentAt, o.ExpiresAt = time.UnixMicro(sent).UTC(), time.UnixMicro(expires).UTC()
	o.Checks = int(checks)
	if used != nil {
		o.UsedAt = time.UnixMicro(*used).UTC()
	}
	return o, nil
}

// CreateOTP implements hebao.Tx.
func (t *tx) CreateOTP(_ context.Context, o hebao.OTP) error {
	if err := t.check(); err != nil {
		return err
	}
	if o.ID == "" || o.Phone == "" || !o.Purpose.Valid() {
		return hebao.Errorf(hebao.CodeInvalidRequest, "an SMS code needs an id, a phone and a purpose")
	}
	var used any
	if !o.UsedAt.IsZero() {
		used = o.UsedAt.UnixMicro()
	}
	_, err := t.exec(otpInsert, o.ID, o.Phone, string(o.Purpose), o.MAC[:], o.SentAt.UnixMicro(), o.ExpiresAt.UnixMicro(), int64(o.Checks), used)
	if err != nil {
		return t.retryable(fmt.Errorf("store SMS code: %w", err))
	}
	return nil
}

// AddOTPCheck implements hebao.Tx.
func (t *tx) AddOTPCheck(_ context.Context, id string) error {
	if err := t.check(); err != nil {
		return err
	}
	n, err := t.exec(otpCheck, id)
	if err != nil {
		return t.retryable(fmt.Errorf("count SMS code check: %w", err))
	}
	if n == 0 {
		return hebao.Errorf(hebao.CodeNotFound, "SMS code %s not found", id)
	}
	return nil
}

// UseOTP implements hebao.Tx.
func (t *tx) UseOTP(_ context.Context, id string, at time.Time) (bool, error) {
	if err := t.check(); err != nil {
		return false, err
	}
	n, err := t.exec(otpUse, id, at.UnixMicro())
	if err != nil {
		return false, t.retryable(fmt.Errorf("use SMS code: %w", err))
	}
	return n == 1, nil
}
