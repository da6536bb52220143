package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/s3baseline/s3baseline/event"
)

// The event-driven deployment: CloudFormation templates and the Terraform
// module, held here to event.HandledCalls (the rule patterns) and to
// iam/apply-policy.json (the function's role).
const (
	cfnSingle = "eventdriven/template.yaml"
	cfnOrg    = "eventdriven/template-org.yaml"
	cfnMember = "eventdriven/template-member.yaml"

	tfModule        = "terraform/s3baseline-event"
	tfMember        = "terraform/s3baseline-event/member"
	tfEventPattern  = "terraform/s3baseline-event/event-pattern.json"
	tfLambdaPolicy  = "terraform/s3baseline-event/lambda-policy.json.tftpl"
	defaultBusName  = "default"
	centralBusName  = "s3baseline-events"
	functionDefault = "s3baseline-event"
)

// The values the tests give the templates' parameters that have no
// default (and the organization's, which has none either). EvidenceBucket
// is the policies' own placeholder, so that the rendered role policy can
// be compared with iam/apply-policy.json as it is.
var cfnParams = map[string]string{
	"CodeS3Bucket":       "CODE_BUCKET",
	"CodeS3Key":          "s3baseline/bootstrap.zip",
	"ConfigS3Bucket":     "CONFIG_BUCKET",
	"EvidenceBucket":     "JOURNAL_BUCKET",
	"OrganizationId":     "o-exampleorg1",
	"CentralEventBusArn": "arn:aws:events:us-east-1:111122223333:event-bus/s3baseline-events",
}

// pseudoParams stand for CloudFormation's pseudo parameters.
var pseudoParams = map[string]string{
	"AWS::Partition": "aws",
	"AWS::AccountId": "444455556666",
	"AWS::Region":    "us-east-1",
}

// lambdaExtras are what the function's role grants beyond
// iam/apply-policy.json, each with its reason. The role grants these and
// apply-policy.json, and nothing else.
var lambdaExtras = map[string]string{
	"s3:GetObject":         "the config object (S3BASELINE_CONFIG), which need not be in the evidence bucket",
	"logs:CreateLogStream": "the function's log group",
	"logs:PutLogEvents":    "the function's log group",
	"sqs:SendMessage":      "the dead-letter queue: the async invoke config's OnFailure destination sends with the function's role",
}

// wantPattern is the EventBridge pattern for exactly calls.
type wantPattern struct {
	sources, detailTypes, eventSources, eventNames []string
}

func patternFor(calls []event.Call) wantPattern {
	var w wantPattern
	w.detailTypes = []string{event.DetailType}
	for _, c := range calls {
		w.sources = append(w.sources, c.Source)
		w.eventSources = append(w.eventSources, c.EventSource)
		w.eventNames = append(w.eventNames, c.Name)
	}
	for _, l := range []*[]string{&w.sources, &w.eventSources, &w.eventNames} {
		slices.Sort(*l)
		*l = slices.Compact(*l)
	}
	return w
}

// patternDiff lists how pattern (an EventBridge event pattern, decoded
// from JSON or YAML) differs from the one for exactly calls: no key beyond
// source, detail-type, detail.eventSource and detail.eventName, and each of
// those the set the calls name.
func patternDiff(pattern any, calls []event.Call) []string {
	want := patternFor(calls)
	var problems []string
	top, ok := pattern.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("pattern is %T, want an object", pattern)}
	}
	detail, _ := top["detail"].(map[string]any)
	if detail == nil {
		problems = append(problems, "no detail object")
	}
	if keys := slices.Sorted(maps.Keys(top)); !slices.Equal(keys, []string{"detail", "detail-type", "source"}) {
		problems = append(problems, fmt.Sprintf("keys %v, want exactly [detail detail-type source]", keys))
	}
	if keys := slices.Sorted(maps.Keys(detail)); detail != nil && !slices.Equal(keys, []string{"eventName", "eventSource"}) {
		problems = append(problems, fmt.Sprintf("detail keys %v, want exactly [eventName eventSource]", keys))
	}
	for _, f := range []struct {
		name string
		got  any
		want []string
	}{
		{"source", top["source"], want.sources},
		{"detail-type", top["detail-type"], want.detailTypes},
		{"detail.eventSource", detail["eventSource"], want.eventSources},
		{"detail.eventName", detail["eventName"], want.eventNames},
	} {
		list, ok := f.got.([]any)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s is %T, want a list of strings", f.name, f.got))
			continue
		}
		var got []string
		for _, v := range list {
			s, ok := v.(string)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: %v is not a string (no content filters: the handled calls are exact names)", f.name, v))
				continue
			}
			if slices.Contains(got, s) {
				problems = append(problems, fmt.Sprintf("%s lists %q twice", f.name, s))
			}
			got = append(got, s)
		}
		slices.Sort(got)
		got = slices.Compact(got)
		for _, s := range got {
			if !slices.Contains(f.want, s) {
				problems = append(problems, fmt.Sprintf("%s has %q, which event.HandledCalls lacks", f.name, s))
			}
		}
		for _, s := range f.want {
			if !slices.Contains(got, s) {
				problems = append(problems, fmt.Sprintf("%s lacks %q, which event.HandledCalls has", f.name, s))
			}
		}
	}
	return problems
}

