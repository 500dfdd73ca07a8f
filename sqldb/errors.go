package sqldb

import (
	"database/sql"
	"errors"

	"github.com/hebaopay/hebao"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// Driver error numbers, matched by number and never by message text.
const (
	sqliteBusy             = 5
	sqliteLocked           = 6
	sqliteConstraintCheck  = 275
	sqliteConstraintFK     = 787
	sqliteConstraintPK     = 1555
	sqliteConstraintUnique = 2067

	pgUniqueViolation      = "23505"
	pgForeignKeyViolation  = "23503"
	pgCheckViolation       = "23514"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
)

// translate turns a driver's constraint errors into hebao errors, keeping the driver
// error as the cause, and leaves other errors as they are.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqliteConstraintUnique, sqliteConstraintPK:
			return &hebao.Error{Kind: hebao.KindConflict, Code: hebao.CodeConflict, Message: "already exists", Err: err}
		case sqliteConstraintCheck:
			return &hebao.Error{Kind: hebao.KindRejected, Code: hebao.CodeInsufficientFunds, Message: "a stored rule refused the change", Err: err}
		case sqliteConstraintFK:
			return &hebao.Error{Kind: hebao.KindNotFound, Code: hebao.CodeNotFound, Message: "refers to something that does not exist", Err: err}
		}
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case pgUniqueViolation:
			return &hebao.Error{Kind: hebao.KindConflict, Code: hebao.CodeConflict, Message: "already exists", Err: err}
		case pgCheckViolation:
			return &hebao.Error{Kind: hebao.KindRejected, Code: hebao.CodeInsufficientFunds, Message: "a stored rule refused the change", Err: err}
		case pgForeignKeyViolation:
			return &hebao.Error{Kind: hebao.KindNotFound, Code: hebao.CodeNotFound, Message: "refers to something that does not exist", Err: err}
		}
	}
	return err
}

// retryable reports whether a batch that failed with err should simply be run again:
// a lost race, a serialization failure or deadlock, or a busy database.
func retryable(err error) bool {
	if errors.Is(err, errRetry) {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == sqliteBusy || c == sqliteLocked
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == pgSerializationFailure || pe.Code == pgDeadlockDetected
	}
	return false
}

// isNoRows reports whether err says a query found nothing, in either driver.
func isNoRows(err error) bool {
	return errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows)
}
