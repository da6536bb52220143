package main

// Trustworthy runs, through the CLI against the emulator: forged plans are
// refused before the first write, signatures are checked with the key the
// operator names.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/settings"
)

// HMAC keys of the trust scenario: the operator's, and one a forger holds
// (same account: a forger with kms:GenerateMac on a key of their own).
const (
	signKey   = "alias/plan-signing"
	forgerKey = "alias/forger"
)

// startTrustEmulator is the e2e scenario with two HMAC keys added.
func startTrustEmulator(t *testing.T) *emulator.Server {
	t.Helper()
	return startScenario(t, func(sc *emulator.Scenario) {
		for i, alias := range []string{signKey, forgerKey} {
			sc.KMSKeys = append(sc.KMSKeys, emulator.KMSKey{
				Region: "us-east-1", ID: []string{"0b5e7a2c-9f3d-4e61-8a7b-2c4d6e8f0a11", "7d1c3b5a-2e4f-4a6b-9c8d-0e1f2a3b4c5d"}[i],
				Aliases: []string{alias}, KeySpec: "HMAC_256",
			})
		}
	})
}

// rewrite edits a saved plan and recomputes its checksum, as a forger
// would; the signature, if any, is left as it was.
func rewrite(t *testing.T, path string, edit func(p *plan.Plan) bool) bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p plan.Plan
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	if !edit(&p) {
		return false
	}
	if p.Checksum, err = plan.Checksum(&p); err != nil {
		t.Fatal(err)
	}
	data, err = json.MarshalIndent(&p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return true
}

// editChange applies fn to the first change of control id that does
// something.
func editChange(p *plan.Plan, id settings.ControlID, fn func(b *plan.BucketPlan, c *plan.Change)) bool {
	for i := range p.Buckets {
		for j := range p.Buckets[i].Changes {
			if c := &p.Buckets[i].Changes[j]; c.Control == id && c.Action != plan.NoOp {
				fn(&p.Buckets[i], c)
				return true
			}
		}
	}
	return false
}

