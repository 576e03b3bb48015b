package mockfcm

import (
	"context"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"
	"google.golang.org/api/option"
	htransport "google.golang.org/api/transport/http"

	"github.com/pushlab/pushlab/testpki"
)

// RegisterServiceAccountJSON registers a service-account file as the Firebase
// console ships it (the JSON the SDK reads with option.WithCredentialsJSON):
// its key may then obtain access tokens for its project_id. The file has no
// project number (the FCM sender id), so devices of that account's project
// register by project id.
func (s *Server) RegisterServiceAccountJSON(serviceAccountJSON []byte) error {
	sa, err := testpki.ParseServiceAccount(serviceAccountJSON)
	if err != nil {
		return fmt.Errorf("mockfcm: %w", err)
	}
	return s.RegisterServiceAccount(sa)
}

// SDKOptions points the firebase v4 Admin SDK at this server, in process,
// keeping the SDK's real OAuth2 flow (a JWT-bearer assertion signed with the
// service account's key, exchanged at its token_uri):
//
//	ctx, opts, err := s.SDKOptions(ctx, sa.JSON())
//	app, err := firebase.NewApp(ctx, nil, opts...)
//	client, err := app.Messaging(ctx)
//
// The returned context carries an oauth2.HTTPClient trusting the server (the
// token request uses it); the options are the service account, an HTTP client
// whose authenticating transport is google.golang.org/api's own, over a base
// transport that trusts the server and dials it for Google's hosts, and
// option.WithEndpoint(s.Endpoint()). The token_uri may be s.TokenURL() or
// Google's; topic management (iid.googleapis.com) reaches the server too.
func (s *Server) SDKOptions(ctx context.Context, serviceAccountJSON []byte) (context.Context, []option.ClientOption, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.Client())
	creds := option.WithCredentialsJSON(serviceAccountJSON) //nolint:staticcheck // the option firebase users pass
	rt, err := htransport.NewTransport(ctx, s.Transport(), creds, option.WithScopes(FirebaseScopes...))
	if err != nil {
		return nil, nil, fmt.Errorf("mockfcm: %w", err)
	}
	return ctx, []option.ClientOption{creds, option.WithHTTPClient(&http.Client{Transport: rt}), option.WithEndpoint(s.Endpoint())}, nil
}
