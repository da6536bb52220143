package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/s3baseline/s3baseline/baselines"
)

// The code whose AWS calls the policies must cover, and the CLI whose flags
// the CronJobs use.
const (
	providerDir = "../providers/aws"
	cliDir      = ".."
)

const (
	sdkServicePath = "github.com/aws/aws-sdk-go-v2/service/"
	stscredsPath   = "github.com/aws/aws-sdk-go-v2/credentials/stscreds"
)

// A call is one AWS API operation the code makes, named the SDK's way:
// Service is the SDK package (s3, s3control, kms, ...), Op the operation.
type call struct {
	Service, Op string
}

func (c call) String() string { return c.Service + "." + c.Op }

// iamPrefix is the IAM service prefix of each SDK package the code may use.
// An SDK package missing here fails the test: decide its prefix first.
var iamPrefix = map[string]string{
	"securityhub":   "securityhub",
	"s3":            "s3",
	"s3control":     "s3", // S3 Control is authorized as s3:* actions
	"kms":           "kms",
	"sns":           "sns",
	"sts":           "sts",
	"cloudtrail":    "cloudtrail",
	"iam":           "iam",
	"shield":        "shield",
	"organizations": "organizations",
	"account":       "account",
}

// renamed holds the operations whose IAM action is not named after the
// operation. Sources: the "Permissions" section of each operation's page in
// the Amazon S3 API Reference, and "Actions, resources, and condition keys
// for Amazon S3" in the Service Authorization Reference. Checked against
// those pages: DeletePublicAccessBlock, DeleteBucketEncryption,
// DeleteBucketOwnershipControls, HeadBucket and the S3 Control
// Put/DeletePublicAccessBlock. The rest are from memory of the same pages
// and long use; the least certain is DeleteBucketTagging ->
// s3:PutBucketTagging (there is no s3:DeleteBucketTagging action, to my
// knowledge), which the code does not call today.
var renamed = map[string]map[string]string{
	"s3": {
		"GetPublicAccessBlock":               "GetBucketPublicAccessBlock",
		"PutPublicAccessBlock":               "PutBucketPublicAccessBlock",
		"DeletePublicAccessBlock":            "PutBucketPublicAccessBlock",
		"GetBucketEncryption":                "GetEncryptionConfiguration",
		"PutBucketEncryption":                "PutEncryptionConfiguration",
		"DeleteBucketEncryption":             "PutEncryptionConfiguration",
		"GetBucketNotificationConfiguration": "GetBucketNotification",
		"PutBucketNotificationConfiguration": "PutBucketNotification",
		"ListBuckets":                        "ListAllMyBuckets",
		"HeadBucket":                         "ListBucket",
		"DeleteBucketOwnershipControls":      "PutBucketOwnershipControls",
		"DeleteBucketTagging":                "PutBucketTagging",
		// API_ListObjectsV2, Permissions: "You must have permission to
		// perform the s3:ListBucket action."
		"ListObjectsV2": "ListBucket",
		// API_GetBucketLifecycleConfiguration: "a user must have the
		// s3:GetLifecycleConfiguration permission"; API_GetObjectLockConfiguration
		// (Service Authorization Reference): s3:GetBucketObjectLockConfiguration.
		"GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
		"GetObjectLockConfiguration":      "GetBucketObjectLockConfiguration",
		// API_ListDirectoryBuckets: "You must have the
		// s3express:ListAllMyDirectoryBuckets permission".
		"ListDirectoryBuckets": "s3express:ListAllMyDirectoryBuckets",
	},
	"s3control": {
		// Access points and Multi-Region Access Points are authorized by
		// s3:ListAccessPoints, s3:GetAccessPoint and
		// s3:ListMultiRegionAccessPoints (API_control_ListAccessPoints,
		// API_control_GetAccessPoint, API_control_ListMultiRegionAccessPoints).
		"ListAccessPoints":            "ListAccessPoints",
		"GetAccessPoint":              "GetAccessPoint",
		"ListMultiRegionAccessPoints": "ListMultiRegionAccessPoints",
		"GetPublicAccessBlock":        "GetAccountPublicAccessBlock",
		"PutPublicAccessBlock":        "PutAccountPublicAccessBlock",
		"DeletePublicAccessBlock":     "PutAccountPublicAccessBlock",
	},
}