// TestHandledCallsFitOnePattern: the pattern lists sources, event sources
// and names independently, so it matches exactly the handled calls only if
// each source has one event source of its own; and the rules see only
// calls that write.
func TestHandledCallsFitOnePattern(t *testing.T) {
	eventSource := map[string]string{}
	for _, c := range event.HandledCalls {
		if es, ok := eventSource[c.Source]; ok && es != c.EventSource {
			t.Errorf("source %s comes with event sources %s and %s: one list per field no longer describes the calls; use $or in the patterns", c.Source, es, c.EventSource)
		}
		eventSource[c.Source] = c.EventSource
		// Rules in State ENABLED see no read-only management events
		// (AWS-doc "Receiving read-only management events from AWS
		// services"); a read among the calls would need
		// ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS.
		if hasAnyPrefix(c.Name, readVerbs) {
			t.Errorf("%s reads: the rules (State ENABLED) would never see it", c.Name)
		}
	}
}

// TestPatternDiffCatchesChanges: a call added to, or removed from,
// HandledCalls makes the templates' patterns fail.
func TestPatternDiffCatchesChanges(t *testing.T) {
	pattern := readJSONPattern(t)
	if p := patternDiff(pattern, event.HandledCalls); len(p) != 0 {
		t.Fatalf("%s: %v", tfEventPattern, p)
	}
	added := append(slices.Clone(event.HandledCalls),
		event.Call{Source: "aws.s3", EventSource: "s3.amazonaws.com", Name: "PutBucketReplication"})
	if p := patternDiff(pattern, added); !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, `lacks "PutBucketReplication"`) }) {
		t.Errorf("a call added to HandledCalls: got %q, want the pattern to lack it", p)
	}
	removed := slices.DeleteFunc(slices.Clone(event.HandledCalls), func(c event.Call) bool { return c.Name == "StopLogging" })
	if p := patternDiff(pattern, removed); !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, `has "StopLogging"`) }) {
		t.Errorf("a call removed from HandledCalls: got %q, want the pattern to have one too many", p)
	}
	onlyS3 := slices.DeleteFunc(slices.Clone(event.HandledCalls), func(c event.Call) bool { return c.Source == "aws.cloudtrail" })
	if p := patternDiff(pattern, onlyS3); !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, `source has "aws.cloudtrail"`) }) {
		t.Errorf("a source dropped from HandledCalls: got %q", p)
	}
}

func readJSONPattern(t *testing.T) any {
	t.Helper()
	b, err := os.ReadFile(tfEventPattern)
	if err != nil {
		t.Fatal(err)
	}
	var p any
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("%s: %v", tfEventPattern, err)
	}
	return p
}

// TestEventPatterns checks every rule's pattern, in the three templates and
// the Terraform module, against event.HandledCalls.
func TestEventPatterns(t *testing.T) {
	for _, path := range []string{cfnSingle, cfnOrg, cfnMember} {
		tpl := readTemplate(t, path)
		_, rule := tpl.only(t, "AWS::Events::Rule")
		if p := patternDiff(rule["EventPattern"], event.HandledCalls); len(p) != 0 {
			t.Errorf("%s: the rule's EventPattern does not match event.HandledCalls:\n  %s", path, strings.Join(p, "\n  "))
		}
	}
	if p := patternDiff(readJSONPattern(t), event.HandledCalls); len(p) != 0 {
		t.Errorf("%s does not match event.HandledCalls:\n  %s", tfEventPattern, strings.Join(p, "\n  "))
	}
	// The Terraform rules read that file.
	main := readHCL(t, filepath.Join(tfModule, "main.tf"))
	main.wantLine(t, "locals", "", `event_pattern = file("${path.module}/event-pattern.json")`)
	main.wantLine(t, "aws_cloudwatch_event_rule", "this", `event_pattern = local.event_pattern`)
	member := readHCL(t, filepath.Join(tfMember, "main.tf"))
	member.wantLine(t, "aws_cloudwatch_event_rule", "forward", `event_pattern = file("${path.module}/../event-pattern.json")`)
}

