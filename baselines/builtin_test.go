package baselines

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3baseline/s3baseline/settings"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", file, diff)
	}
}

// TestBuiltinsMatchContract is the check that the embedded data says what
// contract.md's tables say: every control, the baselines it is in (and in
// which mode), and its NIST controls.
func TestBuiltinsMatchContract(t *testing.T) {
	const (
		no = ""
		E  = ModeEnforce
		R  = ModeReport
	)
	contract := map[settings.ControlID]struct{ low, medium, high string }{
		settings.BlockPublicAccess:        {no, E, E},
		settings.AccessLogging:            {E, E, E},
		settings.DefaultEncryption:        {E, E, E},
		settings.BlockSSEC:                {no, E, E},
		settings.TLSOnly:                  {no, E, E},
		settings.ObjectOwnership:          {no, E, E},
		settings.EventNotifications:       {no, E, E},
		settings.AdminPolicyLock:          {no, no, E},
		settings.Versioning:               {no, R, E},
		settings.MFADelete:                {no, no, R},
		settings.ObjectLock:               {no, no, R},
		settings.Lifecycle:                {no, R, R},
		settings.ACLGrants:                {R, R, R},
		settings.CrossAccountPolicy:       {no, R, R},
		settings.AccountBlockPublicAccess: {no, no, E},
		settings.CloudTrailDataEvents:     {no, E, E},
		settings.AccessPointBPA:           {no, R, R},
		settings.MRAPBPA:                  {no, R, R},
		settings.IAMMFA:                   {R, R, R},
		settings.Shield:                   {no, no, R},
	}
	nist := map[settings.ControlID][]string{}
	for _, c := range Catalog() {
		nist[c.ID] = c.NIST
	}
	encryption := map[string]string{"low": EncryptSSES3, "medium": EncryptSSEKMS, "high": EncryptCustomerKey}

	// Every control of settings is in the table and in the catalog.
	all := append(append([]settings.ControlID{}, settings.BucketControls...), settings.AccountControls...)
	if len(contract) != len(all) || len(Catalog()) != len(all) {
		t.Fatalf("contract table has %d controls, catalog %d, settings %d", len(contract), len(Catalog()), len(all))
	}

	if diff := cmp.Diff([]string{"low", "medium", "high"}, BuiltinNames()); diff != "" {
		t.Errorf("BuiltinNames() -want +got:\n%s", diff)
	}
	for _, name := range BuiltinNames() {
		b, ok := Builtin(name)
		if !ok {
			t.Fatalf("Builtin(%q) not found", name)
		}
		if b.Name != name || b.Source != SourceBuiltin || b.Description == "" {
			t.Errorf("%s: name %q, source %q, description %q", name, b.Name, b.Source, b.Description)
		}
		if b.Encryption != encryption[name] {
			t.Errorf("%s: encryption %q, want %q", name, b.Encryption, encryption[name])
		}
		for _, id := range all {
			c := contract[id]
			want := map[string]string{"low": c.low, "medium": c.medium, "high": c.high}[name]
			spec, has := b.Spec(id)
			switch {
			case want == no && has:
				t.Errorf("%s has %s, the contract says it should not", name, id)
			case want != no && !has:
				t.Errorf("%s lacks %s", name, id)
			case has:
				if spec.Mode != want {
					t.Errorf("%s: %s mode %q, want %q", name, id, spec.Mode, want)
				}
				if diff := cmp.Diff(nist[id], spec.NIST); diff != "" {
					t.Errorf("%s: %s NIST -want +got:\n%s", name, id, diff)
				}
				if spec.Compliant == "" {
					t.Errorf("%s: %s has no compliant sentence", name, id)
				}
			}
		}
		for _, id := range all {
			if diff := cmp.Diff(nist[id], NIST(id)); diff != "" {
				t.Errorf("NIST(%s) -want +got:\n%s", id, diff)
			}
		}
	}
	if _, ok := Builtin("moderate"); ok {
		t.Error(`Builtin("moderate") found`)
	}
}

