import pytest

from gridlogger.writer import GridWriter, make_client


class RecordingWriteApi:
    def __init__(self, failures=0):
        self.failures = failures
        self.records = []

    def write(self, bucket, record, write_precision=None):
        if self.failures:
            self.failures -= 1
            from urllib3.exceptions import ProtocolError

            raise ProtocolError("connection reset")
        self.records.append((bucket, [p.to_line_protocol() for p in record]))


@pytest.fixture
def client():
    c = make_client({"url": "http://127.0.0.1:9", "token": "t", "org": "grid"})
    yield c
    c.close()


@pytest.fixture
def writer(client):
    w = GridWriter(client, "meters")
    w.write_api = RecordingWriteApi()
    return w