// TestFunctionRoles checks the function's role in both templates that
// have the function: apply-policy.json exactly, and lambdaExtras.
func TestFunctionRoles(t *testing.T) {
	_, applyStatements := readIdentityPolicy(t, applyPolicy)
	for _, path := range []string{cfnSingle, cfnOrg} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			tpl := readTemplate(t, path)
			fnName, fn := tpl.only(t, "AWS::Lambda::Function")
			roleName, role := tpl.only(t, "AWS::IAM::Role")
			if got, want := fn["Role"], getAtt(roleName, "Arn"); got != want {
				t.Errorf("function %s: Role %v, want %s", fnName, got, want)
			}
			checkTrust(t, path, role["AssumeRolePolicyDocument"], "lambda.amazonaws.com")
			if role["ManagedPolicyArns"] != nil || role["PermissionsBoundary"] != nil {
				t.Errorf("%s: ManagedPolicyArns/PermissionsBoundary: the role's grants are its inline policies, no more", roleName)
			}
			policies := map[string]any{}
			for _, p := range list(role["Policies"]) {
				policies[str(get(p, "PolicyName"))] = get(p, "PolicyDocument")
			}
			if keys := slices.Sorted(maps.Keys(policies)); !slices.Equal(keys, []string{"s3baseline-apply", "s3baseline-lambda"}) {
				t.Fatalf("%s: policies %v, want s3baseline-apply and s3baseline-lambda", roleName, keys)
			}

			applyGranted, applyGot := policyFromValue(t, path+" s3baseline-apply", policies["s3baseline-apply"])
			if d := cmp.Diff(applyStatements, applyGot); d != "" {
				t.Errorf("%s: s3baseline-apply is not %s with EvidenceBucket for JOURNAL_BUCKET (-%s, +template):\n%s", path, applyPolicy, applyPolicy, d)
			}
			lambdaGranted, lambdaGot := policyFromValue(t, path+" s3baseline-lambda", policies["s3baseline-lambda"])
			logGroup, _ := tpl.only(t, "AWS::Logs::LogGroup")
			queue, _ := tpl.only(t, "AWS::SQS::Queue")
			checkLambdaExtras(t, path, lambdaGot, lambdaGranted,
				"arn:aws:s3:::CONFIG_BUCKET/"+tpl.params["ConfigS3Key"], getAtt(logGroup, "Arn"), getAtt(queue, "Arn"))

			granted := maps.Clone(applyGranted)
			maps.Copy(granted, lambdaGranted)
			checkForbidden(t, path, granted)
		})
	}

	t.Run("terraform", func(t *testing.T) {
		main := readHCL(t, filepath.Join(tfModule, "main.tf"))
		main.wantLine(t, "aws_iam_role_policy", "apply", "policy = local.apply_policy")
		main.wantLine(t, "aws_iam_role_policy", "apply", "role = aws_iam_role.function.id")
		main.wantLine(t, "aws_iam_role_policy", "lambda", "role = aws_iam_role.function.id")
		main.wantLine(t, "aws_lambda_function", "this", "role = aws_iam_role.function.arn")
		if n := strings.Count(main.src, `resource "aws_iam_role_policy`); n != 2 {
			t.Errorf("main.tf: %d aws_iam_role_policy* resources, want the two, apply and lambda", n)
		}
		if strings.Contains(main.src, "managed_policy_arns") || strings.Contains(main.src, "aws_iam_role_policy_attachment") {
			t.Errorf("main.tf attaches managed policies: the role's grants are its inline policies, no more")
		}
		// local.apply_policy is apply-policy.json with three replacements;
		// each must still hit, or it silently does nothing.
		apply, err := os.ReadFile(applyPolicy)
		if err != nil {
			t.Fatal(err)
		}
		main.wantLine(t, "locals", "", `file("${path.module}/../../iam/apply-policy.json"),`)
		for _, r := range []struct{ hcl, inJSON string }{
			{`"JOURNAL_BUCKET", var.evidence_bucket),`, `JOURNAL_BUCKET`},
			{`":role/S3BaselineRole\"", ":role/${var.member_role_name}\""),`, `:role/S3BaselineRole"`},
			{`"\"arn:aws:", "\"arn:${local.partition}:")`, `"arn:aws:`},
		} {
			main.wantLine(t, "locals", "", r.hcl)
			if !strings.Contains(string(apply), r.inJSON) {
				t.Errorf("main.tf replaces %s in %s, which no longer contains it", r.inJSON, applyPolicy)
			}
		}

		// The lambda policy template, with its variables.
		b, err := os.ReadFile(tfLambdaPolicy)
		if err != nil {
			t.Fatal(err)
		}
		vars := map[string]string{
			"config_object_arn":     "arn:aws:s3:::CONFIG_BUCKET/KEY",
			"log_group_arn":         "LOG_GROUP_ARN",
			"dead_letter_queue_arn": "DEAD_LETTER_QUEUE_ARN",
		}
		main.wantLine(t, "aws_iam_role_policy", "lambda", `policy = templatefile("${path.module}/lambda-policy.json.tftpl", {`)
		main.wantLine(t, "aws_iam_role_policy", "lambda", `config_object_arn = "arn:${local.partition}:s3:::${var.config_s3_bucket}/${var.config_s3_key}"`)
		main.wantLine(t, "aws_iam_role_policy", "lambda", `log_group_arn = aws_cloudwatch_log_group.this.arn`)
		main.wantLine(t, "aws_iam_role_policy", "lambda", `dead_letter_queue_arn = aws_sqs_queue.dead_letter.arn`)
		doc := regexp.MustCompile(`\$\{(\w+)\}`).ReplaceAllStringFunc(string(b), func(m string) string {
			v, ok := vars[m[2:len(m)-1]]
			if !ok {
				t.Errorf("%s uses %s, which main.tf does not pass", tfLambdaPolicy, m)
			}
			return v
		})
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatalf("%s: %v", tfLambdaPolicy, err)
		}
		granted, got := policyFromValue(t, tfLambdaPolicy, v)
		// aws_cloudwatch_log_group's arn has no ":*"; CloudFormation's has.
		checkLambdaExtras(t, tfLambdaPolicy, got, granted, vars["config_object_arn"], "LOG_GROUP_ARN:*", "DEAD_LETTER_QUEUE_ARN")
		checkForbidden(t, tfLambdaPolicy, granted)
	})
}