// The built-ins are golden so that any change to what they say, including
// a sentence, is a reviewed change; the digests are in there because plans
// record them.
func TestBuiltinsGolden(t *testing.T) {
	var out []byte
	for _, name := range BuiltinNames() {
		b, _ := Builtin(name)
		data, err := json.MarshalIndent(b, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, "# "+name+" "+b.Digest()+"\n"...)
		out = append(out, data...)
		out = append(out, '\n')
	}
	golden(t, "builtins.golden", out)
}

func TestBuiltinIsACopy(t *testing.T) {
	b, _ := Builtin("high")
	b.Controls[0].NIST[0] = "XX-1"
	b.Controls = b.Controls[:1]
	b.Name = "changed"
	again, _ := Builtin("high")
	if again.Name != "high" || len(again.Controls) != 20 || again.Controls[0].NIST[0] != "AC-21" {
		t.Errorf("changing a returned baseline changed the built-in: %+v", again)
	}
}

func TestDigest(t *testing.T) {
	hexDigest := regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	seen := map[string]string{}
	for _, name := range BuiltinNames() {
		b, _ := Builtin(name)
		d := b.Digest()
		if !hexDigest.MatchString(d) {
			t.Errorf("%s: digest %q", name, d)
		}
		if again, _ := Builtin(name); again.Digest() != d {
			t.Errorf("%s: digest not stable", name)
		}
		if other, dup := seen[d]; dup {
			t.Errorf("%s and %s have the same digest", name, other)
		}
		seen[d] = name
	}

	high, _ := Builtin("high")
	cases := map[string]struct {
		reason string
		change func(b *Baseline)
		same   bool
	}{
		"source": {
			reason: "the same content read from elsewhere is the same baseline",
			change: func(b *Baseline) { b.Source = "/elsewhere/high.yaml" },
			same:   true,
		},
		"order": {
			reason: "control order is canonicalised",
			change: func(b *Baseline) {
				b.Controls[0], b.Controls[1] = b.Controls[1], b.Controls[0]
			},
			same: true,
		},
		"mode": {
			reason: "a mode change is a different baseline",
			change: func(b *Baseline) { b.Controls[0].Mode = ModeReport },
		},
		"encryption": {
			reason: "an encryption level change is a different baseline",
			change: func(b *Baseline) { b.Encryption = EncryptSSEKMS },
		},
		"description": {
			reason: "the description is content",
			change: func(b *Baseline) { b.Description += "." },
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := high.Clone()
			tc.change(b)
			if got := b.Digest() == high.Digest(); got != tc.same {
				t.Errorf("%s: same digest = %v, want %v", tc.reason, got, tc.same)
			}
		})
	}
	var none *Baseline
	if none.Digest() != "" {
		t.Error("nil baseline has a digest")
	}
}

func TestBaselineMethods(t *testing.T) {
	low, _ := Builtin("low")
	high, _ := Builtin("high")
	var none *Baseline
	cases := map[string]struct {
		b                   *Baseline
		id                  settings.ControlID
		has, enforced, open bool
	}{
		"low lacks bpa":         {b: low, id: settings.BlockPublicAccess, open: true},
		"high enforces bpa":     {b: high, id: settings.BlockPublicAccess, has: true, enforced: true},
		"low reports mfa":       {b: low, id: settings.IAMMFA, has: true, open: true},
		"high reports shield":   {b: high, id: settings.Shield, has: true},
		"nil baseline has none": {b: none, id: settings.TLSOnly, open: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.b.Has(tc.id); got != tc.has {
				t.Errorf("Has(%s) = %v, want %v", tc.id, got, tc.has)
			}
			if got := tc.b.Enforced(tc.id); got != tc.enforced {
				t.Errorf("Enforced(%s) = %v, want %v", tc.id, got, tc.enforced)
			}
			if got := tc.b.AllowsPublicAccess(); got != tc.open {
				t.Errorf("AllowsPublicAccess() = %v, want %v", got, tc.open)
			}
		})
	}
	if !strings.Contains(high.Controls[2].Compliant, "customer-managed key") {
		t.Errorf("high's default_encryption sentence is not the customer-key one: %q", high.Controls[2].Compliant)
	}
}
