package hebao

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Keyring holds the keys that protect the secrets Hebao stores (SPEC §4): AES-256-GCM
// keys that seal full card numbers and ID numbers, each known by a key id written
// beside every ciphertext so keys can rotate, and a separate HMAC key for lookups by
// value without the plaintext. It comes from configuration or a key file, never from
// the database. Make one with NewKeyring or ParseKeyring; it is safe for concurrent
// use.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
	lookup  []byte
}

// sealVersion starts every sealed value, so that the format can change later.
const sealVersion = "v1"

// The lengths Keyring requires.
const (
	sealKeyBytes      = 32 // AES-256
	lookupKeyMinBytes = 32
	keyIDMaxLen       = 32
)

// The purposes of Lookup: each kind of value gets its own, so that equal strings of
// different kinds never share a lookup hash.
const (
	LookupCardNumber = "card_number"
	LookupIDNumber   = "id_number"
)

// sealedB64 is strict, so that one ciphertext has exactly one text form.
var sealedB64 = base64.RawURLEncoding.Strict()

// NewKeyring returns a keyring that seals with keys[current] and opens with any key of
// keys. Key ids are 1 to 32 letters, digits, '-' or '_'; each key is 32 bytes and no
// two are equal; lookupKey is at least 32 bytes and none of the sealing keys. The
// keyring keeps its own copies. Its errors, like ParseKeyring's, are plain errors for
// the operator starting the server, not *Error, and never contain key material.
func NewKeyring(current string, keys map[string][]byte, lookupKey []byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("hebao: keyring: no keys")
	}
	if _, ok := keys[current]; !ok {
		return nil, fmt.Errorf("hebao: keyring: the current key %q is not among the keys", current)
	}
	if len(lookupKey) < lookupKeyMinBytes {
		return nil, fmt.Errorf("hebao: keyring: the lookup key must be at least %d bytes", lookupKeyMinBytes)
	}
	k := &Keyring{current: current, aeads: make(map[string]cipher.AEAD, len(keys)), lookup: bytes.Clone(lookupKey)}
	var seen [][]byte
	for id, key := range keys {
		if !validKeyID(id) {
			return nil, fmt.Errorf("hebao: keyring: key id %q: use 1 to %d letters, digits, '-' or '_'", id, keyIDMaxLen)
		}
		if len(key) != sealKeyBytes {
			return nil, fmt.Errorf("hebao: keyring: key %q must be %d bytes, not %d", id, sealKeyBytes, len(key))
		}
		if hmac.Equal(key, lookupKey) || slices.ContainsFunc(seen, func(b []byte) bool { return hmac.Equal(b, key) }) {
			return nil, fmt.Errorf("hebao: keyring: key %q is used twice; every key must be different", id)
		}
		seen = append(seen, key)
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("hebao: keyring: key %q: %w", id, err)
		}
		if k.aeads[id], err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("hebao: keyring: key %q: %w", id, err)
		}
	}
	return k, nil
}

func validKeyID(id string) bool {
	if id == "" || len(id) > keyIDMaxLen {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// keyringFile is the JSON form of a keyring:
//
//	{"current": "k2", "keys": {"k1": "<base64>", "k2": "<base64>"}, "lookup_key": "<base64>"}
//
// with keys in standard, padded base64.
type keyringFile struct {
	Current   string            `json:"current"`
	Keys      map[string]string `json:"keys"`
	LookupKey string            `json:"lookup_key"`
}

// ParseKeyring reads a keyring from its JSON form (see GenerateKeyring) and validates
// it as NewKeyring does. Unknown fields and trailing data are refused, so that a typo
// in a key file is not silently ignored. Errors never contain key material.
func ParseKeyring(data []byte) (*Keyring, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f keyringFile
	if err := dec.Decode(&f); err != nil {
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return nil, fmt.Errorf("hebao: keyring: unknown field %s", field)
		}
		// The decoder's own message may quote the input, which holds the keys.
		return nil, errors.New(`hebao: keyring: not the JSON form {"current": …, "keys": {…}, "lookup_key": …}`)
	}
	if dec.More() {
		return nil, errors.New("hebao: keyring: trailing data after the JSON object")
	}
	keys := make(map[string][]byte, len(f.Keys))
	for id, s := range f.Keys {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("hebao: keyring: key %q is not standard base64", id)
		}
		keys[id] = b
	}
	lookup, err := base64.StdEncoding.DecodeString(f.LookupKey)
	if err != nil {
		return nil, errors.New("hebao: keyring: the lookup key is not standard base64")
	}
	return NewKeyring(f.Current, keys, lookup)
}