// sameName holds the operations known to be authorized by the IAM action
// of the same name. It is an allowlist on purpose: an operation in neither
// table fails the test, so every new call gets a conscious look at the
// Service Authorization Reference (S3 in particular renames many).
var sameName = map[string][]string{
	"s3": {
		"CreateBucket",
		"GetBucketLocation",
		"GetBucketLogging", "PutBucketLogging",
		"GetBucketOwnershipControls", "PutBucketOwnershipControls",
		"GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy",
		"GetBucketPolicyStatus",
		"GetBucketTagging", "PutBucketTagging",
		"GetBucketWebsite",
		"GetBucketAcl",
		"GetBucketVersioning", "PutBucketVersioning",
		// Objects of the journal bucket. A conditional write with
		// If-Match needs s3:GetObject as well as s3:PutObject, a
		// conditional delete with an ETag s3:GetObject as well as
		// s3:DeleteObject (AWS-doc "How to prevent object overwrites with
		// conditional writes", "How to perform conditional deletes").
		"PutObject", "GetObject", "DeleteObject",
	},
	"kms": {
		"DescribeKey", "CreateKey", "CreateAlias", "ListAliases",
		"GetKeyPolicy", "PutKeyPolicy",
		// API_GenerateMac / API_VerifyMac, "Required permissions:
		// kms:GenerateMac (key policy)", "kms:VerifyMac (key policy)".
		"GenerateMac", "VerifyMac",
	},
	"sns": {"GetTopicAttributes", "CreateTopic", "SetTopicAttributes"},
	"sts": {"GetCallerIdentity", "AssumeRole"},
	"cloudtrail": {
		"DescribeTrails", "GetTrail", "GetTrailStatus",
		"GetEventSelectors", "GetInsightSelectors",
		"CreateTrail", "UpdateTrail", "DeleteTrail",
		"StartLogging", "StopLogging",
		"PutEventSelectors", "PutInsightSelectors",
	},
	"iam": {
		"ListUsers", "GetLoginProfile", "ListMFADevices", "GetAccountSummary",
		"GenerateCredentialReport", "GetCredentialReport",
	},
	"shield":        {"GetSubscriptionState", "DescribeSubscription"},
	"organizations": {"ListAccounts", "DescribeOrganization", "DescribeEffectivePolicy", "ListPoliciesForTarget", "ListRoots", "DescribePolicy"},
	// AWS-doc "Actions, resources, and condition keys for AWS Account
	// Management": account:ListRegions (the IAM example "Allows enabling
	// and disabling AWS Regions" grants it to view the Regions).
	"account": {"ListRegions"},
	// s3baseline report --import-to-security-hub (AWS-doc
	// API_BatchImportFindings: securityhub:BatchImportFindings).
	"securityhub": {"BatchImportFindings"},
}

// waiterOps maps the SDK waiters the code may use to the operation each
// polls.
var waiterOps = map[string]string{
	"s3.BucketExists":    "HeadBucket",
	"s3.BucketNotExists": "HeadBucket",
}

// readOps are operations that only read although their names do not start
// with Get, List, Describe or Head. AssumeRole is how plan reaches each
// account; IAM's access-level table calls GenerateCredentialReport "Read"
// (it builds the report IAM serves, and changes nothing in the account).
var readOps = map[string]bool{
	"sts.AssumeRole":               true,
	"iam.GenerateCredentialReport": true,
}

// extraGrants are actions the policies grant although no SDK call in
// providers/aws names them, each with its reason. Keep it short.
var extraGrants = map[string]string{
	// GetBucketEncryption of a directory bucket is authorized by the
	// s3express action of the same name (API_GetBucketEncryption,
	// "Directory bucket permissions"); the SDK call is the one the
	// general purpose buckets use, which derives s3:GetEncryptionConfiguration.
	"s3express:GetEncryptionConfiguration": "GetBucketEncryption of a directory bucket (providers/aws/directory.go)",
}

// readVerbs are the operation-name prefixes that mark a read.
var readVerbs = []string{"Get", "List", "Describe", "Head"}

func isReadOp(c call) bool {
	return readOps[c.String()] || hasAnyPrefix(c.Op, readVerbs)
}

