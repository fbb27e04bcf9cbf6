from imptsh.api.client import RetryPolicy


def test_retry_after_wins_and_is_capped():
    policy = RetryPolicy(max_retry_after_s=5)
    assert policy.delay(0, "2") == 2.0
    assert policy.delay(3, "120") == 5.0


def test_backoff_is_jittered_and_capped():
    policy = RetryPolicy(base_s=0.5, cap_s=4.0)
    for attempt in range(10):
        for _ in range(50):
            delay = policy.delay(attempt, None)
            assert 0 <= delay <= min(4.0, 0.5 * 2**attempt)
    assert len({round(policy.delay(5, None), 6) for _ in range(20)}) > 1