func TestForgedPlansRefused(t *testing.T) {
	cases := map[string]struct {
		reason string
		// sign signs the plan with signKey.
		sign bool
		edit func(p *plan.Plan) bool
		// editBytes changes the file's bytes instead (after signing).
		editBytes func(data []byte) []byte
		flags     []string
		// want is in the one-line error.
		want string
	}{
		"AfterNotTheTools": {
			reason: "an after the tool would not plan (encryption with a foreign key) is refused naming bucket and control",
			edit: func(p *plan.Plan) bool {
				return editChange(p, settings.DefaultEncryption, func(_ *plan.BucketPlan, c *plan.Change) {
					c.After = json.RawMessage(`{"algorithm":"aws:kms","kms_key_id":"arn:aws:kms:us-east-1:999999999999:key/attacker","bucket_key_enabled":true}`)
				})
			},
			want: "encryption",
		},
		"ForeignStatementUnderOwnedSid": {
			reason: "a public Allow under the tool's Sid is refused",
			edit: func(p *plan.Plan) bool {
				return editChange(p, settings.TLSOnly, func(_ *plan.BucketPlan, c *plan.Change) {
					c.After = json.RawMessage(`{"Sid":"S3BaselineDenyInsecureTransport","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}`)
				})
			},
			want: "not the tool's statement",
		},
		"BPAFlagsOff": {
			reason: "Block Public Access turned off in the after is refused",
			edit: func(p *plan.Plan) bool {
				return editChange(p, settings.BlockPublicAccess, func(_ *plan.BucketPlan, c *plan.Change) {
					c.After = json.RawMessage(`{"block_public_acls":false,"ignore_public_acls":false,"block_public_policy":false,"restrict_public_buckets":false}`)
				})
			},
			want: "Block Public Access flag off",
		},
		"BucketAdded": {
			reason: "a bucket listed twice (a second copy with other changes) is refused",
			edit: func(p *plan.Plan) bool {
				p.Buckets = append(p.Buckets, p.Buckets[0])
				p.Summary = plan.Summarize(p)
				return true
			},
			want: "listed twice",
		},
		"SignedByteChanged": {
			reason: "a signed plan with one byte changed and its checksum recomputed does not verify",
			sign:   true,
			edit: func(p *plan.Plan) bool {
				p.ToolVersion += "x"
				return true
			},
			flags: []string{"--sign-key", signKey},
			want:  "signature does not verify with key " + signKey,
		},
		"SignedByForger": {
			reason: "a plan re-signed with the forger's own key does not verify with the operator's",
			editBytes: func([]byte) []byte {
				return nil // replaced below: signed with forgerKey
			},
			flags: []string{"--sign-key", signKey},
			want:  "signature does not verify with key " + signKey,
		},
		"SignedByteFlippedNoChecksum": {
			reason: "a signed plan with one byte changed and the checksum left is refused by the checksum",
			sign:   true,
			editBytes: func(data []byte) []byte {
				return []byte(strings.Replace(string(data), `"tool_version":"`, `"tool_version":"x`, 1))
			},
			flags: []string{"--sign-key", signKey},
			want:  "checksum mismatch",
		},
		"UnsignedRequired": {
			reason: "an unsigned plan under --require-signature is refused",
			flags:  []string{"--sign-key", signKey, "--require-signature"},
			want:   "the plan is not signed, and --require-signature is given",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := startTrustEmulator(t)
			var extra []string
			if tc.sign {
				extra = []string{"--sign-key", signKey}
			}
			if name == "SignedByForger" {
				extra = []string{"--sign-key", forgerKey}
			}
			path := savePlan(t, srv, filepath.Join(repoTestdata, "e2e.yaml"), extra...)
			if tc.edit != nil && !rewrite(t, path, tc.edit) {
				t.Fatalf("%s: the e2e scenario has no change to edit", tc.reason)
			}
			if tc.editBytes != nil && name != "SignedByForger" {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				edited := tc.editBytes(data)
				if bytes.Equal(edited, data) {
					t.Fatalf("%s: the edit changed nothing", name)
				}
				if err := os.WriteFile(path, edited, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			for _, cmd := range [][]string{
				append([]string{"show", path, "--endpoint-url", srv.URL()}, tc.flags...),
				append([]string{"apply", path, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", filepath.Join(t.TempDir(), "j.jsonl")}, tc.flags...),
			} {
				srv.ResetCalls()
				r := runCLI(t, cmd...)
				if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
					t.Errorf("%s\n%s exited %d, want 1 with %q\nstderr: %s", tc.reason, cmd[0], r.code, tc.want, r.stderr)
				}
				if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n != 0 {
					t.Errorf("%s: %s printed %d lines on stderr, want one:\n%s", name, cmd[0], n+1, r.stderr)
				}
				if w := srv.WriteCalls(); len(w) != 0 {
					t.Errorf("%s: %s made %d writes: %+v", tc.reason, cmd[0], len(w), w)
				}
			}
		})
	}
}

// TestSignedPlanApplies: a plan signed in one run is verified and applied
// in another with nothing but the key's name shared.
func TestSignedPlanApplies(t *testing.T) {
	srv := startTrustEmulator(t)
	path := savePlan(t, srv, filepath.Join(repoTestdata, "e2e.yaml"), "--sign-key", signKey)
	p, err := plan.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Signature == nil || p.Signature.KeyID != signKey || p.Signature.MAC == "" {
		t.Fatalf("signature = %+v", p.Signature)
	}
	r := runCLI(t, "show", path, "--endpoint-url", srv.URL(), "--sign-key", signKey, "--require-signature")
	if r.code != 0 || !strings.Contains(r.stderr, "Signature verified with key "+signKey) {
		t.Fatalf("show exited %d: %s", r.code, r.stderr)
	}
	r = runCLI(t, "apply", path, "--endpoint-url", srv.URL(), "--auto-approve", "--sign-key", signKey, "--require-signature",
		"--journal", filepath.Join(t.TempDir(), "j.jsonl"))
	// Exit 1 is the e2e scenario's held-back changes, said per bucket.
	if r.code > 1 || !strings.Contains(r.stderr, "Signature verified with key "+signKey) || strings.Contains(r.stderr, "signature does not") {
		t.Fatalf("apply exited %d: %s", r.code, r.stderr)
	}
	if len(srv.WriteCalls()) == 0 {
		t.Error("the signed plan was verified but nothing was applied")
	}
	// Unsigned checks are told, not silent.
	r = runCLI(t, "show", path)
	if r.code != 0 || !strings.Contains(r.stderr, "the signature was not checked") {
		t.Errorf("show without --sign-key exited %d: %s", r.code, r.stderr)
	}
	if r := runCLI(t, "plan", "--config", filepath.Join(repoTestdata, "e2e.yaml"), "--endpoint-url", srv.URL(), "--sign-key", signKey); r.code != 1 || !strings.Contains(r.stderr, "give --out FILE too") {
		t.Errorf("plan --sign-key without --out exited %d: %s", r.code, r.stderr)
	}
}

// rechain rewrites a journal file as a forger who can edit it but holds no
// key would: edit each record, then recompute every prev so the chain
// holds again.
func rechain(t *testing.T, path string, edit func(i int, r *apply.Record)) {
	t.Helper()
	recs, err := apply.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	prev := ""
	for i := range recs {
		r := recs[i]
		edit(i, &r)
		r.Prev = prev
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(line))
		sum := sha256.Sum256(line)
		prev = "sha256:" + hex.EncodeToString(sum[:])
	}
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSignedJournal: apply --sign-key signs every journal record; rollback
// --sign-key refuses a journal rewritten without the key, chain and all.
func TestSignedJournal(t *testing.T) {
	srv := startTrustEmulator(t)
	planFile := savePlan(t, srv, filepath.Join(repoTestdata, "e2e.yaml"), "--sign-key", signKey)
	dir := t.TempDir()
	journal := filepath.Join(dir, "j.jsonl")
	if r := runCLI(t, "apply", planFile, "--endpoint-url", srv.URL(), "--auto-approve", "--sign-key", signKey, "--journal", journal); r.code > 1 {
		t.Fatalf("apply exited %d: %s", r.code, r.stderr)
	}
	recs, err := apply.ReadJournal(journal)
	if err != nil || len(recs) == 0 {
		t.Fatalf("journal: %d records, %v", len(recs), err)
	}
	for _, r := range recs {
		if r.MAC == "" {
			t.Fatalf("record %d is not signed", r.Seq)
		}
	}
	original, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		reason string
		forge  func(path string)
		flags  []string
		want   string
	}{
		"RewrittenWithChain": {
			reason: "a before edited and every prev recomputed: the chain holds, the last MAC does not",
			forge: func(path string) {
				rechain(t, path, func(i int, r *apply.Record) {
					if i == 0 {
						r.Before = json.RawMessage(`{"forged":true}`)
					}
				})
			},
			flags: []string{"--sign-key", signKey},
			want:  "does not verify with the key given",
		},
		"UnsignedRecordAppended": {
			reason: "a record added at the end without a MAC",
			forge: func(path string) {
				recs, _ := apply.ReadJournal(path)
				rechain(t, path, func(int, *apply.Record) {})
				extra := recs[0]
				extra.Seq, extra.MAC = int64(len(recs)+1), ""
				data, _ := os.ReadFile(path)
				lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
				sum := sha256.Sum256([]byte(lines[len(lines)-1]))
				extra.Prev = "sha256:" + hex.EncodeToString(sum[:])
				line, _ := json.Marshal(extra)
				if err := os.WriteFile(path, append(data, append(line, '\n')...), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			flags: []string{"--sign-key", signKey},
			want:  "is not signed, though earlier records are",
		},
		"MACsStrippedRequired": {
			reason: "every MAC stripped and the chain recomputed, under --require-signature",
			forge: func(path string) {
				rechain(t, path, func(_ int, r *apply.Record) { r.MAC = "" })
			},
			flags: []string{"--sign-key", signKey, "--require-signature"},
			want:  "the journal is not signed, and --require-signature is given",
		},
		"OtherKey": {
			reason: "verified with a key that did not sign it",
			forge:  func(string) {},
			flags:  []string{"--sign-key", forgerKey},
			want:   "does not verify with the key given",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j.jsonl")
			if err := os.WriteFile(path, original, 0o600); err != nil {
				t.Fatal(err)
			}
			tc.forge(path)
			srv.ResetCalls()
			r := runCLI(t, append([]string{"rollback", path, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", path + ".rb"}, tc.flags...)...)
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%s: rollback exited %d, want 1 with %q\nstderr: %s", tc.reason, r.code, tc.want, r.stderr)
			}
			if w := srv.WriteCalls(); len(w) != 0 {
				t.Errorf("%s: rollback made %d writes", tc.reason, len(w))
			}
		})
	}
	// The journal as written rolls back under the key.
	r := runCLI(t, "rollback", journal, "--endpoint-url", srv.URL(), "--auto-approve", "--sign-key", signKey, "--require-signature", "--journal", filepath.Join(dir, "rb.jsonl"))
	if r.code != 0 || !strings.Contains(r.stderr, "Journal signature verified with key "+signKey) {
		t.Fatalf("rollback of the signed journal exited %d: %s", r.code, r.stderr)
	}
}

// TestRollbackRefusesTamperedJournal: a journal with a record edited,
// removed or reordered is refused by rollback through the CLI, before any
// write.
func TestRollbackRefusesTamperedJournal(t *testing.T) {
	srv := startTrustEmulator(t)
	planFile := savePlan(t, srv, filepath.Join(repoTestdata, "e2e.yaml"))
	journal := filepath.Join(t.TempDir(), "j.jsonl")
	if r := runCLI(t, "apply", planFile, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", journal); r.code > 1 {
		t.Fatalf("apply exited %d: %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) < 6 {
		t.Fatalf("the apply journaled %d records", len(lines))
	}
	for name, tamper := range map[string]func(l []string) []string{
		"Edited": func(l []string) []string {
			l[2] = strings.Replace(l[2], `"region":"`, `"region":"x`, 1)
			return l
		},
		"Removed":   func(l []string) []string { return append(l[:2:2], l[3:]...) },
		"Reordered": func(l []string) []string { l[2], l[3] = l[3], l[2]; return l },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j.jsonl")
			tampered := tamper(slices.Clone(lines))
			if err := os.WriteFile(path, []byte(strings.Join(tampered, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			srv.ResetCalls()
			r := runCLI(t, "rollback", path, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", path+".rb")
			if r.code != 1 || !strings.Contains(r.stderr, "record edited, removed or reordered") {
				t.Errorf("rollback exited %d: %s", r.code, r.stderr)
			}
			if w := srv.WriteCalls(); len(w) != 0 {
				t.Errorf("rollback made %d writes", len(w))
			}
		})
	}
}