// GenerateKeyring returns the JSON form of a new keyring with one random sealing key,
// "k1", and a random 32-byte lookup key: what a development setup writes to its data
// directory, or an operator into a key file.
func GenerateKeyring() ([]byte, error) {
	key, lookup := make([]byte, sealKeyBytes), make([]byte, lookupKeyMinBytes)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("hebao: generate keyring: %w", err)
	}
	if _, err := rand.Read(lookup); err != nil {
		return nil, fmt.Errorf("hebao: generate keyring: %w", err)
	}
	f := keyringFile{
		Current:   "k1",
		Keys:      map[string]string{"k1": base64.StdEncoding.EncodeToString(key)},
		LookupKey: base64.StdEncoding.EncodeToString(lookup),
	}
	return json.MarshalIndent(f, "", "  ")
}

// Current returns the id of the key that Seal uses.
func (k *Keyring) Current() string { return k.current }

// String names the keyring's key ids, never a key, so that printing a Keyring is safe.
// (A value receiver, so that printing a copy is safe too.)
func (k Keyring) String() string {
	ids := make([]string, 0, len(k.aeads))
	for id := range k.aeads {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return fmt.Sprintf("Keyring(current %s; keys %s)", k.current, strings.Join(ids, ", "))
}

// GoString is String, for %#v.
func (k Keyring) GoString() string { return k.String() }

// Seal encrypts plaintext with the current key and returns
// "v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>". additionalData is authenticated
// but not stored: bind each ciphertext to where it lives (say "card:<card id>"), and
// Open must be given the same, so a ciphertext copied to another row does not open.
// The nonce is 12 random bytes; a key should seal far fewer than 2^32 values, which
// rotation keeps true.
func (k *Keyring) Seal(plaintext, additionalData []byte) (string, error) {
	aead := k.aeads[k.current]
	buf := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("hebao: seal: %w", err)
	}
	buf = aead.Seal(buf, buf, plaintext, sealAD(k.current, additionalData))
	return sealVersion + "." + k.current + "." + sealedB64.EncodeToString(buf), nil
}

// Open decrypts a value made by Seal with any key of the keyring, given the same
// additionalData. It fails when the key id is unknown, the text is not one Seal makes,
// or any byte of it, the additional data or the key differ. Its errors are plain
// errors: a value that does not open is a fault (an internal error), never the
// caller's.
func (k *Keyring) Open(sealed string, additionalData []byte) ([]byte, error) {
	id, body, ok := splitSealed(sealed)
	if !ok {
		return nil, errors.New("hebao: open: not a sealed value")
	}
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("hebao: open: unknown key id %q", id)
	}
	buf, err := sealedB64.DecodeString(body)
	if err != nil || len(buf) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("hebao: open: not a sealed value")
	}
	n := aead.NonceSize()
	pt, err := aead.Open(nil, buf[:n], buf[n:], sealAD(id, additionalData))
	if err != nil {
		return nil, fmt.Errorf("hebao: open: under key %q: authentication failed", id)
	}
	return pt, nil
}

// Stale reports whether sealed was sealed with a key other than the current one (or
// is not a sealed value at all): after a rotation, values to open and seal again.
func (k *Keyring) Stale(sealed string) bool {
	id, _, ok := splitSealed(sealed)
	return !ok || id != k.current
}

// splitSealed splits "v1.<id>.<body>" and checks the body's alphabet, because the
// base64 decoder skips line breaks and a sealed value must have one text form only.
func splitSealed(s string) (id, body string, ok bool) {
	v, rest, ok1 := strings.Cut(s, ".")
	id, body, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || v != sealVersion || !validKeyID(id) || body == "" {
		return "", "", false
	}
	for _, c := range []byte(body) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", "", false
		}
	}
	return id, body, true
}

// sealAD authenticates the format version and key id with the caller's data.
func sealAD(id string, ad []byte) []byte {
	return append([]byte("hebao seal "+sealVersion+"\x00"+id+"\x00"), ad...)
}

// Lookup returns a keyed hash of value for purpose (LookupCardNumber, LookupIDNumber
// or another constant): 64 hex characters of HMAC-SHA-256 under the lookup key. Equal
// values give equal hashes, so a unique index on it finds a card or a person without
// the plaintext, and a stolen database cannot be searched by hashing guesses without
// the key. The lookup key cannot rotate without recomputing every stored hash.
func (k *Keyring) Lookup(purpose, value string) string {
	m := hmac.New(sha256.New, k.lookup)
	m.Write([]byte("hebao lookup v1\x00" + purpose + "\x00" + value))
	return hex.EncodeToString(m.Sum(nil))
}

// DeriveKey returns a 32-byte key for purpose, derived from the lookup key, so that one
// key file can also hold, say, the payment-password key (HashPaymentPassword) and the
// SMS-code key. It is independent of every Lookup hash.
func (k *Keyring) DeriveKey(purpose string) []byte {
	m := hmac.New(sha256.New, k.lookup)
	m.Write([]byte("hebao derive v1\x00" + purpose))
	return m.Sum(nil)
}
