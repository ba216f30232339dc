"""The chat client: end-to-end crypto, a trust store for contacts' keys, and the server API."""
