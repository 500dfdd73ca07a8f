package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hebaopay/hebao"
)

// keySize is the size of every secret key: 256 bits.
const keySize = 32

// keys are the secrets that must live outside the database, so that a stolen
// database can neither be rewritten undetected nor brute-forced.
type keys struct {
	// Ledger is the HMAC key of the ledger's chain-head checkpoints.
	Ledger []byte
}

// otpKeyLabel separates the OTP key from every other use of the ledger key; the
// ledger's own checkpoints MAC messages that start "hebao.checkpoint.v1".
const otpKeyLabel = "hebao otp key v1"

// otpKey derives the key SMS codes are stored under (as HMAC-SHA-256) from the
// ledger key: HMAC-SHA-256(ledger key, "hebao otp key v1"). Deriving it keeps the
// key file at one secret, held outside the database like the ledger's; the label
// makes it a key of its own, which reveals nothing about the ledger key.
func otpKey(ledger []byte) []byte {
	m := hmac.New(sha256.New, ledger)
	m.Write([]byte(otpKeyLabel))
	return m.Sum(nil)
}

// keyFile is the JSON form of a key file. []byte fields are base64.
type keyFile struct {
	LedgerKey []byte `json:"ledger_key"`
}

// loadKeys reads the key file at path. If it does not exist and create is true, a
// new one with fresh random keys is written first, readable by its owner only. verify
// passes create=false: a new key could never match an existing ledger.
func loadKeys(path string, create bool) (*keys, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if !create {
			return nil, fmt.Errorf("key file %s does not exist: give the file the ledger was created with (--key-file)", path)
		}
		if err := createKeyFile(path); err != nil {
			return nil, err
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}

	var kf keyFile
	if err := json.Unmarshal(b, &kf); err != nil {
		return nil, fmt.Errorf("key file %s is not valid: %w", path, err)
	}
	if len(kf.LedgerKey) != keySize {
		return nil, fmt.Errorf("key file %s: ledger_key must be %d bytes in base64, is %d bytes", path, keySize, len(kf.LedgerKey))
	}
	return &keys{Ledger: kf.LedgerKey}, nil
}

// createKeyFile writes a key file with new random keys at path. It never replaces a
// file: two processes starting at once on a new data dir end up with the same keys,
// the first one's.
func createKeyFile(path string) error {
	kf := keyFile{LedgerKey: make([]byte, keySize)}
	rand.Read(kf.LedgerKey)
	b, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return err
	}
	return writeNewSecretFile(path, b)
}

// writeNewSecretFile writes b and a newline to path, readable by its owner only,
// unless path exists already, which it leaves as it is.
func writeNewSecretFile(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	// Write a temporary file whole, then link it into place: the key file is either
	// absent or complete, and an existing one is never overwritten.
	tmp, err := os.CreateTemp(dir, ".keys-*.tmp") // mode 0600
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create key file: %w", err)
	}
	return syncDir(dir)
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// keyFileWarning says what is wrong with the key file's permissions, or "".
func keyFileWarning(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Sprintf("warning: key file %s can be read by other users (mode %04o); run chmod 600 on it", path, fi.Mode().Perm())
	}
	return ""
}

// devCardKeyFile is the name of the development card keyring in the data dir.
const devCardKeyFile = "card-keys.json"

// cardKeyFlagHelp is the help text of --card-key-file.
const cardKeyFlagHelp = "the keyring that encrypts card and ID numbers (JSON: current, keys, lookup_key); required without --dev"

// loadCardKeyring reads the keyring that seals card numbers, ID numbers and real
// names and keys their lookups (SPEC §6), from path. Without a path, development
// mode uses <data-dir>/card-keys.json, generating it the first time; anything else
// is refused, so a production server never runs on a key it made up itself. It
// returns the keyring and the file it came from.
func loadCardKeyring(path string, dev bool, dataDir string) (*hebao.Keyring, string, error) {
	if path == "" {
		if !dev {
			return nil, "", errors.New("serve needs the card keyring, which encrypts card and ID numbers: " +
				"give its file with --card-key-file or HEBAO_CARD_KEY_FILE " +
				`(JSON {"current": "k1", "keys": {"k1": "<32 bytes, base64>"}, "lookup_key": "<32 bytes, base64>"}, mode 0600), ` +
				"or use --dev for a development key generated into the data dir")
		}
		path = filepath.Join(dataDir, devCardKeyFile)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			b, err := hebao.GenerateKeyring()
			if err != nil {
				return nil, "", err
			}
			if err := writeNewSecretFile(path, b); err != nil {
				return nil, "", fmt.Errorf("create the development card keyring: %w", err)
			}
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("read the card keyring (--card-key-file): %w", err)
	}
	k, err := hebao.ParseKeyring(b)
	if err != nil {
		return nil, "", fmt.Errorf("card keyring %s: %w", path, err)
	}
	return k, path, nil
}