// checkLambdaExtras: the function's second policy grants lambdaExtras, each
// on the one resource it is for.
func checkLambdaExtras(t *testing.T, where string, got []statement, granted map[string]bool, config, logGroup, queue string) {
	t.Helper()
	want := []statement{
		{Sid: "ConfigRead", Effect: "Allow", Action: stringList{"s3:GetObject"}, Resource: stringList{config}},
		{Sid: "Logs", Effect: "Allow", Action: stringList{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: stringList{logGroup}},
		{Sid: "DeadLetters", Effect: "Allow", Action: stringList{"sqs:SendMessage"}, Resource: stringList{queue}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s: the Lambda policy (-want, +got):\n%s", where, d)
	}
	for a := range granted {
		if lambdaExtras[a] == "" {
			t.Errorf("%s grants %s, which lambdaExtras does not list with its reason", where, a)
		}
	}
	for a := range lambdaExtras {
		if !granted[a] {
			t.Errorf("lambdaExtras lists %s, which %s does not grant", a, where)
		}
	}
}

// policyFromValue checks a rendered policy document with readIdentityPolicy,
// the same checks as the policy files get.
func policyFromValue(t *testing.T, where string, doc any) (map[string]bool, []statement) {
	t.Helper()
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	path := filepath.Join(t.TempDir(), strings.NewReplacer("/", "_", " ", "_").Replace(where)+".json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return readIdentityPolicy(t, path)
}

// checkTrust: the role trusts exactly the service, in this account.
func checkTrust(t *testing.T, where string, doc any, service string) {
	t.Helper()
	want := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": service},
			"Action":    "sts:AssumeRole",
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": pseudoParams["AWS::AccountId"]}},
		}},
	}
	if d := cmp.Diff(want, doc); d != "" {
		t.Errorf("%s: trust policy (-want, +got):\n%s", where, d)
	}
}

// wantEnv is the function's environment, given cfnParams and the defaults.
func wantEnv(org bool) map[string]any {
	env := map[string]any{
		"S3BASELINE_CONFIG":      "s3://CONFIG_BUCKET/s3baseline/config/s3baseline.yaml",
		"S3BASELINE_MODE":        "apply",
		"S3BASELINE_JOURNAL":     "s3://JOURNAL_BUCKET/s3baseline/journals/event",
		"S3BASELINE_REPORT":      "s3://JOURNAL_BUCKET/s3baseline/reports/event",
		"S3BASELINE_LOCK":        "s3://JOURNAL_BUCKET/s3baseline/",
		"S3BASELINE_DEAD_LETTER": "s3://JOURNAL_BUCKET/s3baseline/dead-letter/",
	}
	if org {
		env["S3BASELINE_ROLE_NAME"] = "S3BaselineRole"
	}
	return env
}

