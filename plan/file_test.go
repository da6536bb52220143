package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writtenPlan(t *testing.T) (string, *Plan) {
	t.Helper()
	f, o := mixedScenario(t)
	p, err := Build(context.Background(), f, o)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := WriteFile(path, p); err != nil {
		t.Fatal(err)
	}
	return path, p
}

func TestFileRoundTrip(t *testing.T) {
	path, p := writtenPlan(t)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("plan file mode %v, want 0600", info.Mode().Perm())
	}
	if !strings.HasPrefix(p.Checksum, "sha256:") {
		t.Errorf("checksum %q not set", p.Checksum)
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Compare as documents: RawMessage whitespace differs after indenting.
	var a, b bytes.Buffer
	if err := Write(&a, p); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a.String(), b.String()); diff != "" {
		t.Errorf("round trip: -written, +read:\n%s", diff)
	}
	if back.Empty() != p.Empty() || back.Summary != p.Summary {
		t.Error("the plan read back decides differently")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestReadFileRefuses(t *testing.T) {
	path, _ := writtenPlan(t)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		data, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	cases := map[string]struct {
		reason string
		data   []byte
		want   string
	}{
		"Damaged": {
			reason: "truncated JSON",
			data:   good[:len(good)/2],
			want:   "plan.json: not a plan file: ",
		},
		"NotJSON": {
			reason: "not JSON at all",
			data:   []byte("Plan: 3 changes"),
			want:   "plan.json: not a plan file: ",
		},
		"NoVersion": {
			reason: "a JSON object that is not a plan",
			data:   []byte(`{"name":"x"}`),
			want:   "plan.json: not a plan file: no format_version",
		},
		"Version2": {
			reason: "a newer format is refused as such",
			data:   edit(func(m map[string]any) { m["format_version"] = 2; m["new_field"] = true }),
			want:   "plan.json: format_version 2 is not supported by this s3baseline (reads 1)",
		},
		"UnknownField": {
			reason: "unknown fields are refused",
			data:   edit(func(m map[string]any) { m["extra"] = 1 }),
			want:   `plan.json: not a plan file: json: unknown field "extra"`,
		},
		"Edited": {
			reason: "an edited change is refused",
			data: edit(func(m map[string]any) {
				b := m["buckets"].([]any)[3].(map[string]any)
				if b["name"] != "legacy-archive" {
					t.Fatalf("bucket 3 is %v, want legacy-archive", b["name"])
				}
				b["changes"].([]any)[0].(map[string]any)["action"] = "update"
			}),
			want: "plan.json: checksum mismatch: the plan was edited after it was written; run plan again",
		},
		"EditedInPlace": {
			reason: "one action changed in the text, nothing else touched",
			data:   bytes.Replace(good, []byte(`"action":"create"`), []byte(`"action":"update"`), 1),
			want:   "plan.json: checksum mismatch",
		},
		"NoChecksum": {
			reason: "a plan without a checksum is refused",
			data:   edit(func(m map[string]any) { delete(m, "checksum") }),
			want:   "plan.json: no checksum",
		},
		"UnknownAction": {
			reason: "an unknown action is refused",
			data: edit(func(m map[string]any) {
				b := m["buckets"].([]any)[2].(map[string]any)
				b["changes"].([]any)[0].(map[string]any)["action"] = "replace"
			}),
			want: "plan.json: not a plan file: ",
		},
		"Trailing": {
			reason: "data after the document is refused",
			data:   append(append([]byte{}, good...), []byte(`{}`)...),
			want:   "plan.json: not a plan file: ",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "plan.json")
			if err := os.WriteFile(p, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := ReadFile(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("\n%s\nReadFile error %v, want one containing %q", tc.reason, err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("\n%s\nerror is not one line: %q", tc.reason, err)
			}
		})
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("a missing file: error %v, want one naming it", err)
	}
}

func FuzzReadPlan(f *testing.F) {
	f.Add([]byte(`{"format_version":1}`))
	f.Add([]byte(`{"format_version":1,"buckets":[{"name":"a","changes":[{"control":"x","action":"create","before":1,"after":[true]}]}],"checksum":"sha256:00"}`))
	f.Add([]byte(`{"format_version":2}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{`))
	var buf bytes.Buffer
	fo, o := mixedScenario(f)
	p, err := Build(context.Background(), fo, o)
	if err != nil {
		f.Fatal(err)
	}
	sum, _ := Checksum(p)
	p.Checksum = sum
	if err := Write(&buf, p); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		// A random change almost never keeps the checksum right, so the
		// input is also sealed with its own checksum: whatever is a plan
		// document then reaches the renderer, and must be read back.
		var sealed Plan
		if json.Unmarshal(data, &sealed) == nil && sealed.FormatVersion == FormatVersion {
			sealed.Checksum, _ = Checksum(&sealed)
			var buf bytes.Buffer
			if err := Write(&buf, &sealed); err == nil {
				back, err := decode("plan.json", buf.Bytes())
				var fe *ForgeryError
				if err != nil && !errors.As(err, &fe) {
					t.Fatalf("a plan written with its checksum is refused: %v", err)
				}
				// Verify may refuse what the tool could not have planned;
				// a plan it lets through is rendered.
				if err == nil {
					_ = Render(io.Discard, back, RenderOptions{Color: true})
					Summarize(back)
				}
			}
		}

		p, err := decode("plan.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "plan.json: ") {
				t.Errorf("error does not name the file: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			return
		}
		// Whatever decodes must render and decide without panicking.
		_ = Render(io.Discard, p, RenderOptions{Color: true})
		p.Empty()
		Summarize(p)
		// and survive being written and read again unchanged: what apply
		// accepted is what show prints and what a re-saved file holds.
		var again bytes.Buffer
		if err := Write(&again, p); err != nil {
			t.Fatalf("an accepted plan does not write: %v", err)
		}
		p2, err := decode("plan.json", again.Bytes())
		if err != nil {
			t.Fatalf("an accepted plan, written again, is refused: %v", err)
		}
		if p2.Checksum != p.Checksum {
			t.Fatalf("checksum %s after a round trip, was %s", p2.Checksum, p.Checksum)
		}
	})
}
