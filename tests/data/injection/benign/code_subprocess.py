import subprocess


def migrate(db_url: str) -> None:
    # Equivalent to running the following command by hand:
    #   alembic -x url=$DB_URL upgrade head
    subprocess.run(["alembic", "-x", f"url={db_url}", "upgrade", "head"], check=True)
