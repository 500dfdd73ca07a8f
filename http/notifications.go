package http

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/notify"
)

// listNotifications pages through the caller's inbox, newest first: GET
// /v1/notifications?limit=&cursor= → {items, next_cursor}; next_cursor is null on
// the last page.
// Errors: invalid_request (limit, cursor).
func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	limit, before, err := page(r, "ntf")
	if err != nil {
		return err
	}
	var ns []hebao.Notification
	err = s.store.View(r.Context(), func(tx hebao.Tx) (err error) {
		ns, err = tx.Notifications(r.Context(), sess.CustomerID, before, limit+1)
		return err
	})
	if err != nil {
		return err
	}
	out := struct {
		Items      []notify.View `json:"items"`
		NextCursor *string       `json:"next_cursor"`
	}{Items: []notify.View{}}
	if len(ns) > limit {
		ns = ns[:limit]
		out.NextCursor = &ns[limit-1].ID
	}
	for _, n := range ns {
		out.Items = append(out.Items, notify.NewView(n))
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}

// events streams the caller's notifications as Server-Sent Events: GET /v1/events.
// The stream is lifted off the server's read and write time-outs, and ends when
// the client goes away or the server shuts down (StopStreams).
// Errors: unavailable (no hub configured).
func (s *Server) events(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	if s.hub == nil {
		return notConfigured("live events")
	}
	// A read deadline left on the connection would end the stream: net/http cancels
	// the request when its background read times out.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(s.streams, cancel)
	defer stop()
	notify.ServeEvents(w, r.WithContext(ctx), s.hub, sess.CustomerID)
	return nil
}

// StopStreams ends every Server-Sent Events stream, now and from now on, so that a
// graceful shutdown does not wait for clients that never hang up. Register it with
// http.Server.RegisterOnShutdown.
func (s *Server) StopStreams() { s.stopStreams() }

// settingsJSON is the wallet's settings as GET and PUT /v1/wallet/settings show them.
type settingsJSON struct {
	PasswordFree struct {
		Enabled         bool  `json:"enabled"`
		PerPaymentLimit int64 `json:"per_payment_limit"`
	} `json:"password_free"`
	AutoTopup    bool   `json:"auto_topup"`
	SMSThreshold *int64 `json:"sms_threshold"` // null: no SMS
}

func settingsOut(st hebao.WalletSettings) settingsJSON {
	var out settingsJSON
	out.PasswordFree.Enabled, out.PasswordFree.PerPaymentLimit = st.PasswordFree, st.PasswordFreeLimit
	out.AutoTopup = st.AutoTopup
	if st.SMSThreshold != hebao.SMSOff && st.SMSThreshold >= 0 {
		t := st.SMSThreshold
		out.SMSThreshold = &t
	}
	return out
}

// getSettings shows the caller's wallet settings: GET /v1/wallet/settings.
func (s *Server) getSettings(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	var st hebao.WalletSettings
	err := s.store.View(r.Context(), func(tx hebao.Tx) error {
		wal, err := tx.WalletByCustomer(r.Context(), sess.CustomerID)
		if err != nil {
			return err
		}
		st, err = tx.WalletSettings(r.Context(), wal.ID)
		return err
	})
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, settingsOut(st))
}

// settingsRequest is the body of PUT /v1/wallet/settings; pointers tell a missing
// field from a zero one.
type settingsRequest struct {
	PasswordFree *struct {
		Enabled         *bool  `json:"enabled"`
		PerPaymentLimit *int64 `json:"per_payment_limit"`
	} `json:"password_free"`
	AutoTopup    *bool           `json:"auto_topup"`
	SMSThreshold json.RawMessage `json:"sms_threshold"` // null: no SMS
}

// putSettings replaces the caller's wallet settings: PUT /v1/wallet/settings
// {password_free{enabled, per_payment_limit}, auto_topup, sms_threshold} → 200 the
// settings. Every field is required; sms_threshold is fen, or null for no SMS.
// Errors: invalid_request.
func (s *Server) putSettings(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	var req settingsRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	st, err := req.settings()
	if err != nil {
		return err
	}
	err = s.store.Transact(r.Context(), func(tx hebao.Tx) error {
		wal, err := tx.WalletByCustomer(r.Context(), sess.CustomerID)
		if err != nil {
			return err
		}
		st.WalletID = wal.ID
		return tx.SaveWalletSettings(r.Context(), st)
	})
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, settingsOut(st))
}

// settings checks the request and returns the settings it asks for, without a
// wallet id. The password-free allowance may be lowered, never raised above the
// default of ¥1,000 a payment (SPEC §5).
// Errors: invalid_request.
func (req settingsRequest) settings() (hebao.WalletSettings, error) {
	var st hebao.WalletSettings
	pf := req.PasswordFree
	if pf == nil || req.AutoTopup == nil || len(req.SMSThreshold) == 0 {
		return st, invalid("password_free, auto_topup and sms_threshold are all required (sms_threshold may be null)")
	}
	if pf.Enabled == nil || pf.PerPaymentLimit == nil {
		return st, invalid("password_free needs enabled and per_payment_limit")
	}
	if l := *pf.PerPaymentLimit; l < 1 || l > hebao.DefaultPasswordFreeLimit {
		return st, invalid("password_free.per_payment_limit must be 1 to %d fen (%s)", hebao.DefaultPasswordFreeLimit, hebao.FormatCNY(hebao.DefaultPasswordFreeLimit))
	}
	st.PasswordFree, st.PasswordFreeLimit = *pf.Enabled, *pf.PerPaymentLimit
	st.AutoTopup = *req.AutoTopup
	st.SMSThreshold = hebao.SMSOff
	if string(req.SMSThreshold) != "null" {
		var t int64
		if err := json.Unmarshal(req.SMSThreshold, &t); err != nil {
			return st, invalid("sms_threshold must be a whole number of fen, or null for no SMS")
		}
		if t < 1 || t > hebao.MaxAmount {
			return st, invalid("sms_threshold must be 1 to %d fen, or null for no SMS", hebao.MaxAmount)
		}
		st.SMSThreshold = t
	}
	return st, nil
}
