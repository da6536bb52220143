package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/s3baseline/s3baseline/fixtures"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/report"
	"github.com/s3baseline/s3baseline/settings"
)

const orgRole = "S3BaselineRole"

// The organization of fixtures/scenarios/org-e2e.json: three active
// accounts with buckets in two regions, and a suspended one.
var orgAccounts = []string{"111111111111", "222222222222", "333333333333"}

func startOrg(t *testing.T) *emulator.Org {
	t.Helper()
	return startOrgEdited(t, func(*emulator.OrgScenario) {})
}

// startOrgEdited starts the organization of org-e2e.json changed by edit.
func startOrgEdited(t *testing.T, edit func(*emulator.OrgScenario)) *emulator.Org {
	t.Helper()
	return startOrgWith(t, emulator.Options{}, edit)
}

// startOrgWith is startOrgEdited with the emulator's options.
func startOrgWith(t *testing.T, opts emulator.Options, edit func(*emulator.OrgScenario)) *emulator.Org {
	t.Helper()
	sc, err := fixtures.OrgScenario("e2e")
	if err != nil {
		t.Fatal(err)
	}
	edit(sc)
	org, err := emulator.StartOrg("127.0.0.1:0", sc, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { org.Close() })
	isolateAWSEnv(t)
	return org
}

func orgConfig() string { return filepath.Join(repoTestdata, "org.yaml") }

func orgPlan(t *testing.T, org *emulator.Org, extra ...string) (*plan.Plan, result) {
	t.Helper()
	args := append([]string{"plan", "--config", orgConfig(), "--endpoint-url", org.URL(), "--json",
		"--accounts", "all", "--role-name", orgRole}, extra...)
	r := runCLI(t, args...)
	var p plan.Plan
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("plan --json (exit %d) is not a plan document: %v\nstderr: %s", r.code, err, r.stderr)
	}
	return &p, r
}

func section(t *testing.T, p *plan.Plan, account string) plan.AccountPlan {
	t.Helper()
	for _, a := range p.Accounts {
		if a.Account == account {
			return a
		}
	}
	t.Fatalf("no section for account %s in the plan", account)
	return plan.AccountPlan{}
}

func accountChange(a plan.AccountPlan, id settings.ControlID) (plan.Change, bool) {
	for _, c := range a.AccountChanges {
		if c.Control == id {
			return c, true
		}
	}
	return plan.Change{}, false
}

// orgSnapshots are every account's state, minus what is not compared: the
// encryption S3 reports for a legacy bucket after a rollback (see
// comparable).
func orgSnapshots(org *emulator.Org) map[string]emulator.Snapshot {
	out := map[string]emulator.Snapshot{}
	for _, id := range org.AccountIDs() {
		out[id] = comparable(org.Account(id).Snapshot())
	}
	return out
}

