package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hebaopay/hebao"
)

const staffUsage = `Usage:

	hebao staff add --username NAME --role agent|admin [store flags]

Creates a staff account. The password is read from standard input, one line of at
least 12 characters, so that it never appears in the shell history or the process list:

	hebao staff add --username alice --role admin < password.txt
`

// staff runs `hebao staff add`.
func (m *Main) staff(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(m.Stdout, staffUsage)
			return nil
		}
		fmt.Fprint(m.Stderr, staffUsage)
		return usageError{"staff: the only subcommand is add"}
	}
	var (
		f        storeFlags
		username string
		role     string
	)
	flags := flag.NewFlagSet("staff add", flag.ContinueOnError)
	f.register(flags, m.Getenv)
	flags.StringVar(&username, "username", "", "the new account's username")
	flags.StringVar(&role, "role", "", "agent or admin")
	if help, err := m.parse(flags, args[1:]); help || err != nil {
		return err
	}
	if username == "" || role == "" {
		return usageError{"staff add: --username and --role are required"}
	}
	if err := hebao.ValidateUsername(username); err != nil {
		return fmt.Errorf("staff add: %s", hebao.ErrorOf(err).Message)
	}
	if !hebao.StaffRole(role).Valid() {
		return usageError{fmt.Sprintf("staff add: --role must be agent or admin, not %q", role)}
	}
	pw, err := readPasswordLine(m.Stdin)
	if err != nil {
		return fmt.Errorf("staff add: %w", err)
	}
	if err := hebao.ValidateStaffPassword(pw); err != nil {
		return fmt.Errorf("staff add: %s", hebao.ErrorOf(err).Message)
	}
	db, _, err := m.openStore(ctx, f, true, nil, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := &hebao.StaffService{Store: db}
	st, err := svc.Add(ctx, hebao.Actor{Kind: hebao.ActorSystem, ID: "hebao staff add"}, username, pw, hebao.StaffRole(role))
	if err != nil {
		return fmt.Errorf("staff add: %s", hebao.ErrorOf(err).Message)
	}
	fmt.Fprintf(m.Stdout, "staff account %s (%s) created, id %s\n", st.Username, st.Role, st.ID)
	return nil
}

// readPasswordLine reads one line from r, without its line ending.
func readPasswordLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("no password on standard input: give it as one line")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// devCredential is one seeded account in dev.json.
type devCredential struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// devFile is <data-dir>/dev.json: every credential --dev seeded (SPEC §13).
type devFile struct {
	Admin    *devCredential `json:"admin,omitempty"`
	Agent    *devCredential `json:"agent,omitempty"`
	Merchant *devMerchant   `json:"merchant,omitempty"`
	Campaign *devCampaign   `json:"campaign,omitempty"`
}

// devCampaign is the seeded opening-gift campaign in dev.json.
type devCampaign struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// devMerchant is the seeded demo merchant in dev.json.
type devMerchant struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	APIKey        string `json:"api_key"`
	WebhookSecret string `json:"webhook_secret"`
}

// devSeeder is the database as seedDev needs it: *sqldb.DB.
type devSeeder interface {
	hebao.Store
	WhileSeeding(ctx context.Context, fn func() error) error
}

// devSeedAD binds the sealed seed to its use.
var devSeedAD = []byte("dev_seed")

// seedDev makes sure there is an admin and an agent for development mode, each with
// a random password, the demo merchant and the demo campaign, and writes their
// credentials to <dir>/dev.json (mode 0600). What it seeded is kept in the database
// too, and it seeds while no other process sharing the database does: a second
// development server on the same database (starting at the same time or later, with
// its own data directory or the same one) finds the first one's seed and writes the
// same dev.json, rather than seeding again. An account that exists already is left
// alone, and its entry kept. It returns the file's path.
// The seed in the database holds passwords and keys, so it is sealed with the card
// keyring, which the servers sharing a database share.
func seedDev(ctx context.Context, db devSeeder, keys *hebao.Keyring, staff *hebao.StaffService, merchants *hebao.MerchantService, campaigns *hebao.CampaignService, dir string) (string, error) {
	var path string
	err := db.WhileSeeding(ctx, func() (err error) {
		path, err = seedDevLocked(ctx, db, keys, staff, merchants, campaigns, dir)
		return err
	})
	return path, err
}

