package defender

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
)

// ListStats says what a listing cost and yielded.
type ListStats struct {
	Pages int // answers decoded
	Items int // entities passed to fn
}

// maxEmptyPages bounds consecutive empty pages that still carry a
// nextLink: a server stuck in that state would otherwise page forever.
const maxEmptyPages = 3

// List streams every entity of a listing to fn, one at a time; fn's
// pointer is reused between calls, so fn must copy what it keeps.
//
// Paging: PageSize entities are asked for (req.PageSizeParam, "$top" by
// default). An @odata.nextLink is followed when present; it must have the
// request's scheme, host and port (else ErrForeignNextLink, and the token is
// not sent) and must not repeat (ErrNextLinkLoop). Defender leaves out the
// nextLink when $top is given, so while no nextLink has been seen, a full
// page (PageSize entities) is followed by the same request with $skip
// advanced by PageSize; a short page ends the listing. Once a listing has
// used nextLinks, a page without one is the last. With req.NextLinkOnly
// (Graph), only nextLinks are followed.
//
// An error from fn ends the listing and is returned as is.
func List[T any](ctx context.Context, c *Client, req Request, fn func(*T) error) (stats ListStats, err error) {
	defer func() {
		if err == nil {
			recordListing(ctx, &req, stats)
		}
	}()
	if err := req.validate(); err != nil {
		return stats, err
	}
	if req.Method != "" && req.Method != http.MethodGet {
		return stats, fmt.Errorf("request %s: List only GETs", req.endpoint())
	}
	param := req.PageSizeParam
	if param == "" {
		param = "$top"
	}
	query := maps.Clone(req.Query)
	if query == nil {
		query = url.Values{}
	}
	if req.PageSize > 0 {
		query.Set(param, strconv.Itoa(req.PageSize))
	}
	skip := 0
	if s := query.Get("$skip"); s != "" {
		var err error
		if skip, err = strconv.Atoi(s); err != nil || skip < 0 {
			return stats, fmt.Errorf("request %s: $skip %q is not a count", req.endpoint(), s)
		}
	}

	base := c.bases[req.API]
	u := c.url(&req, query)
	seen := map[string]bool{u.String(): true}
	usedNextLink := false
	emptyRun := 0
	for {
		items, next, err := listPage(ctx, c, &req, u, stats.Pages+1, fn)
		stats.Items += items
		if err != nil {
			if errors.Is(err, errNotFoundEmpty) {
				return stats, nil
			}
			return stats, err
		}
		stats.Pages++

		switch {
		case next != "":
			nu, err := base.Parse(next) // relative links resolve against the base
			if err != nil {
				return stats, bounded(fmt.Errorf("%s page %d: @odata.nextLink: %w", req.endpoint(), stats.Pages, err))
			}
			if !sameOrigin(nu, base) {
				return stats, fmt.Errorf("%w: %s page %d points to %s, the API is %s",
					ErrForeignNextLink, req.endpoint(), stats.Pages, origin(nu), origin(base))
			}
			if seen[nu.String()] {
				return stats, fmt.Errorf("%w: %s page %d repeats an earlier page's link", ErrNextLinkLoop, req.endpoint(), stats.Pages)
			}
			if items == 0 {
				if emptyRun++; emptyRun > maxEmptyPages {
					return stats, fmt.Errorf("%s: %d empty pages in a row, each with a nextLink; giving up", req.endpoint(), emptyRun)
				}
			} else {
				emptyRun = 0
			}
			seen[nu.String()] = true
			u, usedNextLink = nu, true

		case !usedNextLink && !req.NextLinkOnly && req.PageSize > 0 && items == req.PageSize:
			skip += req.PageSize
			query.Set("$skip", strconv.Itoa(skip))
			u = c.url(&req, query)

		default:
			return stats, nil
		}
	}
}

var errNotFoundEmpty = errors.New("404 read as empty")

// listPage fetches and decodes one page.
func listPage[T any](ctx context.Context, c *Client, req *Request, u *url.URL, page int, fn func(*T) error) (int, string, error) {
	resp, err := c.send(ctx, req, u)
	if err != nil {
		if req.NotFoundIsEmpty && IsStatus(err, http.StatusNotFound) {
			return 0, "", errNotFoundEmpty
		}
		return 0, "", err
	}
	defer resp.Body.Close()
	items, next, err := decodePage(resp.Body, fn)
	if err != nil {
		var cb *callbackError
		if errors.As(err, &cb) {
			return items, "", cb.err
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return items, "", bounded(fmt.Errorf("%s page %d: %w", req.endpoint(), page, err))
	}
	return items, next, nil
}
