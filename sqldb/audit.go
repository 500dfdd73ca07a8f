package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hebaopay/hebao"
)

// The statements of the audit log. Nothing here updates or deletes a row.
const (
	auditInsert = `INSERT INTO audit_log (id, at, actor_kind, actor_id, action, subject, request_id, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	auditNewest = `SELECT seq, id, at, actor_kind, actor_id, action, subject, request_id, detail FROM audit_log
ORDER BY seq DESC LIMIT $1`
	auditBefore = `SELECT seq, id, at, actor_kind, actor_id, action, subject, request_id, detail FROM audit_log
WHERE seq < $1 ORDER BY seq DESC LIMIT $2`
)

// AddAudit implements hebao.Tx.
func (t *tx) AddAudit(_ context.Context, r hebao.AuditRecord) error {
	if r.ID == "" || r.Action == "" || r.Actor.Kind == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "an audit record needs an id, an action and an actor")
	}
	detail := r.Detail
	if detail == nil {
		detail = map[string]string{}
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("encode audit detail: %w", err)
	}
	_, err = t.exec(auditInsert, r.ID, r.At.UnixMicro(), string(r.Actor.Kind), r.Actor.ID, r.Action, r.Subject, r.RequestID, string(b))
	if err != nil {
		return t.retryable(fmt.Errorf("store audit record: %w", err))
	}
	return nil
}

// AuditLog implements hebao.Tx.
func (t *tx) AuditLog(_ context.Context, before int64, limit int) ([]hebao.AuditRecord, error) {
	var (
		rs  closingRows
		err error
	)
	if before > 0 {
		rs, err = t.query(auditBefore, before, int64(limit))
	} else {
		rs, err = t.query(auditNewest, int64(limit))
	}
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rs.Close()
	var out []hebao.AuditRecord
	for rs.Next() {
		var (
			r            hebao.AuditRecord
			at           int64
			kind, detail string
		)
		if err := rs.Scan(&r.Seq, &r.ID, &at, &kind, &r.Actor.ID, &r.Action, &r.Subject, &r.RequestID, &detail); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		if err := json.Unmarshal([]byte(detail), &r.Detail); err != nil {
			return nil, fmt.Errorf("read audit log: record %s: detail: %w", r.ID, err)
		}
		r.At, r.Actor.Kind = time.UnixMicro(at).UTC(), hebao.ActorKind(kind)
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return out, nil
}