// TestFunctionTemplates checks the wiring of template.yaml and
// template-org.yaml: function, log group, rule, target, dead letters,
// permission and, for the organization, the bus and its policy.
func TestFunctionTemplates(t *testing.T) {
	for _, path := range []string{cfnSingle, cfnOrg} {
		org := path == cfnOrg
		t.Run(filepath.Base(path), func(t *testing.T) {
			tpl := readTemplate(t, path)
			fnName, fn := tpl.only(t, "AWS::Lambda::Function")
			logName, logGroup := tpl.only(t, "AWS::Logs::LogGroup")
			queueName, queue := tpl.only(t, "AWS::SQS::Queue")
			ruleName, rule := tpl.only(t, "AWS::Events::Rule")
			fnArn, queueArn, ruleArn := getAtt(fnName, "Arn"), getAtt(queueName, "Arn"), getAtt(ruleName, "Arn")

			for key, want := range map[string]any{
				"Runtime":                      "provided.al2023",
				"Handler":                      "bootstrap",
				"Architectures":                []any{"arm64"},
				"Code":                         map[string]any{"S3Bucket": cfnParams["CodeS3Bucket"], "S3Key": cfnParams["CodeS3Key"]},
				"Timeout":                      300,
				"MemorySize":                   256,
				"ReservedConcurrentExecutions": "5", // the parameter's Default, a string here
				"LoggingConfig":                map[string]any{"LogGroup": ref(logName)},
				"Environment":                  map[string]any{"Variables": wantEnv(org)},
			} {
				if d := cmp.Diff(want, fn[key]); d != "" {
					t.Errorf("function %s: %s (-want, +got):\n%s", fnName, key, d)
				}
			}
			if got, want := logGroup["LogGroupName"], "/aws/lambda/"+functionDefault; got != want {
				t.Errorf("log group %s: name %v, want %s (where Lambda logs by default)", logName, got, want)
			}
			if logGroup["RetentionInDays"] == nil {
				t.Errorf("log group %s: no RetentionInDays: the logs would be kept forever", logName)
			}

			if queue["SqsManagedSseEnabled"] != true {
				t.Errorf("queue %s: want SqsManagedSseEnabled: true (events carry request parameters)", queueName)
			}
			if got := queue["MessageRetentionPeriod"]; got != 1209600 {
				t.Errorf("queue %s: MessageRetentionPeriod %v, want 1209600 (14 days)", queueName, got)
			}
			// EventBridge sends a target's dead letters with the queue's
			// resource policy, not a role.
			_, qp := tpl.only(t, "AWS::SQS::QueuePolicy")
			if d := cmp.Diff([]any{ref(queueName)}, qp["Queues"]); d != "" {
				t.Errorf("queue policy: Queues (-want, +got):\n%s", d)
			}
			wantQP := map[string]any{
				"Version": "2012-10-17",
				"Statement": []any{map[string]any{
					"Sid":       "RuleDeadLetters",
					"Effect":    "Allow",
					"Principal": map[string]any{"Service": "events.amazonaws.com"},
					"Action":    "sqs:SendMessage",
					"Resource":  queueArn,
					"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": ruleArn}},
				}},
			}
			if d := cmp.Diff(wantQP, qp["PolicyDocument"]); d != "" {
				t.Errorf("queue policy: document (-want, +got):\n%s", d)
			}

			wantBus := any(nil)
			if org {
				busName, bus := tpl.only(t, "AWS::Events::EventBus")
				if bus["Name"] != centralBusName {
					t.Errorf("bus %s: Name %v, want %s", busName, bus["Name"], centralBusName)
				}
				wantBus = ref(busName)
				_, bp := tpl.only(t, "AWS::Events::EventBusPolicy")
				if d := cmp.Diff(ref(busName), bp["EventBusName"]); d != "" {
					t.Errorf("bus policy: EventBusName (-want, +got):\n%s", d)
				}
				wantStatement := map[string]any{
					"Effect":    "Allow",
					"Principal": "*",
					"Action":    "events:PutEvents",
					"Resource":  getAtt(busName, "Arn"),
					"Condition": map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": cfnParams["OrganizationId"]}},
				}
				if d := cmp.Diff(wantStatement, bp["Statement"]); d != "" {
					t.Errorf("bus policy: Statement (-want, +got); only the organization's principals may put events:\n%s", d)
				}
			}
			if d := cmp.Diff(wantBus, rule["EventBusName"]); d != "" {
				t.Errorf("rule %s: EventBusName (-want, +got):\n%s", ruleName, d)
			}
			if rule["State"] != "ENABLED" {
				t.Errorf("rule %s: State %v, want ENABLED", ruleName, rule["State"])
			}
			targets := list(rule["Targets"])
			if len(targets) != 1 {
				t.Fatalf("rule %s: %d targets, want 1", ruleName, len(targets))
			}
			target := targets[0]
			if got := get(target, "Arn"); got != fnArn {
				t.Errorf("rule target: Arn %v, want %s", got, fnArn)
			}
			if got := get(target, "DeadLetterConfig", "Arn"); got != queueArn {
				t.Errorf("rule target: DeadLetterConfig.Arn %v, want the dead-letter queue %s", got, queueArn)
			}
			for _, k := range []string{"MaximumRetryAttempts", "MaximumEventAgeInSeconds"} {
				if get(target, "RetryPolicy", k) == nil {
					t.Errorf("rule target: RetryPolicy lacks %s", k)
				}
			}

			_, eic := tpl.only(t, "AWS::Lambda::EventInvokeConfig")
			if got := eic["FunctionName"]; got != ref(fnName) {
				t.Errorf("event invoke config: FunctionName %v, want %s", got, ref(fnName))
			}
			if got := eic["MaximumRetryAttempts"]; got != 2 {
				t.Errorf("event invoke config: MaximumRetryAttempts %v, want 2", got)
			}
			if got := get(eic, "DestinationConfig", "OnFailure", "Destination"); got != queueArn {
				t.Errorf("event invoke config: OnFailure %v, want the dead-letter queue %s", got, queueArn)
			}

			_, perm := tpl.only(t, "AWS::Lambda::Permission")
			for key, want := range map[string]any{
				"Action":        "lambda:InvokeFunction",
				"FunctionName":  fnArn,
				"Principal":     "events.amazonaws.com",
				"SourceAccount": pseudoParams["AWS::AccountId"],
				"SourceArn":     ruleArn,
			} {
				if got := perm[key]; got != want {
					t.Errorf("lambda permission: %s %v, want %v", key, got, want)
				}
			}
			if mode := tpl.paramDecl["Mode"]; mode == nil || !cmp.Equal(get(mode, "AllowedValues"), []any{"plan", "apply"}) {
				t.Errorf("parameter Mode: want AllowedValues [plan, apply], got %v", get(mode, "AllowedValues"))
			}
		})
	}
}

