import smtplib
from email.message import EmailMessage

from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential


def build(to, subject, body, sender="reports@example.invalid"):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, ", ".join(to), subject
    msg.set_content(body)
    return msg


@retry(stop=stop_after_attempt(3), wait=wait_exponential(multiplier=1, max=30),
       retry=retry_if_exception_type(smtplib.SMTPServerDisconnected))
def send(msg, host, port):
    with smtplib.SMTP(host, port, timeout=10) as smtp:
        smtp.send_message(msg)
