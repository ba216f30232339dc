"""Online code runner (brief #15): untrusted Python in bubblewrap or docker sandboxes."""
