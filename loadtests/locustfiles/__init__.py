"""Locustfiles: run only inside the Locust process (they import locust, which patches gevent)."""