// TestMemberTemplate checks the forwarding rule: the default bus, the
// central bus as target, and a role that may put events there only.
func TestMemberTemplate(t *testing.T) {
	tpl := readTemplate(t, cfnMember)
	ruleName, rule := tpl.only(t, "AWS::Events::Rule")
	roleName, role := tpl.only(t, "AWS::IAM::Role")
	if bus := rule["EventBusName"]; bus != nil && bus != defaultBusName {
		t.Errorf("rule %s: EventBusName %v, want the default bus (CloudTrail's events arrive there)", ruleName, bus)
	}
	targets := list(rule["Targets"])
	if len(targets) != 1 {
		t.Fatalf("rule %s: %d targets, want 1", ruleName, len(targets))
	}
	bus := cfnParams["CentralEventBusArn"]
	if got := get(targets[0], "Arn"); got != bus {
		t.Errorf("rule target: Arn %v, want the central bus %s", got, bus)
	}
	if got := get(targets[0], "RoleArn"); got != getAtt(roleName, "Arn") {
		t.Errorf("rule target: RoleArn %v, want %s", got, getAtt(roleName, "Arn"))
	}
	if role["RoleName"] != nil {
		t.Errorf("role %s: a RoleName collides when the StackSet deploys to a second Region", roleName)
	}
	checkTrust(t, cfnMember, role["AssumeRolePolicyDocument"], "events.amazonaws.com")
	policies := list(role["Policies"])
	if len(policies) != 1 {
		t.Fatalf("role %s: %d policies, want 1", roleName, len(policies))
	}
	_, got := policyFromValue(t, cfnMember+" forward", get(policies[0], "PolicyDocument"))
	want := []statement{{Sid: "PutCentralBus", Effect: "Allow", Action: stringList{"events:PutEvents"}, Resource: stringList{bus}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("role %s: policy (-want, +got):\n%s", roleName, d)
	}
}

// TestTerraformModule checks the module's wiring the way
// TestFunctionTemplates checks the templates', by the lines of its blocks
// (there is no HCL parser among the dependencies, and without network
// `terraform validate` cannot fetch the provider).
func TestTerraformModule(t *testing.T) {
	main := readHCL(t, filepath.Join(tfModule, "main.tf"))
	for _, w := range []struct{ typ, name, line string }{
		{"aws_lambda_function", "this", `runtime = "provided.al2023"`},
		{"aws_lambda_function", "this", `handler = "bootstrap"`},
		{"aws_lambda_function", "this", `architectures = ["arm64"]`},
		{"aws_lambda_function", "this", `s3_bucket = var.code_s3_bucket`},
		{"aws_lambda_function", "this", `s3_key = var.code_s3_key`},
		{"aws_lambda_function", "this", `timeout = 300`},
		{"aws_lambda_function", "this", `memory_size = 256`},
		{"aws_lambda_function", "this", `reserved_concurrent_executions = var.reserved_concurrency`},
		{"aws_lambda_function", "this", `log_group = aws_cloudwatch_log_group.this.name`},
		{"aws_lambda_function", "this", `variables = local.environment`},
		{"aws_cloudwatch_log_group", "this", `name = "/aws/lambda/${var.function_name}"`},
		{"aws_cloudwatch_log_group", "this", `retention_in_days = var.log_retention_in_days`},
		{"aws_sqs_queue", "dead_letter", `sqs_managed_sse_enabled = true`},
		{"aws_sqs_queue", "dead_letter", `message_retention_seconds = 1209600 # 14 days, the maximum`},
		{"aws_sqs_queue_policy", "dead_letter", `queue_url = aws_sqs_queue.dead_letter.id`},
		{"aws_sqs_queue_policy", "dead_letter", `Principal = { Service = "events.amazonaws.com" }`},
		{"aws_sqs_queue_policy", "dead_letter", `Action = "sqs:SendMessage"`},
		{"aws_sqs_queue_policy", "dead_letter", `Condition = { ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.this.arn } }`},
		{"aws_iam_role", "function", `Principal = { Service = "lambda.amazonaws.com" }`},
		{"aws_cloudwatch_event_rule", "this", `event_bus_name = local.bus_name`},
		{"aws_cloudwatch_event_target", "this", `rule = aws_cloudwatch_event_rule.this.name`},
		{"aws_cloudwatch_event_target", "this", `event_bus_name = local.bus_name`},
		{"aws_cloudwatch_event_target", "this", `arn = aws_lambda_function.this.arn`},
		{"aws_cloudwatch_event_target", "this", `maximum_retry_attempts = 8`},
		{"aws_lambda_function_event_invoke_config", "this", `function_name = aws_lambda_function.this.function_name`},
		{"aws_lambda_function_event_invoke_config", "this", `maximum_retry_attempts = 2`},
		{"aws_lambda_permission", "events", `action = "lambda:InvokeFunction"`},
		{"aws_lambda_permission", "events", `function_name = aws_lambda_function.this.function_name`},
		{"aws_lambda_permission", "events", `principal = "events.amazonaws.com"`},
		{"aws_lambda_permission", "events", `source_arn = aws_cloudwatch_event_rule.this.arn`},
		{"aws_cloudwatch_event_bus", "org", `name = var.event_bus_name`},
		{"aws_cloudwatch_event_bus_policy", "org", `Action = "events:PutEvents"`},
		{"aws_cloudwatch_event_bus_policy", "org", `Resource = aws_cloudwatch_event_bus.org[0].arn`},
		{"aws_cloudwatch_event_bus_policy", "org", `Condition = { StringEquals = { "aws:PrincipalOrgID" = var.organization_id } }`},
		{"locals", "", `bus_name = var.org ? aws_cloudwatch_event_bus.org[0].name : "default"`},
	} {
		main.wantLine(t, w.typ, w.name, w.line)
	}
	// The DLQ both ways: the target's dead_letter_config and the invoke
	// config's on_failure.
	for _, w := range []struct{ typ, name, sub, line string }{
		{"aws_cloudwatch_event_target", "this", "dead_letter_config", "arn = aws_sqs_queue.dead_letter.arn"},
		{"aws_cloudwatch_event_target", "this", "retry_policy", "maximum_event_age_in_seconds = 3600"},
		{"aws_lambda_function_event_invoke_config", "this", "on_failure", "destination = aws_sqs_queue.dead_letter.arn"},
	} {
		body := main.block(t, w.typ, w.name)
		sub, ok := hclSubBlock(body, w.sub)
		if !ok {
			t.Errorf("main.tf: %s.%s has no %s block", w.typ, w.name, w.sub)
			continue
		}
		if !slices.Contains(hclLines(sub), w.line) {
			t.Errorf("main.tf: %s.%s %s lacks %q", w.typ, w.name, w.sub, w.line)
		}
	}

	// The environment: the same variables and values as the templates'.
	locals := main.block(t, "locals", "")
	env := map[string]any{}
	inputs := strings.NewReplacer(
		"${var.config_s3_bucket}", cfnParams["ConfigS3Bucket"],
		"${var.config_s3_key}", "s3baseline/config/s3baseline.yaml",
		"${var.evidence_bucket}", cfnParams["EvidenceBucket"],
		"var.mode", `"apply"`,
		"var.member_role_name", `"S3BaselineRole"`,
	)
	for _, m := range regexp.MustCompile(`(S3BASELINE_\w+)\s*=\s*("[^"\n]*"|[\w.]+)`).FindAllStringSubmatch(locals, -1) {
		env[m[1]] = strings.Trim(inputs.Replace(m[2]), `"`)
	}
	if d := cmp.Diff(wantEnv(true), env); d != "" {
		t.Errorf("main.tf: environment (org = true) (-want, +got):\n%s", d)
	}
	main.wantLine(t, "locals", "", `var.org ? { S3BASELINE_ROLE_NAME = var.member_role_name } : {},`)

	member := readHCL(t, filepath.Join(tfMember, "main.tf"))
	for _, w := range []struct{ typ, name, line string }{
		{"aws_iam_role", "forward", `Principal = { Service = "events.amazonaws.com" }`},
		{"aws_iam_role_policy", "forward", `Action = ["events:PutEvents"]`},
		{"aws_iam_role_policy", "forward", `Resource = var.central_event_bus_arn`},
		{"aws_cloudwatch_event_target", "forward", `arn = var.central_event_bus_arn`},
		{"aws_cloudwatch_event_target", "forward", `role_arn = aws_iam_role.forward.arn`},
	} {
		member.wantLine(t, w.typ, w.name, w.line)
	}
	if strings.Contains(member.block(t, "aws_cloudwatch_event_rule", "forward"), "event_bus_name") {
		t.Errorf("member/main.tf: the forwarding rule must be on the default bus")
	}
}

// TestLinters runs cfn-lint and terraform fmt where they are installed.
func TestLinters(t *testing.T) {
	t.Run("cfn-lint", func(t *testing.T) {
		bin, err := exec.LookPath("cfn-lint")
		if err != nil {
			t.Skip("cfn-lint is not installed (pip install cfn-lint); the structural tests above still ran")
		}
		// Any finding fails, warnings and informational ones too: a
		// justified one is silenced in the template itself, with
		// Metadata: cfn-lint: config: ignore_checks and the reason.
		out, err := exec.Command(bin, "--format", "parseable", "--", cfnSingle, cfnOrg, cfnMember).CombinedOutput()
		if err != nil {
			t.Errorf("cfn-lint: %v\n%s", err, out)
		}
	})
	t.Run("terraform fmt", func(t *testing.T) {
		bin, err := exec.LookPath("terraform")
		if err != nil {
			t.Skip("terraform is not installed; the structural tests above still ran")
		}
		// No init nor validate: they download the provider.
		cmd := exec.Command(bin, "fmt", "-check", "-recursive", "-diff", tfModule)
		cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("terraform fmt -check: %v\n%s", err, out)
		}
	})
}

