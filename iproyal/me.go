package iproyal

import (
	"context"
	"net/http"
)

// Account is the state of the IPRoyal account the token belongs to.
type Account struct {
	// AvailableTraffic is in GB.
	AvailableTraffic    float64 `json:"available_traffic"`
	SubusersCount       int     `json:"subusers_count"`
	ResidentialUserHash string  `json:"residential_user_hash"`
}

// Me returns the account's available traffic, sub-user count and main hash.
func (c *Client) Me(ctx context.Context) (Account, error) {
	var a Account
	err := c.do(ctx, http.MethodGet, "/me", nil, nil, &a)
	return a, err
}
