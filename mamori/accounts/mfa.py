"""TOTP multi-factor authentication: who needs it and how a session proves it."""

# Set in the session once the user has passed the TOTP (or recovery code) step in this session.
SESSION_MFA_KEY = "mfa_verified_at"
