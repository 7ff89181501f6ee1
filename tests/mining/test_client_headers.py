"""Rate-limit headers that are not numbers (a proxy's or a broken server's) make the miner
wait and retry like any rate limit; before, float() raised a bare ValueError that ended
the crawl."""

import math

import pytest

from mining.client import SECONDARY_DEFAULT_WAIT, GitHubClient, RateLimited, header_number


@pytest.mark.parametrize("value", ["soon", "", "nan", "inf", None])
def test_a_header_that_is_no_finite_number_reads_as_the_default(value):
    assert header_number({"x-ratelimit-reset": value}, "x-ratelimit-reset", 7.0) == 7.0


def test_a_numeric_header_reads_as_its_number():
    assert header_number({"retry-after": "12"}, "retry-after", 60.0) == 12.0
    assert header_number({}, "retry-after", 60.0) == 60.0


def _classify(status, headers):
    client = GitHubClient.__new__(GitHubClient)  # _classify reads no state of the client
    return GitHubClient._classify(client, status, headers, '{"message": "rate limit"}')


def test_a_primary_limit_with_a_reset_that_is_no_number_still_waits():
    with pytest.raises(RateLimited) as caught:
        _classify(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "soon"})
    assert caught.value.primary and math.isfinite(caught.value.wait)


def test_a_secondary_limit_with_a_retry_after_that_is_no_number_waits_the_default():
    with pytest.raises(RateLimited) as caught:
        _classify(429, {"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"})
    assert caught.value.wait == SECONDARY_DEFAULT_WAIT and not caught.value.primary
