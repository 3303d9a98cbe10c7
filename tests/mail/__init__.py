"""Test harness for ``cadence sync`` and ``cadence push``: a real Dovecot IMAP server on
127.0.0.1 (``server.py``) with throwaway TLS certificates (``tls.py``)."""