// isReadAction says whether an IAM action, by its name, only reads.
func isReadAction(action string) bool {
	svc, name, _ := strings.Cut(action, ":")
	for op := range readOps {
		s, o, _ := strings.Cut(op, ".")
		if iamPrefix[s] == svc && o == name {
			return true
		}
	}
	return hasAnyPrefix(name, readVerbs)
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// iamAction is the IAM action that authorizes c.
func iamAction(c call) (string, error) {
	prefix, ok := iamPrefix[c.Service]
	if !ok {
		return "", fmt.Errorf("SDK package %q has no IAM service prefix in iamPrefix (deploy/deploy_test.go): add it", c.Service)
	}
	if name, ok := renamed[c.Service][c.Op]; ok {
		if strings.Contains(name, ":") {
			return name, nil // authorized by another service's action
		}
		return prefix + ":" + name, nil
	}
	if slices.Contains(sameName[c.Service], c.Op) {
		return prefix + ":" + c.Op, nil
	}
	return "", fmt.Errorf("no IAM action known for %s: look it up in the Service Authorization Reference "+
		"(\"Actions, resources, and condition keys for ...\") and add it to renamed or sameName in deploy/deploy_test.go, "+
		"then grant it in deploy/iam/apply-policy.json (and plan-policy.json if it only reads)", c)
}

// derivedCall is a call with where the code makes it.
type derivedCall struct {
	call
	Action string
	Read   bool
	Pos    string
}

// deriveCalls finds the AWS calls in the non-test Go files under dir: every
// PKG.OpInput (a composite literal &s3.GetBucketPolicyInput{...}, or any
// other mention of the type), PKG.NewOpPaginator and PKG.NewXWaiter, where
// PKG is an import of an SDK service package, and stscreds'
// NewAssumeRoleProvider (sts:AssumeRole). It cannot see a call whose input
// is a bare nil; it reports those as problems instead.
func deriveCalls(dir string) (map[call]string, []string, error) {
	calls := map[call]string{}
	var problems []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" || (path != dir && strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		services := map[string]string{} // local import name -> SDK package
		imported := map[string]bool{}   // every local import name
		stscreds := ""
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			local := p[strings.LastIndex(p, "/")+1:]
			if imp.Name != nil {
				local = imp.Name.Name
			}
			imported[local] = true
			switch {
			case p == stscredsPath:
				stscreds = local
			case strings.HasPrefix(p, sdkServicePath) && !strings.Contains(strings.TrimPrefix(p, sdkServicePath), "/"):
				services[local] = strings.TrimPrefix(p, sdkServicePath)
			}
		}
		if len(services) == 0 && stscreds == "" {
			return nil
		}
		add := func(c call, at token.Pos) {
			if _, seen := calls[c]; !seen {
				calls[c] = fset.Position(at).String()
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				pkg, ok := n.X.(*ast.Ident)
				if !ok {
					return true
				}
				name := n.Sel.Name
				if pkg.Name == stscreds && stscreds != "" {
					switch {
					case name == "NewAssumeRoleProvider":
						add(call{"sts", "AssumeRole"}, n.Pos())
					case strings.HasPrefix(name, "New"):
						problems = append(problems, fmt.Sprintf("%s: stscreds.%s: teach deriveCalls in deploy/deploy_test.go which STS call it makes",
							fset.Position(n.Pos()), name))
					}
					return true
				}
				svc, ok := services[pkg.Name]
				if !ok {
					return true
				}
				switch {
				case strings.HasSuffix(name, "Input") && len(name) > len("Input"):
					add(call{svc, strings.TrimSuffix(name, "Input")}, n.Pos())
				case strings.HasPrefix(name, "New") && strings.HasSuffix(name, "Paginator"):
					add(call{svc, strings.TrimSuffix(strings.TrimPrefix(name, "New"), "Paginator")}, n.Pos())
				case strings.HasPrefix(name, "New") && strings.HasSuffix(name, "Waiter"):
					w := svc + "." + strings.TrimSuffix(strings.TrimPrefix(name, "New"), "Waiter")
					if op, ok := waiterOps[w]; ok {
						add(call{svc, op}, n.Pos())
					} else {
						problems = append(problems, fmt.Sprintf("%s: waiter %s: add the operation it polls to waiterOps in deploy/deploy_test.go",
							fset.Position(n.Pos()), w))
					}
				}
			case *ast.CallExpr:
				// client.Op(ctx, nil): an SDK call the scan above cannot
				// see. Only looked for in files that import an SDK service.
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok || len(services) == 0 || len(n.Args) < 2 || !sel.Sel.IsExported() {
					return true
				}
				if id, ok := n.Args[1].(*ast.Ident); ok && id.Name == "nil" {
					if x, ok := sel.X.(*ast.Ident); ok && imported[x.Name] {
						return true // a package function, not a client method
					}
					problems = append(problems, fmt.Sprintf("%s: %s(..., nil, ...) looks like an AWS SDK call with a nil input, which deploy_test.go cannot see: "+
						"pass an explicit &svc.%sInput{} instead", fset.Position(n.Pos()), sel.Sel.Name, sel.Sel.Name))
				}
			}
			return true
		})
		return nil
	})
	return calls, problems, err
}

// derive maps every call of the code to its IAM action, failing the test
// for calls it cannot map.
func derive(t *testing.T) []derivedCall {
	t.Helper()
	calls, problems, err := deriveCalls(providerDir)
	if err != nil {
		t.Fatalf("scanning %s: %v", providerDir, err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	if len(calls) == 0 {
		t.Fatalf("found no AWS SDK calls in %s: has the provider moved?", providerDir)
	}
	var out []derivedCall
	for c, pos := range calls {
		action, err := iamAction(c)
		if err != nil {
			t.Errorf("%s: %v", pos, err)
			continue
		}
		d := derivedCall{call: c, Action: action, Read: isReadOp(c), Pos: pos}
		if d.Read && !isReadAction(action) {
			t.Errorf("%s: %s reads, but maps to %s, which by its name writes: check the mapping", pos, c, action)
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b derivedCall) int { return strings.Compare(a.Action+a.Op, b.Action+b.Op) })
	return out
}

// stringList is an IAM policy element that is a string or a list of them.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("want a string or a list of strings")
	}
	*l = many
	return nil
}

type statement struct {
	Sid         string
	Effect      string
	Principal   json.RawMessage
	Action      stringList
	NotAction   stringList
	Resource    stringList
	NotResource stringList
	Condition   json.RawMessage
}

type policy struct {
	Version   string
	Id        string
	Statement []statement
}

// readPolicy parses an IAM policy document strictly: unknown keys (a typo
// like "Actions") are errors, as IAM would make them.
func readPolicy(t *testing.T, path string) policy {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p policy
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s: not a valid policy document: %v", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("%s: trailing data after the policy document", path)
	}
	if p.Version != "2012-10-17" {
		t.Errorf("%s: Version %q, want \"2012-10-17\" (the older version has no policy variables)", path, p.Version)
	}
	if len(p.Statement) == 0 {
		t.Errorf("%s: no statements", path)
	}
	return p
}

