package plan

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s3baseline/s3baseline/settings"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/NAME.golden, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./plan/ -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("output differs from %s (run go test ./plan/ -update after checking it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestRenderGolden(t *testing.T) {
	mixed := func(t *testing.T) *Plan {
		f, o := mixedScenario(t)
		p, err := Build(context.Background(), f, o)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := func(t *testing.T) *Plan {
		f := &fakeObserver{account: testAccountState(), keys: map[string]settings.KeyInfo{testRegion: testKey()},
			states: map[string]settings.BucketState{}}
		for _, n := range []string{"app-a", "app-b"} {
			f.refs = append(f.refs, settings.BucketRef{Name: n, Region: testRegion})
			f.states[n] = compliantState(n)
		}
		p, err := Build(context.Background(), f, Options{Config: testConfig(builtin(t, "high")), Now: testNow(), ToolVersion: "0.1.0"})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := map[string]struct {
		reason string
		plan   func(*testing.T) *Plan
		color  bool
		json   bool
	}{
		"mixed":       {reason: "one bucket of every kind", plan: mixed},
		"mixed_color": {reason: "the same plan in colour", plan: mixed, color: true},
		"mixed_json":  {reason: "the document the text is made from", plan: mixed, json: true},
		"empty":       {reason: "every bucket complies", plan: empty},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := tc.plan(t)
			var buf bytes.Buffer
			var err error
			if tc.json {
				err = Write(&buf, p)
			} else {
				err = Render(&buf, p, RenderOptions{Color: tc.color})
			}
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name, buf.Bytes())
			if !tc.color && strings.Contains(buf.String(), "\x1b[") {
				t.Errorf("\n%s\ncolour codes without Color", tc.reason)
			}
		})
	}
}

func TestRenderFromDocument(t *testing.T) {
	// The text is made from the document alone: a plan read back from its
	// JSON renders exactly the same.
	f, o := mixedScenario(t)
	p, err := Build(context.Background(), f, o)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := WriteFile(path, p); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := Render(&a, p, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := Render(&b, back, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Errorf("rendering differs after a round trip through the file:\n%s\n---\n%s", a.String(), b.String())
	}
}

func TestClosingLine(t *testing.T) {
	cases := map[string]struct {
		reason string
		plan   Plan
		want   string
	}{
		"NoBuckets": {
			reason: "nothing in scope",
			want:   "No changes. No buckets in scope.",
		},
		"AllComply": {
			reason: "every bucket complies",
			plan:   Plan{AccountPlan: AccountPlan{Buckets: []BucketPlan{{Name: "a"}, {Name: "b"}}}},
			want:   "No changes. All 2 buckets in scope comply with their baselines.",
		},
		"Singular": {
			reason: "one of each reads in the singular",
			plan:   Plan{AccountPlan: AccountPlan{Buckets: []BucketPlan{{Name: "a", Changes: []Change{change(Create)}}, {Name: "b"}, {Name: "c", Errors: []string{"x"}}}}},
			want:   "Plan: 1 change on 1 bucket (1 to create, 0 to update, 0 to delete); 1 bucket complies; 1 error.",
		},
		"ErrorsOnly": {
			reason: "errors without changes do not say everything complies",
			plan:   Plan{AccountPlan: AccountPlan{Buckets: []BucketPlan{{Name: "a", Errors: []string{"x", "y"}}}}},
			want:   "Plan: 0 changes on 0 buckets (0 to create, 0 to update, 0 to delete); 0 buckets comply; 2 errors.",
		},
		"Account": {
			reason: "account changes are counted and named",
			plan:   Plan{AccountPlan: AccountPlan{Buckets: []BucketPlan{{Name: "a", Changes: []Change{change(Update), change(Delete)}}}, AccountChanges: []Change{change(Create)}}},
			want:   "Plan: 3 changes on 1 bucket and the account (1 to create, 1 to update, 1 to delete); 0 buckets comply; 0 errors.",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := closingLine(&tc.plan); got != tc.want {
				t.Errorf("\n%s\ngot  %q\nwant %q", tc.reason, got, tc.want)
			}
		})
	}
}

func TestRenderTruncatesCompliantNames(t *testing.T) {
	p := &Plan{}
	for _, n := range strings.Split("a b c d e f g h i j k l", " ") {
		p.Buckets = append(p.Buckets, BucketPlan{Name: n})
	}
	var buf bytes.Buffer
	if err := Render(&buf, p, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	want := "12 buckets already comply: a, b, c, d, e, f, g, h, i, j and 2 more\n"
	if !strings.Contains(buf.String(), want) {
		t.Errorf("got\n%s\nwant a line %q", buf.String(), want)
	}
}
