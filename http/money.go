package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hebaopay/hebao"
)

// maxIdempotencyKey is the longest Idempotency-Key accepted, in bytes.
const maxIdempotencyKey = 255

// transactionJSON is one movement of the caller's money as GET /v1/transactions and
// the money-moving routes show it. The sealed card number never leaves the domain.
type transactionJSON struct {
	ID           string            `json:"id"`
	Kind         string            `json:"kind"`
	Status       string            `json:"status"`
	Amount       int64             `json:"amount"`
	Currency     string            `json:"currency"`
	Card         *txCardJSON       `json:"card,omitempty"`
	Counterparty *counterpartyJSON `json:"counterparty,omitempty"`
	Memo         string            `json:"memo,omitempty"`
	OrderID      string            `json:"order_id,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
	Failure      *failureJSON      `json:"failure,omitempty"`
}

type txCardJSON struct {
	ID       string `json:"id"`
	Masked   string `json:"masked_number"`
	BankCode string `json:"bank_code"`
	Bank     string `json:"bank"`
}

type counterpartyJSON struct {
	WalletID string `json:"wallet_id"`
	Name     string `json:"name"`
}

// failureJSON says why an operation failed or is still pending (SPEC §9).
type failureJSON struct {
	Code        string `json:"code"`
	Explanation string `json:"explanation"`
	NextStep    string `json:"next_step"`
}

// bankNames maps a bank code to the bank's name, for showing a card's bank.
var bankNames = func() map[string]string {
	m := map[string]string{}
	for _, b := range hebao.IssuingBanks() {
		m[b.Code] = b.NameZH
	}
	return m
}()

func transactionOut(m hebao.Movement) transactionJSON {
	out := transactionJSON{
		ID: m.ID, Kind: string(m.Kind), Status: string(m.Status), Amount: m.Amount, Currency: string(hebao.CNY),
		Memo: m.Memo, CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC(),
	}
	if m.CardID != "" {
		out.Card = &txCardJSON{ID: m.CardID, Masked: m.CardMasked, BankCode: m.BankCode, Bank: bankNames[m.BankCode]}
	}
	if m.Counterparty != "" {
		out.Counterparty = &counterpartyJSON{WalletID: m.Counterparty, Name: m.CounterpartyName}
	}
	if m.Kind == hebao.MovementPayment && strings.HasPrefix(m.Ref, "ord_") {
		out.OrderID = m.Ref
	}
	code := ""
	switch m.Status {
	case hebao.MovementFailed:
		code = m.FailureCode
	case hebao.MovementPending:
		code = hebao.FailurePending
		if m.Kind == hebao.MovementPayment {
			code = hebao.FailureAwaitingConfirmation
		}
	}
	if code != "" {
		f, _ := hebao.Explain(code)
		out.Failure = &failureJSON{Code: f.Code, Explanation: f.Explanation, NextStep: f.NextStep}
	}
	return out
}

// idempotencyKey reads the Idempotency-Key header and scopes it to the customer and
// route. body is the canonical form of the request: the same request sent again
// with other whitespace or field order hashes the same.
// Errors: invalid_request (missing, longer than 255 bytes, or not printable ASCII).
func idempotencyKey(r *http.Request, sess hebao.Session, route string, body any) (hebao.IdempotencyKey, error) {
	k := r.Header.Get("Idempotency-Key")
	if k == "" {
		return hebao.IdempotencyKey{}, invalid("the Idempotency-Key header is missing: money-moving requests need one, unique per operation, and the same one again on a retry")
	}
	if len(k) > maxIdempotencyKey {
		return hebao.IdempotencyKey{}, invalid("the Idempotency-Key header must be 1 to %d characters", maxIdempotencyKey)
	}
	for _, c := range []byte(k) {
		if c < 0x21 || c > 0x7e {
			return hebao.IdempotencyKey{}, invalid("the Idempotency-Key header must be printable ASCII without spaces, such as a UUID")
		}
	}
	canonical, err := json.Marshal(body)
	if err != nil {
		return hebao.IdempotencyKey{}, fmt.Errorf("canonical request: %w", err)
	}
	return hebao.NewIdempotencyKey(sess.CustomerID+" "+route, k, canonical), nil
}

// replyWith returns the Reply func of a money-moving request: the movement as JSON
// with status. What it returns is stored with the key and sent again, byte for byte,
// to every retry.
func replyWith(status int) func(hebao.Movement) (hebao.Reply, error) {
	return func(m hebao.Movement) (hebao.Reply, error) {
		b, err := json.Marshal(transactionOut(m))
		if err != nil {
			return hebao.Reply{}, fmt.Errorf("encode transaction: %w", err)
		}
		return hebao.Reply{Status: status, Body: append(b, '\n')}, nil
	}
}

// writeReply writes a stored or new reply exactly as it was rendered.
func writeReply(w http.ResponseWriter, rep hebao.Reply) error {
	if rep.Status == 0 {
		return hebao.Errorf(hebao.CodeIdempotencyKeyInUse, "the first request with this Idempotency-Key is still running; retry in a moment")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(rep.Status)
	w.Write(rep.Body)
	return nil
}

// transferRequest is the body of POST /v1/transfers.
type transferRequest struct {
	ToPhone         string `json:"to_phone,omitempty"`
	ToWalletID      string `json:"to_wallet_id,omitempty"`
	Amount          int64  `json:"amount"`
	Memo            string `json:"memo"`
	PaymentPassword string `json:"payment_password,omitempty"`
	OTP             string `json:"otp,omitempty"`
}

// transfer sends money to another wallet: POST /v1/transfers {to_phone |
// to_wallet_id, amount, memo, payment_password, otp?} with an Idempotency-Key → 201
// the payer's transaction. The key's request hash covers the body without
// payment_password and otp: secrets are never hashed into the database (a six-digit
// password's hash is no secret), and a retry differing only in them replays the
// first answer, which the same customer already had.
// Errors: invalid_request, not_found, wallet_frozen, payee_unavailable,
// payment_password_wrong, payment_password_locked, step_up_required, otp_invalid,
// otp_expired, limit_exceeded, balance_cap_exceeded, insufficient_funds,
// idempotency_key_reused, idempotency_key_in_use, unavailable.
func (s *Server) transfer(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	var req transferRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	hashed := req
	hashed.PaymentPassword, hashed.OTP = "", ""
	key, err := idempotencyKey(r, sess, "POST /v1/transfers", hashed)
	if err != nil {
		return err
	}
	if s.transfers == nil {
		return notConfigured("transfers")
	}
	rep, err := s.transfers.Send(r.Context(), hebao.TransferRequest{
		CustomerID: sess.CustomerID, DeviceID: sess.DeviceID,
		ToPhone: req.ToPhone, ToWalletID: req.ToWalletID, Amount: req.Amount, Memo: req.Memo,
		PaymentPassword: req.PaymentPassword, OTP: req.OTP,
		Key: key, Reply: replyWith(http.StatusCreated),
	})
	if err != nil {
		return err
	}
	return writeReply(w, rep)
}

// topup tops the wallet up from a bound card: POST /v1/topups {card_id, amount}
// with an Idempotency-Key → 202 the pending transaction; GET /v1/topups/{id} shows
// how it ended.
// Errors: invalid_request, not_found (no such card of the caller's), wallet_frozen,
// balance_cap_exceeded, idempotency_key_reused, idempotency_key_in_use, unavailable.
func (s *Server) topup(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	var req struct {
		CardID string `json:"card_id"`
		Amount int64  `json:"amount"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	key, err := idempotencyKey(r, sess, "POST /v1/topups", req)
	if err != nil {
		return err
	}
	if s.bank == nil {
		return notConfigured("top-ups")
	}
	rep, err := s.bank.Topup(r.Context(), hebao.TopupRequest{
		CustomerID: sess.CustomerID, CardID: req.CardID, Amount: req.Amount,
		Key: key, Reply: replyWith(http.StatusAccepted),
	})
	if err != nil {
		return err
	}
	return writeReply(w, rep)
}