// TestOrganizationPlanApplyRollback: 3 accounts x 2 regions. The plan has a
// section per account, with the account controls and findings of each; apply
// converges every account (a second plan has no changes), writes nothing to
// IAM or Shield, and its report says what drifted and was fixed; rollback
// restores every account.
func TestOrganizationPlanApplyRollback(t *testing.T) {
	org := startOrg(t)
	before := orgSnapshots(org)

	p, r := orgPlan(t, org)
	if r.code != 0 {
		t.Fatalf("plan exited %d: %s", r.code, r.stderr)
	}
	var got []string
	for _, a := range p.Accounts {
		got = append(got, a.Account)
		regions := map[string]bool{}
		for _, b := range a.Buckets {
			regions[b.Region] = true
			if !strings.Contains(b.Name, a.Account) {
				t.Errorf("section %s holds bucket %s of another account", a.Account, b.Name)
			}
		}
		if len(regions) != 2 {
			t.Errorf("section %s: buckets in %d regions, want 2", a.Account, len(regions))
		}
		if a.Caller != "arn:aws:sts::"+a.Account+":assumed-role/"+orgRole+"/s3baseline" {
			t.Errorf("section %s planned as %s, want the assumed role", a.Account, a.Caller)
		}
	}
	if !slices.Equal(got, orgAccounts) {
		t.Fatalf("sections %v, want %v (the suspended account skipped)", got, orgAccounts)
	}

	// Account Block Public Access: on where no bucket may be public, held
	// back (and the bucket named) where one may.
	for _, id := range []string{"111111111111", "333333333333"} {
		if c, ok := accountChange(section(t, p, id), settings.AccountBlockPublicAccess); !ok || c.Action != plan.Create {
			t.Errorf("account %s: account_block_public_access = %+v, want create", id, c)
		}
	}
	workloads := section(t, p, "222222222222")
	if _, ok := accountChange(workloads, settings.AccountBlockPublicAccess); ok {
		t.Errorf("account 222222222222 plans account Block Public Access over its public bucket")
	}
	if !slices.ContainsFunc(workloads.Warnings, func(w string) bool {
		return strings.Contains(w, "account_block_public_access held back") && strings.Contains(w, "public-downloads-222222222222")
	}) {
		t.Errorf("account 222222222222 warnings do not name the public bucket: %q", workloads.Warnings)
	}
	// The trail: ours in every account (org-audit of 333 logs another
	// bucket only), billing stated.
	for _, id := range orgAccounts {
		c, ok := accountChange(section(t, p, id), settings.CloudTrailDataEvents)
		if !ok || c.Action != plan.Create || !strings.Contains(c.Reason, "bills data events per event") {
			t.Errorf("account %s: cloudtrail_data_events = %+v, want create stating the billing", id, c)
		}
	}
	// MFA findings name the console users without MFA, and root where it has none.
	wantMFA := map[string][]string{
		"111111111111": {"arn:aws:iam::111111111111:user/alice"},
		"222222222222": {"arn:aws:iam::222222222222:root"},
		"333333333333": {"arn:aws:iam::333333333333:user/erin"},
	}
	for id, want := range wantMFA {
		var subjects []string
		shield := 0
		for _, f := range section(t, p, id).Findings {
			switch f.Control {
			case settings.IAMMFA:
				subjects = append(subjects, f.Subject)
			case settings.Shield:
				shield++
				if !strings.Contains(f.Detail, "cannot itself be a Shield Advanced protection") {
					t.Errorf("account %s: the Shield finding does not say S3 cannot be protected: %q", id, f.Detail)
				}
			}
		}
		if diff := cmp.Diff(want, subjects); diff != "" {
			t.Errorf("account %s: iam_mfa findings (-want +got):\n%s", id, diff)
		}
		if shield != 1 {
			t.Errorf("account %s: %d Shield findings, want 1", id, shield)
		}
	}

	dir := t.TempDir()
	journal, reportFile := filepath.Join(dir, "journal.jsonl"), filepath.Join(dir, "report.json")
	r = runCLI(t, "apply", "--config", orgConfig(), "--endpoint-url", org.URL(), "--accounts", "all", "--role-name", orgRole,
		"--auto-approve", "--allow-impact", "--journal", journal, "--report", reportFile)
	// The accounts' buckets predate BucketOwnerEnforced, so their objects may
	// carry ACLs nobody can read from the bucket: the impact is allowed here.
	if r.code != 0 {
		t.Fatalf("apply exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	for _, id := range orgAccounts {
		srv := org.Account(id)
		for _, c := range srv.WriteCalls() {
			if c.Service == "iam" || c.Service == "shield" {
				t.Errorf("account %s: apply wrote to %s: %s", id, c.Service, c.Operation)
			}
		}
		snap := srv.Snapshot()
		trail := findTrail(snap.Trails, "s3baseline-data-events")
		if trail == nil {
			t.Errorf("account %s: no trail after apply", id)
			continue
		}
		if !trail.IsLogging || !trail.MultiRegion || !trail.LogFileValidation || trail.KMSKeyID == "" ||
			!slices.Contains(trail.Insights, settings.InsightAPICallRate) {
			t.Errorf("account %s: trail after apply: %+v", id, *trail)
		}
		bpaOn := snap.AccountPublicAccessBlock != nil && *snap.AccountPublicAccessBlock == (emulator.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true})
		if want := id != "222222222222"; bpaOn != want {
			t.Errorf("account %s: account Block Public Access on = %v, want %v", id, bpaOn, want)
		}
	}
	checkOrgReport(t, reportFile)

	// A second plan of every account has nothing to do.
	p2, r := orgPlan(t, org, "--detailed-exitcode")
	if r.code != 0 || !p2.Empty() {
		t.Errorf("second plan exited %d (want 0, no changes)\n%s", r.code, r.stderr)
		for _, a := range p2.Accounts {
			for _, c := range a.AccountChanges {
				if c.Action != plan.NoOp {
					t.Errorf("  account %s: %s %s: %s", a.Account, c.Control, c.Action, c.Reason)
				}
			}
			for _, b := range a.Buckets {
				for _, c := range b.Changes {
					if c.Action != plan.NoOp {
						t.Errorf("  %s: %s %s: %s", b.Name, c.Control, c.Action, c.Reason)
					}
				}
			}
		}
	}

	// Rollback restores every account; what the tool created is left.
	r = runCLI(t, "rollback", journal, "--endpoint-url", org.URL(), "--role-name", orgRole, "--auto-approve",
		"--journal", filepath.Join(dir, "rollback.jsonl"))
	if r.code != 0 {
		t.Fatalf("rollback exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	after := orgSnapshots(org)
	for _, id := range orgAccounts {
		a := after[id]
		created := withoutCreatedOf(t, journal, id, &a)
		if want := []string{"bucket s3baseline-cloudtrail-" + id, "key alias/s3baseline-cloudtrail"}; !cmp.Equal(want, created) {
			t.Errorf("account %s: created and left: %q, want %q", id, created, want)
		}
		if diff := cmp.Diff(before[id], a); diff != "" {
			t.Errorf("account %s after rollback differs from before apply (-before +after):\n%s", id, diff)
		}
	}
}

func findTrail(trails map[string]emulator.TrailSnapshot, name string) *emulator.TrailSnapshot {
	for _, t := range trails {
		if t.Name == name {
			return &t
		}
	}
	return nil
}

// checkOrgReport reads the run report strictly and checks what a scheduler
// relies on.
func checkOrgReport(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var rep report.Report
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("the report is not a report document: %v\n%s", err, data)
	}
	if rep.Command != "apply" || rep.ExitCode != 0 || rep.ReportVersion != report.Version || rep.Journal == "" {
		t.Errorf("report header: command %q exit %d version %d journal %q", rep.Command, rep.ExitCode, rep.ReportVersion, rep.Journal)
	}
	if rep.Totals.Accounts != 3 || rep.Totals.Failed != 0 || rep.Totals.Fixed == 0 || rep.Totals.Findings != 6 {
		t.Errorf("report totals: %+v (want 3 accounts, fixes, no failures, 3 MFA + 3 Shield findings)", rep.Totals)
	}
	for _, a := range rep.Accounts {
		if a.Status != report.StatusFixed {
			t.Errorf("account %s: status %q, want fixed", a.Account, a.Status)
		}
		for _, b := range a.Buckets {
			if b.Status == report.StatusFixed && (len(b.Drift) == 0 || len(b.Fixed) != len(b.Drift)) {
				t.Errorf("bucket %s: fixed with drift %v and fixes %v", b.Name, b.Drift, b.Fixed)
			}
			for _, d := range b.Drift {
				if len(d.NIST) == 0 {
					t.Errorf("bucket %s: drift %s names no NIST control", b.Name, d.Control)
				}
			}
		}
		trail := slices.IndexFunc(a.AccountControls, func(c report.AccountControl) bool { return c.Control.Control == settings.CloudTrailDataEvents })
		if trail < 0 || a.AccountControls[trail].Status != report.StatusFixed {
			t.Errorf("account %s: the trail is not reported fixed: %+v", a.Account, a.AccountControls)
		}
	}
}

// TestOrganizationShards: the shards of a run plan disjoint sets of
// accounts that together are the organization's active accounts.
func TestOrganizationShards(t *testing.T) {
	org := startOrg(t)
	seen := map[string]int{}
	for i := range 2 {
		p, r := orgPlan(t, org, "--shard", []string{"0/2", "1/2"}[i])
		if r.code != 0 {
			t.Fatalf("plan --shard %d/2 exited %d: %s", i, r.code, r.stderr)
		}
		if p.Scope.Shard != []string{"0/2", "1/2"}[i] {
			t.Errorf("plan of shard %d/2 records shard %q", i, p.Scope.Shard)
		}
		for _, a := range p.Accounts {
			seen[a.Account]++
		}
	}
	for _, id := range orgAccounts {
		if seen[id] != 1 {
			t.Errorf("account %s planned by %d shards, want 1", id, seen[id])
		}
	}
	if len(seen) != len(orgAccounts) {
		t.Errorf("shards planned %v, want exactly %v", seen, orgAccounts)
	}
}

// TestOrganizationFlags: the organization flags refuse what they cannot do.
func TestOrganizationFlags(t *testing.T) {
	org := startOrg(t)
	cases := map[string]struct {
		args []string
		want string
	}{
		"no role":          {[]string{"--accounts", "all"}, "--accounts needs --role-name"},
		"role alone":       {[]string{"--role-name", orgRole}, "--role-name needs --accounts"},
		"bad shard":        {[]string{"--accounts", "all", "--role-name", orgRole, "--shard", "2/2"}, `--shard: "2/2"`},
		"unknown account":  {[]string{"--accounts", "999999999999", "--role-name", orgRole}, "999999999999 is not in the organization"},
		"missing role":     {[]string{"--accounts", "222222222222", "--role-name", "NoSuchRole"}, "NoSuchRole"},
		"bad account list": {[]string{"--accounts", "12345", "--role-name", orgRole}, `"12345" is not an account id`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"plan", "--config", orgConfig(), "--endpoint-url", org.URL()}, tc.args...)
			r := runCLI(t, args...)
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("exit %d, stderr %q; want exit 1 and one line containing %q", r.code, r.stderr, tc.want)
			}
		})
	}
}

