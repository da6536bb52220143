package aws

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/s3baseline/s3baseline/settings"
)

// IAM is read only. A tool cannot enable MFA for anyone (EnableMFADevice
// needs two codes from the device, and root MFA has no API), so iam_mfa is
// reported, never remediated (aws-semantics §8); there is deliberately no
// IAM write anywhere in this package.

// codeIAMNoSuchEntity answers GetLoginProfile for a user without a console
// password.
const codeIAMNoSuchEntity = "NoSuchEntity"

// summaryAccountMFAEnabled is GetAccountSummary's root-MFA key: 1 when the
// root user has an MFA device.
const summaryAccountMFAEnabled = "AccountMFAEnabled"

// IAMReport lists every IAM user with whether it has a console password
// and how many MFA devices, and whether the root user has MFA. The
// per-user reads (two calls each) run on a bounded pool of workers, the
// Provider's concurrency; users come back sorted by name.
func (p *Provider) IAMReport(ctx context.Context) (settings.IAMReport, error) {
	client := p.iam()
	var users []settings.IAMUser
	pages := iam.NewListUsersPaginator(client, &iam.ListUsersInput{})
	for pages.HasMorePages() {
		cctx, cancel := p.call(ctx)
		page, err := pages.NextPage(cctx)
		cancel()
		if err != nil {
			return settings.IAMReport{}, wrap("list users", err)
		}
		for _, u := range page.Users {
			users = append(users, settings.IAMUser{Name: aws.ToString(u.UserName), ARN: aws.ToString(u.Arn)})
		}
	}
	slices.SortFunc(users, func(a, b settings.IAMUser) int { return strings.Compare(a.Name, b.Name) })

	if err := p.readUsers(ctx, client, users); err != nil {
		return settings.IAMReport{}, err
	}

	cctx, cancel := p.call(ctx)
	defer cancel()
	sum, err := client.GetAccountSummary(cctx, &iam.GetAccountSummaryInput{})
	if err != nil {
		return settings.IAMReport{}, wrap("get account summary", err)
	}
	return settings.IAMReport{
		Users:   users,
		RootMFA: sum.SummaryMap[summaryAccountMFAEnabled] == 1,
	}, nil
}

// readUsers fills in each user's console password and MFA devices, at most
// p.concurrency users at once. The first failure stops the workers taking
// more users and is returned.
func (p *Provider) readUsers(ctx context.Context, client *iam.Client, users []settings.IAMUser) error {
	return p.fanOut(ctx, len(users), func(ctx context.Context, i int) error {
		return p.readUser(ctx, client, &users[i])
	})
}

// fanOut runs fn(ctx, i) for i in [0, n) on at most p.concurrency
// goroutines. The first failure stops the workers taking more and is
// returned; ctx's end stops them too.
func (p *Provider) fanOut(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	if n == 0 {
		return nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(p.concurrency, n) {
		wg.Go(func() {
			for i := range next {
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// readUser reads one user's login profile and counts its MFA devices.
func (p *Provider) readUser(ctx context.Context, client *iam.Client, u *settings.IAMUser) error {
	name := aws.String(u.Name)
	cctx, cancel := p.call(ctx)
	_, err := client.GetLoginProfile(cctx, &iam.GetLoginProfileInput{UserName: name})
	cancel()
	switch {
	case hasCode(err, codeIAMNoSuchEntity):
		u.ConsolePassword = false
	case err != nil:
		return wrap("get login profile "+u.Name, err)
	default:
		u.ConsolePassword = true
	}

	devices := iam.NewListMFADevicesPaginator(client, &iam.ListMFADevicesInput{UserName: name})
	for devices.HasMorePages() {
		cctx, cancel := p.call(ctx)
		page, err := devices.NextPage(cctx)
		cancel()
		if err != nil {
			return wrap("list mfa devices "+u.Name, err)
		}
		u.MFADevices += len(page.MFADevices)
	}
	return nil
}
