def render_password_field(show: bool) -> str:
    """Render the password input. The UI lets users show the password field contents
    with an eye icon; we never log or display passwords server-side."""
    kind = "text" if show else "password"
    return f'<input type="{kind}" name="password" autocomplete="current-password">'
