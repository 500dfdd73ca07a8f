package http

import (
	"net/http"
	"time"

	"github.com/hebaopay/hebao"
)

// cardJSON is a bound card as its holder sees it: never the full number.
type cardJSON struct {
	ID       string    `json:"id"`
	BankCode string    `json:"bank_code"`
	BankName string    `json:"bank_name"`
	Masked   string    `json:"masked_number"`
	Last4    string    `json:"last4"`
	BoundAt  time.Time `json:"bound_at"`
}

func cardOut(c hebao.Card) cardJSON {
	return cardJSON{ID: c.ID, BankCode: c.BankCode, BankName: c.BankName, Masked: c.Masked, Last4: c.Last4, BoundAt: c.CreatedAt.UTC()}
}

// cardList is the answer of GET /v1/cards and PUT /v1/cards/order.
type cardList struct {
	Cards []cardJSON `json:"cards"`
}

func cardsOut(cs []hebao.Card) cardList {
	out := cardList{Cards: []cardJSON{}}
	for _, c := range cs {
		out.Cards = append(out.Cards, cardOut(c))
	}
	return out
}

// bindCard binds a bank card to the caller's wallet: POST /v1/cards {card_number,
// holder_name, otp} → 201 card. A CVV or any other field is refused (400): the card
// number is the only card secret Hebao takes, and it is stored only encrypted.
// Errors: invalid_request, card_number_invalid, card_bank_unknown,
// real_name_required, card_holder_mismatch, otp_invalid, otp_expired, conflict,
// unavailable.
func (s *Server) bindCard(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	var req struct {
		CardNumber string `json:"card_number"`
		HolderName string `json:"holder_name"`
		OTP        string `json:"otp"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.cards == nil {
		return notConfigured("bank cards")
	}
	c, err := s.cards.Bind(r.Context(), hebao.BindCard{CustomerID: sess.CustomerID, Number: req.CardNumber, HolderName: req.HolderName, OTP: req.OTP})
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, cardOut(c))
}

// listCards lists the caller's own cards in the caller's order: GET /v1/cards.
// Errors: unavailable.
func (s *Server) listCards(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	if s.cards == nil {
		return notConfigured("bank cards")
	}
	cs, err := s.cards.List(r.Context(), sess.CustomerID)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, cardsOut(cs))
}

// removeCard unbinds one of the caller's cards: DELETE /v1/cards/{id} → 204. Another
// customer's card and a malformed id are both 404, never 403.
// Errors: not_found, unavailable.
func (s *Server) removeCard(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	if s.cards == nil {
		return notConfigured("bank cards")
	}
	if err := s.cards.Remove(r.Context(), sess.CustomerID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// orderCards sets the order of the caller's cards: PUT /v1/cards/order {card_ids}
// → 200 the cards in their new order. card_ids must name each card exactly once.
// Errors: invalid_request, unavailable.
func (s *Server) orderCards(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	var req struct {
		CardIDs []string `json:"card_ids"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.cards == nil {
		return notConfigured("bank cards")
	}
	cs, err := s.cards.Reorder(r.Context(), sess.CustomerID, req.CardIDs)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, cardsOut(cs))
}