// withdrawalRequest is the body of POST /v1/withdrawals.
type withdrawalRequest struct {
	CardID          string `json:"card_id"`
	Amount          int64  `json:"amount"`
	PaymentPassword string `json:"payment_password,omitempty"`
	OTP             string `json:"otp,omitempty"`
}

// withdraw pays out to a bound card: POST /v1/withdrawals {card_id, amount,
// payment_password, otp?} with an Idempotency-Key → 202 the pending transaction; the
// amount is held at once and given back if the bank declines. As for transfers, the
// key's request hash leaves the payment password out.
// Errors: invalid_request, not_found, wallet_frozen, payment_password_wrong,
// payment_password_locked, step_up_required, otp_invalid, otp_expired,
// limit_exceeded, insufficient_funds, idempotency_key_reused,
// idempotency_key_in_use, unavailable.
func (s *Server) withdraw(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	var req withdrawalRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	hashed := req
	hashed.PaymentPassword, hashed.OTP = "", ""
	key, err := idempotencyKey(r, sess, "POST /v1/withdrawals", hashed)
	if err != nil {
		return err
	}
	if s.bank == nil {
		return notConfigured("withdrawals")
	}
	rep, err := s.bank.Withdraw(r.Context(), hebao.WithdrawalRequest{
		CustomerID: sess.CustomerID, DeviceID: sess.DeviceID, CardID: req.CardID, Amount: req.Amount,
		PaymentPassword: req.PaymentPassword, OTP: req.OTP, Key: key, Reply: replyWith(http.StatusAccepted),
	})
	if err != nil {
		return err
	}
	return writeReply(w, rep)
}

