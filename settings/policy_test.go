package settings

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseStatementNormalises(t *testing.T) {
	cases := map[string]struct {
		reason string
		raw    string
		want   Statement
	}{
		"StarPrincipal": {
			reason: `"*" is {"AWS": ["*"]}`,
			raw:    `{"Effect":"Deny","Principal":"*"}`,
			want:   Statement{Effect: "Deny", Principal: map[string][]string{"AWS": {"*"}}},
		},
		"AWSStarPrincipal": {
			reason: `{"AWS":"*"} is the same as "*"`,
			raw:    `{"Effect":"Deny","Principal":{"AWS":"*"}}`,
			want:   Statement{Effect: "Deny", Principal: map[string][]string{"AWS": {"*"}}},
		},
		"AccountID": {
			reason: "a 12-digit account id is the account's root ARN",
			raw:    `{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:root"]}}`,
			want:   Statement{Effect: "Allow", Principal: map[string][]string{"AWS": {"arn:aws:iam::123456789012:root"}}},
		},
		"PrincipalSortedDeduplicated": {
			reason: "principal lists are sets",
			raw:    `{"Effect":"Allow","Principal":{"AWS":["arn:b","arn:a","arn:b"],"Service":"s3.amazonaws.com"}}`,
			want: Statement{Effect: "Allow", Principal: map[string][]string{
				"AWS": {"arn:a", "arn:b"}, "Service": {"s3.amazonaws.com"}}},
		},
		"NotPrincipal": {
			reason: "NotPrincipal is normalised like Principal",
			raw:    `{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"}}`,
			want:   Statement{Effect: "Deny", NotPrincipal: map[string][]string{"AWS": {"arn:aws:iam::111122223333:root"}}},
		},
		"ActionScalarAndCase": {
			reason: "actions are lower case, a scalar is a one-element list",
			raw:    `{"Effect":"Allow","Action":"S3:GetObject"}`,
			want:   Statement{Effect: "Allow", Action: []string{"s3:getobject"}},
		},
		"ActionSorted": {
			reason: "action lists are sorted sets",
			raw:    `{"Effect":"Allow","NotAction":["s3:PutObject","s3:GetObject","s3:getobject"]}`,
			want:   Statement{Effect: "Allow", NotAction: []string{"s3:getobject", "s3:putobject"}},
		},
		"ResourceScalarKeepsCase": {
			reason: "resources keep their case (ARNs are case-sensitive) and are sorted",
			raw:    `{"Effect":"Allow","Resource":["arn:aws:s3:::B/*","arn:aws:s3:::B"],"NotResource":"arn:aws:s3:::X"}`,
			want: Statement{Effect: "Allow", Resource: []string{"arn:aws:s3:::B", "arn:aws:s3:::B/*"},
				NotResource: []string{"arn:aws:s3:::X"}},
		},
		"ConditionBool": {
			reason: `false and "false" are the same value; keys are lower case`,
			raw:    `{"Effect":"Deny","Condition":{"Bool":{"aws:SecureTransport":false}}}`,
			want: Statement{Effect: "Deny", Condition: map[string]map[string][]string{
				"Bool": {"aws:securetransport": {"false"}}}},
		},
		"ConditionListSorted": {
			reason: "condition value lists are sorted sets, numbers are their text",
			raw:    `{"Effect":"Deny","Condition":{"StringEquals":{"aws:SourceAccount":["2","1",1]},"NumericLessThan":{"s3:TlsVersion":1.2}}}`,
			want: Statement{Effect: "Deny", Condition: map[string]map[string][]string{
				"StringEquals":    {"aws:sourceaccount": {"1", "2"}},
				"NumericLessThan": {"s3:tlsversion": {"1.2"}},
			}},
		},
		"Sid": {
			reason: "the Sid is kept",
			raw:    `{"Sid":"X","Effect":"Allow"}`,
			want:   Statement{Sid: "X", Effect: "Allow"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseStatement([]byte(tc.raw))
			if err != nil {
				t.Fatalf("\n%s\nParseStatement(...): unexpected error %v", tc.reason, err)
			}
			if string(got.Raw) != tc.raw {
				t.Errorf("\n%s\nRaw = %s, want the verbatim text", tc.reason, got.Raw)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(Statement{}, "Raw")); diff != "" {
				t.Errorf("\n%s\nParseStatement(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestEquivalent(t *testing.T) {
	cases := map[string]struct {
		reason string
		a, b   string
		want   bool
	}{
		"AccountVsRoot": {
			reason: "account id and root ARN are the same principal",
			a:      `{"Effect":"Deny","Principal":{"AWS":"123456789012"},"Action":"s3:*"}`,
			b:      `{"Effect":"Deny","Principal":{"AWS":["arn:aws:iam::123456789012:root"]},"Action":["s3:*"]}`,
			want:   true,
		},
		"ScalarVsList": {
			reason: "a scalar is a one-element list",
			a:      `{"Effect":"Deny","Resource":"arn:aws:s3:::b"}`,
			b:      `{"Effect":"Deny","Resource":["arn:aws:s3:::b"]}`,
			want:   true,
		},
		"ActionCase": {
			reason: "actions compare case-insensitively",
			a:      `{"Effect":"Deny","Action":["s3:GetBucketPolicy","S3:PutBucketPolicy"]}`,
			b:      `{"Effect":"Deny","Action":["s3:putbucketpolicy","s3:getbucketpolicy"]}`,
			want:   true,
		},
		"StarVsAWSStar": {
			reason: `"*" is {"AWS":"*"}`,
			a:      `{"Effect":"Deny","Principal":"*"}`,
			b:      `{"Effect":"Deny","Principal":{"AWS":"*"}}`,
			want:   true,
		},
		"FalseVsString": {
			reason: `false is "false"`,
			a:      `{"Effect":"Deny","Condition":{"Bool":{"aws:SecureTransport":false}}}`,
			b:      `{"Effect":"Deny","Condition":{"Bool":{"aws:securetransport":["false"]}}}`,
			want:   true,
		},
		"SidIgnored": {
			reason: "the Sid does not change what a statement does",
			a:      `{"Sid":"A","Effect":"Deny"}`,
			b:      `{"Sid":"B","Effect":"Deny"}`,
			want:   true,
		},
		"DifferentEffect": {
			reason: "Allow is not Deny",
			a:      `{"Effect":"Deny"}`,
			b:      `{"Effect":"Allow"}`,
		},
		"DifferentResource": {
			reason: "resources are case-sensitive",
			a:      `{"Effect":"Deny","Resource":"arn:aws:s3:::B"}`,
			b:      `{"Effect":"Deny","Resource":"arn:aws:s3:::b"}`,
		},
		"ConditionValue": {
			reason: "different condition values differ",
			a:      `{"Effect":"Deny","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`,
			b:      `{"Effect":"Deny","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`,
		},
		"PrincipalVsNotPrincipal": {
			reason: "Principal and NotPrincipal are different elements",
			a:      `{"Effect":"Deny","Principal":"*"}`,
			b:      `{"Effect":"Deny","NotPrincipal":"*"}`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a, err := ParseStatement([]byte(tc.a))
			if err != nil {
				t.Fatal(err)
			}
			b, err := ParseStatement([]byte(tc.b))
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Equivalent(b); got != tc.want {
				t.Errorf("\n%s\nEquivalent = %v, want %v", tc.reason, got, tc.want)
			}
			if got := b.Equivalent(a); got != tc.want {
				t.Errorf("\n%s\nEquivalent (swapped) = %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
}

func TestParsePolicy(t *testing.T) {
	cases := map[string]struct {
		reason  string
		raw     string
		sids    []string
		foreign []string
		wantErr string
	}{
		"List": {
			reason:  "statements keep document order; owned ones are not foreign",
			raw:     `{"Version":"2012-10-17","Statement":[{"Sid":"B","Effect":"Allow"},{"Sid":"S3BaselineDenyInsecureTransport","Effect":"Deny"},{"Effect":"Allow"}]}`,
			sids:    []string{"B", "S3BaselineDenyInsecureTransport", ""},
			foreign: []string{"B", ""},
		},
		"SingleObject": {
			reason:  "Statement may be a single object",
			raw:     `{"Version":"2012-10-17","Statement":{"Sid":"Only","Effect":"Allow"}}`,
			sids:    []string{"Only"},
			foreign: []string{"Only"},
		},
		"NoStatement": {
			reason: "a document without statements parses",
			raw:    `{"Version":"2012-10-17"}`,
		},
		"Damaged": {
			reason:  "damaged JSON is an error",
			raw:     `{"Version":`,
			wantErr: "parse policy",
		},
		"BadAction": {
			reason:  "an action must be a string or a list of strings",
			raw:     `{"Statement":[{"Effect":"Allow","Action":{"x":1}}]}`,
			wantErr: "statement 1: Action",
		},
		"BadStatement": {
			reason:  "a statement must be an object",
			raw:     `{"Statement":["x"]}`,
			wantErr: "statement 1",
		},
		"BadConditionValue": {
			reason:  "a condition value cannot be an object",
			raw:     `{"Statement":[{"Effect":"Deny","Condition":{"Bool":{"k":{"a":1}}}}]}`,
			wantErr: "Condition",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			doc, err := ParsePolicy(tc.raw)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("\n%s\nParsePolicy: error %v, want one containing %q", tc.reason, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("\n%s\nParsePolicy: %v", tc.reason, err)
			}
			var sids, foreign []string
			for _, s := range doc.Statements {
				sids = append(sids, s.Sid)
			}
			for _, s := range doc.Foreign() {
				foreign = append(foreign, s.Sid)
			}
			if diff := cmp.Diff(tc.sids, sids); diff != "" {
				t.Errorf("\n%s\nSids: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.foreign, foreign); diff != "" {
				t.Errorf("\n%s\nForeign: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestOwned(t *testing.T) {
	doc, err := ParsePolicy(`{"Statement":[{"Sid":"A","Effect":"Allow"},{"Sid":"S3BaselineDenyInsecureTransport","Effect":"Deny"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := doc.Owned(SidDenyInsecureTransport)
	if !ok || s.Effect != "Deny" {
		t.Errorf("Owned(%s) = %+v, %v; want the Deny statement", SidDenyInsecureTransport, s, ok)
	}
	if _, ok := doc.Owned(SidDenyAdminPolicyChanges); ok {
		t.Errorf("Owned(%s) found a statement that is not there", SidDenyAdminPolicyChanges)
	}
	var none *PolicyDocument
	if _, ok := none.Owned("A"); ok || none.Foreign() != nil {
		t.Error("a nil document must have no statements")
	}
}

func TestActionCovers(t *testing.T) {
	cases := map[string]struct {
		reason          string
		pattern, action string
		want            bool
	}{
		"Exact":          {"the same action", "s3:GetBucketPolicy", "s3:GetBucketPolicy", true},
		"Case":           {"actions are case-insensitive", "S3:getbucketpolicy", "s3:GetBucketPolicy", true},
		"Star":           {"* is every action", "*", "s3:PutBucketPolicy", true},
		"ServiceStar":    {"s3:* is every S3 action", "s3:*", "s3:DeleteBucketPolicy", true},
		"PartialStar":    {"a star matches the rest", "s3:*BucketPolicy", "s3:PutBucketPolicy", true},
		"Question":       {"? is one character", "s3:?etBucketPolicy", "s3:GetBucketPolicy", true},
		"QuestionTooFew": {"? is exactly one character", "s3:?GetBucketPolicy", "s3:GetBucketPolicy", false},
		"OtherService":   {"sqs:* is not S3", "sqs:*", "s3:GetObject", false},
		"Prefix":         {"a pattern without star matches whole actions only", "s3:Get", "s3:GetObject", false},
		"StarInMiddle":   {"stars backtrack", "s3:*Policy*", "s3:GetBucketPolicyStatus", true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := ActionCovers(tc.pattern, tc.action); got != tc.want {
				t.Errorf("\n%s\nActionCovers(%q, %q) = %v, want %v", tc.reason, tc.pattern, tc.action, got, tc.want)
			}
		})
	}
}

func TestResourceCovers(t *testing.T) {
	cases := map[string]struct {
		reason       string
		pattern, arn string
		want         bool
	}{
		"Exact":        {"the same ARN", "arn:aws:s3:::b", "arn:aws:s3:::b", true},
		"Objects":      {"b/* does not cover the bucket itself", "arn:aws:s3:::b/*", "arn:aws:s3:::b", false},
		"BucketStar":   {"b* covers the bucket and its objects", "arn:aws:s3:::b*", "arn:aws:s3:::b/key", true},
		"AllS3":        {"* covers everything", "*", "arn:aws:s3:::b", true},
		"Case":         {"ARNs are case-sensitive", "arn:aws:s3:::B", "arn:aws:s3:::b", false},
		"SlashInStar":  {"* crosses slashes, unlike path.Match", "arn:aws:s3:::*", "arn:aws:s3:::b/x/y", true},
		"OtherBucket":  {"another bucket", "arn:aws:s3:::c", "arn:aws:s3:::b", false},
		"QuestionMark": {"? is one character", "arn:aws:s3:::?", "arn:aws:s3:::b", true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := ResourceCovers(tc.pattern, tc.arn); got != tc.want {
				t.Errorf("\n%s\nResourceCovers(%q, %q) = %v, want %v", tc.reason, tc.pattern, tc.arn, got, tc.want)
			}
		})
	}
}

func FuzzParsePolicy(f *testing.F) {
	for _, seed := range []string{
		`{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":false}}}]}`,
		`{"Statement":{"Effect":"Allow","Principal":{"AWS":["123456789012"]},"NotAction":"S3:Get*"}}`,
		`{"Statement":[{"Condition":{"NumericLessThan":{"s3:TlsVersion":[1.2,"1.3",null]}}}]}`,
		`{"Statement":null}`,
		`[]`,
		`{`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		doc, err := ParsePolicy(raw)
		if err != nil {
			return
		}
		for _, s := range doc.Statements {
			if !s.Equivalent(s) {
				t.Errorf("statement %s is not equivalent to itself", s.Raw)
			}
			again, err := ParseStatement(s.Raw)
			if err != nil || !again.Equivalent(s) {
				t.Errorf("statement %s does not parse again to the same statement: %v", s.Raw, err)
			}
		}
		doc.Foreign()
	})
}
