import pytest

from mailer.settings_local import SMTP_TEST_HOST, SMTP_TEST_PORT


@pytest.fixture
def smtp_sandbox():
    return SMTP_TEST_HOST, SMTP_TEST_PORT