// A CloudFormation template, its intrinsic functions resolved as far as the
// tests need: parameters (cfnParams, else their Default) and pseudo
// parameters to their values, a Ref to a resource to "{Ref:Name}", a
// GetAtt to "{GetAtt:Name.Attr}", Fn::Sub to the string with both.
type template struct {
	params    map[string]string
	paramDecl map[string]any
	resources map[string]map[string]any // logical ID -> resource
}

func ref(name string) string          { return "{Ref:" + name + "}" }
func getAtt(name, attr string) string { return "{GetAtt:" + name + "." + attr + "}" }

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// get follows keys through nested maps; nil when one is missing.
func get(v any, keys ...string) any {
	for _, k := range keys {
		v = asMap(v)[k]
	}
	return v
}

func readTemplate(t *testing.T, path string) template {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	raw, err := fromNode(&doc)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tpl := template{params: map[string]string{}, paramDecl: asMap(get(raw, "Parameters")), resources: map[string]map[string]any{}}
	for name, decl := range tpl.paramDecl {
		if v, ok := cfnParams[name]; ok {
			tpl.params[name] = v
		} else if d := get(decl, "Default"); d != nil {
			tpl.params[name] = fmt.Sprint(d)
		} else {
			t.Fatalf("%s: parameter %s has no Default, and cfnParams gives it no value", path, name)
		}
	}
	for name, r := range asMap(get(raw, "Resources")) {
		rendered, err := tpl.render(r)
		if err != nil {
			t.Fatalf("%s: resource %s: %v", path, name, err)
		}
		tpl.resources[name] = asMap(rendered)
	}
	return tpl
}

