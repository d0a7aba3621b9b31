"""Callback tasks after storage: the do-not-call list and the dialer export."""
