package aws_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
)

// TestRegionAndProfile checks where the global calls go: the option, else
// the chain (environment or the profile), else us-east-1; and that a
// profile's credentials are used.
func TestRegionAndProfile(t *testing.T) {
	cases := map[string]struct {
		reason string
		setup  func(t *testing.T, o *awsprovider.Options)
		want   string
	}{
		"option": {
			reason: "Options.Region wins over the environment",
			setup:  func(t *testing.T, o *awsprovider.Options) { o.Region = "ap-southeast-2" },
			want:   "ap-southeast-2",
		},
		"environment": {
			reason: "AWS_REGION from the chain",
			setup:  func(t *testing.T, o *awsprovider.Options) { t.Setenv("AWS_REGION", "eu-west-1") },
			want:   "eu-west-1",
		},
		"default": {
			reason: "no region anywhere falls back to us-east-1",
			setup:  func(t *testing.T, o *awsprovider.Options) { t.Setenv("AWS_REGION", "") },
			want:   "us-east-1",
		},
		"profile": {
			reason: "a named profile supplies region and credentials",
			setup: func(t *testing.T, o *awsprovider.Options) {
				dir := t.TempDir()
				cfgFile := filepath.Join(dir, "config")
				credFile := filepath.Join(dir, "credentials")
				write(t, cfgFile, "[profile ops]\nregion = eu-central-1\n")
				write(t, credFile, "[ops]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = secret\n")
				t.Setenv("AWS_CONFIG_FILE", cfgFile)
				t.Setenv("AWS_SHARED_CREDENTIALS_FILE", credFile)
				t.Setenv("AWS_REGION", "")
				t.Setenv("AWS_ACCESS_KEY_ID", "")
				t.Setenv("AWS_SECRET_ACCESS_KEY", "")
				o.Profile = "ops"
			},
			want: "eu-central-1",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := start(t, e2eScenario(t), emulator.Options{})
			p := newProvider(t, srv, func(o *awsprovider.Options) { tc.setup(t, o) })
			if got := p.Region(); got != tc.want {
				t.Errorf("%s\nRegion() = %q, want %q", tc.reason, got, tc.want)
			}
			if _, err := p.Account(context.Background()); err != nil {
				t.Fatalf("%s\nAccount: %v", tc.reason, err)
			}
			for _, c := range srv.Calls() {
				if c.Region != tc.want {
					t.Errorf("%s\n%s %s signed for %s, want %s", tc.reason, c.Service, c.Operation, c.Region, tc.want)
				}
			}
		})
	}
}

func TestNewRejectsBadEndpoint(t *testing.T) {
	isolateEnv(t)
	for _, u := range []string{"localhost:4566", "://x", "http://"} {
		if _, err := awsprovider.New(context.Background(), awsprovider.Options{EndpointURL: u}); err == nil {
			t.Errorf("New(EndpointURL %q) succeeded, want an error", u)
		}
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