// TestDriftOnlyReport: plan --detailed-exitcode --report is the drift-only
// mode: exit 2, nothing written, and the report lists the drift with its
// NIST controls and the exit code.
func TestDriftOnlyReport(t *testing.T) {
	srv := startEmulator(t, "e2e")
	path := filepath.Join(t.TempDir(), "drift.json")
	r := runCLI(t, "plan", "--config", applyConfig(), "--endpoint-url", srv.URL(), "--detailed-exitcode", "--report", path, "--log-format", "json")
	if r.code != 2 {
		t.Fatalf("plan --detailed-exitcode exited %d, want 2 (drift)\n%s", r.code, r.stderr)
	}
	if w := srv.WriteCalls(); len(w) > 0 {
		t.Errorf("a plan wrote: %+v", w)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Command != "plan" || rep.ExitCode != 2 || len(rep.Accounts) != 1 {
		t.Fatalf("report: command %q, exit %d, %d accounts", rep.Command, rep.ExitCode, len(rep.Accounts))
	}
	a := rep.Accounts[0]
	statuses := map[string]string{}
	for _, b := range a.Buckets {
		statuses[b.Name] = b.Status
		if len(b.Fixed) > 0 {
			t.Errorf("%s: a plan reports fixes %v", b.Name, b.Fixed)
		}
	}
	if statuses["legacy-archive"] != report.StatusDrifted || statuses["compliant-high"] != report.StatusCompliant {
		t.Errorf("bucket statuses: %v", statuses)
	}
	if a.Status != report.StatusDrifted || rep.Totals.Drifted == 0 || rep.Totals.Fixed != 0 {
		t.Errorf("account status %q, totals %+v", a.Status, rep.Totals)
	}
}

// TestJSONLogs: with --log-format json every stderr line, errors included,
// is one JSON object with a level and a message.
func TestJSONLogs(t *testing.T) {
	srv := startEmulator(t, "e2e")
	r := runCLI(t, "plan", "--config", filepath.Join(t.TempDir(), "missing.yaml"), "--endpoint-url", srv.URL(), "--log-format", "json")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code != 1 || len(lines) != 1 {
		t.Fatalf("exit %d, stderr %q; want exit 1 and one line", r.code, r.stderr)
	}
	var line struct{ Level, Msg string }
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil || line.Level != "ERROR" || !strings.Contains(line.Msg, "missing.yaml") {
		t.Errorf("stderr line %q is not a JSON error naming the file (%v)", lines[0], err)
	}
	if r := runCLI(t, "plan", "--log-format", "xml", "--endpoint-url", srv.URL()); r.code != 1 || !strings.Contains(r.stderr, `--log-format: "xml"`) {
		t.Errorf("--log-format xml: exit %d, %q", r.code, r.stderr)
	}
}

// TestOrganizationApplyRoleGone: an account whose role cannot be assumed
// when a saved organization plan is applied fails alone, named on stderr
// and in the report; the other accounts are applied.
func TestOrganizationApplyRoleGone(t *testing.T) {
	org := startOrg(t)
	dir := t.TempDir()
	planFile := filepath.Join(dir, "org.plan")
	if _, r := orgPlan(t, org, "--out", planFile); r.code != 0 {
		t.Fatalf("plan exited %d: %s", r.code, r.stderr)
	}

	// The same organization, but the workloads account has lost the role.
	sc, err := fixtures.OrgScenario("e2e")
	if err != nil {
		t.Fatal(err)
	}
	for i := range sc.Accounts {
		if sc.Accounts[i].AccountID == "222222222222" {
			sc.Accounts[i].Roles = nil
		}
	}
	later, err := emulator.StartOrg("127.0.0.1:0", sc, emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { later.Close() })

	reportFile := filepath.Join(dir, "report.json")
	r := runCLI(t, "apply", planFile, "--endpoint-url", later.URL(), "--journal", filepath.Join(dir, "j.jsonl"), "--report", reportFile)
	if r.code != 1 || !strings.Contains(r.stderr, "account 222222222222: assume role arn:aws:iam::222222222222:role/"+orgRole) {
		t.Fatalf("apply exited %d; want 1 and the account named\nstderr: %s", r.code, r.stderr)
	}
	if w := later.Account("222222222222").WriteCalls(); len(w) > 0 {
		t.Errorf("the account without the role was written: %+v", w)
	}
	for _, id := range []string{"111111111111", "333333333333"} {
		if findTrail(later.Account(id).Snapshot().Trails, "s3baseline-data-events") == nil {
			t.Errorf("account %s was not applied", id)
		}
	}
	data, err := os.ReadFile(reportFile)
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	for _, a := range rep.Accounts {
		failed := a.Account == "222222222222"
		if (a.Status == report.StatusError) != failed || (len(a.Errors) > 0) != failed {
			t.Errorf("account %s: status %q, errors %q", a.Account, a.Status, a.Errors)
		}
	}
	if rep.ExitCode != 1 {
		t.Errorf("report exit code %d, want 1", rep.ExitCode)
	}
}

// TestOrganizationParallel: accounts planned several at once give the same
// plan as one at a time, and one account answering SlowDown for a while
// slows only itself: every account is planned, none with errors.
func TestOrganizationParallel(t *testing.T) {
	org := startOrg(t)
	seq, r := orgPlan(t, org, "--account-concurrency", "1")
	if r.code > 2 {
		t.Fatalf("plan exited %d: %s", r.code, r.stderr)
	}
	org.Account(seq.Accounts[1].Account).InjectFault(emulator.Fault{Service: "s3", Status: 503, Code: "SlowDown", Times: 2})
	par, r := orgPlan(t, org, "--account-concurrency", "3")
	if r.code > 2 {
		t.Fatalf("parallel plan exited %d: %s", r.code, r.stderr)
	}
	strip := func(p *plan.Plan) *plan.Plan {
		c := *p
		c.CreatedAt = time.Time{}
		c.Accounts = slices.Clone(p.Accounts)
		return &c
	}
	if d := cmp.Diff(strip(seq), strip(par)); d != "" {
		t.Errorf("the parallel plan differs from the sequential one (-seq +par):\n%s", d)
	}
	if len(par.Accounts) != len(seq.Accounts) || len(seq.Accounts) < 3 {
		t.Fatalf("%d accounts planned in parallel, %d one at a time", len(par.Accounts), len(seq.Accounts))
	}
	for _, a := range par.Accounts {
		if len(a.Errors) > 0 {
			t.Errorf("account %s: %v", a.Account, a.Errors)
		}
		for _, b := range a.Buckets {
			if len(b.Errors) > 0 {
				t.Errorf("account %s bucket %s: %v", a.Account, b.Name, b.Errors)
			}
		}
	}
}

// TestOrganizationSharedBudget: the accounts planned at once share one
// worker budget (plan.Options.Slots): with --concurrency 3 and three
// accounts under way, each with workers of its own, no more than 3 bucket
// reads of all accounts together are in flight at any moment, and more
// than one is (the accounts do run side by side).
func TestOrganizationSharedBudget(t *testing.T) {
	// Latency makes the requests overlap, so the peak is the client's
	// bound and not how fast the emulator answers.
	org := startOrgWith(t, emulator.Options{Latency: 20 * time.Millisecond}, func(*emulator.OrgScenario) {})
	p, r := orgPlan(t, org, "--concurrency", "3", "--account-concurrency", "3")
	if r.code > 2 {
		t.Fatalf("plan exited %d: %s", r.code, r.stderr)
	}
	if len(p.Accounts) < 3 {
		t.Fatalf("%d accounts planned, want at least 3", len(p.Accounts))
	}
	if got := org.MaxBucketRequestsInFlight("s3"); got > 3 || got < 2 {
		t.Errorf("at most %d S3 bucket requests of all accounts were in flight at once, want 2 or 3 (--concurrency 3 shared)", got)
	}
}
