package baselines

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3baseline/s3baseline/settings"
)

// writeFile writes content to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// errText is err's message with the temporary directory taken out, so
// expected messages read as the operator would see them from that directory.
func errText(err error, dir string) string {
	if err == nil {
		return ""
	}
	return strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
}

// modes lists a baseline's controls as "id=mode", in order.
func modes(b *Baseline) []string {
	var out []string
	for _, c := range b.Controls {
		out = append(out, string(c.ID)+"="+c.Mode)
	}
	return out
}

func TestLoad(t *testing.T) {
	cases := map[string]struct {
		reason     string
		file       string
		want       []string
		encryption string
	}{
		"extends": {
			reason: "extends starts from the built-in; controls add or change the mode; remove drops",
			file: `
name: pci
description: card data
extends: medium
controls:
  - admin_policy_lock
  - id: event_notifications
    mode: report
remove: [cloudtrail_data_events]
`,
			want: []string{"block_public_access=enforce", "object_ownership=enforce", "default_encryption=enforce",
				"block_sse_c=enforce", "access_logging=enforce", "versioning=report", "tls_only=enforce", "admin_policy_lock=enforce",
				"event_notifications=report", "lifecycle=report", "acl_grants=report", "cross_account_policy=report",
				"access_point_bpa=report", "mrap_bpa=report", "iam_mfa=report"},
			encryption: EncryptSSEKMS,
		},
		"extends with own encryption": {
			reason:     "encryption overrides the inherited level",
			file:       "name: strict-low\nextends: low\nencryption: customer-key\n",
			want:       []string{"default_encryption=enforce", "access_logging=enforce", "acl_grants=report", "iam_mfa=report"},
			encryption: EncryptCustomerKey,
		},
		"standalone": {
			reason:     "without extends the list is the whole baseline, put in plan order; report-only controls default to report",
			file:       "name: minimal\ncontrols: [tls_only, shield, default_encryption]\nencryption: sse-s3\n",
			want:       []string{"default_encryption=enforce", "tls_only=enforce", "shield=report"},
			encryption: EncryptSSES3,
		},
		"no encryption needed": {
			reason: "a baseline without default_encryption needs no level",
			file:   "name: tls\ncontrols: [tls_only]\n",
			want:   []string{"tls_only=enforce"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "b.yaml", tc.file)
			b, err := Load(p)
			if err != nil {
				t.Fatalf("%s: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, modes(b)); diff != "" {
				t.Errorf("%s: controls -want +got:\n%s", tc.reason, diff)
			}
			if b.Encryption != tc.encryption || b.Source != p {
				t.Errorf("%s: encryption %q source %q", tc.reason, b.Encryption, b.Source)
			}
			for _, c := range b.Controls {
				if diff := cmp.Diff(NIST(c.ID), c.NIST); diff != "" || c.Compliant == "" {
					t.Errorf("%s: %s NIST/sentence not from the catalog: %v %q", tc.reason, c.ID, c.NIST, c.Compliant)
				}
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	cases := map[string]struct {
		file string
		want string
	}{
		"malformed": {
			file: "name: pci\ncontrols: [tls_only]\ndescription: a: b\n",
			want: "pci.yaml:3: invalid YAML: mapping values are not allowed in this context",
		},
		"malformed first line": {
			file: "\tname: pci\n",
			want: "pci.yaml:1: invalid YAML: found character that cannot start any token",
		},
		"empty": {
			file: "# nothing\n",
			want: "pci.yaml:1: empty baseline file (want at least name and controls)",
		},
		"not a mapping": {
			file: "- tls_only\n",
			want: "pci.yaml:1: want a mapping, got a list",
		},
		"unknown key": {
			file: "name: pci\ncontrol: [tls_only]\n",
			want: "pci.yaml:2: control: unknown key (want name, description, extends, encryption, cloudtrail_insights, controls or remove)",
		},
		"duplicate key": {
			file: "name: pci\ncontrols: [tls_only]\nname: other\n",
			want: "pci.yaml:3: name: duplicate key (first at line 1)",
		},
		"missing name": {
			file: "controls: [tls_only]\n",
			want: "pci.yaml:1: name: required",
		},
		"built-in name": {
			file: "name: high\ncontrols: [tls_only]\n",
			want: `pci.yaml:1: name: "high" is a built-in baseline; choose another name`,
		},
		"bad name": {
			file: "name: my baseline\ncontrols: [tls_only]\n",
			want: `pci.yaml:1: name: "my baseline" is not a baseline name (letters, digits, '.', '_' and '-', at most 64)`,
		},
		"unknown control": {
			file: "name: pci\ncontrols:\n  - tls_only\n  - event_notification\n",
			want: `pci.yaml:4: controls[1]: unknown control "event_notification"`,
		},
		"unknown control in a mapping": {
			file: "name: pci\ncontrols:\n  - id: tls\n    mode: report\n",
			want: `pci.yaml:3: controls[0].id: unknown control "tls"`,
		},
		"mapping without id": {
			file: "name: pci\ncontrols:\n  - mode: report\n",
			want: `pci.yaml:3: controls[0].id: required`,
		},
		"unknown key in a control": {
			file: "name: pci\ncontrols:\n  - id: tls_only\n    nist: [SC-8]\n",
			want: `pci.yaml:4: controls[0].nist: unknown key (want id or mode)`,
		},
		"bad mode": {
			file: "name: pci\ncontrols:\n  - id: tls_only\n    mode: audit\n",
			want: `pci.yaml:4: controls[0].mode: unknown mode "audit" (want enforce or report)`,
		},
		"enforce a report-only control": {
			file: "name: pci\ncontrols:\n  - id: iam_mfa\n    mode: enforce\n",
			want: `pci.yaml:4: controls[0].mode: iam_mfa is report-only; the tool has nothing to enforce`,
		},
		"duplicate control": {
			file: "name: pci\ncontrols: [tls_only, object_ownership, tls_only]\n",
			want: `pci.yaml:2: controls[2]: duplicate control "tls_only"`,
		},
		"controls not a list": {
			file: "name: pci\ncontrols: tls_only\n",
			want: `pci.yaml:2: controls: want a list, got "tls_only"`,
		},
		"bad encryption": {
			file: "name: pci\nencryption: aes256\ncontrols: [default_encryption]\n",
			want: `pci.yaml:2: encryption: unknown encryption level "aes256" (want sse-s3, sse-kms or customer-key)`,
		},
		"encryption missing": {
			file: "name: pci\ncontrols: [default_encryption]\n",
			want: `pci.yaml:1: encryption: required with default_encryption (want sse-s3, sse-kms or customer-key)`,
		},
		"encryption without the control": {
			file: "name: pci\nencryption: sse-kms\ncontrols: [tls_only]\n",
			want: `pci.yaml:2: encryption: has no effect: default_encryption is not among the controls`,
		},
		"insights without the trail": {
			file: "name: pci\ncloudtrail_insights: true\ncontrols: [tls_only]\n",
			want: `pci.yaml:2: cloudtrail_insights: has no effect: cloudtrail_data_events is not among the controls`,
		},
		"insights not a bool": {
			file: "name: pci\ncloudtrail_insights: sometimes\ncontrols: [cloudtrail_data_events]\n",
			want: `pci.yaml:2: cloudtrail_insights: want true or false, got "sometimes"`,
		},
		"unknown extends": {
			file: "name: pci\nextends: moderate\n",
			want: `pci.yaml:2: extends: unknown built-in baseline "moderate" (want low, medium or high)`,
		},
		"remove without extends": {
			file: "name: pci\ncontrols: [tls_only]\nremove: [shield]\n",
			want: `pci.yaml:3: remove[0]: nothing to remove: the baseline extends none`,
		},
		"remove what is not inherited": {
			file: "name: pci\nextends: medium\nremove: [shield]\n",
			want: `pci.yaml:3: remove[0]: "shield" is not in baseline "medium"`,
		},
		"remove and list": {
			file: "name: pci\nextends: medium\ncontrols: [tls_only]\nremove: [tls_only]\n",
			want: `pci.yaml:4: remove[0]: "tls_only" is also listed in controls`,
		},
		"remove unknown": {
			file: "name: pci\nextends: medium\nremove: [tls]\n",
			want: `pci.yaml:3: remove[0]: unknown control "tls"`,
		},
		"remove takes ids only": {
			file: "name: pci\nextends: medium\nremove:\n  - id: tls_only\n",
			want: `pci.yaml:4: remove[0]: want a string, got a mapping`,
		},
		"no controls": {
			file: "name: pci\nextends: low\nremove: [access_logging, default_encryption, acl_grants, iam_mfa]\n",
			want: `pci.yaml:1: controls: the baseline has no controls`,
		},
		"two documents": {
			file: "name: pci\ncontrols: [tls_only]\n---\nname: other\n",
			want: `pci.yaml:3: more than one YAML document (remove the second ---)`,
		},
		"several errors": {
			file: "name: pci\ncontrols: [tls]\nencryption: rot13\n",
			want: "pci.yaml:2: controls[0]: unknown control \"tls\"\n" +
				`pci.yaml:3: encryption: unknown encryption level "rot13" (want sse-s3, sse-kms or customer-key)`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			b, err := Load(writeFile(t, dir, "pci.yaml", tc.file))
			if got := errText(err, dir); got != tc.want {
				t.Errorf("Load error\n got: %s\nwant: %s", got, tc.want)
			}
			if b != nil {
				t.Errorf("Load returned a baseline with an error: %+v", b)
			}
			var fe *FileError
			if err != nil && !errors.As(err, &fe) {
				t.Errorf("error is not a *FileError: %T", err)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	abs := writeFile(t, dir, "pci.yaml", "name: pci\nextends: high\n")
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		reason  string
		name    string
		baseDir string
		want    string // baseline name
		err     string
	}{
		"builtin":        {reason: "built-in names need no file", name: "medium", baseDir: dir, want: "medium"},
		"relative":       {reason: "a relative path starts at baseDir", name: "pci.yaml", baseDir: dir, want: "pci"},
		"dot relative":   {reason: "./ works too", name: "./sub/../pci.yaml", baseDir: dir, want: "pci"},
		"absolute":       {reason: "an absolute path ignores baseDir", name: abs, baseDir: "/nonexistent", want: "pci"},
		"unknown":        {reason: "a typo names no file", name: "hihg", baseDir: dir, err: `unknown baseline "hihg" (want low, medium, high or a baseline file)`},
		"empty":          {reason: "an empty name is unknown", name: "", baseDir: dir, err: `unknown baseline "" (want low, medium, high or a baseline file)`},
		"case matters":   {reason: "built-in names are lower case", name: "High", baseDir: dir, err: `unknown baseline "High" (want low, medium, high or a baseline file)`},
		"directory":      {reason: "a directory is not a baseline file", name: "sub", baseDir: dir, err: "read baseline: sub: not a regular file"},
		"wrong base dir": {reason: "relative paths do not fall back to the working directory", name: "pci.yaml", baseDir: "/nonexistent", err: `unknown baseline "pci.yaml" (want low, medium, high or a baseline file)`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := Resolve(tc.name, tc.baseDir)
			if got := errText(err, dir); got != tc.err {
				t.Fatalf("%s: error\n got: %s\nwant: %s", tc.reason, got, tc.err)
			}
			if tc.err != "" {
				if strings.HasPrefix(tc.err, "unknown") && !errors.Is(err, ErrUnknownBaseline) {
					t.Errorf("%s: error does not wrap ErrUnknownBaseline", tc.reason)
				}
				return
			}
			if b.Name != tc.want {
				t.Errorf("%s: got baseline %q, want %q", tc.reason, b.Name, tc.want)
			}
		})
	}
	b, err := Resolve("pci.yaml", dir)
	if err != nil || !b.Has(settings.Shield) || b.Source != abs {
		t.Errorf("resolved pci: %+v, %v", b, err)
	}
}

// TestInsightsInherited: a baseline extending high has the trail's insight
// unless it says otherwise.
func TestInsightsInherited(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		file string
		want bool
	}{
		"inherited":  {"name: strict\nextends: high\n", true},
		"turned off": {"name: strict\nextends: high\ncloudtrail_insights: false\n", false},
		"medium":     {"name: strict\nextends: medium\n", false},
		"turned on":  {"name: strict\nextends: medium\ncloudtrail_insights: true\n", true},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".yaml")
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			b, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if b.CloudTrailInsights != tc.want {
				t.Errorf("CloudTrailInsights = %v, want %v", b.CloudTrailInsights, tc.want)
			}
		})
	}
}
