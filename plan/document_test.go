package plan

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestActionText(t *testing.T) {
	cases := map[string]struct {
		reason string
		action Action
		text   string
		symbol string
	}{
		"NoOp":   {"a compliant control", NoOp, "no-op", " "},
		"Create": {"something absent is set", Create, "create", "+"},
		"Update": {"something present is changed", Update, "update", "~"},
		"Delete": {"something present is removed", Delete, "delete", "-"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := tc.action.MarshalText()
			if err != nil || string(got) != tc.text {
				t.Errorf("\n%s\nMarshalText = %q, %v; want %q", tc.reason, got, err, tc.text)
			}
			var back Action
			if err := back.UnmarshalText([]byte(tc.text)); err != nil || back != tc.action {
				t.Errorf("\n%s\nUnmarshalText(%q) = %v, %v; want %v", tc.reason, tc.text, back, err, tc.action)
			}
			if tc.action.Symbol() != tc.symbol {
				t.Errorf("\n%s\nSymbol = %q, want %q", tc.reason, tc.action.Symbol(), tc.symbol)
			}
		})
	}
	var a Action
	if err := a.UnmarshalText([]byte("replace")); err == nil {
		t.Error("UnmarshalText(replace): want an error for an unknown action")
	}
	if _, err := Action('x').MarshalText(); err == nil {
		t.Error("MarshalText of an unknown action: want an error")
	}
	var c Change
	if err := json.Unmarshal([]byte(`{"action":"destroy"}`), &c); err == nil {
		t.Error("a change with an unknown action must not decode")
	}
}

func change(a Action) Change { return Change{Control: "tls_only", Action: a} }

func TestEmptyAndSummary(t *testing.T) {
	cases := map[string]struct {
		reason string
		plan   Plan
		empty  bool
		want   Summary
	}{
		"NoBuckets": {
			reason: "a plan without buckets has nothing to do",
			plan:   Plan{},
			empty:  true,
		},
		"AllNoOps": {
			reason: "no-ops are not changes",
			plan:   Plan{AccountPlan: AccountPlan{Buckets: []BucketPlan{{Name: "a", Changes: []Change{change(NoOp), change(NoOp)}}, {Name: "b"}}}},
			empty:  true,
			want:   Summary{Buckets: 2, Compliant: 2},
		},
		"OneChange": {
			reason: "one create makes the plan non-empty and its bucket to-change",
			plan: Plan{AccountPlan: AccountPlan{Buckets: []BucketPlan{
				{Name: "a", Changes: []Change{change(NoOp), change(Create), change(Update)}},
				{Name: "b", Changes: []Change{change(NoOp)}},
			}}},
			want: Summary{Buckets: 2, Compliant: 1, ToChange: 1, Changes: 2},
		},
		"ErrorsNotCompliant": {
			reason: "a bucket with an error and no changes is neither compliant nor to change; errors do not make a plan non-empty",
			plan:   Plan{AccountPlan: AccountPlan{Buckets: []BucketPlan{{Name: "a", Errors: []string{"x", "y"}}}}},
			empty:  true,
			want:   Summary{Buckets: 1, Errors: 2},
		},
		"ErrorsAndChanges": {
			reason: "a bucket with changes and an error is to change, not compliant",
			plan:   Plan{AccountPlan: AccountPlan{Buckets: []BucketPlan{{Name: "a", Changes: []Change{change(Delete)}, Errors: []string{"x"}}}}},
			want:   Summary{Buckets: 1, ToChange: 1, Changes: 1, Errors: 1},
		},
		"AccountChange": {
			reason: "an account change counts as a change",
			plan:   Plan{AccountPlan: AccountPlan{Buckets: []BucketPlan{{Name: "a"}}, AccountChanges: []Change{change(Create)}}},
			want:   Summary{Buckets: 1, Compliant: 1, Changes: 1},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.plan.Empty(); got != tc.empty {
				t.Errorf("\n%s\nEmpty() = %v, want %v", tc.reason, got, tc.empty)
			}
			if diff := cmp.Diff(tc.want, Summarize(&tc.plan)); diff != "" {
				t.Errorf("\n%s\nSummarize: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