func seedDevLocked(ctx context.Context, db hebao.Store, keys *hebao.Keyring, staff *hebao.StaffService, merchants *hebao.MerchantService, campaigns *hebao.CampaignService, dir string) (string, error) {
	path := filepath.Join(dir, "dev.json")
	var file devFile
	var stored []byte
	err := db.View(ctx, func(tx hebao.Tx) error {
		sealed, err := tx.DevSeed(ctx)
		if err != nil {
			return err
		}
		if stored, err = keys.Open(string(sealed), devSeedAD); err != nil {
			return fmt.Errorf("the database's cannot be opened with this server's card keys (start it with the first server's --card-key-file): %w", err)
		}
		return nil
	})
	switch {
	case err == nil:
		// Another server (or this one, earlier) seeded this database: its
		// credentials are the ones that work.
		if err := json.Unmarshal(stored, &file); err != nil {
			return "", fmt.Errorf("dev seed: the database's is not valid: %w", err)
		}
	case hebao.ErrorCode(err) != hebao.CodeNotFound:
		return "", fmt.Errorf("dev seed: %w", err)
	default:
		// A database seeded before the seed was kept in it has only this file.
		switch b, err := os.ReadFile(path); {
		case err == nil:
			if err := json.Unmarshal(b, &file); err != nil {
				return "", fmt.Errorf("dev seed: %s is not valid: %w", path, err)
			}
		case !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("dev seed: %w", err)
		}
	}
	by := hebao.Actor{Kind: hebao.ActorSystem, ID: "hebao serve --dev"}
	for _, s := range []struct {
		role  hebao.StaffRole
		entry **devCredential
	}{{hebao.RoleAdmin, &file.Admin}, {hebao.RoleAgent, &file.Agent}} {
		username := string(s.role)
		pw := randomPassword()
		_, err := staff.Add(ctx, by, username, pw, s.role)
		switch {
		case err == nil:
			*s.entry = &devCredential{Username: username, Password: pw}
		case hebao.ErrorCode(err) != hebao.CodeConflict:
			return "", fmt.Errorf("dev seed: %w", err)
		}
	}
	// The demo merchant: made once, and again only if the database lost it.
	if file.Merchant == nil || !merchantExists(ctx, merchants, file.Merchant.APIKey) {
		nm, err := merchants.Create(ctx, by, "Hebao Demo Shop")
		if err != nil {
			return "", fmt.Errorf("dev seed: %w", err)
		}
		file.Merchant = &devMerchant{ID: nm.Merchant.ID, Name: nm.Merchant.Name, APIKey: nm.APIKey, WebhookSecret: nm.WebhookSecret}
	}
	// The demo opening gift: a ¥8.88 red packet and two coupons (¥5 off ¥30, 10% off up
	// to ¥10) for each new wallet, for a year, from a ¥10,000 budget; made once. It also
	// gives ¥1 for every 100 points, and a ¥3-off coupon for 200 points (twice each).
	if file.Campaign == nil {
		now := time.Now().UTC()
		c, err := campaigns.Create(ctx, by, hebao.CampaignRequest{Name: "开通礼 Opening gift (demo)", StartsAt: now.Add(-time.Minute),
			EndsAt: now.Add(365 * 24 * time.Hour), Budget: 1_000_000, Rules: hebao.CampaignRules{OpeningRedPacket: 888,
				OpeningCoupons: []hebao.CouponTemplate{
					{Kind: hebao.CouponThreshold, Off: 500, Threshold: 3_000, ValidDays: 30},
					{Kind: hebao.CouponPercent, Percent: 10, Cap: 1_000, ValidDays: 30},
				},
				PointsCash: &hebao.PointsCashRate{Points: 100, Fen: 100},
				PointsCoupons: []hebao.PointsCouponOffer{{Points: 200, PerCustomer: 2,
					Coupon: hebao.CouponTemplate{Kind: hebao.CouponFixed, Off: 300, ValidDays: 30}}},
			}})
		if err != nil {
			return "", fmt.Errorf("dev seed: %w", err)
		}
		file.Campaign = &devCampaign{ID: c.ID, Name: c.Name}
	}
	b, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		return "", err
	}
	if !bytes.Equal(b, stored) {
		sealed, err := keys.Seal(b, devSeedAD)
		if err != nil {
			return "", fmt.Errorf("dev seed: %w", err)
		}
		if err := db.Transact(ctx, func(tx hebao.Tx) error { return tx.SaveDevSeed(ctx, []byte(sealed)) }); err != nil {
			return "", fmt.Errorf("dev seed: %w", err)
		}
	}
	if err := writePrivate(path, append(b, '\n')); err != nil {
		return "", fmt.Errorf("dev seed: %w", err)
	}
	return path, nil
}

func merchantExists(ctx context.Context, merchants *hebao.MerchantService, apiKey string) bool {
	_, err := merchants.Authenticate(ctx, apiKey)
	return err == nil
}

// randomPassword returns 144 random bits as 24 characters of base64url.
func randomPassword() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// writePrivate replaces the file at path with b, readable by its owner only, whole
// or not at all.
func writePrivate(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".dev-*.tmp") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
