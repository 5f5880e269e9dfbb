from mailer.send import build


def test_build():
    msg = build(["a@example.invalid", "b@example.invalid"], "Weekly", "hi")
    assert msg["To"] == "a@example.invalid, b@example.invalid"


def test_send_to_sandbox(smtp_sandbox):
    from mailer.send import send

    send(build(["a@example.invalid"], "x", "y"), *smtp_sandbox)
