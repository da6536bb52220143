package aws

import (
	"context"
	"fmt"
	"github.com/aws/smithy-go/middleware"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/s3baseline/s3baseline/settings"
)

// An organization is read from its management account (or a delegated
// administrator); each member account is then reached by assuming a role
// that exists in it, with the caller's own credentials as the source.

// DefaultSessionName names the role sessions ForAccount opens when the
// caller gives no name; CloudTrail in the member account records it.
const DefaultSessionName = "s3baseline"

// OrganizationAccounts lists every account of the caller's organization,
// whatever its status (ACTIVE, SUSPENDED, PENDING_CLOSURE): the caller
// decides which to visit. Sorted by account id.
func (p *Provider) OrganizationAccounts(ctx context.Context) ([]settings.OrgAccount, error) {
	pages := organizations.NewListAccountsPaginator(p.organizations(), &organizations.ListAccountsInput{})
	var out []settings.OrgAccount
	for pages.HasMorePages() {
		cctx, cancel := p.call(ctx)
		page, err := pages.NextPage(cctx)
		cancel()
		if err != nil {
			return nil, wrap("list organization accounts", err)
		}
		for _, a := range page.Accounts {
			out = append(out, settings.OrgAccount{
				ID:     aws.ToString(a.Id),
				Name:   aws.ToString(a.Name),
				Status: string(a.Status),
			})
		}
	}
	slices.SortFunc(out, func(a, b settings.OrgAccount) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// assumeRoleInput names sts:AssumeRole for the scan that derives the
// tool's IAM actions from the &PKG.OPInput{ literals in this package: the
// call itself is made by stscreds, with the caller's credentials, whenever
// a member provider's credentials need refreshing.
var _ = &sts.AssumeRoleInput{}

// memberKey names one ForAccount provider.
type memberKey struct{ account, role, session string }

var (
	accountIDRe = regexp.MustCompile(`^[0-9]{12}$`)
	// roleNameRe is an IAM role name, optionally with its path.
	roleNameRe = regexp.MustCompile(`^[\w+=,.@/-]+$`)
)

// ForAccount is a Provider for another account, reached by assuming
// roleName there (arn:PARTITION:iam::ACCOUNT:role/ROLE, the partition taken
// from the caller's own ARN) with sessionName ("" is DefaultSessionName).
// It has the caller's options (endpoint, concurrency, timeouts, HTTP
// client); its credentials are the role's, cached and refreshed before
// they expire, with this Provider's STS client as the source.
//
// The role is assumed at once, through one GetCallerIdentity, so a role
// that is missing or does not trust the caller fails here, naming the role:
// "assume role arn:aws:iam::222222222222:role/S3BaselineRole: AccessDenied:
// ...". Providers are kept per account, role and session name, so calling
// again for the same account reuses the credentials.
func (p *Provider) ForAccount(ctx context.Context, accountID, roleName, sessionName string) (*Provider, error) {
	if !accountIDRe.MatchString(accountID) {
		return nil, fmt.Errorf("assume role in account %q: the account id must be 12 digits", accountID)
	}
	roleName = strings.Trim(roleName, "/")
	if roleName == "" {
		return nil, fmt.Errorf("assume role in account %s: a role name is required", accountID)
	}
	if !roleNameRe.MatchString(roleName) {
		return nil, fmt.Errorf("assume role in account %s: invalid role name %q", accountID, roleName)
	}
	if sessionName == "" {
		sessionName = DefaultSessionName
	}
	key := memberKey{account: accountID, role: roleName, session: sessionName}
	p.membersMu.Lock()
	m, ok := p.members[key]
	p.membersMu.Unlock()
	if ok {
		return m, nil
	}

	me, err := p.whoAmI(ctx)
	if err != nil {
		return nil, err
	}
	roleARN := "arn:" + me.partition() + ":iam::" + accountID + ":role/" + roleName
	cfg := p.cfg.Copy()
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(p.sts(), roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = sessionName
	}))
	mo := p.opts
	if mo.Adaptive {
		// An account of its own windows: AWS throttles each account apart,
		// so one throttled account must not slow the others down. The
		// config's API options are exactly the retry middleware (New).
		mo.adaptive = &windows{m: map[string]*window{}}
		rp := newRetryPolicy(mo)
		cfg.APIOptions = []func(*middleware.Stack) error{rp.addRetryMiddleware}
	}
	m = newProvider(mo, cfg)

	// Assume the role now rather than on the first real call, so that a
	// missing role is reported as such, once, before any work begins.
	cctx, cancel := p.call(ctx)
	defer cancel()
	out, err := m.sts().GetCallerIdentity(cctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, wrap("assume role "+roleARN, err)
	}
	if got := aws.ToString(out.Account); got != accountID {
		return nil, fmt.Errorf("assume role %s: the session belongs to account %s", roleARN, got)
	}
	m.rememberCaller(accountID, aws.ToString(out.Arn))

	p.membersMu.Lock()
	defer p.membersMu.Unlock()
	if earlier, ok := p.members[key]; ok {
		return earlier, nil // a concurrent caller got there first
	}
	p.members[key] = m
	return m, nil
}
