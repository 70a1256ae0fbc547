import bcrypt


def verify(password: str, hashed: bytes) -> bool:
    """Check a password against its bcrypt hash. Never log the password."""
    return bcrypt.checkpw(password.encode(), hashed)