var (
	sidPattern    = regexp.MustCompile(`^[A-Za-z0-9]+$`)
	actionPattern = regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z0-9]+$`)
)

// readIdentityPolicy reads an identity policy and checks its shape: Allow
// statements only, each with a unique alphanumeric Sid, explicit action
// names (no wildcards, no NotAction) of one service per statement, no
// action granted twice. It returns the granted actions and the statements.
func readIdentityPolicy(t *testing.T, path string) (map[string]bool, []statement) {
	t.Helper()
	p := readPolicy(t, path)
	granted := map[string]bool{}
	sids := map[string]bool{}
	for i, s := range p.Statement {
		where := fmt.Sprintf("%s: statement %d (%q)", path, i, s.Sid)
		if !sidPattern.MatchString(s.Sid) {
			t.Errorf("%s: Sid must be non-empty and alphanumeric", where)
		}
		if sids[s.Sid] {
			t.Errorf("%s: duplicate Sid", where)
		}
		sids[s.Sid] = true
		if s.Effect != "Allow" {
			t.Errorf("%s: Effect %q, want Allow", where, s.Effect)
		}
		if s.Principal != nil {
			t.Errorf("%s: an identity policy has no Principal", where)
		}
		if s.NotAction != nil || s.NotResource != nil {
			t.Errorf("%s: NotAction/NotResource grant more than they seem; name the actions", where)
		}
		if len(s.Action) == 0 || len(s.Resource) == 0 {
			t.Errorf("%s: needs Action and Resource", where)
		}
		service := ""
		for _, a := range s.Action {
			if !actionPattern.MatchString(a) {
				t.Errorf("%s: action %q: want an explicit service:Action, no wildcards", where, a)
				continue
			}
			svc, _, _ := strings.Cut(a, ":")
			if service == "" {
				service = svc
			} else if svc != service {
				t.Errorf("%s: mixes %s and %s actions: one service per statement", where, service, svc)
			}
			if granted[a] {
				t.Errorf("%s: %s is granted twice", where, a)
			}
			granted[a] = true
		}
	}
	return granted, p.Statement
}

// forbidden are actions no policy here may grant, whatever the code does:
// subscribing to Shield Advanced is a one-year commitment, and the tool
// only reports on IAM.
var forbidden = []struct{ prefix, why string }{
	{"shield:Create", "Shield Advanced is a one-year paid commitment; the tool only reports"},
	{"shield:Update", "the tool only reports on Shield"},
	{"shield:Delete", "the tool only reports on Shield"},
	{"iam:Create", "the tool never writes IAM"},
	{"iam:Put", "the tool never writes IAM"},
	{"iam:Attach", "the tool never writes IAM"},
	{"iam:Delete", "the tool never writes IAM"},
	{"iam:Update", "the tool never writes IAM"},
	{"iam:Enable", "the tool never writes IAM"},
	{"iam:PassRole", "the tool never hands a role to a service"},
}

func checkForbidden(t *testing.T, path string, granted map[string]bool) {
	t.Helper()
	for a := range granted {
		for _, f := range forbidden {
			if strings.HasPrefix(a, f.prefix) {
				t.Errorf("%s grants %s: %s", path, a, f.why)
			}
		}
		svc, _, _ := strings.Cut(a, ":")
		if (svc == "iam" || svc == "shield") && !isReadAction(a) {
			t.Errorf("%s grants %s: only reads of %s are allowed", path, a, svc)
		}
	}
}

const (
	planPolicy  = "iam/plan-policy.json"
	applyPolicy = "iam/apply-policy.json"
)

// TestPoliciesCoverTheCode derives the AWS calls from providers/aws and
// checks both policies against them: apply (and rollback) may need every
// call, plan every read and nothing else, and neither policy grants what
// the code never calls.
func TestPoliciesCoverTheCode(t *testing.T) {
	calls := derive(t)
	var lines []string
	derived, reads := map[string]bool{}, map[string]bool{}
	for _, c := range calls {
		kind := "write"
		if c.Read {
			kind = "read "
			reads[c.Action] = true
		}
		derived[c.Action] = true
		lines = append(lines, fmt.Sprintf("  %s  %-40s <- %s", kind, c.Action, c.call))
	}
	t.Logf("AWS calls derived from %s (%d calls, %d actions):\n%s", providerDir, len(calls), len(derived), strings.Join(lines, "\n"))

	plan, _ := readIdentityPolicy(t, planPolicy)
	apply, _ := readIdentityPolicy(t, applyPolicy)
	checkForbidden(t, planPolicy, plan)
	checkForbidden(t, applyPolicy, apply)

	for _, c := range calls {
		if !apply[c.Action] {
			t.Errorf("%s calls %s, but %s does not grant %s", c.Pos, c.call, applyPolicy, c.Action)
		}
		if c.Read && !plan[c.Action] {
			t.Errorf("%s calls %s (a read), but %s does not grant %s", c.Pos, c.call, planPolicy, c.Action)
		}
	}
	_, planStatements := readIdentityPolicy(t, planPolicy)
	for _, s := range planStatements {
		for _, a := range s.Action {
			// The one write plan makes is its own report, under the
			// reports prefix of the journal bucket and nowhere else.
			if !isReadAction(a) && !(a == "s3:PutObject" && slices.Equal(s.Resource, []string{planReports})) {
				t.Errorf("%s grants %s on %v, which writes: plan must only read (and write its report under %s)", planPolicy, a, s.Resource, planReports)
			}
		}
	}
	for path, granted := range map[string]map[string]bool{planPolicy: plan, applyPolicy: apply} {
		for a := range granted {
			if !derived[a] && extraGrants[a] == "" {
				t.Errorf("%s grants %s, which no call in %s needs: remove it, or add it with its reason to extraGrants in deploy/deploy_test.go",
					path, a, providerDir)
			}
		}
	}
	for a := range extraGrants {
		if derived[a] {
			t.Errorf("extraGrants lists %s, but the code calls it now: remove it from the list", a)
		}
		if !apply[a] && !plan[a] {
			t.Errorf("extraGrants lists %s, which neither policy grants: remove it from the list", a)
		}
	}
}

// TestMappingTablesAreConsistent keeps the hand-written tables honest.
func TestMappingTablesAreConsistent(t *testing.T) {
	for svc, ops := range renamed {
		if _, ok := iamPrefix[svc]; !ok {
			t.Errorf("renamed has %s, which iamPrefix lacks", svc)
		}
		for op, action := range ops {
			if slices.Contains(sameName[svc], op) {
				t.Errorf("%s.%s is in both renamed and sameName", svc, op)
			}
			full := iamPrefix[svc] + ":" + action
			if strings.Contains(action, ":") {
				full = action
			}
			if isReadOp(call{svc, op}) != isReadAction(full) {
				t.Errorf("%s.%s -> %s: one reads and the other writes", svc, op, action)
			}
		}
	}
	for svc := range sameName {
		if _, ok := iamPrefix[svc]; !ok {
			t.Errorf("sameName has %s, which iamPrefix lacks", svc)
		}
	}
}

// TestTrustPolicies checks the member roles' trust policies: sts:AssumeRole
// for exactly the runner role named in the matching CronJob's ServiceAccount.
func TestTrustPolicies(t *testing.T) {
	for _, j := range jobs {
		p := readPolicy(t, j.trust)
		if len(p.Statement) != 1 {
			t.Fatalf("%s: want one statement, got %d", j.trust, len(p.Statement))
		}
		s := p.Statement[0]
		if s.Effect != "Allow" || !slices.Equal(s.Action, stringList{"sts:AssumeRole"}) {
			t.Errorf("%s: want Allow sts:AssumeRole, got %s %v", j.trust, s.Effect, s.Action)
		}
		var principal struct{ AWS stringList }
		if err := json.Unmarshal(s.Principal, &principal); err != nil || len(principal.AWS) != 1 {
			t.Fatalf("%s: want Principal {\"AWS\": ROLE_ARN}, got %s", j.trust, s.Principal)
		}
		if !strings.HasPrefix(principal.AWS[0], "arn:aws:iam::MANAGEMENT_ACCOUNT_ID:role/") {
			t.Errorf("%s: principal %s: want the runner role in the management account (placeholder MANAGEMENT_ACCOUNT_ID)", j.trust, principal.AWS[0])
		}
		docs := readManifests(t, j.file)
		sa := docs.serviceAccount(t, j.file, docs.cronJob(t, j.file).Spec.JobTemplate.Spec.Template.Spec.ServiceAccountName)
		if got := sa.Metadata.Annotations["eks.amazonaws.com/role-arn"]; got != principal.AWS[0] {
			t.Errorf("%s trusts %s, but %s runs as %s", j.trust, principal.AWS[0], j.file, got)
		}
	}
}

// The Kubernetes objects, as far as the tests look at them.
type manifest struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"` // a ConfigMap's
	Spec struct {
		Schedule          string `yaml:"schedule"`
		ConcurrencyPolicy string `yaml:"concurrencyPolicy"`
		JobTemplate       struct {
			Spec struct {
				CompletionMode       string `yaml:"completionMode"`
				Completions          *int   `yaml:"completions"`
				Parallelism          *int   `yaml:"parallelism"`
				BackoffLimit         *int   `yaml:"backoffLimit"`
				BackoffLimitPerIndex *int   `yaml:"backoffLimitPerIndex"`
				PodFailurePolicy     *struct {
					Rules []struct {
						Action string `yaml:"action"`
					} `yaml:"rules"`
				} `yaml:"podFailurePolicy"`
				Template struct {
					Spec podSpec `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		} `yaml:"jobTemplate"`
	} `yaml:"spec"`
}

type securityContext struct {
	RunAsNonRoot           *bool `yaml:"runAsNonRoot"`
	ReadOnlyRootFilesystem *bool `yaml:"readOnlyRootFilesystem"`
}

type podSpec struct {
	Volumes []struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
	} `yaml:"volumes"`
	ServiceAccountName string          `yaml:"serviceAccountName"`
	RestartPolicy      string          `yaml:"restartPolicy"`
	SecurityContext    securityContext `yaml:"securityContext"`
	Containers         []struct {
		Name    string   `yaml:"name"`
		Command []string `yaml:"command"`
		Args    []string `yaml:"args"`
		Env     []struct {
			Name      string `yaml:"name"`
			Value     string `yaml:"value"`
			ValueFrom *struct {
				FieldRef *struct {
					FieldPath string `yaml:"fieldPath"`
				} `yaml:"fieldRef"`
			} `yaml:"valueFrom"`
		} `yaml:"env"`
		Resources struct {
			Limits map[string]string `yaml:"limits"`
		} `yaml:"resources"`
		SecurityContext securityContext `yaml:"securityContext"`
		VolumeMounts    []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	} `yaml:"containers"`
}

type manifests []manifest

func readManifests(t *testing.T, path string) manifests {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out manifests
	dec := yaml.NewDecoder(f)
	for {
		var m manifest
		err := dec.Decode(&m)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, m)
	}
}

func (ms manifests) cronJob(t *testing.T, path string) manifest {
	t.Helper()
	var found []manifest
	for _, m := range ms {
		if m.Kind == "CronJob" {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: want one CronJob, found %d", path, len(found))
	}
	return found[0]
}

func (ms manifests) serviceAccount(t *testing.T, path, name string) manifest {
	t.Helper()
	return ms.named(t, path, "ServiceAccount", name)
}

func (ms manifests) named(t *testing.T, path, kind, name string) manifest {
	t.Helper()
	for _, m := range ms {
		if m.Kind == kind && m.Metadata.Name == name {
			return m
		}
	}
	t.Fatalf("%s: no %s %q", path, kind, name)
	return manifest{}
}

// configFile holds the ConfigMap with the s3baseline.yaml the CronJobs use.
const configFile = "kubernetes/config.yaml"

// TestConfigMapLoads reads every s3baseline.yaml in the ConfigMap with the
// tool's own loader: an unknown key, control or baseline fails here.
func TestConfigMapLoads(t *testing.T) {
	var n int
	for _, m := range readManifests(t, configFile) {
		if m.Kind != "ConfigMap" {
			continue
		}
		for key, body := range m.Data {
			n++
			path := filepath.Join(t.TempDir(), key)
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := baselines.LoadConfig(path)
			if err != nil {
				t.Errorf("%s: ConfigMap %s, key %s: %v", configFile, m.Metadata.Name, key, err)
				continue
			}
			if cfg.Baseline == nil {
				t.Errorf("%s: ConfigMap %s, key %s: sets no baseline, and the CronJobs pass no --baseline", configFile, m.Metadata.Name, key)
			}
		}
	}
	if n == 0 {
		t.Fatalf("%s: no ConfigMap data", configFile)
	}
}

// jobs are the scheduled runs and what each must agree with.
var jobs = []struct {
	file    string
	command string   // the s3baseline command it runs
	flags   []string // flags it must pass
	policy  string   // the identity policy of its runner role
	trust   string   // the trust policy of the member role it assumes
}{
	{"kubernetes/cronjob.yaml", "apply", []string{"--auto-approve", "--accounts", "--role-name", "--shard", "--journal", "--report", "--log-format"},
		applyPolicy, "iam/member-role-trust.json"},
	{"kubernetes/cronjob-drift.yaml", "plan", []string{"--detailed-exitcode", "--accounts", "--role-name", "--shard", "--report", "--log-format"},
		planPolicy, "iam/member-audit-role-trust.json"},
}

// planReports is where the plan runner may write: its reports.
const planReports = "arn:aws:s3:::JOURNAL_BUCKET/s3baseline/reports/*"

const completionIndexField = "metadata.annotations['batch.kubernetes.io/job-completion-index']"

var (
	shardArg = regexp.MustCompile(`^\$\(JOB_COMPLETION_INDEX\)/([1-9][0-9]*)$`)
	varRef   = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
)

// flagValue returns the value of --name in args ("--name v" or "--name=v").
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

func TestCronJobs(t *testing.T) {
	configMaps := readManifests(t, configFile)
	for _, j := range jobs {
		t.Run(filepath.Base(j.file), func(t *testing.T) {
			docs := readManifests(t, j.file)
			cj := docs.cronJob(t, j.file)
			if cj.APIVersion != "batch/v1" {
				t.Errorf("apiVersion %q, want batch/v1", cj.APIVersion)
			}
			if cj.Spec.ConcurrencyPolicy != "Forbid" {
				t.Errorf("concurrencyPolicy %q, want Forbid: two runs at once would race on the same buckets", cj.Spec.ConcurrencyPolicy)
			}
			job := cj.Spec.JobTemplate.Spec
			if job.CompletionMode != "Indexed" {
				t.Errorf("completionMode %q, want Indexed: each pod takes the shard of its index", job.CompletionMode)
			}
			if job.BackoffLimit == nil && job.BackoffLimitPerIndex == nil {
				t.Errorf("set backoffLimitPerIndex (or backoffLimit): the default of 6 retries is too many for a run over every account")
			}
			if job.PodFailurePolicy != nil {
				for _, r := range job.PodFailurePolicy.Rules {
					if r.Action == "FailIndex" && job.BackoffLimitPerIndex == nil {
						t.Errorf("podFailurePolicy action FailIndex needs backoffLimitPerIndex")
					}
				}
			}
			pod := job.Template.Spec
			if pod.RestartPolicy != "Never" {
				t.Errorf("restartPolicy %q, want Never", pod.RestartPolicy)
			}
			if len(pod.Containers) != 1 {
				t.Fatalf("want one container, got %d", len(pod.Containers))
			}
			c := pod.Containers[0]
			if !slices.Equal(c.Command, []string{"s3baseline"}) || len(c.Args) == 0 || c.Args[0] != j.command {
				t.Errorf("runs %v %v, want s3baseline %s ...", c.Command, c.Args, j.command)
			}

			// Sharding: completions == parallelism == N in --shard INDEX/N.
			shard, _ := flagValue(c.Args, "--shard")
			m := shardArg.FindStringSubmatch(shard)
			if m == nil {
				t.Fatalf("--shard %q, want $(JOB_COMPLETION_INDEX)/N", shard)
			}
			n, _ := strconv.Atoi(m[1])
			if job.Completions == nil || *job.Completions != n {
				t.Errorf("completions %v, want %d, the N of --shard %s", deref(job.Completions), n, shard)
			}
			if job.Parallelism == nil || *job.Parallelism != n {
				t.Errorf("parallelism %v, want %d, the N of --shard %s", deref(job.Parallelism), n, shard)
			}

			// $(VAR) in args is only expanded for variables in the
			// container's env; the index comes from the pod annotation.
			env := map[string]string{}
			for _, e := range c.Env {
				switch {
				case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil:
					env[e.Name] = "fieldRef:" + e.ValueFrom.FieldRef.FieldPath
				default:
					env[e.Name] = e.Value
				}
			}
			if got := env["JOB_COMPLETION_INDEX"]; got != "fieldRef:"+completionIndexField {
				t.Errorf("env JOB_COMPLETION_INDEX = %q, want a fieldRef to %s", got, completionIndexField)
			}
			for _, a := range c.Args {
				for _, ref := range varRef.FindAllStringSubmatch(a, -1) {
					if _, ok := env[ref[1]]; !ok {
						t.Errorf("arg %q uses $(%s), which the container's env does not define: it would reach the tool unexpanded", a, ref[1])
					}
				}
			}

			for _, f := range j.flags {
				if !slices.Contains(c.Args, f) && !slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, f+"=") }) {
					t.Errorf("args lack %s", f)
				}
			}
			if v, _ := flagValue(c.Args, "--log-format"); v != "json" {
				t.Errorf("--log-format %q, want json: the logs are what outlives the pod", v)
			}

			// The evidence outlives the pod: the report, and apply's
			// journal, are in S3.
			durable := []string{"--report"}
			if j.command == "apply" {
				durable = append(durable, "--journal", "--lock")
			}
			for _, f := range durable {
				if v, _ := flagValue(c.Args, f); !strings.HasPrefix(v, "s3://JOURNAL_BUCKET/") {
					t.Errorf("%s %q: want s3://JOURNAL_BUCKET/...: on the pod's disk it dies with the pod", f, v)
				}
			}
			if v, _ := flagValue(c.Args, "--report"); !strings.Contains(v, "$(JOB_NAME)") {
				t.Errorf("--report %s: put $(JOB_NAME) in the name, or each run overwrites the last one's report", v)
			}
			// The root filesystem is read-only: every file the tool writes
			// must be on a mounted volume, and be per index.
			for _, f := range []string{"--report", "--journal", "--out"} {
				path, ok := flagValue(c.Args, f)
				if !ok {
					continue
				}
				if !strings.Contains(path, "$(JOB_COMPLETION_INDEX)") {
					t.Errorf("%s %s: put $(JOB_COMPLETION_INDEX) in the name, or the shards overwrite each other", f, path)
				}
				if strings.HasPrefix(path, "s3://") {
					if f == "--report" && !strings.HasPrefix(path, strings.TrimSuffix("s3://JOURNAL_BUCKET/s3baseline/reports/*", "*")) {
						t.Errorf("--report %s: the runner roles may write reports only under s3://JOURNAL_BUCKET/s3baseline/reports/", path)
					}
					continue
				}
				if !slices.ContainsFunc(c.VolumeMounts, func(v struct {
					Name      string `yaml:"name"`
					MountPath string `yaml:"mountPath"`
				}) bool {
					return strings.HasPrefix(path, strings.TrimSuffix(v.MountPath, "/")+"/")
				}) {
					t.Errorf("%s %s is on no mounted volume, and the root filesystem is read-only", f, path)
				}
			}
			if !isTrue(c.SecurityContext.ReadOnlyRootFilesystem) {
				t.Errorf("want securityContext.readOnlyRootFilesystem: true")
			}
			if !isTrue(c.SecurityContext.RunAsNonRoot) && !isTrue(pod.SecurityContext.RunAsNonRoot) {
				t.Errorf("want runAsNonRoot: true")
			}
			if c.Resources.Limits["memory"] == "" {
				t.Errorf("want a memory limit")
			}

			// The member role it assumes is the one its policy may assume.
			role, _ := flagValue(c.Args, "--role-name")
			want := "arn:aws:iam::*:role/" + role
			_, statements := readIdentityPolicy(t, j.policy)
			var assumable []string
			for _, s := range statements {
				if slices.Contains(s.Action, "sts:AssumeRole") {
					assumable = append(assumable, s.Resource...)
				}
			}
			if !slices.Contains(assumable, want) {
				t.Errorf("--role-name %s, but %s lets sts:AssumeRole reach only %v", role, j.policy, assumable)
			}

			// The config comes from the ConfigMap in config.yaml, mounted
			// where --config looks.
			cfg, _ := flagValue(c.Args, "--config")
			if cfg == "" {
				t.Errorf("args lack --config: without a config or --baseline the tool refuses to run")
			}
			found := false
			for _, m := range c.VolumeMounts {
				dir := strings.TrimSuffix(m.MountPath, "/") + "/"
				key, ok := strings.CutPrefix(cfg, dir)
				if !ok || strings.Contains(key, "/") {
					continue
				}
				for _, v := range pod.Volumes {
					if v.Name != m.Name || v.ConfigMap == nil {
						continue
					}
					found = true
					cm := configMaps.named(t, configFile, "ConfigMap", v.ConfigMap.Name)
					if _, ok := cm.Data[key]; !ok {
						t.Errorf("--config %s: ConfigMap %s in %s has no key %q", cfg, cm.Metadata.Name, configFile, key)
					}
				}
			}
			if cfg != "" && !found {
				t.Errorf("--config %s is not a file of a mounted ConfigMap", cfg)
			}

			sa := docs.serviceAccount(t, j.file, pod.ServiceAccountName)
			if !strings.HasPrefix(sa.Metadata.Annotations["eks.amazonaws.com/role-arn"], "arn:aws:iam::") {
				t.Errorf("ServiceAccount %s: want the IRSA annotation eks.amazonaws.com/role-arn", sa.Metadata.Name)
			}
		})
	}
}

// TestCronJobFlagsExist checks that every flag the CronJobs pass is one the
// CLI defines (somewhere in package main), so a renamed flag fails here and
// not at 03:00.
func TestCronJobFlagsExist(t *testing.T) {
	defined, err := cliFlags(cliDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		cj := readManifests(t, j.file).cronJob(t, j.file)
		for _, c := range cj.Spec.JobTemplate.Spec.Template.Spec.Containers {
			for _, a := range c.Args {
				name, ok := strings.CutPrefix(a, "--")
				if !ok {
					continue
				}
				name, _, _ = strings.Cut(name, "=")
				if !defined[name] {
					t.Errorf("%s passes --%s, which the CLI (package main in %s) does not define", j.file, name, cliDir)
				}
			}
		}
	}
}

// cliFlags collects the Name and Aliases of every urfave/cli flag literal
// (&cli.StringFlag{Name: ...}) in the non-test files of package main in dir.
func cliFlags(dir string) (map[string]bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	names := map[string]bool{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		if f.Name.Name != "main" {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			sel, ok := lit.Type.(*ast.SelectorExpr)
			if !ok || !strings.HasSuffix(sel.Sel.Name, "Flag") {
				return true
			}
			for _, e := range lit.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				key, _ := kv.Key.(*ast.Ident)
				if key == nil {
					continue
				}
				switch key.Name {
				case "Name":
					if s, ok := stringLit(kv.Value); ok {
						names[s] = true
					}
				case "Aliases":
					if l, ok := kv.Value.(*ast.CompositeLit); ok {
						for _, a := range l.Elts {
							if s, ok := stringLit(a); ok {
								names[s] = true
							}
						}
					}
				}
			}
			return true
		})
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("found no CLI flags in %s: has the CLI moved?", dir)
	}
	return names, nil
}

func stringLit(e ast.Expr) (string, bool) {
	b, ok := e.(*ast.BasicLit)
	if !ok || b.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(b.Value)
	return s, err == nil
}

func isTrue(b *bool) bool { return b != nil && *b }

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestDeriveCallsSeesEveryForm runs the scanner over testdata/scan, which
// holds one of each form of call it must see, and checks that an operation
// nobody has mapped yet fails with a message saying what to do.
func TestDeriveCallsSeesEveryForm(t *testing.T) {
	calls, problems, err := deriveCalls("testdata/scan")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for c := range calls {
		got = append(got, c.String())
	}
	slices.Sort(got)
	want := []string{
		"s3.GetBucketAcl",
		"s3.HeadBucket",    // NewBucketExistsWaiter
		"s3.ListObjectsV2", // NewListObjectsV2Paginator
		"s3.PutBucketPolicy",
		"s3control.PutPublicAccessBlock",
		"sts.AssumeRole", // stscreds.NewAssumeRoleProvider
	}
	if !slices.Equal(got, want) {
		t.Errorf("derived calls:\n got %v\nwant %v", got, want)
	}
	for _, want := range []string{"GetCallerIdentity(..., nil, ...)", "waiter s3.ObjectExists"} {
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, want) }) {
			t.Errorf("problems %q lack %q", problems, want)
		}
	}
	if len(problems) != 2 {
		t.Errorf("want 2 problems, got %d: %q", len(problems), problems)
	}

	if _, err := iamAction(call{"s3", "GetBucketReplication"}); err == nil || !strings.Contains(err.Error(), "add it to renamed or sameName") {
		t.Errorf("an unmapped operation: got %v, want an error saying where to add it", err)
	}
	if _, err := iamAction(call{"ec2", "DescribeInstances"}); err == nil || !strings.Contains(err.Error(), "iamPrefix") {
		t.Errorf("an unknown SDK package: got %v, want an error naming iamPrefix", err)
	}
	if a, err := iamAction(call{"s3control", "DeletePublicAccessBlock"}); a != "s3:PutAccountPublicAccessBlock" || err != nil {
		t.Errorf("s3control.DeletePublicAccessBlock -> %q, %v; want s3:PutAccountPublicAccessBlock", a, err)
	}
}
