import tenacity

from gateway.store import reading_point


def test_reading_point_line_protocol():
    assert reading_point("s1", 1.5).to_line_protocol() == "reading,sensor=s1 value=1.5"


def test_retry_gives_up_after_three_attempts():
    calls = []

    @tenacity.retry(stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_fixed(0), reraise=True)
    def flaky():
        calls.append(1)
        raise ConnectionError("down")

    try:
        flaky()
    except ConnectionError:
        pass
    assert len(calls) == 3
