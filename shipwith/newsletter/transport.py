"""One mail connection for many messages, and what each failure means for a resend.

Failures fall in three kinds: transient (the server said 4xx, or we never got a connection;
safe to retry), permanent (5xx; the address is marked bounced) and in doubt (the connection
died after the message body went out, so the server may have accepted it: never resent).
"""

import smtplib

from anymail.exceptions import AnymailError, AnymailInvalidAddress, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address


class SendFailure(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:300]


class Transient(SendFailure):
    def __init__(self, reason: str, *, connect: bool = False) -> None:
        super().__init__(reason)
        self.connect = connect


class Permanent(SendFailure):
    pass


class InDoubt(SendFailure):
    pass


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
    return f"{code} {text}"


class Transport:
    """Wrap a Django email backend kept open across messages."""

    def __init__(self) -> None:
        self.backend = get_connection(fail_silently=False)
        self._in_data = False
        self._senders: dict[str, str] = {}

    def _deliver(self, message: EmailMessage) -> None:
        raw = getattr(message, "raw", None)
        smtp = getattr(self.backend, "connection", None)
        if raw is None or not isinstance(self.backend, SMTPBackend) or smtp is None:
            self.backend.send_messages([message])
            return
        # The prebuilt digest goes straight to smtplib: the backend would re-parse both
        # addresses for every message, which costs more than the rest of the send.
        sender = self._senders.get(message.from_email)
        if sender is None:
            encoding = message.encoding or settings.DEFAULT_CHARSET
            sender = self._senders[message.from_email] = sanitize_address(
                message.from_email, encoding
            )
        smtp.sendmail(sender, message.to, raw)

    def _open(self) -> None:
        try:
            self.backend.open()
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise Transient(f"cannot connect: {exc}", connect=True) from exc
        smtp = getattr(self.backend, "connection", None)
        if isinstance(smtp, smtplib.SMTP) and not getattr(smtp, "_shipwith_wrapped", False):
            # Note when the body starts going out: a connection lost after that is in doubt.
            original = smtp.data

            def data(msg):
                self._in_data = True
                return original(msg)

            smtp.data = data
            smtp._shipwith_wrapped = True

    def send(self, message: EmailMessage) -> None:
        """Send one message or raise Transient, Permanent or InDoubt."""
        self._open()
        self._in_data = False
        try:
            self._deliver(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            self._raise_for_reply(code, text)
        except smtplib.SMTPResponseException as exc:
            self._raise_for_reply(exc.smtp_code, exc.smtp_error)
        except (AnymailRecipientsRefused, AnymailInvalidAddress) as exc:
            raise Permanent(str(exc)) from exc
        except AnymailError as exc:
            # A provider that answered with an error did not send; without an answer (a
            # timeout) it may have, so that copy is in doubt.
            if getattr(exc, "status_code", None) is None:
                raise InDoubt(f"no answer from the provider: {exc}") from exc
            raise Transient(str(exc)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            if self._in_data:
                raise InDoubt(f"connection lost while sending: {exc!r}") from exc
            raise Transient(f"connection lost: {exc!r}") from exc

    def _raise_for_reply(self, code: int, text) -> None:
        reason = _reply(code, text)
        if code == 421 or code < 0:
            self.close()  # 421: the server is closing the channel
        if 400 <= code < 500 or code < 0:
            raise Transient(reason)
        raise Permanent(reason)

    def close(self) -> None:
        try:
            self.backend.close()
        except Exception:  # closing a broken connection must not mask why it broke
            pass
        if hasattr(self.backend, "connection"):
            self.backend.connection = None