// getTopup shows one of the caller's top-ups: GET /v1/topups/{id}.
// Errors: invalid_request (malformed id), not_found (none, or not the caller's).
func (s *Server) getTopup(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	return s.showMovement(w, r, sess, hebao.MovementTopup)
}

// getWithdrawal shows one of the caller's withdrawals: GET /v1/withdrawals/{id}.
// Errors: invalid_request (malformed id), not_found (none, or not the caller's).
func (s *Server) getWithdrawal(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	return s.showMovement(w, r, sess, hebao.MovementWithdrawal)
}

// getTransaction shows one movement of the caller's: GET /v1/transactions/{id}.
// Errors: invalid_request (malformed id), not_found (none, or not the caller's).
func (s *Server) getTransaction(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	return s.showMovement(w, r, sess, "")
}

// showMovement answers the caller's movement named in the path, of kind unless
// kind is "". Another wallet's movement, or one of another kind, is not_found.
func (s *Server) showMovement(w http.ResponseWriter, r *http.Request, sess hebao.Session, kind hebao.MovementKind) error {
	id := r.PathValue("id")
	if !hebao.ValidID("mov", id) {
		return invalid("%q is not a transaction id", truncate(id, 40))
	}
	var m hebao.Movement
	err := s.store.View(r.Context(), func(tx hebao.Tx) error {
		wal, err := tx.WalletByCustomer(r.Context(), sess.CustomerID)
		if err != nil {
			return err
		}
		m, err = tx.Movement(r.Context(), wal.ID, id)
		return err
	})
	if err != nil {
		return err
	}
	if kind != "" && m.Kind != kind {
		return hebao.Errorf(hebao.CodeNotFound, "there is no such %s", kind)
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, transactionOut(m))
}

// listTransactions pages through the caller's history, newest first: GET
// /v1/transactions?limit=&cursor= → {items, next_cursor}; next_cursor is null on
// the last page.
// Errors: invalid_request (limit, cursor).
func (s *Server) listTransactions(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	limit, before, err := page(r, "mov")
	if err != nil {
		return err
	}
	var ms []hebao.Movement
	err = s.store.View(r.Context(), func(tx hebao.Tx) error {
		wal, err := tx.WalletByCustomer(r.Context(), sess.CustomerID)
		if err != nil {
			return err
		}
		ms, err = tx.Movements(r.Context(), wal.ID, before, limit+1)
		return err
	})
	if err != nil {
		return err
	}
	return writeTransactionPage(w, ms, limit)
}

// writeTransactionPage writes ms, read with one more than limit asked for, as a page
// of at most limit transactions and the cursor of the next page: null when ms holds
// no more than limit.
func writeTransactionPage(w http.ResponseWriter, ms []hebao.Movement, limit int) error {
	out := struct {
		Items      []transactionJSON `json:"items"`
		NextCursor *string           `json:"next_cursor"`
	}{Items: []transactionJSON{}}
	if len(ms) > limit {
		ms = ms[:limit]
		out.NextCursor = &ms[limit-1].ID
	}
	for _, m := range ms {
		out.Items = append(out.Items, transactionOut(m))
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}

// page reads ?limit= and ?cursor= of a list whose cursor is the last id, with
// prefix, of the page before.
// Errors: invalid_request.
func page(r *http.Request, prefix string) (limit int, cursor string, err error) {
	q := r.URL.Query()
	if limit, err = hebao.ParsePageSize(q.Get("limit")); err != nil {
		return 0, "", err
	}
	cursor = q.Get("cursor")
	if cursor != "" && !hebao.ValidID(prefix, cursor) {
		return 0, "", invalid("cursor is not one this server gave out")
	}
	return limit, cursor, nil
}
