import os

from ledger_export.export import upload_sync


def test_upload_to_partner_drop():
    import paramiko  # only in the integration image

    client = paramiko.SSHClient()
    client.connect(os.environ["LEDGER_SFTP_HOST"])
    assert upload_sync(client.open_sftp().putfo, "probe.csv", "date\n") == 5