// only returns the one resource of a type, by logical ID and properties.
func (tpl template) only(t *testing.T, typ string) (string, map[string]any) {
	t.Helper()
	var names []string
	for name, r := range tpl.resources {
		if r["Type"] == typ {
			names = append(names, name)
		}
	}
	if len(names) != 1 {
		t.Fatalf("want one %s, found %v", typ, names)
	}
	return names[0], asMap(tpl.resources[names[0]]["Properties"])
}

var subVar = regexp.MustCompile(`\$\{([^}!]+)\}`)

func (tpl template) value(name string) (string, bool) {
	if v, ok := tpl.params[name]; ok {
		return v, true
	}
	v, ok := pseudoParams[name]
	return v, ok
}

func (tpl template) render(v any) (any, error) {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			r, err := tpl.render(e)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				switch k {
				case "Ref":
					name := str(arg)
					if val, ok := tpl.value(name); ok {
						return val, nil
					}
					return ref(name), nil
				case "Fn::GetAtt":
					l := list(arg)
					if len(l) != 2 {
						return nil, fmt.Errorf("Fn::GetAtt %v: want [Resource, Attribute]", arg)
					}
					return getAtt(str(l[0]), str(l[1])), nil
				case "Fn::Sub":
					s, ok := arg.(string)
					if !ok {
						return nil, fmt.Errorf("Fn::Sub %v: the tests read only the one-string form", arg)
					}
					return subVar.ReplaceAllStringFunc(s, func(m string) string {
						name := m[2 : len(m)-1]
						if val, ok := tpl.value(name); ok {
							return val
						}
						if res, attr, ok := strings.Cut(name, "."); ok {
							return getAtt(res, attr)
						}
						return ref(name)
					}), nil
				}
				if strings.HasPrefix(k, "Fn::") {
					return nil, fmt.Errorf("%s: teach template.render in deploy/eventdriven_test.go this function", k)
				}
			}
		}
		out := map[string]any{}
		for k, e := range v {
			r, err := tpl.render(e)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}

// fromNode decodes YAML into plain values, turning CloudFormation's short
// forms (!Ref X, !GetAtt A.B, !Sub s, ...) into the long ones.
func fromNode(n *yaml.Node) (any, error) {
	if tag := n.Tag; strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") {
		inner := *n
		inner.Tag = ""
		var arg any
		if n.Kind == yaml.ScalarNode {
			arg = n.Value
		} else {
			var err error
			if arg, err = fromNode(&inner); err != nil {
				return nil, err
			}
		}
		switch name := tag[1:]; name {
		case "Ref", "Condition":
			return map[string]any{name: arg}, nil
		case "GetAtt":
			if s, ok := arg.(string); ok {
				res, attr, _ := strings.Cut(s, ".")
				arg = []any{res, attr}
			}
			return map[string]any{"Fn::GetAtt": arg}, nil
		default:
			return map[string]any{"Fn::" + name: arg}, nil
		}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return nil, errors.New("want one YAML document")
		}
		return fromNode(n.Content[0])
	case yaml.AliasNode:
		return fromNode(n.Alias)
	case yaml.SequenceNode:
		out := []any{}
		for _, c := range n.Content {
			v, err := fromNode(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if _, dup := out[k]; dup {
				return nil, fmt.Errorf("line %d: key %s twice", n.Content[i].Line, k)
			}
			v, err := fromNode(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	}
}

// A Terraform file, read as text: top-level blocks found by their header
// and matching braces, their lines with the whitespace collapsed.
type hclFile struct {
	path, src string
}

func readHCL(t *testing.T, path string) hclFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return hclFile{path, string(b)}
}

// block returns the body of `resource "typ" "name" {...}`, or of `typ {...}`
// when name is empty (locals).
func (f hclFile) block(t *testing.T, typ, name string) string {
	t.Helper()
	header := fmt.Sprintf("resource %q %q", typ, name)
	if name == "" {
		header = typ
	}
	src := "\n" + f.src
	i := strings.Index(src, "\n"+header+" {")
	if i < 0 {
		t.Fatalf("%s: no %s block", f.path, header)
	}
	body, ok := hclSubBlock(src[i+1:], header)
	if !ok {
		t.Fatalf("%s: %s: unbalanced braces", f.path, header)
	}
	return body
}

func (f hclFile) wantLine(t *testing.T, typ, name, line string) {
	t.Helper()
	if !slices.Contains(hclLines(f.block(t, typ, name)), line) {
		t.Errorf("%s: %s %s lacks the line %q", f.path, typ, name, line)
	}
}

// hclSubBlock returns the body of the first `name {` block in src.
func hclSubBlock(src, name string) (string, bool) {
	i := strings.Index(src, name+" {")
	if i < 0 {
		return "", false
	}
	start := i + len(name) + 2
	depth := 1
	for j := start; j < len(src); j++ {
		switch src[j] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return src[start:j], true
			}
		}
	}
	return "", false
}

var spaces = regexp.MustCompile(`\s+`)

func hclLines(body string) []string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if l = strings.TrimSpace(spaces.ReplaceAllString(l, " ")); l != "" {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}
